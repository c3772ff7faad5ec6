from odoo import api, fields, models
from odoo.exceptions import ValidationError


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    return_location_id = fields.Many2one(
        "stock.location",
        string="Returns Location",
        check_company=True,
        domain="[('usage', '=', 'internal'), ('company_id', '=', company_id)]",
        help="Internal location where customer returns arrive, before inspection.",
    )

    @api.constrains("return_location_id")
    def _check_return_location_id(self):
        for warehouse in self:
            location = warehouse.return_location_id
            if location and location.usage != "internal":
                raise ValidationError(
                    self.env._(
                        "The returns location of %(warehouse)s must be an internal "
                        "location, which %(location)s is not.",
                        warehouse=warehouse.name,
                        location=location.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        warehouses = super().create(vals_list)
        warehouses._create_missing_return_locations()
        return warehouses

    def _create_missing_return_locations(self):
        missing = self.filtered(lambda wh: not wh.return_location_id)
        locations = self.env["stock.location"].create(
            [wh._prepare_return_location_vals() for wh in missing]
        )
        for warehouse, location in zip(missing, locations, strict=True):
            warehouse.return_location_id = location

    def _prepare_return_location_vals(self):
        self.ensure_one()
        return {
            "name": self.env._("Returns"),
            "usage": "internal",
            "location_id": self.view_location_id.id,
            "company_id": self.company_id.id,
            "active": self.active,
        }
