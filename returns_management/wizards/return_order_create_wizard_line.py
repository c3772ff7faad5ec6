from odoo import api, fields, models


class ReturnOrderCreateWizardLine(models.TransientModel):
    _name = "return.order.create.wizard.line"
    _description = "Product to Return"

    wizard_id = fields.Many2one(
        "return.order.create.wizard", required=True, ondelete="cascade"
    )
    sale_line_id = fields.Many2one("sale.order.line", required=True)
    product_id = fields.Many2one(related="sale_line_id.product_id")
    product_uom_id = fields.Many2one(related="sale_line_id.product_uom")
    qty_delivered = fields.Float(
        related="sale_line_id.qty_delivered", digits="Product Unit of Measure"
    )
    qty_returnable = fields.Float(
        related="sale_line_id.return_qty_returnable", digits="Product Unit of Measure"
    )
    quantity = fields.Float(
        string="Quantity to Return", digits="Product Unit of Measure"
    )
    reason_id = fields.Many2one(
        "return.reason",
        default=lambda self: self.env["return.reason"].search([], limit=1),
    )
    note = fields.Char()
    tracking = fields.Selection(related="sale_line_id.product_id.tracking")
    lot_ids = fields.Many2many(
        "stock.lot",
        "return_order_create_wizard_line_lot_rel",
        "wizard_line_id",
        "lot_id",
        string="Lots/Serial Numbers",
        domain="[('id', 'in', returnable_lot_ids)]",
    )
    returnable_lot_ids = fields.Many2many(
        "stock.lot", compute="_compute_returnable_lot_ids"
    )

    @api.depends("sale_line_id")
    def _compute_returnable_lot_ids(self):
        return_lines = self.env["return.order.line"]
        for line in self:
            available = (
                return_lines._lot_available(sale_line=line.sale_line_id)
                if line.tracking not in (False, "none")
                else {}
            )
            line.returnable_lot_ids = self.env["stock.lot"].union(
                *(lot for lot, qty in available.items() if qty > 0)
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self.env["return.order.line"]._check_quantity_input(vals)
        return super().create(vals_list)

    def write(self, vals):
        self.env["return.order.line"]._check_quantity_input(vals)
        return super().write(vals)
