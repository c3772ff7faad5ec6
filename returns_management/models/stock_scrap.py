from odoo import fields, models


class StockScrap(models.Model):
    _name = "stock.scrap"
    _inherit = ["stock.scrap", "return.protected.mixin"]
    _protected_fields = ("return_order_id", "return_qc_line_id")

    return_order_id = fields.Many2one(
        "return.order", index="btree_not_null", readonly=True, copy=False
    )
    return_qc_line_id = fields.Many2one(
        "return.qc.line", index="btree_not_null", readonly=True, copy=False
    )
