from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    return_order_line_id = fields.Many2one(
        "return.order.line", index="btree_not_null", readonly=True
    )

    def _prepare_merge_moves_distinct_fields(self):
        # two return lines on one sale line return the same delivery move:
        # each keeps its own receipt move, so each counts its own quantity
        return [*super()._prepare_merge_moves_distinct_fields(), "return_order_line_id"]

    def _return_remaining_product_qty(self):
        """Done quantity of this delivery move not returned yet (open or done)."""
        self.ensure_one()
        uom = self.product_id.uom_id
        remaining = self.product_uom._compute_quantity(self.quantity, uom)
        for returned in self.returned_move_ids.filtered(lambda m: m.state != "cancel"):
            qty = (
                returned.quantity
                if returned.state == "done"
                else returned.product_uom_qty
            )
            remaining -= returned.product_uom._compute_quantity(qty, uom)
        return remaining
