from odoo import fields, models


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
        self.filtered(
            lambda move: move.return_order_id or move.stock_move_id.return_order_line_id
        )._return_subscribe_customers()
        return super()._post(soft)

    def _return_subscribe_customers(self):
        """Make each customer follow its return entries, one batch per customer.

        Posting does the same one move at a time (credit notes, and the
        valuation entries of returned goods); already following, the customer
        is skipped there.
        """
        for partner, moves in self.grouped("partner_id").items():
            if partner.active:
                moves.sudo()._message_subscribe(partner.ids)  # as core's _post

    def _reconcile_reversed_moves(self, reverse_moves, move_reverse_cancel):
        """Reconcile return credit notes with their invoices in one plan.

        Core reconciles pair by pair, pairing the invoices with the credit
        notes by position; its caller deduplicates the invoices, so two credit
        notes of one invoice would shift every later pair. Each credit note
        here is paired with its own invoice, and all pairs go through one
        batched reconciliation plan, in the same order as core's loop.
        """
        credit_notes = reverse_moves.filtered("return_order_id")
        if not credit_notes:
            return super()._reconcile_reversed_moves(reverse_moves, move_reverse_cancel)
        others = reverse_moves - credit_notes
        if others:
            super(AccountMove, others.reversed_entry_id)._reconcile_reversed_moves(
                others, move_reverse_cancel
            )
        plan = [
            lines
            for credit_note in credit_notes
            for lines in credit_note._return_reconcilable_groups()
        ]
        if plan:
            self.env["account.move.line"].with_context(
                move_reverse_cancel=move_reverse_cancel
            )._reconcile_plan(plan)
        return reverse_moves

    def _return_reconcilable_groups(self):
        """Open journal items of this credit note and of the invoice it
        reverses, per account and currency, receivables first (as core)."""
        self.ensure_one()
        lines = (self.reversed_entry_id.line_ids + self.line_ids).filtered(
            lambda line: not line.reconciled
        )
        groups = lines.sorted(
            lambda line: (
                line.account_type not in ("asset_receivable", "liability_payable")
            )
        ).grouped(lambda line: (line.account_id, line.currency_id))
        return [
            group
            for (account, _currency), group in groups.items()
            if account.reconcile
            or account.account_type in ("asset_cash", "liability_credit_card")
        ]

    def button_cancel(self):
        res = super().button_cancel()
        self.return_order_id._reopen_unresolved()
        return res

    def button_draft(self):
        res = super().button_draft()
        self.return_order_id._reopen_unresolved()
        return res

    def unlink(self):
        # Deleting a credit note must undo its effect on the return; the
        # deletion guard itself stays with account.move.
        orders = self.return_order_id
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
