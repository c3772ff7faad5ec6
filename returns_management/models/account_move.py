from collections import defaultdict

from markupsafe import Markup

from odoo import Command, fields, models

from odoo.addons.account.models.account_move import TYPE_REVERSE_MAP


class AccountMove(models.Model):
    _inherit = "account.move"

    return_order_id = fields.Many2one(
        "return.order", index="btree_not_null", readonly=True, copy=False
    )
    return_order_ids = fields.Many2many(
        "return.order",
        compute="_compute_return_order_ids",
        string="Return Orders",
        groups="returns_management.group_return_user",
    )
    return_order_count = fields.Integer(
        compute="_compute_return_order_ids",
        groups="returns_management.group_return_user",
    )

    def _compute_return_order_ids(self):
        sale_orders = self.invoice_line_ids.sale_line_ids.order_id
        returns = self.env["return.order"].search(
            [("sale_order_id", "in", sale_orders.ids)]
        )
        for move in self:
            orders = move.return_order_id
            if move.move_type == "out_invoice":
                move_sales = move.invoice_line_ids.sale_line_ids.order_id
                orders |= returns.filtered(lambda r: r.sale_order_id in move_sales)
            move.return_order_ids = orders
            move.return_order_count = len(orders)

    def _post(self, soft=True):
        posted = super()._post(soft)
        posted._return_orders()._close_resolved()
        return posted

    def _return_orders(self):
        """The returns of these credit notes, whose state follows them.

        An accountant without returns rights posts, resets or cancels credit
        notes; the state of their returns follows what Odoo just allowed on
        the credit notes, hence sudo.
        """
        return self.sudo().return_order_id

    def _reconcile_reversed_moves(self, reverse_moves, move_reverse_cancel):
        """Pair each credit note with the invoice it reverses, then let core
        reconcile: core's caller deduplicates the invoices, so two credit
        notes of one invoice posted together would shift every later pair."""
        paired = self.browse([move.reversed_entry_id.id for move in reverse_moves])
        return super(AccountMove, paired)._reconcile_reversed_moves(
            reverse_moves, move_reverse_cancel
        )

    def _return_reverse(self, default_values_list):
        """What ``_reverse_moves`` does for invoices, for all at once.

        Core copies the invoices one by one; here every credit note is
        copied from its invoice with the same values (``copy_data``, so its
        date logic applies, plus the reversal's type, link and partner and
        the marketing fields sale's override adds) and created in one batch.
        """
        vals_list = []
        for invoice, default in zip(self, default_values_list, strict=True):
            default = {
                **default,
                "move_type": TYPE_REVERSE_MAP[invoice.move_type],
                "reversed_entry_id": invoice.id,
                "partner_id": invoice.partner_id.id,
            }
            if default.get("invoice_payment_term_id"):
                # core's reversal rewrites the lines once more after copying,
                # so the kept (early-payment "mixed") term sets the due date
                default.pop("invoice_date_due", None)
            for fname in ("campaign_id", "medium_id", "source_id"):
                if fname in invoice._fields:  # as sale's _reverse_moves
                    default[fname] = invoice[fname].id
            vals_list += invoice.with_context(include_business_fields=True).copy_data(
                default
            )
        return self.create(vals_list)

    def _return_reversal_defaults(self, reasons):
        """Default values of the credit note wizard, one dict per invoice
        (duplicates included) with its reason: its date, due date, payment
        term, journal and the customer's bank account."""
        today = fields.Date.context_today(self)
        partners = self.commercial_partner_id
        banks = self.env["res.partner.bank"].search(
            [
                ("partner_id", "in", partners.ids),
                ("company_id", "in", [*self.company_id.ids, False]),
            ],
            order="sequence DESC",
        )
        bank_of = {bank.partner_id: bank for bank in banks}
        defaults = []
        for invoice, reason in zip(self, reasons, strict=True):
            wizard = self.env["account.move.reversal"].new(
                {
                    "move_ids": [Command.set(invoice.ids)],
                    "journal_id": invoice.journal_id.id,
                    "date": today,
                    "reason": reason,
                    "company_id": invoice.company_id.id,
                }
            )
            defaults.append(
                {
                    **wizard._prepare_default_reversal(invoice),
                    "partner_bank_id": bank_of.get(
                        invoice.commercial_partner_id, banks.browse()
                    ).id,
                }
            )
        return defaults

    def _return_credit_line_commands(self, items):
        """The lines of this invoice's credit note for (return line, invoice
        line, quantity, unit) items: the returned lines, each discount line
        for its share, and the invoice's receivable lines. Odoo recomputes
        taxes, due dates and cash rounding from them, as when it reverses;
        the receivable lines are copied because a new due-date line takes
        the account of the move's earlier one: the invoice's, not the
        customer's current account."""
        self.ensure_one()
        commands = [
            invoice_line._return_prepare_credit_line(line, qty, uom)
            for line, invoice_line, qty, uom in items
        ]
        commands += self._return_prorated_discount_commands(items)
        commands += [
            Command.create(line.copy_data()[0])
            for line in self.line_ids
            if line.display_type == "payment_term"
        ]
        return commands

    def _return_prorated_discount_commands(self, items):
        """Each negative line of the invoice (a global discount, not a down
        payment) for the share of the goods credited, per set of taxes."""
        discounts = self.invoice_line_ids.filtered(
            lambda l: (
                l.display_type == "product"
                and l.price_subtotal < 0
                and not any(l.sale_line_ids.mapped("is_downpayment"))
            )
        )
        if not discounts:
            return []
        goods = self.invoice_line_ids.filtered(
            lambda l: l.display_type == "product" and l.price_subtotal > 0
        )
        credited = defaultdict(float)
        for _line, invoice_line, qty, uom in items:
            ratio = (
                uom._compute_quantity(qty, invoice_line.product_uom_id, round=False)
                / invoice_line.quantity
            )
            credited[invoice_line.tax_ids] += invoice_line.price_subtotal * ratio
        commands = []
        for discount in discounts:
            base = sum(
                goods.filtered(lambda l: l.tax_ids == discount.tax_ids).mapped(
                    "price_subtotal"
                )
            )
            share = credited[discount.tax_ids] / base if base else 0.0
            if share:
                commands.append(discount._return_prepare_prorated_line(share))
        return commands

    def _return_log_reversal(self):
        """Log the credit notes on their invoices, as the wizard does, and on
        their returns, one batch each."""
        invoice_bodies = {
            invoice.id: self.env._(
                "This entry has been reversed by %(moves)s.",
                moves=Markup(", ").join(m._get_html_link() for m in moves),
            )
            for invoice, moves in self.grouped("reversed_entry_id").items()
        }
        reversal_bodies = {
            move.id: self.env._(
                "This entry has been reversed from %(invoice)s.",
                invoice=move.reversed_entry_id._get_html_link(),
            )
            for move in self
        }
        return_bodies = {
            order.id: self.env._(
                "Credit notes created: %(moves)s",
                moves=Markup(", ").join(m._get_html_link() for m in moves),
            )
            for order, moves in self.grouped("return_order_id").items()
        }
        # logged as the wizard does, for a user who may lack billing rights;
        # write access to the returns was checked by the caller
        invoices = self.env["account.move"].sudo().browse(list(invoice_bodies))
        invoices._message_log_batch(invoice_bodies)
        self.sudo()._message_log_batch(reversal_bodies)
        self.return_order_id.sudo()._message_log_batch(return_bodies)

    def button_cancel(self):
        res = super().button_cancel()
        self._return_orders()._reopen_unresolved()
        return res

    def button_draft(self):
        res = super().button_draft()
        self._return_orders()._reopen_unresolved()
        return res

    def unlink(self):
        # Deleting a credit note must undo its effect on the return; the
        # deletion guard itself stays with account.move.
        orders = self._return_orders()
        res = super().unlink()
        orders.exists()._reopen_unresolved()
        return res

    def action_view_return_orders(self):
        return self.return_order_ids._action_view_self()

    def _return_action_view(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_refund_type"
        )
        if len(self) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = self.id
        else:
            action["domain"] = [("id", "in", self.ids)]
        return action
