from collections import defaultdict

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero, float_round


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
        self._ensure_nothing_waiting_to_post()
        self.line_ids._lower_ordered_quantities()
        self._create_credit_notes()
        self._close_resolved()

    def _ensure_nothing_waiting_to_post(self):
        waiting = self.filtered(
            lambda order: (
                any(line.qty_credit_draft for line in order.line_ids)
                and not any(line._qty_to_credit() for line in order.line_ids)
            )
        )
        if waiting:
            raise UserError(
                self.env._(
                    "Nothing more to credit on %(names)s: post or cancel its draft "
                    "credit notes first.",
                    names=", ".join(waiting.mapped("name")),
                )
            )

    def _create_credit_notes(self):
        """Reverse each invoice the way Odoo's credit note wizard does, keeping
        only the returned quantities: one credit note per return and invoice."""
        per_invoice, first_units = self._credit_items_per_invoice()
        if not per_invoice:
            return self.env["account.move"]
        # an invoice may appear once per return: browse keeps the duplicates
        invoices = self.env["account.move"].browse(
            [invoice.id for _order, invoice in per_invoice]
        )
        defaults = invoices._return_reversal_defaults(
            [order.name for order, _invoice in per_invoice]
        )
        for values, ((order, invoice), items) in zip(
            defaults, per_invoice.items(), strict=True
        ):
            values.update(order._prepare_credit_note_vals(invoice, items, first_units))
        # Returns users may prepare draft credit notes for the returns they can
        # write (checked by the caller) without billing rights (RELIABILITY B3);
        # posting them still requires billing rights.
        moves = invoices.sudo()._return_reverse(defaults)  # see above
        moves._return_log_reversal()
        return moves.sudo(False)

    def _credit_items_per_invoice(self):
        """What is left to credit: {(return, invoice): [(return line,
        invoice line, quantity, unit)]}, and {(return line, invoice line):
        quantity of the line credited before that item}, so that grade
        deductions follow the credited units in the order they were
        inspected."""
        per_invoice = defaultdict(list)
        first_units = {}
        credited = {}
        for line, invoice_line, qty, uom in self.line_ids._allocate_invoice_lines():
            per_invoice[line.order_id, invoice_line.move_id].append(
                (line, invoice_line, qty, uom)
            )
            if line not in credited:
                credited[line] = line.qty_refunded + line.qty_credit_draft
            first_units[line, invoice_line] = credited[line]
            credited[line] += uom._compute_quantity(
                qty, line.product_uom_id, round=False
            )
        return per_invoice, first_units

    def _prepare_credit_note_vals(self, invoice, items, first_units=None):
        """What differs from a full reversal of the invoice: the link to the
        return and only the returned lines (discounts prorated)."""
        self.ensure_one()
        return {
            "return_order_id": self.id,
            "line_ids": invoice._return_credit_line_commands(items, first_units),
        }

    def _close_resolved(self):
        resolved = self.filtered(
            lambda order: order.state == "received" and order._is_resolved()
        )
        resolved._set_state({"state": "done", "date_done": fields.Datetime.now()})

    def _is_resolved(self):
        """Goods in, nothing left to credit, every credit note posted and no
        goods beyond approval waiting for a manager's decision."""
        self.ensure_one()
        open_pickings = self.return_picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        return (
            not open_pickings
            and not self.has_over_receipt
            and not any(line.qty_credit_draft for line in self.line_ids)
            and not any(line._qty_to_credit() for line in self.line_ids)
        )

    def _reopen_unresolved(self):
        """A credit note reset to draft, cancelled or deleted puts its return
        back to work."""
        reopened = self.filtered(
            lambda order: order.state == "done" and not order._is_resolved()
        )
        reopened._set_state({"state": "received", "date_done": False})


