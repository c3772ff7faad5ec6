from odoo import fields, models


class StockScrap(models.Model):
    _inherit = "stock.scrap"

    return_order_id = fields.Many2one(
        "return.order", index="btree_not_null", readonly=True, copy=False
    )
    return_qc_line_id = fields.Many2one(
        "return.qc.line", index="btree_not_null", readonly=True, copy=False
    )
