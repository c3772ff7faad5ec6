from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    # not copied: a return of our receipt (goods sent back) is no receipt of
    # the return; splits and backorders keep it through _prepare_move_split_vals
    return_order_line_id = fields.Many2one(
        "return.order.line", index="btree_not_null", readonly=True, copy=False
    )

    def _prepare_merge_moves_distinct_fields(self):
        # two return lines on one sale line return the same delivery move:
        # each keeps its own receipt move, so each counts its own quantity
        return [*super()._prepare_merge_moves_distinct_fields(), "return_order_line_id"]

    def _prepare_move_split_vals(self, qty):
        vals = super()._prepare_move_split_vals(qty)
        vals["return_order_line_id"] = self.return_order_line_id.id
        return vals

    def _return_customer_receipt_moves(self):
        """Moves of return receipts bringing goods from the customer."""
        return self.filtered(
            lambda m: m.return_order_line_id and m.location_id.usage == "customer"
        )

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
