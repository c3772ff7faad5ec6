from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # returns users only: salespeople without returns rights read sale orders
    return_order_ids = fields.One2many(
        "return.order", "sale_order_id", groups="returns_management.group_return_user"
    )
    return_order_count = fields.Integer(
        compute="_compute_return_order_count",
        groups="returns_management.group_return_user",
    )

    def _compute_return_order_count(self):
        counts = dict(
            self.env["return.order"]._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]
            )
        )
        for order in self:
            order.return_order_count = counts.get(order, 0)

    def action_open_return_wizard(self):
        self.ensure_one()
        if self.state != "sale":
            raise UserError(self.env._("Only confirmed sale orders can be returned."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Return Products"),
            "res_model": "return.order.create.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_sale_order_id": self.id},
        }

    def _return_all_goods_back(self):
        """Whether the customer keeps none of the goods these orders delivered."""
        goods = self.order_line.filtered(
            lambda l: l.product_id.type == "consu" and not l._is_delivery()
        )
        return all(
            float_is_zero(l.qty_delivered, precision_rounding=l.product_uom.rounding)
            for l in goods
        )

    def _return_lines_all_refund_shipping(self):
        """Whether every return line of these orders (not cancelled, not
        refused) follows a policy that refunds shipping: only then is all of
        the shipping given back when everything comes back."""
        # sudo is safe: only the kept terms of the orders' return lines are
        # read, for whoever credits a return (or validates its receipt)
        lines = (
            self.env["return.order.line"]
            .sudo()  # see above
            .search(
                [
                    ("order_id.sale_order_id", "in", self.ids),
                    ("state", "not in", ("draft", "cancel", "rejected")),
                ]
            )
        )
        return all(line._policy_terms().refund_shipping for line in lines)

    def action_view_return_orders(self):
        return self.return_order_ids._action_view_self()
