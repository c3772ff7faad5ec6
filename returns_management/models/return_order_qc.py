from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero, format_amount

from .return_qc_grade import DISPOSITIONS

GRADABLE_STATES = ("received", "done")


class ReturnOrder(models.Model):
    _inherit = "return.order"
    _protected_fields = ("qc_state", "qc_picking_ids")

    qc_line_ids = fields.One2many(
        "return.qc.line", "order_id", string="Inspection Lines"
    )
    qc_state = fields.Selection(
        [
            ("none", "Nothing Received"),
            ("pending", "To Inspect"),
            ("done", "Inspected"),
        ],
        string="Inspection",
        compute="_compute_qc_state",
        store=True,
        index=True,
        help="To Inspect: received goods are not all graded and validated.",
    )
    qc_picking_ids = fields.Many2many(
        "stock.picking",
        "return_order_qc_picking_rel",
        "order_id",
        "picking_id",
        string="Inspection Transfers",
        readonly=True,
        copy=False,
    )
    qc_scrap_ids = fields.One2many("stock.scrap", "return_order_id", string="Scraps")
    qc_picking_count = fields.Integer(compute="_compute_qc_counts")
    qc_scrap_count = fields.Integer(compute="_compute_qc_counts")

    @api.depends(
        "line_ids.qty_received",
        "line_ids.qty_inspected",
        "line_ids.qty_sent_back",
        "line_ids.qty_over_received",
    )
    def _compute_qc_state(self):
        for order in self:
            lines = order.line_ids
            if not any(line.qty_received for line in lines):
                order.qc_state = "none"
            elif any(line._qc_qty_to_grade(include_draft=True) for line in lines):
                order.qc_state = "pending"
            else:
                order.qc_state = "done"

    @api.depends("qc_picking_ids", "qc_scrap_ids")
    def _compute_qc_counts(self):
        for order in self:
            order.qc_picking_count = len(order.qc_picking_ids)
            order.qc_scrap_count = len(order.qc_scrap_ids)

    def _ensure_gradable(self):
        self._ensure_state(
            GRADABLE_STATES,
            lambda names: self.env._(
                "Only goods that came back can be graded: %(names)s has received "
                "nothing yet.",
                names=names,
            ),
        )

    def action_validate_qc(self):
        """Move the graded goods where their grade sends them: one internal
        transfer per destination, Odoo scraps, and a return of the receipt
        for goods going back to the customer; then refund by policy."""
        self._lock_for_update()
        # what another transaction graded or validated before the lock
        self.env.invalidate_all()
        self._ensure_gradable()
        self.check_access("write")
        ungraded = self.filtered(
            lambda o: not o.qc_line_ids.filtered(lambda q: q.state == "draft")
        )
        if ungraded:
            raise UserError(
                self.env._(
                    "Nothing graded to validate on %(names)s: grade the received "
                    "goods first.",
                    names=", ".join(ungraded.mapped("name")),
                )
            )
        qc_lines = self.qc_line_ids.filtered(lambda q: q.state == "draft")
        qc_lines.line_id._check_graded_quantities()
        # the internal type may have been archived since install (Storage
        # Locations turned off): an active one first, then the routes
        qc_lines._ensure_active_picking_types()
        qc_lines._recompute_route()
        qc_lines._check_route()
        qc_lines._move_goods()
        qc_lines._set_protected({"state": "done"})
        qc_lines.line_id._qc_recompute_refund()
        self._qc_log(qc_lines)
        self._credit_drafts_follow_grades(qc_lines)
        qc_lines.line_id._qc_warn_credited_send_back(qc_lines)
        self._auto_credit("after_qc")
        self._close_resolved()
        return True

    def _qc_accountant(self):
        """Who bills sent-back goods again: the return's responsible if an
        accountant, else the first accountant of its company who can open
        returns, else any of its accountants."""
        self.ensure_one()
        group = self.env.ref("account.group_account_invoice")
        # sudo is safe: only picks whom to assign the to-do, among the
        # accountants a returns user may not list
        accountants = group.sudo().users.filtered(  # see above
            lambda u: not u.share and self.company_id in u.company_ids
        )
        if self.user_id in accountants:
            return self.user_id
        returns_users = accountants.filtered(
            lambda u: u.has_group("returns_management.group_return_user")
        )
        return (
            returns_users.sorted("id")[:1]
            or accountants.sorted("id")[:1]
            or self.user_id
            or self.env.user
        )

    def _origin_label(self):
        """Source document of a transfer for these returns."""
        if len(self) <= 3:
            return ", ".join(self.mapped("name"))
        return self.env._("%(count)s returns", count=len(self))

    def _qc_log(self, qc_lines):
        """One note per return, logged for all returns at once."""
        bodies = {}
        for order, lines in qc_lines.grouped("order_id").items():
            items = Markup("").join(
                Markup("<li>%s</li>") % line._log_label() for line in lines
            )
            bodies[order.id] = Markup("%s<ul>%s</ul>") % (
                self.env._("Inspection validated:"),
                items,
            )
        self.browse(list(bodies))._message_log_batch(bodies)

    def _is_resolved(self):
        """Also: inspection transfers finished, and nothing refunded after
        inspection still waiting for it."""
        if not super()._is_resolved():
            return False
        if any(line._qc_awaiting_refund() for line in self.line_ids):
            return False
        inspected = any(line.qty_inspected for line in self.line_ids)
        return not (
            inspected
            and self.qc_picking_ids.filtered(
                lambda p: p.state not in ("done", "cancel")
            )
        )

    def _credit(self):
        waiting = self.filtered(
            lambda order: (
                not any(line._qty_to_credit() for line in order.line_ids)
                and any(line._qc_awaiting_refund() for line in order.line_ids)
            )
        )
        if waiting:
            raise UserError(
                self.env._(
                    "%(names)s is refunded after inspection: grade its goods and "
                    "validate the inspection first.",
                    names=", ".join(waiting.mapped("name")),
                )
            )
        return super()._credit()

    def action_view_qc_pickings(self):
        return self._action_view_records(
            self.qc_picking_ids, "stock.action_picking_tree_all"
        )

    def action_view_qc_scraps(self):
        return self._action_view_records(self.qc_scrap_ids, "stock.action_stock_scrap")

    def action_open_qc(self):
        """The inspection screen of this return."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "return.order",
            "res_id": self.id,
            "views": [
                (
                    self.env.ref("returns_management.return_order_view_form_qc").id,
                    "form",
                )
            ],
            "name": self.env._("Inspect %(name)s", name=self.name),
        }


class ReturnOrderLine(models.Model):
    _inherit = "return.order.line"
    _protected_fields = ("qty_graded", "qty_inspected")

    qc_line_ids = fields.One2many(
        "return.qc.line", "line_id", string="Inspection Lines"
    )
    qc_grade = fields.Selection(
        selection="_selection_line_qc_grade",
        string="Grade",
        compute="_compute_qc_grade",
        inverse="_inverse_qc_grade",
        store=True,
        readonly=False,
        help="Writing a grade grades everything received and not yet "
        "inspected on the line; grade lots or part of the quantity on the "
        "inspection lines.",
    )
    disposition = fields.Selection(DISPOSITIONS, compute="_compute_disposition")
    qty_graded = fields.Float(
        digits="Product Unit of Measure", compute="_compute_qty_graded", store=True
    )
    qty_inspected = fields.Float(
        digits="Product Unit of Measure",
        compute="_compute_qty_graded",
        store=True,
        help="Graded and validated: the goods went where their grade sends them.",
    )
    qc_grade_choice_ids = fields.Many2many(
        "return.qc.grade",
        string="Grades to Choose",
        compute="_compute_qc_grade_choice_ids",
        help="The active inspection grades: the buttons of the inspection screen.",
    )
    qc_received_lot_ids = fields.Many2many(
        "stock.lot",
        string="Received Lots/Serial Numbers",
        compute="_compute_qc_received_lot_ids",
        help="Lots and serial numbers that came back on this line and were not "
        "sent back other than by inspection: the only ones to grade.",
    )
    qc_location_dest_ids = fields.Many2many(
        "stock.location",
        string="Destinations",
        compute="_compute_qc_location_dest_ids",
        help="Where the graded goods of the line go once the inspection is validated.",
    )

    @api.model
    def _selection_line_qc_grade(self):
        return [
            ("pending", self.env._("Pending")),
            *self.env["return.qc.grade"]._selection_values(),
            ("mixed", self.env._("Several Grades")),
        ]

    @api.depends("qc_line_ids.qc_grade")
    def _compute_qc_grade(self):
        for line in self:
            grades = set(line.qc_line_ids.mapped("qc_grade"))
            if not grades:
                line.qc_grade = "pending"
            elif len(grades) == 1:
                line.qc_grade = grades.pop()
            else:
                line.qc_grade = "mixed"

    def write(self, vals):
        if vals.get("qc_grade"):
            self.env["return.qc.grade"]._check_code(vals["qc_grade"], also=("pending",))
        return super().write(vals)

    def _inverse_qc_grade(self):
        vals_list = []
        for line in self:
            grade = line.qc_grade
            drafts = line.qc_line_ids.filtered(lambda q: q.state == "draft")
            if grade == "mixed":
                if len(set(line.qc_line_ids.mapped("qc_grade"))) > 1:
                    continue  # unchanged, e.g. a form saved as it was
                raise UserError(
                    self.env._(
                        "Choose one grade for %(product)s, or grade its lots or "
                        "quantities one by one on the inspection lines.",
                        product=line.product_id.display_name,
                    )
                )
            if grade in (False, "pending") and not drafts:
                continue  # nothing graded, e.g. a new line
            line.order_id._ensure_gradable()
            drafts.unlink()
            if grade in (False, "pending"):
                continue
            line_vals = line._qc_grade_all_vals(grade)
            if not line_vals:
                raise UserError(
                    self.env._(
                        "Nothing of %(product)s on %(name)s is waiting for "
                        "inspection: it was not received, or is inspected already.",
                        product=line.product_id.display_name,
                        name=line.order_id.name,
                    )
                )
            vals_list += line_vals
        self.env["return.qc.line"].create(vals_list)

    @api.depends("qc_line_ids.disposition", "qc_grade", "order_id.warehouse_id")
    def _compute_disposition(self):
        grades = self.env["return.qc.grade"]
        for line in self:
            dispositions = set(line.qc_line_ids.mapped("disposition"))
            if len(dispositions) == 1:
                line.disposition = dispositions.pop()
            elif not dispositions and line.qc_grade not in ("pending", "mixed"):
                grade = grades._by_code(line.qc_grade)
                warehouse = line.order_id.warehouse_id
                line.disposition = (
                    warehouse._qc_route(grade).disposition if warehouse else False
                )
            else:
                line.disposition = False

    @api.depends("qc_line_ids.quantity", "qc_line_ids.state")
    def _compute_qty_graded(self):
        for line in self:
            line.qty_graded = sum(line.qc_line_ids.mapped("quantity"))
            line.qty_inspected = sum(
                line.qc_line_ids.filtered(lambda q: q.state == "done").mapped(
                    "quantity"
                )
            )

    def _compute_qc_grade_choice_ids(self):
        grades = self.env["return.qc.grade"].search([("active", "=", True)])
        for line in self:
            line.qc_grade_choice_ids = grades

    @api.depends("return_move_ids.state", "return_move_ids.move_line_ids.lot_id")
    def _compute_qc_received_lot_ids(self):
        lots = self.env["stock.lot"]
        for line in self:
            if line.product_id.tracking == "none" or not line._origin.id:
                line.qc_received_lot_ids = False
                continue
            rounding = line.product_uom_id.rounding
            line.qc_received_lot_ids = lots.union(
                *(
                    lot
                    for lot, qty in line._origin._qc_received_lots().items()
                    if float_compare(qty, 0, precision_rounding=rounding) > 0
                )
            )

    @api.depends("qc_line_ids.location_dest_id")
    def _compute_qc_location_dest_ids(self):
        for line in self:
            line.qc_location_dest_ids = line.qc_line_ids.location_dest_id

    def action_qc_grade(self):
        """Grade what is left to grade on the lines with the grade in the
        context (a button of the inspection screen): the grades and notes
        given already stay.

        Asks first, by a confirmation that calls again with
        ``qc_grade_confirmed``, before replacing the grades not validated
        yet of a line graded in full, or sending back goods that a posted
        credit note refunded.
        """
        code = self.env.context.get("qc_grade")
        grades = self.env["return.qc.grade"]
        grades._check_code(code)
        self.order_id._ensure_gradable()
        if not self.env.context.get("qc_grade_confirmed"):
            warnings = self._qc_grade_warnings(grades._by_code(code))
            if warnings:
                return self.env["return.qc.grade.wizard"]._action_open(
                    self, grades._by_code(code), warnings
                )
        vals_list = []
        to_replace = self.browse()
        for line in self:
            line_vals = line._qc_grade_all_vals(code)
            if line_vals:
                vals_list += line_vals
            elif set(line._qc_draft_lines().mapped("qc_grade")) != {code}:
                to_replace |= line
        self.env["return.qc.line"].create(vals_list)
        # graded in full and not validated (confirmed): the grade replaces
        # those given; nothing to grade at all: the inverse says so
        to_replace.qc_grade = code
        return True

    def _qc_draft_lines(self):
        return self.qc_line_ids.filtered(lambda q: q.state == "draft")

    def _qc_grade_warnings(self, grade):
        """What grading these lines with grade would do that a person
        should confirm first, as sentences: replace grades given already,
        send back goods that a posted credit note refunded."""
        warnings = []
        for line in self:
            drafts = line._qc_draft_lines()
            to_grade = line._qc_qty_to_grade()
            replaced = drafts.browse()
            if not to_grade and set(drafts.mapped("qc_grade")) - {grade.code}:
                replaced = drafts
                to_grade = sum(drafts.mapped("quantity"))
                warnings.append(line._qc_replace_warning(drafts, grade))
            route = line.order_id.warehouse_id._qc_route(grade)
            if not to_grade or route.disposition != "return_to_customer":
                continue
            sending = to_grade + sum(
                (drafts - replaced)
                .filtered(lambda q: q.disposition == "return_to_customer")
                .mapped("quantity")
            )
            # what earlier send-backs over-credited was reported then
            rebill = min(line._qc_posted_beyond_kept(sending), sending)
            if rebill:
                warnings.append(line._qc_rebill_text(rebill, ask=True))
        return warnings

    def _qc_replace_warning(self, drafts, grade):
        self.ensure_one()
        values = {
            "product": self.product_id.display_name,
            "grades": ", ".join(
                self.env._(
                    "%(qty)s %(uom)s %(grade)s",
                    qty=q.quantity,
                    uom=q.product_uom_id.name,
                    grade=q.grade_id.name,
                )
                for q in drafts
            ),
            "grade": grade.name,
        }
        if drafts.filtered(lambda q: q.note or q.photo_ids):
            return self.env._(
                "All of %(product)s is graded already (%(grades)s), not "
                "validated yet: %(grade)s replaces those grades, and their "
                "notes and photos are lost.",
                **values,
            )
        return self.env._(
            "All of %(product)s is graded already (%(grades)s), not validated "
            "yet: %(grade)s replaces those grades.",
            **values,
        )

    def _qc_posted_beyond_kept(self, sending=0.0):
        """Quantity that posted credit notes refunded beyond the goods the
        customer leaves us, once ``sending`` more goes back to them."""
        self.ensure_one()
        kept = self.qty_received - self.qty_sent_back - self.qty_sending_back
        kept = max(min(kept - sending, self.quantity), 0.0)
        qty = self.qty_refunded - kept
        rounding = self.product_uom_id.rounding
        return qty if float_compare(qty, 0, precision_rounding=rounding) > 0 else 0.0

    def _qc_credited_amounts(self, qty):
        """(untaxed, taxes included) that the posted credit notes refunded
        for qty of the line, at their own prices."""
        self.ensure_one()
        credit_lines = self.credit_line_ids.filtered(
            lambda l: l.parent_state == "posted" and l.display_type == "product"
        )
        credited = self._credited_qty("posted")
        currency = credit_lines.currency_id[:1] or self.currency_id
        if float_is_zero(credited, precision_rounding=self.product_uom_id.rounding):
            return currency, 0.0, 0.0
        share = qty / credited
        return (
            currency,
            currency.round(sum(credit_lines.mapped("price_subtotal")) * share),
            currency.round(sum(credit_lines.mapped("price_total")) * share),
        )

    def _qc_rebill_text(self, qty, ask=False):
        """What to bill again for qty of the line going back although a
        posted credit note refunded it."""
        self.ensure_one()
        currency, untaxed, total = self._qc_credited_amounts(qty)
        values = {
            "qty": qty,
            "uom": self.product_uom_id.name,
            "product": self.product_id.display_name,
            "credit_notes": ", ".join(
                self.credit_line_ids.filtered(
                    lambda l: l.parent_state == "posted"
                ).move_id.mapped("name")
            ),
            "customer": self.order_id.partner_id.display_name,
            "untaxed": format_amount(self.env, untaxed, currency),
            "total": format_amount(self.env, total, currency),
        }
        if ask:
            return self.env._(
                "%(qty)s %(uom)s of %(product)s would go back to the customer "
                "although posted credit note %(credit_notes)s refunded them: "
                "%(customer)s must then be billed %(untaxed)s untaxed "
                "(%(total)s taxes included) again. Accounting gets a to-do.",
                **values,
            )
        return self.env._(
            "%(qty)s %(uom)s of %(product)s went back to the customer although "
            "posted credit note %(credit_notes)s refunded them: bill %(customer)s "
            "%(untaxed)s untaxed (%(total)s taxes included) again, or refund "
            "them less.",
            **values,
        )

    # quantities -----------------------------------------------------------

    def _qc_gradable_qty(self):
        """Received and still here, in the line's unit: what came from the
        customer minus what was sent back other than by inspection, and
        minus goods beyond approval that a manager has not decided on yet."""
        self.ensure_one()
        sent_back = self._send_back_moves().filtered(lambda m: not m.return_qc_line_id)
        return (
            self.qty_received
            - self._sum_move_quantities(sent_back)
            - self.qty_over_received
        )

    def _qc_qty_to_grade(self, include_draft=False):
        """Gradable quantity not graded yet (nor validated, if include_draft)."""
        self.ensure_one()
        graded = self.qty_inspected if include_draft else self.qty_graded
        qty = self._qc_gradable_qty() - graded
        rounding = self.product_uom_id.rounding or 1.0
        return qty if float_compare(qty, 0, precision_rounding=rounding) > 0 else 0.0

    def _qc_received_lots(self):
        """{lot: quantity in the line's unit} of the lots received on this
        line and not sent back other than by inspection."""
        self.ensure_one()
        per_lot = defaultdict(float)
        for move_line in self._done_receipt_moves().move_line_ids:
            per_lot[move_line.lot_id] += move_line.quantity_product_uom
        sent_back = self._send_back_moves().filtered(
            lambda m: m.state == "done" and not m.return_qc_line_id
        )
        for move_line in sent_back.move_line_ids:
            per_lot[move_line.lot_id] -= move_line.quantity_product_uom
        uom = self.product_id.uom_id
        return {
            lot: uom._compute_quantity(qty, self.product_uom_id, round=False)
            for lot, qty in per_lot.items()
            if lot
        }

    def _qc_grade_all_vals(self, grade):
        """Inspection lines grading all that waits for inspection."""
        self.ensure_one()
        rounding = self.product_uom_id.rounding
        if self.product_id.tracking == "none":
            qty = self._qc_qty_to_grade()
            return (
                [{"line_id": self.id, "qc_grade": grade, "quantity": qty}]
                if qty
                else []
            )
        graded = defaultdict(float)
        for qc_line in self.qc_line_ids:
            graded[qc_line.lot_id] += qc_line.quantity
        vals_list = []
        for lot, qty in self._qc_received_lots().items():
            left = qty - graded[lot]
            if float_compare(left, 0, precision_rounding=rounding) > 0:
                vals_list.append(
                    {
                        "line_id": self.id,
                        "qc_grade": grade,
                        "quantity": left,
                        "lot_id": lot.id,
                    }
                )
        return vals_list

    def _check_graded_quantities(self):
        """Refuse grading more than was received (per lot for tracked
        products), or lots that did not come back on the line."""
        for line in self:
            rounding = line.product_uom_id.rounding
            gradable = line._qc_gradable_qty()
            if (
                float_compare(line.qty_graded, gradable, precision_rounding=rounding)
                > 0
            ):
                raise UserError(
                    self.env._(
                        "You graded %(graded)s %(uom)s of %(product)s on %(name)s, "
                        "but only %(received)s %(uom)s came back.",
                        graded=line.qty_graded,
                        uom=line.product_uom_id.name,
                        product=line.product_id.display_name,
                        name=line.order_id.name,
                        received=gradable,
                    )
                )
            if line.product_id.tracking != "none":
                line._check_graded_lots()

    def _check_graded_lots(self):
        self.ensure_one()
        received = self._qc_received_lots()
        graded = defaultdict(float)
        for qc_line in self.qc_line_ids:
            lot = qc_line.lot_id
            if not lot:
                raise UserError(
                    self.env._(
                        "%(product)s is tracked: grade it per lot or serial number.",
                        product=self.product_id.display_name,
                    )
                )
            if lot not in received:
                raise UserError(
                    self.env._(
                        "%(lot)s did not come back on %(name)s: only lots and "
                        "serial numbers received from the customer can be graded "
                        "(%(lots)s).",
                        lot=lot.name,
                        name=self.order_id.name,
                        lots=", ".join(lot.name for lot in received) or "-",
                    )
                )
            graded[lot] += qc_line.quantity
            self._check_serial_graded_whole(qc_line, received[lot])
        rounding = self.product_uom_id.rounding
        for lot, qty in graded.items():
            if float_compare(qty, received[lot], precision_rounding=rounding) > 0:
                raise UserError(
                    self.env._(
                        "You graded %(qty)s of %(lot)s, but %(received)s came back.",
                        qty=qty,
                        lot=lot.name,
                        received=received[lot],
                    )
                )

    def _check_serial_graded_whole(self, qc_line, received):
        """A serial number is one item: it gets one grade, for all of it."""
        self.ensure_one()
        if self.product_id.tracking != "serial":
            return
        rounding = self.product_uom_id.rounding
        if float_compare(qc_line.quantity, received, precision_rounding=rounding):
            raise UserError(
                self.env._(
                    "%(serial)s is a serial number: grade it whole, once, for "
                    "%(qty)s %(uom)s.",
                    serial=qc_line.lot_id.name,
                    qty=received,
                    uom=self.product_uom_id.name,
                )
            )

    def _qc_warn_credited_send_back(self, qc_lines):
        """Goods these inspection lines send back to the customer that were
        already credited (a policy refunding on receipt): say so on the
        return; for posted credit notes, leave accounting a to-do with the
        amount to bill again."""
        sending = defaultdict(float)
        for qc_line in qc_lines:
            if qc_line.disposition == "return_to_customer":
                sending[qc_line.line_id] += qc_line.quantity
        for line, qty in sending.items():
            rounding = line.product_uom_id.rounding
            credited = line.qty_refunded + line.qty_credit_draft
            extra = min(credited - line._qty_received_approved(), qty)
            if float_compare(extra, 0, precision_rounding=rounding) <= 0:
                continue
            line.order_id.message_post(
                body=self.env._(
                    "%(qty)s %(uom)s of %(product)s go back to the customer but "
                    "were already credited: bill them again or cancel the "
                    "credit note.",
                    qty=extra,
                    uom=line.product_uom_id.name,
                    product=line.product_id.display_name,
                )
            )
            rebill = min(line._qc_posted_beyond_kept(), qty)
            if rebill:
                line._qc_schedule_rebill(rebill)

    def _qc_schedule_rebill(self, qty):
        """A to-do for an accountant: bill qty of the line again."""
        self.ensure_one()
        order = self.order_id
        order.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=order._qc_accountant().id,
            summary=self.env._(
                "Bill %(product)s again", product=self.product_id.display_name
            ),
            note=self._qc_rebill_text(qty),
        )

    def _qc_refunded_qty(self):
        """Inspected quantity whose grade refunds the customer."""
        self.ensure_one()
        return sum(
            q.quantity
            for q in self.qc_line_ids
            if q.state == "done" and q.grade_id.refund
        )

    def _qc_awaiting_refund(self):
        """Refunded after inspection and still waiting for it."""
        self.ensure_one()
        if self.refund_trigger != "after_qc":
            return False
        waiting = self._qty_received_approved() - self._qc_refunded_qty()
        return (
            float_compare(waiting, 0, precision_rounding=self.product_uom_id.rounding)
            > 0
        )

    def _qty_to_credit(self, over_invoiced=None):
        """After-inspection refunds credit inspected goods only; no refund
        credits goods an inspector graded as not refunded (a wrong item),
        even before the inspection is validated."""
        qty = super()._qty_to_credit(over_invoiced)
        if not qty:
            return qty
        credited = self.qty_refunded + self.qty_credit_draft
        if self.refund_trigger == "after_qc":
            qty = min(qty, self._qc_refunded_qty() - credited)
        withheld = sum(
            q.quantity
            for q in self.qc_line_ids
            if q.state == "draft" and not q.grade_id.refund
        )
        if withheld:
            qty = min(qty, self._qty_received_approved() - withheld - credited)
        if float_compare(qty, 0, precision_rounding=self.product_uom_id.rounding) <= 0:
            qty = 0.0
        return qty

    def _qc_recompute_refund(self):
        """The refund of goods now graded, at the customer's fault, follows
        the deductions for their grades (the grades of validated units are
        no dependency of refund_amount: grading alone changes nothing)."""
        lines = self.filtered(lambda line: line.reason_id.customer_fault)
        if lines:
            self.env.add_to_compute(lines._fields["refund_amount"], lines)
            self.env.add_to_compute(
                lines.order_id._fields["amount_untaxed"], lines.order_id
            )

    def _qc_graded_units(self, first, qty):
        """{grade: quantity} of the ``qty`` units of this line credited after
        its first ``first`` units, taking the inspected units whose grade
        refunds the customer in the order they were inspected; units
        credited before inspection have no grade."""
        self.ensure_one()
        graded = defaultdict(float)
        start = 0.0
        end = first + qty
        inspected = self.qc_line_ids.filtered(
            lambda q: q.state == "done" and q.grade_id.refund
        ).sorted("id")
        for qc_line in inspected:
            overlap = min(start + qc_line.quantity, end) - max(start, first)
            if overlap > 0:
                graded[qc_line.grade_id] += overlap
            start += qc_line.quantity
        rounding = self.product_uom_id.rounding
        return {
            grade: quantity
            for grade, quantity in graded.items()
            if not float_is_zero(quantity, precision_rounding=rounding)
        }
