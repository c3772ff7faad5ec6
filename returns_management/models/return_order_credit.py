from collections import defaultdict

from markupsafe import Markup

from odoo import Command, fields, models
from odoo.tools import float_compare, float_is_zero


class ReturnOrder(models.Model):
    _inherit = "return.order"

    def action_create_credit_notes(self):
        """Credit the received, invoiced and not yet credited quantities.

        Lines whose goods were never invoiced need no credit note: their
        delivered quantity already dropped, so the next invoice bills less.
        """
        self._lock_for_update()
        self._ensure_state(
            ("received",),
            lambda names: self.env._(
                "Only received returns can be credited, not %(names)s.", names=names
            ),
        )
        self.check_access("write")
        existing = self.credit_note_ids
        failed = self._run_isolating_failures(lambda orders: orders._credit())
        report = self._report_failures(
            failed,
            lambda error: self.env._(
                "Could not credit this return: %(error)s", error=error
            ),
        )
        if report:
            return report
        credit_notes = self.credit_note_ids - existing
        return credit_notes._return_action_view() if credit_notes else True

    def _credit(self):
        self._create_credit_notes()
        self._close_resolved()

    def _create_credit_notes(self):
        allocations = self.line_ids._allocate_invoice_lines()
        per_invoice = defaultdict(list)
        for line, invoice_line, qty in allocations:
            per_invoice[line.order_id, invoice_line.move_id].append(
                (line, invoice_line, qty)
            )
        vals_list = [
            order._prepare_credit_note_vals(invoice, items)
            for (order, invoice), items in per_invoice.items()
        ]
        # Returns users may prepare draft credit notes for the returns they can
        # write (checked by the caller) without billing rights (RELIABILITY B3);
        # posting them still requires billing rights.
        moves = self.env["account.move"].sudo().create(vals_list)  # see above
        links = defaultdict(list)
        for (order, _invoice), credit_note in zip(per_invoice, moves, strict=True):
            links[order.id].append(credit_note._get_html_link())
        bodies = {
            order_id: self.env._(
                "Credit notes created: %(moves)s", moves=Markup(", ").join(order_links)
            )
            for order_id, order_links in links.items()
        }
        # one batched log instead of a message_post per return; write access to
        # the returns was checked by the caller
        self.browse(list(bodies))._message_log_batch(bodies)
        return moves.sudo(False)

    def _prepare_credit_note_vals(self, invoice, items):
        self.ensure_one()
        return {
            "move_type": "out_refund",
            "partner_id": invoice.partner_id.id,
            "company_id": invoice.company_id.id,
            "journal_id": invoice.journal_id.id,
            "currency_id": invoice.currency_id.id,
            "fiscal_position_id": invoice.fiscal_position_id.id,
            "invoice_user_id": invoice.invoice_user_id.id,
            "team_id": invoice.team_id.id,
            "reversed_entry_id": invoice.id,
            # as core's reversal wizard: dated when made, and the invoice's
            # review flag copied (posting then has no change to track)
            "invoice_date": fields.Date.context_today(self),
            "checked": invoice.checked,
            "invoice_origin": invoice.invoice_origin,
            "ref": self.env._(
                "%(return_name)s: return of %(invoice)s",
                return_name=self.name,
                invoice=invoice.name,
            ),
            "return_order_id": self.id,
            "invoice_line_ids": [
                Command.create(line._prepare_credit_line_vals(invoice_line, qty))
                for line, invoice_line, qty in items
            ],
        }

    def _close_resolved(self):
        resolved = self.filtered(lambda order: order._is_resolved())
        resolved.write({"state": "done", "date_done": fields.Datetime.now()})

    def _is_resolved(self):
        self.ensure_one()
        open_pickings = self.return_picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        return not open_pickings and not any(
            line._qty_to_credit() for line in self.line_ids
        )

    def _reopen_unresolved(self):
        """A cancelled or deleted credit note puts its return back to work."""
        reopened = self.filtered(
            lambda order: (
                order.state == "done"
                and any(line._qty_to_credit() for line in order.line_ids)
            )
        )
        reopened.write({"state": "received", "date_done": False})


class ReturnOrderLine(models.Model):
    _inherit = "return.order.line"

    def _qty_to_credit(self):
        """Received, not yet credited quantity that the customer was billed for.

        Capped by what the sale line has invoiced beyond what it still
        delivers, so neither a second credit note nor a refund made by hand
        in Odoo can credit the same quantity twice.
        """
        self.ensure_one()
        sale_line = self.sale_line_id
        over_invoiced = sale_line.product_uom._compute_quantity(
            sale_line.qty_invoiced - sale_line.qty_delivered, self.product_uom_id
        )
        qty = min(self.qty_received - self.qty_refunded, over_invoiced)
        rounding = self.product_uom_id.rounding
        return qty if float_compare(qty, 0, precision_rounding=rounding) > 0 else 0.0

    def _allocate_invoice_lines(self):
        """Split each line's creditable quantity over the posted invoices.

        Returns (line, invoice line, quantity in the invoice line's unit)
        triplets, newest invoice first, never more per invoice line than it
        billed minus what credit notes of that invoice already credited.
        """
        left_on_invoice_line = {}
        allocations = []
        # one query per field for all lines; filtered() below drops the
        # shared prefetch
        self.sale_line_id.invoice_lines.fetch(["sale_line_ids", "tax_ids"])
        for line in self:
            to_credit = line._qty_to_credit()
            if not to_credit:
                continue
            invoice_lines = line.sale_line_id._return_posted_invoice_lines()
            newest_first = invoice_lines.sorted(
                lambda l: (l.move_id.invoice_date, l.move_id.id), reverse=True
            )
            for invoice_line in newest_first:
                if invoice_line.id not in left_on_invoice_line:
                    left_on_invoice_line[invoice_line.id] = (
                        invoice_line._return_remaining_credit_qty()
                    )
                available = invoice_line.product_uom_id._compute_quantity(
                    left_on_invoice_line[invoice_line.id], line.product_uom_id
                )
                qty = min(available, to_credit)
                if (
                    float_compare(
                        qty, 0, precision_rounding=line.product_uom_id.rounding
                    )
                    <= 0
                ):
                    continue
                qty_invoice_uom = line.product_uom_id._compute_quantity(
                    qty, invoice_line.product_uom_id
                )
                allocations.append((line, invoice_line, qty_invoice_uom))
                left_on_invoice_line[invoice_line.id] -= qty_invoice_uom
                to_credit -= qty
                if float_is_zero(
                    to_credit, precision_rounding=line.product_uom_id.rounding
                ):
                    break
        return allocations

    def _prepare_credit_line_vals(self, invoice_line, quantity):
        self.ensure_one()
        return {
            "display_type": "product",
            "product_id": invoice_line.product_id.id,
            "name": invoice_line.name,
            "quantity": quantity,
            "product_uom_id": invoice_line.product_uom_id.id,
            "price_unit": invoice_line.price_unit,
            "discount": invoice_line.discount,
            "tax_ids": [Command.set(invoice_line.tax_ids.ids)],
            "account_id": invoice_line.account_id.id,
            "analytic_distribution": invoice_line.analytic_distribution,
            "sale_line_ids": [Command.set(invoice_line.sale_line_ids.ids)],
            "return_order_line_id": self.id,
        }