class ReturnOrderLine(models.Model):
    _inherit = "return.order.line"
    _protected_fields = ("qty_unordered",)

    qty_unordered = fields.Float(
        string="Removed From Order",
        digits="Product Unit of Measure",
        readonly=True,
        copy=False,
        help="For products invoiced on ordered quantities: how much of this "
        "line was taken off the sale order's ordered quantity.",
    )

    def _qty_to_credit(self, over_invoiced=None):
        """Received, not yet credited quantity that the customer was billed for.

        Capped by what the sale line has invoiced beyond what it still
        delivers (``over_invoiced``, in the sale line's unit, when the caller
        consumes it line by line), so neither a second credit note nor a
        refund made by hand in Odoo can credit the same quantity twice.
        """
        self.ensure_one()
        sale_line = self.sale_line_id
        sale_uom = sale_line.product_uom
        if over_invoiced is None:
            over_invoiced = sale_line.qty_invoiced - sale_line.qty_delivered
        credited = self.qty_refunded + self.qty_credit_draft
        qty = self._qty_received_approved() - credited
        # the sale line rounds what it delivered to its unit (1 unit back of
        # 2 dozens: 1.92 delivered): within that rounding, nothing is capped
        qty_sale_uom = self.product_uom_id._compute_quantity(qty, sale_uom, round=False)
        if (
            float_compare(
                qty_sale_uom, over_invoiced, precision_rounding=sale_uom.rounding
            )
            > 0
        ):
            qty = sale_uom._compute_quantity(
                over_invoiced, self.product_uom_id, round=False
            )
        rounding = self.product_uom_id.rounding
        return qty if float_compare(qty, 0, precision_rounding=rounding) > 0 else 0.0

    def _allocate_invoice_lines(self):
        """Split each line's creditable quantity over the posted invoices.

        Returns (line, invoice line, quantity, unit) quadruplets, newest
        invoice first, never more per invoice line than it billed minus what
        credit notes of that invoice already credited, and never more per
        sale line than it invoiced beyond what it still delivers, consumed
        as it is allocated across lines and returns.
        """
        left_on_invoice_line = {}
        over_invoiced = {}
        allocations = []
        # one query per field for all lines; filtered() below drops the
        # shared prefetch
        self.sale_line_id.invoice_lines.fetch(["sale_line_ids", "tax_ids"])
        for line in self:
            sale_line = line.sale_line_id
            if sale_line not in over_invoiced:
                over_invoiced[sale_line] = (
                    sale_line.qty_invoiced - sale_line.qty_delivered
                )
            to_credit = line._qty_to_credit(over_invoiced[sale_line])
            if not to_credit:
                continue
            placed = line._place_on_invoice_lines(to_credit, left_on_invoice_line)
            allocations += placed
            over_invoiced[sale_line] -= sum(
                uom._compute_quantity(qty, sale_line.product_uom, round=False)
                for _line, _invoice_line, qty, uom in placed
            )
        return allocations

    def _place_on_invoice_lines(self, to_credit, left_on_invoice_line):
        self.ensure_one()
        uom = self.product_uom_id
        invoice_lines = self.sale_line_id._return_posted_invoice_lines()
        newest_first = invoice_lines.sorted(
            lambda l: (l.move_id.invoice_date, l.move_id.id), reverse=True
        )
        placed = []
        for invoice_line in newest_first:
            if float_is_zero(to_credit, precision_rounding=uom.rounding):
                break
            if invoice_line.id not in left_on_invoice_line:
                left_on_invoice_line[invoice_line.id] = (
                    invoice_line._return_remaining_credit_qty()
                )
            invoice_uom = invoice_line.product_uom_id
            available = invoice_uom._compute_quantity(
                left_on_invoice_line[invoice_line.id], uom, round=False
            )
            qty = min(available, to_credit)
            if float_compare(qty, 0, precision_rounding=uom.rounding) <= 0:
                continue
            qty_invoice_uom = uom._compute_quantity(qty, invoice_uom, round=False)
            left_on_invoice_line[invoice_line.id] -= qty_invoice_uom
            to_credit -= qty
            placed.append(
                (self, invoice_line, *invoice_line._return_credit_qty_uom(qty, uom))
            )
        return placed

    def _lower_ordered_quantities(self):
        """For products invoiced on ordered quantities, what came back is no
        longer ordered: lower the sale line by it (logged on the order), as
        an expert would, so the order is not billed for it again."""
        lowered = defaultdict(float)
        lowered_by_line = {}
        for line in self:
            sale_line = line.sale_line_id
            if sale_line.product_id.invoice_policy != "order":
                continue
            qty = line._qty_received_approved() - line.qty_unordered
            if (
                float_compare(qty, 0, precision_rounding=line.product_uom_id.rounding)
                > 0
            ):
                lowered[sale_line] += line.product_uom_id._compute_quantity(
                    qty, sale_line.product_uom, round=False
                )
                line._set_protected({"qty_unordered": line.qty_unordered + qty})
                lowered_by_line[line] = qty
        if not lowered:
            return
        # Returns users may lack sales rights. sudo is safe: write access to
        # the returns was checked by the caller, and only the ordered quantity
        # of the sale lines whose goods came back changes. Locked orders are
        # unlocked for that write.
        sale_lines = self.env["sale.order.line"].concat(*lowered).sudo()  # see above
        locked = sale_lines.order_id.filtered("locked")
        locked.locked = False
        for sale_line in sale_lines:
            sale_line.product_uom_qty = float_round(
                sale_line.product_uom_qty - lowered[sale_line],
                precision_rounding=sale_line.product_uom.rounding,
            )
        locked.locked = True
        for line, qty in lowered_by_line.items():
            line.sale_line_id.order_id._message_log(
                body=self.env._(
                    "Ordered quantity of %(product)s lowered by %(qty)s %(uom)s: "
                    "returned with %(return_name)s.",
                    product=line.product_id.display_name,
                    qty=qty,
                    uom=line.product_uom_id.name,
                    return_name=line.order_id.name,
                )
            )
