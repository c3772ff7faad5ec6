from odoo import Command, api, fields, models


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "return.protected.mixin"]
    # which returns a transfer receives or inspects: its validation moves
    # their state, quantities and refunds
    _protected_fields = ("return_order_id", "return_qc_order_ids")

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
    return_qc_order_ids = fields.Many2many(
        "return.order",
        "return_order_qc_picking_rel",
        "picking_id",
        "order_id",
        string="Inspected Returns",
        readonly=True,
        copy=False,
        groups="returns_management.group_return_user",
    )
    return_order_count = fields.Integer(
        compute="_compute_return_order_ids",
        groups="returns_management.group_return_user",
    )

    @api.model
    def _is_consistent_link(self, name, value, vals):
        """A receipt of a return is created by Odoo's return of a delivery
        that return's goods came from; backorders and inspection transfers
        are linked by the actions."""
        if name != "return_order_id":
            return False
        # sudo is safe: reads only which deliveries the return's goods left by
        order = self.env["return.order"].sudo().browse(value)  # see above
        deliveries = order.line_ids.sale_line_id._return_delivered_moves().picking_id
        return bool(vals.get("return_id")) and vals["return_id"] in deliveries.ids

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
            order_backorders._set_protected({"return_order_id": order.id})
        return backorders

    def _action_done(self):
        res = super()._action_done()
        # sudo is safe: Odoo just let this user validate these receipts (most
        # receivers have no returns rights); their returns follow what came
        # back, and a refund on receipt is the decision of the return's policy
        self.sudo().return_order_id._on_return_receipt_done()  # see above
        inspection = self.filtered(lambda p: p.move_ids.return_qc_line_id)
        # sudo is safe: the returns whose inspection transfers just finished,
        # closed if nothing else waits (a warehouse user may lack returns rights)
        inspection.sudo().return_qc_order_ids._close_resolved()  # see above
        return res

    def _return_qc_link_orders(self):
        """Link inspection transfers to the returns whose goods they move,
        one write per transfer rather than per return."""
        self._set_protected_each(
            {
                picking: {
                    "return_qc_order_ids": [
                        Command.link(order.id)
                        for order in picking.move_ids.return_qc_line_id.order_id
                    ]
                }
                for picking in self
            }
        )

    def _return_qc_confirm_and_reserve(self):
        """Inspection transfers left for the warehouse: ready, with the
        graded lots reserved."""
        if not self:
            return
        self.action_confirm()
        self.move_ids._return_qc_reserve()
        short = self.move_ids.filtered(lambda m: m.state != "assigned")
        if short:
            short._return_qc_raise_missing(short[0].product_id, short[0].location_id)

    def _return_qc_move_now(self):
        """Inspection transfers validated at once: their move lines name the
        goods (lot) that move, once checked that they are still there."""
        if not self:
            return
        moves = self.move_ids
        moves._return_qc_check_available()
        # Odoo's putaway rules pick the shelf, as its own internal transfers do
        self.env["stock.move.line"].create(
            [move._return_qc_move_line_vals() for move in moves]
        )._apply_putaway_strategy()
        moves.picked = True
        self._action_done()

    def action_view_return_orders(self):
        return self.return_order_ids._action_view_self()
