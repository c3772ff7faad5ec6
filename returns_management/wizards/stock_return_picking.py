from odoo import fields, models


class StockReturnPicking(models.TransientModel):
    _inherit = "stock.return.picking"

    return_order_id = fields.Many2one("return.order")
    return_location_id = fields.Many2one("stock.location")

    def _prepare_picking_default_values(self):
        vals = super()._prepare_picking_default_values()
        if self.return_order_id:
            vals["return_order_id"] = self.return_order_id.id
            vals["origin"] = self.env._(
                "%(return_name)s (return of %(picking)s)",
                return_name=self.return_order_id.name,
                picking=self.picking_id.name,
            )
        if self.return_location_id:
            vals["location_dest_id"] = self.return_location_id.id
        return vals
