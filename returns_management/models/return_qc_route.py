from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .return_qc_grade import DISPOSITIONS

# dispositions whose goods stay in the company, moved by an internal transfer
INTERNAL_DISPOSITIONS = ("restock", "refurbish", "quarantine")


class ReturnQcRoute(models.Model):
    """Where a warehouse sends returned goods of a grade once inspected."""

    _name = "return.qc.route"
    _description = "Inspection Routing"
    _order = "warehouse_id, sequence, id"
    _check_company_auto = True

    warehouse_id = fields.Many2one(
        "stock.warehouse", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="warehouse_id.company_id", store=True)
    grade_id = fields.Many2one("return.qc.grade", required=True, ondelete="cascade")
    sequence = fields.Integer(related="grade_id.sequence", store=True)
    disposition = fields.Selection(DISPOSITIONS, required=True)
    location_dest_id = fields.Many2one(
        "stock.location",
        string="Destination",
        compute="_compute_destination",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
        help="Internal location (restock, refurbish, quarantine) or scrap "
        "location. Goods returned to the customer go back by a return of the "
        "receipt.",
    )
    picking_type_id = fields.Many2one(
        "stock.picking.type",
        string="Operation Type",
        compute="_compute_destination",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
        domain="[('code', '=', 'internal'), ('company_id', '=', company_id)]",
        help="Internal operation type of the transfers (restock, refurbish, "
        "quarantine).",
    )

    _sql_constraints = [
        (
            "warehouse_grade_uniq",
            "unique(warehouse_id, grade_id)",
            "A warehouse routes each grade once.",
        ),
    ]

    @api.depends("disposition", "warehouse_id")
    def _compute_destination(self):
        for route in self:
            warehouse = route.warehouse_id
            route.location_dest_id = warehouse._qc_default_destination(
                route.disposition
            )
            route.picking_type_id = (
                warehouse._qc_active_type(warehouse.int_type_id)
                if warehouse and route.disposition in INTERNAL_DISPOSITIONS
                else False
            )

    @api.constrains("disposition", "location_dest_id", "picking_type_id")
    def _check_destination(self):
        for route in self:
            location = route.location_dest_id
            if route.disposition in INTERNAL_DISPOSITIONS:
                valid = location.usage == "internal" and route.picking_type_id
            elif route.disposition == "scrap":
                valid = location.scrap_location
            else:
                valid = True
            if not valid:
                raise ValidationError(route._destination_error_message())

    def _destination_error_message(self):
        self.ensure_one()
        if self.disposition == "scrap":
            return self.env._(
                "%(warehouse)s: goods graded %(grade)s are scrapped, so their "
                "destination must be a scrap location.",
                warehouse=self.warehouse_id.name,
                grade=self.grade_id.name,
            )
        return self.env._(
            "%(warehouse)s: goods graded %(grade)s stay in the warehouse, so "
            "they need an internal destination location and an internal "
            "operation type.",
            warehouse=self.warehouse_id.name,
            grade=self.grade_id.name,
        )
