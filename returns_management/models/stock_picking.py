from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    # not copied: a return of our receipt (goods sent back) is no receipt of
    # the return; backorders keep it through _create_backorder
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
        """Returns received by this picking or returning goods it delivered."""
        lines = self.env["return.order.line"].search(
            [("move_id.picking_id", "in", self.ids)]
        )
        for picking in self:
            orders = (
                picking.return_order_id
                | lines.filtered(lambda l: l.move_id.picking_id == picking).order_id
            )
            picking.return_order_ids = orders
            picking.return_order_count = len(orders)

    def _create_backorder(self, backorder_moves=None):
        backorders = super()._create_backorder(backorder_moves=backorder_moves)
        receipts = backorders.filtered(lambda b: b.backorder_id.return_order_id)
        for order, order_backorders in receipts.grouped(
            lambda b: b.backorder_id.return_order_id
        ).items():
            order_backorders.return_order_id = order
        return backorders

    def _action_done(self):
        res = super()._action_done()
        self.return_order_id._on_return_receipt_done()
        return res

    def action_view_return_orders(self):
        return self.return_order_ids._action_view_self()
