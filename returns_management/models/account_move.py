from odoo import fields, models


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "return.protected.mixin"]
    # the return a credit note refunds: its posting closes that return
    _protected_fields = ("return_order_id",)

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
        # sudo is safe: only the returns of these credit notes, whose state
        # changes already passed the credit notes' own access checks
        return self.sudo().return_order_id  # see above

    def _reconcile_reversed_moves(self, reverse_moves, move_reverse_cancel):
        """Pair each credit note with the invoice it reverses, then let core
        reconcile: core's caller deduplicates the invoices, so two credit
        notes of one invoice posted together would shift every later pair."""
        paired = self.browse([move.reversed_entry_id.id for move in reverse_moves])
        return super(AccountMove, paired)._reconcile_reversed_moves(
            reverse_moves, move_reverse_cancel
        )

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
        if len(self) == 1:
            # a plain action: cheaper on cold caches than reading the window
            # action and its groups, for a form
            return {
                "type": "ir.actions.act_window",
                "res_model": "account.move",
                "res_id": self.id,
                "views": [(False, "form")],
                "context": {"default_move_type": "out_refund"},
            }
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_refund_type"
        )
        action["domain"] = [("id", "in", self.ids)]
        return action
