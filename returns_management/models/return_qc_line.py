from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare

from .return_qc_grade import DISPOSITIONS
from .return_qc_route import INTERNAL_DISPOSITIONS

# what an inspection line decides, fixed once the inspection is validated
DECISION_FIELDS = ("line_id", "qc_grade", "quantity", "lot_id", "moved_by_hand")
# where the grade sends the goods and what validating it did: only the
# inspection's actions set them (return.protected.mixin)
PROTECTED_QC_FIELDS = (
    "state",
    "order_id",
    "company_id",
    "grade_id",
    "disposition",
    "location_dest_id",
    "picking_type_id",
    "move_id",
    "scrap_id",
)


class ReturnQcLine(models.Model):
    """The grade an inspector gave to a quantity (or a lot/serial) of a
    received return line. Validating the inspection moves the goods."""

    _name = "return.qc.line"
    _inherit = ["return.protected.mixin"]
    _description = "Inspection Line"
    _protected_fields = PROTECTED_QC_FIELDS
    _order = "order_id, line_id, id"
    _check_company_auto = True

    line_id = fields.Many2one(
        "return.order.line", required=True, ondelete="cascade", index=True
    )
    order_id = fields.Many2one(
        related="line_id.order_id", store=True, index=True, string="Return"
    )
    company_id = fields.Many2one(related="line_id.company_id", store=True)
    product_id = fields.Many2one(related="line_id.product_id")
    product_uom_id = fields.Many2one(related="line_id.product_uom_id")
    tracking = fields.Selection(related="line_id.product_id.tracking")
    qc_grade = fields.Selection(
        selection="_selection_qc_grade", string="Grade", required=True
    )
    grade_id = fields.Many2one(
        "return.qc.grade",
        string="Grade Record",
        compute="_compute_grade_id",
        store=True,
        precompute=True,
    )
    quantity = fields.Float(digits="Product Unit of Measure", required=True)
    lot_id = fields.Many2one(
        "stock.lot",
        string="Lot/Serial Number",
        check_company=True,
        domain="[('id', 'in', received_lot_ids)]",
    )
    received_lot_ids = fields.Many2many(related="line_id.qc_received_lot_ids")
    moved_by_hand = fields.Boolean(
        string="Already Moved",
        help="The goods already left the returns location by hand (an "
        "internal transfer or a scrap made in Inventory): validating records "
        "the grade, for the refund, and moves nothing.",
    )
    note = fields.Text()
    photo_ids = fields.Many2many(
        "ir.attachment",
        "return_qc_line_photo_rel",
        "qc_line_id",
        "attachment_id",
        string="Photos",
    )
    state = fields.Selection(
        [("draft", "Graded"), ("done", "Validated")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        index=True,
    )
    disposition = fields.Selection(
        DISPOSITIONS, compute="_compute_route", store=True, precompute=True
    )
    location_dest_id = fields.Many2one(
        "stock.location",
        string="Destination",
        compute="_compute_route",
        store=True,
        precompute=True,
    )
    picking_type_id = fields.Many2one(
        "stock.picking.type",
        string="Operation Type",
        compute="_compute_route",
        store=True,
        precompute=True,
    )
    move_id = fields.Many2one("stock.move", readonly=True, copy=False)
    picking_id = fields.Many2one(related="move_id.picking_id", string="Transfer")
    scrap_id = fields.Many2one("stock.scrap", readonly=True, copy=False)

    @api.model
    def _selection_qc_grade(self):
        return self.env["return.qc.grade"]._selection_values()

    @api.depends("qc_grade")
    def _compute_grade_id(self):
        grades = self.env["return.qc.grade"]
        for qc_line in self:
            qc_line.grade_id = grades._by_code(qc_line.qc_grade)

    @api.depends("grade_id", "lot_id", "line_id.order_id.warehouse_id")
    def _compute_route(self):
        """Where the grade sends the goods, by the routing of the warehouse
        their receipt brought them into; frozen once validated."""
        drafts = self.filtered(lambda q: q.state == "draft")
        warehouses = drafts._arrival_warehouses()
        for qc_line in drafts:
            warehouse = warehouses[qc_line]
            if not (warehouse and qc_line.grade_id):
                qc_line.disposition = False
                qc_line.location_dest_id = False
                qc_line.picking_type_id = False
                continue
            route = warehouse._qc_route(qc_line.grade_id)
            qc_line.disposition = route.disposition
            qc_line.location_dest_id = route.location_dest_id
            qc_line.picking_type_id = warehouse._qc_active_type(route.picking_type_id)

    def _recompute_route(self):
        """Route the graded goods by the warehouse's routing of now, as the
        ORM computes it (a plain call of the compute would write()
        protected fields)."""
        names = ["disposition", "location_dest_id", "picking_type_id"]
        for name in names:
            self.env.add_to_compute(self._fields[name], self)
        self._recompute_recordset(names)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self.env["return.qc.grade"]._check_code(vals.get("qc_grade"))
        qc_lines = super().create(vals_list)
        qc_lines.order_id._ensure_gradable()
        return qc_lines

    def write(self, vals):
        if "qc_grade" in vals:
            self.env["return.qc.grade"]._check_code(vals["qc_grade"])
        if any(field in vals for field in DECISION_FIELDS):
            self._ensure_not_validated()
            self.order_id._ensure_gradable()
        res = super().write(vals)
        if "line_id" in vals:
            self.order_id._ensure_gradable()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_validated(self):
        self._ensure_not_validated()

    def _ensure_not_validated(self):
        validated = self.filtered(lambda q: q.state == "done")
        if validated:
            raise UserError(
                self.env._(
                    "The inspection of %(product)s on %(name)s is validated: its "
                    "goods already moved, so its grade, quantity and lot can no "
                    "longer change.",
                    product=validated[0].product_id.display_name,
                    name=validated[0].order_id.name,
                )
            )

    @api.constrains("quantity", "line_id", "lot_id")
    def _check_quantity(self):
        for qc_line in self:
            rounding = qc_line.product_uom_id.rounding
            if float_compare(qc_line.quantity, 0, precision_rounding=rounding) <= 0:
                raise ValidationError(
                    self.env._(
                        "The graded quantity of %(product)s must be positive.",
                        product=qc_line.product_id.display_name,
                    )
                )
        self.line_id._check_graded_quantities()

    def _log_label(self):
        """'2 Units Kettle (SN1): Minor defect, Refurbish', for the chatter."""
        self.ensure_one()
        product = self.product_id.display_name
        if self.lot_id:
            product = f"{product} ({self.lot_id.name})"
        if self.moved_by_hand:
            return self.env._(
                "%(qty)s %(uom)s %(product)s: %(grade)s, already moved by hand",
                qty=self.quantity,
                uom=self.product_uom_id.name,
                product=product,
                grade=self.grade_id.name,
            )
        return self.env._(
            "%(qty)s %(uom)s %(product)s: %(grade)s, %(disposition)s",
            qty=self.quantity,
            uom=self.product_uom_id.name,
            product=product,
            grade=self.grade_id.name,
            disposition=dict(DISPOSITIONS)[self.disposition],
        )

    # moving the goods ------------------------------------------------------

    def _check_route(self):
        """Refuse a grade with nowhere to go, or a destination of another
        company than the return's."""
        warehouses = self._arrival_warehouses()
        for qc_line in self:
            company = qc_line.order_id.company_id
            location = qc_line.location_dest_id
            if not qc_line.disposition or (
                qc_line.disposition != "return_to_customer" and not location
            ):
                raise UserError(
                    self.env._(
                        "Warehouse %(warehouse)s has no destination for goods "
                        "graded %(grade)s: set it in the warehouse's inspection "
                        "routing.",
                        warehouse=warehouses[qc_line].name,
                        grade=qc_line.grade_id.name,
                    )
                )
            foreign = (location.company_id and location.company_id != company) or (
                qc_line.picking_type_id.company_id
                and qc_line.picking_type_id.company_id != company
            )
            if foreign:
                raise UserError(
                    self.env._(
                        "%(location)s belongs to another company than return "
                        "%(name)s: correct the inspection routing of %(warehouse)s.",
                        location=location.display_name,
                        name=qc_line.order_id.name,
                        warehouse=warehouses[qc_line].name,
                    )
                )
        self._check_moved_by_hand()

    @api.constrains("moved_by_hand", "grade_id")
    def _check_moved_by_hand(self):
        for qc_line in self:
            if qc_line.moved_by_hand and qc_line.disposition == "return_to_customer":
                raise ValidationError(
                    self.env._(
                        "%(product)s graded %(grade)s goes back to the customer: "
                        "send it with a return of the receipt, not as already "
                        "moved.",
                        product=qc_line.product_id.display_name,
                        grade=qc_line.grade_id.name,
                    )
                )

    def _move_goods(self):
        to_move = self.filtered(lambda q: not q.moved_by_hand)
        to_move._move_goods_by_disposition()

    def _move_goods_by_disposition(self):
        by_disposition = self.grouped("disposition")
        internal = self.filtered(lambda q: q.disposition in INTERNAL_DISPOSITIONS)
        internal._create_transfers()
        by_disposition.get("scrap", self.browse())._create_scraps()
        by_disposition.get("return_to_customer", self.browse())._send_back()

    def _source_locations(self):
        """{inspection line: location where its goods (lot) arrived}, read
        for all the lines at once."""
        move_lines = self.line_id._done_receipt_moves().move_line_ids
        move_lines.fetch(["move_id", "lot_id", "location_dest_id"])
        arrived = {}
        for move_line in move_lines:
            line = move_line.move_id.return_order_line_id
            arrived[line, move_line.lot_id] = move_line.location_dest_id
            arrived[line, None] = move_line.location_dest_id
        return {
            qc_line: arrived.get(
                (qc_line.line_id, qc_line.lot_id or None),
                self.env["stock.location"],
            )
            for qc_line in self
        }

    def _arrival_warehouses(self):
        """{inspection line: warehouse its goods came back into}, else the
        return's warehouse. Lots are looked up where they arrived; other
        goods by their receipt moves, already read with the line."""
        tracked = self.filtered("lot_id")
        sources = tracked._source_locations() if tracked else {}
        warehouses = {}
        for qc_line in self:
            order_warehouse = qc_line.line_id.order_id.warehouse_id
            # the line's moves are its receipts (send-backs are not tagged)
            location = sources.get(qc_line) or (
                qc_line.line_id.return_move_ids.filtered(lambda m: m.state == "done")[
                    -1:
                ].location_dest_id
            )
            if location == order_warehouse.return_location_id:
                warehouses[qc_line] = order_warehouse  # read already
            else:
                warehouses[qc_line] = location.warehouse_id or order_warehouse
        return warehouses

    def _ensure_active_picking_types(self):
        """Warehouses receiving these goods have an active operation type
        for inspection transfers."""
        warehouses = self.env["stock.warehouse"].union(
            *self._arrival_warehouses().values()
        )
        warehouses._create_missing_qc_picking_types()

    def _product_qty(self):
        self.ensure_one()
        return self.product_uom_id._compute_quantity(
            self.quantity, self.product_id.uom_id
        )

    def _create_transfers(self):
        """One internal transfer per source, destination and operation type,
        whatever the number of returns; validated at once, or ready for the
        warehouse to validate, as the warehouse says."""
        sources = self._source_locations()
        groups = defaultdict(lambda: self.browse())
        for qc_line in self:
            key = (
                sources[qc_line],
                qc_line.location_dest_id,
                qc_line.picking_type_id,
                qc_line.company_id,
            )
            groups[key] |= qc_line
        if not groups:
            return
        pickings = self.env["stock.picking"]
        pickings.check_access("create")
        # sudo is safe: the inspector's rights were checked by the inspection
        # and just above; the moves' links to the inspection lines are ours
        creator = pickings.sudo()  # see above
        pickings = creator.create(
            [
                {
                    "picking_type_id": picking_type.id,
                    "location_id": source.id,
                    "location_dest_id": destination.id,
                    "company_id": company.id,
                    "origin": qc_lines.order_id._origin_label(),
                    "move_ids": [
                        Command.create(q._prepare_transfer_move_vals(source))
                        for q in qc_lines
                    ],
                }
                for (source, destination, picking_type, company), qc_lines in (
                    groups.items()
                )
            ]
        ).sudo(False)
        pickings.move_ids._return_qc_record_moves()
        pickings._return_qc_link_orders()
        at_once = pickings.filtered(
            lambda p: p.picking_type_id.warehouse_id.qc_validate_transfers
        )
        (pickings - at_once)._return_qc_confirm_and_reserve()
        at_once._return_qc_move_now()

    def _prepare_transfer_move_vals(self, source):
        self.ensure_one()
        return {
            "name": self.product_id.display_name,
            "product_id": self.product_id.id,
            "product_uom": self.product_uom_id.id,
            "product_uom_qty": self.quantity,
            "location_id": source.id,
            "location_dest_id": self.location_dest_id.id,
            "picking_type_id": self.picking_type_id.id,
            "company_id": self.company_id.id,
            "origin": self.order_id.name,
            "return_qc_line_id": self.id,
        }

    def _create_scraps(self):
        """Odoo's scrap, validated: it books the write-off."""
        sources = self._source_locations()
        scraps = self.env["stock.scrap"]
        scraps.check_access("create")
        # sudo is safe: the inspector's rights were checked by the inspection
        # and just above; the scraps' links to the return are ours
        creator = scraps.sudo()  # see above
        scraps = creator.create(
            [
                {
                    "product_id": q.product_id.id,
                    "product_uom_id": q.product_uom_id.id,
                    "scrap_qty": q.quantity,
                    "lot_id": q.lot_id.id,
                    "location_id": sources[q].id,
                    "scrap_location_id": q.location_dest_id.id,
                    "company_id": q.company_id.id,
                    "origin": q.order_id.name,
                    "return_order_id": q.order_id.id,
                    "return_qc_line_id": q.id,
                }
                for q in self
            ]
        ).sudo(False)
        for scrap in scraps:
            if not scrap.check_available_qty():
                raise UserError(
                    self.env._(
                        "%(product)s is no longer in %(location)s: it cannot be "
                        "scrapped from there. Check where the returned goods "
                        "went; if they were moved by hand, mark their inspection "
                        "line as Already Moved.",
                        product=scrap.product_id.display_name,
                        location=scrap.location_id.display_name,
                    )
                )
        self._set_protected_each(
            {scrap.return_qc_line_id: {"scrap_id": scrap.id} for scrap in scraps}
        )
        scraps.do_scrap()

    def _send_back(self):
        """Odoo's return of the receipt, as for any goods sent back to the
        customer, so that the sale's delivered quantity is restored."""
        items = [
            (move, qty, {"return_qc_line_id": qc_line.id})
            for qc_line in self
            for move, qty in qc_line._allocate_on_receipt_moves()
        ]
        if not items:
            return
        send_backs = self.env["stock.return.picking"]._return_send_back(items)
        send_backs.move_ids._return_qc_record_moves()
        send_backs.move_ids.filtered("return_qc_line_id.lot_id")._return_qc_reserve()
        send_backs._return_qc_link_orders()

    def _allocate_on_receipt_moves(self):
        """(receipt move, quantity in the move's unit) pairs holding this
        line's goods (its lot's, if any), newest first."""
        self.ensure_one()
        uom = self.product_id.uom_id
        return [
            (move, uom._compute_quantity(qty, move.product_uom))
            for move, qty in self.line_id._allocate_on_done_receipts(
                self._product_qty(), self.lot_id
            )
        ]
