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
    refurbish_location_id = fields.Many2one(
        "stock.location",
        string="Refurbishing Location",
        check_company=True,
        domain="[('usage', '=', 'internal'), ('company_id', '=', company_id)]",
        help="Internal location of inspected goods waiting to be refurbished.",
    )
    quarantine_location_id = fields.Many2one(
        "stock.location",
        check_company=True,
        domain="[('usage', '=', 'internal'), ('company_id', '=', company_id)]",
        help="Internal location of inspected goods held back from sale.",
    )
    qc_route_ids = fields.One2many(
        "return.qc.route", "warehouse_id", string="Inspection Routing"
    )
    return_qc_type_id = fields.Many2one(
        "stock.picking.type",
        string="Returns Inspection Type",
        check_company=True,
        copy=False,
        help="Operation type of the inspection transfers when the internal "
        "transfers type is archived (Odoo archives it without the Storage "
        "Locations setting), so that they show in the Inventory Overview.",
    )
    qc_validate_transfers = fields.Boolean(
        string="Move Inspected Goods at Once",
        default=True,
        help="On: validating an inspection also validates the internal "
        "transfers it creates. Off: they wait, ready, for the warehouse to "
        "validate them.",
    )

    @api.constrains(
        "return_location_id", "refurbish_location_id", "quarantine_location_id"
    )
    def _check_return_location_id(self):
        for warehouse in self:
            for field in (
                "return_location_id",
                "refurbish_location_id",
                "quarantine_location_id",
            ):
                location = warehouse[field]
                if location and location.usage != "internal":
                    raise ValidationError(
                        self.env._(
                            "The %(kind)s of %(warehouse)s must be an internal "
                            "location, which %(location)s is not.",
                            kind=self._fields[field]._description_string(self.env),
                            warehouse=warehouse.name,
                            location=location.display_name,
                        )
                    )

    @api.model_create_multi
    def create(self, vals_list):
        warehouses = super().create(vals_list)
        warehouses._create_missing_return_locations()
        warehouses._qc_routes_leave_archived_types()
        return warehouses

    def _create_missing_return_locations(self):
        """The returns, refurbishing and quarantine locations, then the
        default inspection routing, for warehouses that lack them."""
        incomplete = self.filtered(
            lambda wh: (
                not (
                    wh.return_location_id
                    and wh.refurbish_location_id
                    and wh.quarantine_location_id
                )
            )
        )
        if incomplete:
            incomplete._create_missing_qc_locations()
            incomplete._create_missing_qc_routes()

    def _create_missing_qc_locations(self):
        names = {
            "return_location_id": self.env._("Returns"),
            "refurbish_location_id": self.env._("Refurbishing"),
            "quarantine_location_id": self.env._("Quarantine"),
        }
        for field, name in names.items():
            missing = self.filtered(lambda wh, field=field: not wh[field])
            locations = self.env["stock.location"].create(
                [wh._prepare_return_location_vals(name) for wh in missing]
            )
            for warehouse, location in zip(missing, locations, strict=True):
                warehouse[field] = location

    def _prepare_return_location_vals(self, name):
        self.ensure_one()
        return {
            "name": name,
            "usage": "internal",
            "location_id": self.view_location_id.id,
            "company_id": self.company_id.id,
            "active": self.active,
        }

    def _create_missing_qc_routes(self):
        """A route per grade, to the grade's default disposition."""
        # a handful of grades
        grades = self.env["return.qc.grade"].search([])  # pylint: disable=no-search-all
        self.env["return.qc.route"].create(
            [
                {
                    "warehouse_id": warehouse.id,
                    "grade_id": grade.id,
                    "disposition": grade.default_disposition,
                }
                for warehouse in self
                for grade in grades - warehouse.qc_route_ids.grade_id
            ]
        )

    def _qc_default_destination(self, disposition):
        """The location goods of that disposition go to by default."""
        self.ensure_one()
        if disposition == "restock":
            return self.lot_stock_id
        if disposition == "refurbish":
            return self.refurbish_location_id
        if disposition == "quarantine":
            return self.quarantine_location_id
        if disposition == "scrap":
            return self._qc_scrap_location()
        return self.env["stock.location"]

    def _qc_scrap_location(self):
        """The company's scrap location, the one Odoo's scrap picks."""
        return self.env["stock.location"].search(
            [("scrap_location", "=", True), ("company_id", "=", self.company_id.id)],
            order="id",
            limit=1,
        )

    def _qc_active_type(self, picking_type):
        """picking_type, or this warehouse's returns inspection type when it
        is archived: transfers of an archived type show nowhere."""
        self.ensure_one()
        qc_type = self.return_qc_type_id
        if not qc_type or picking_type == qc_type or picking_type.active:
            return picking_type
        return qc_type

    def _create_missing_qc_picking_types(self):
        """An active internal type for the inspection transfers of the
        warehouses whose internal transfers type is archived."""
        missing = self.filtered(
            lambda wh: not wh.return_qc_type_id and not wh.int_type_id.active
        )
        if not missing:
            return
        # sudo is safe: only the warehouses' own operation type is created,
        # for an inspector who may not configure operation types
        types = (
            self.env["stock.picking.type"]
            .sudo()  # the warehouses' own type, see above
            .create([wh._prepare_qc_picking_type_vals() for wh in missing])
        )
        warehouses = missing.sudo()  # the link: configuration inspectors can't write
        for warehouse, picking_type in zip(warehouses, types, strict=True):
            warehouse.return_qc_type_id = picking_type

    def _qc_routes_leave_archived_types(self):
        """Routes still on an archived internal type use the warehouse's
        returns inspection type instead (install, update, new warehouse)."""
        self._create_missing_qc_picking_types()
        for warehouse in self.filtered("return_qc_type_id"):
            warehouse.qc_route_ids.filtered(
                lambda r: r.picking_type_id and not r.picking_type_id.active
            ).picking_type_id = warehouse.return_qc_type_id

    def _prepare_qc_picking_type_vals(self):
        self.ensure_one()
        return {
            "name": self.env._("Returns Inspection"),
            "code": "internal",
            "sequence_code": "RQC",
            "warehouse_id": self.id,
            "company_id": self.company_id.id,
            "default_location_src_id": self.return_location_id.id,
            "default_location_dest_id": self.lot_stock_id.id,
            "use_create_lots": False,
            "use_existing_lots": True,
        }

    def _qc_route(self, grade):
        """Where this warehouse sends goods of that grade: its route, or a
        route (not saved) to the grade's default disposition."""
        self.ensure_one()
        route = self.qc_route_ids.filtered(lambda r: r.grade_id == grade)[:1]
        return route or self.env["return.qc.route"].new(
            {
                "warehouse_id": self.id,
                "grade_id": grade.id,
                "disposition": grade.default_disposition,
            }
        )

    @api.model
    def _qc_install_defaults(self):
        """Locations and routing for every warehouse, also on update."""
        # once per install or update, a few warehouses per company
        warehouses = self.with_context(active_test=False).search([])  # pylint: disable=no-search-all
        warehouses._create_missing_qc_locations()
        warehouses._create_missing_qc_routes()
        warehouses._qc_routes_leave_archived_types()
