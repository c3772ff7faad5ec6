from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    return_order_line_id = fields.Many2one(
        "return.order.line", index="btree_not_null", readonly=True, copy=False
    )

    def _return_remaining_credit_qty(self):
        """Quantity of this invoice line not yet credited by its credit notes."""
        self.ensure_one()
        credits = self.sale_line_ids.invoice_lines.filtered(
            lambda l: (
                l.move_id.move_type == "out_refund"
                and l.move_id.reversed_entry_id == self.move_id
                and l.parent_state != "cancel"
                and l.product_id == self.product_id
            )
        )
        credited = sum(
            l.product_uom_id._compute_quantity(l.quantity, self.product_uom_id)
            for l in credits
        )
        return self.quantity - credited
