from odoo import fields, models


class StockReturnPickingLine(models.TransientModel):
    _name = "stock.return.picking.line"
    _inherit = ["stock.return.picking.line", "return.protected.mixin"]
    # the return (inspection) line the receipt move will count for
    _protected_fields = ("return_order_line_id", "return_qc_line_id")

    return_order_line_id = fields.Many2one("return.order.line")
    return_qc_line_id = fields.Many2one("return.qc.line")

    def _prepare_move_default_values(self, new_picking):
        vals = super()._prepare_move_default_values(new_picking)
        if self.return_order_line_id:
            vals["return_order_line_id"] = self.return_order_line_id.id
        if self.return_qc_line_id:
            vals["return_qc_line_id"] = self.return_qc_line_id.id
        return vals
