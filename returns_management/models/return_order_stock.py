from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero

from .return_order_line import ReturnOrderLine as ReturnOrderLineRequest


class ReturnOrder(models.Model):
    _inherit = "return.order"
    _protected_fields = ("has_over_receipt", "over_receipt_activity_id")

    has_over_receipt = fields.Boolean(
        string="Received Beyond Approval",
        compute="_compute_has_over_receipt",
        store=True,
        help="More goods came back than approved: a manager accepts the extra "
        "quantity or sends it back to the customer.",
    )
    over_receipt_activity_id = fields.Many2one(
        "mail.activity", readonly=True, copy=False, ondelete="set null"
    )

    @api.depends("line_ids.qty_over_received")
    def _compute_has_over_receipt(self):
        for order in self:
            order.has_over_receipt = any(
                line.qty_over_received for line in order.line_ids
            )

    def action_submit(self):
        self.line_ids._check_product_not_kit()
        return super().action_submit()

    def _create_return_pickings(self):
        """Create one incoming return per original delivery, like core's wizard.

        Core's return wizard links every return move to the move it returns
        (valuation at original cost, sale delivered quantities) and keeps the
        procurement group; we only redirect it to the warehouse's returns
        location and tag the picking and moves with the return. Called by
        _approve, which holds the returns' row locks.
        """
        # only returns not approved yet: a second call (e.g. from an
        # automation rule) never receives the goods twice
        orders = self.filtered(lambda order: order.state in ("draft", "to_approve"))
        orders.line_ids._check_product_not_kit()
        allocations = orders.line_ids._allocate_delivered_moves()
        per_picking = defaultdict(list)
        for line, move, qty in allocations:
            per_picking[line.order_id, move.picking_id].append((line, move, qty))
        pickings = self.env["stock.picking"].union(*(p for _o, p in per_picking))
        warehouses = orders.warehouse_id | pickings.picking_type_id.warehouse_id
        # Warehouses used before the install hook gave them a returns location
        # (e.g. by demo data) get it now; approvers may not create locations.
        warehouse_admin = warehouses.sudo()  # only adds the missing location
        warehouse_admin._create_missing_return_locations()
        # sudo is safe: the wizards' links to the returns are ours, set for
        # returns this user approves; the receipts are created with the
        # user's rights
        wizards = (
            self.env["stock.return.picking"]
            .sudo()  # see above
            .create(
                [
                    order._prepare_return_wizard_vals(picking, items)
                    for (order, picking), items in per_picking.items()
                ]
            )
            .sudo(False)
        )
        # core's own return, wizard by wizard, so that its overrides run
        # (stock_delivery drops the carrier) and the chatter links the delivery
        for wizard in wizards:
            wizard._create_return()

    def _prepare_return_wizard_vals(self, picking, items):
        self.ensure_one()
        warehouse = picking.picking_type_id.warehouse_id or self.warehouse_id
        return {
            "picking_id": picking.id,
            "return_order_id": self.id,
            "return_location_id": warehouse.return_location_id.id,
            "product_return_moves": [
                self.env["stock.return.picking"]._return_line_command(
                    move, qty, return_order_line_id=line.id
                )
                for line, move, qty in items
            ],
        }

    def _on_return_receipt_done(self):
        """Called when return receipts are validated."""
        arrived = self.filtered(
            lambda order: (
                order.state == "approved"
                and any(line.qty_received for line in order.line_ids)
            )
        )
        arrived._set_state(
            {"state": "received", "date_received": fields.Datetime.now()}
        )
        self.filtered("has_over_receipt")._schedule_over_receipt_activity()

    def _schedule_over_receipt_activity(self):
        """One to-do per return for a manager to decide on the extra goods."""
        for order in self.filtered(lambda o: not o.over_receipt_activity_id):
            responsible = order._over_receipt_responsible()
            if not responsible:
                continue
            activity = order.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=responsible.id,
                summary=self.env._("Decide on goods received beyond approval"),
                note=self.env._(
                    "More goods came back than approved on %(name)s: accept the "
                    "extra quantity or send it back to the customer.",
                    name=order.name,
                ),
            )
            order._set_protected({"over_receipt_activity_id": activity.id})

    def _over_receipt_responsible(self):
        """The return's responsible if a return manager, else a return manager
        of its company, else the return's responsible."""
        self.ensure_one()
        group = self.env.ref("returns_management.group_return_manager")
        managers = group.users.filtered(
            lambda user: not user.share and self.company_id in user.company_ids
        )
        if self.user_id in managers:
            return self.user_id
        return managers.sorted("id")[:1] or self.user_id

    def action_accept_extra_receipt(self):
        """Approve the goods received beyond the approved quantity."""
        self._start_over_receipt_decision()
        lines = self.line_ids.filtered("qty_over_received")
        lines._check_extra_returnable()
        lines._accept_extra_receipt()
        self._close_over_receipt_decision(
            self.env._("Goods received beyond approval accepted.")
        )
        return True

    def action_send_back_extra_receipt(self):
        """Return the goods received beyond approval to the customer with
        Odoo's return of the receipt, so delivered quantities stay right."""
        self._start_over_receipt_decision()
        lines = self.line_ids.filtered("qty_over_received")
        send_backs = self.env["stock.return.picking"]._return_send_back(
            [
                # the return line's quantity is in the move's unit
                (
                    move,
                    move.product_id.uom_id._compute_quantity(qty, move.product_uom),
                    {},
                )
                for move, qty in lines._allocate_extra_on_receipt_moves()
            ]
        )
        for order in self:
            links = send_backs.filtered(
                lambda p, order=order: p.return_id.return_order_id == order
            )
            order._close_over_receipt_decision(
                self.env._(
                    "Goods received beyond approval sent back: %(pickings)s",
                    pickings=Markup(", ").join(p._get_html_link() for p in links),
                )
            )
        return True

    def _start_over_receipt_decision(self):
        self._ensure_manager()
        self._lock_for_update()
        self._ensure_state(
            ("approved", "received"),
            lambda names: self.env._(
                "Extra goods can only be accepted or sent back on approved or "
                "received returns, not %(names)s.",
                names=names,
            ),
        )
        undecided = self.filtered(lambda order: not order.has_over_receipt)
        if undecided:
            raise UserError(
                self.env._(
                    "%(names)s received nothing beyond what was approved.",
                    names=", ".join(undecided.mapped("name")),
                )
            )

    def _close_over_receipt_decision(self, message):
        for order in self:
            order.message_post(body=message)
            order.over_receipt_activity_id.action_feedback(feedback=message)
        # an already credited return waited only for this decision
        self._close_resolved()


class ReturnOrderLine(models.Model):
    _inherit = "return.order.line"
    _protected_fields = ("qty_sent_back", "qty_sending_back", "qty_over_received")

    qty_sent_back = fields.Float(
        digits="Product Unit of Measure",
        compute="_compute_qty_sent_back",
        store=True,
        help="Received goods returned to the customer (done), e.g. extra goods "
        "sent back or a return of the receipt made in Odoo.",
    )
    qty_sending_back = fields.Float(
        string="Being Sent Back",
        digits="Product Unit of Measure",
        compute="_compute_qty_sent_back",
        store=True,
        help="Received goods on their way back to the customer (not done yet), "
        "e.g. a wrong item or extra goods.",
    )
    qty_over_received = fields.Float(
        string="Received Beyond Approval",
        digits="Product Unit of Measure",
        compute="_compute_qty_over_received",
        store=True,
        help="Received beyond the approved quantity, neither accepted nor being "
        "sent back yet.",
    )

    @api.depends(
        "return_move_ids.returned_move_ids.state",
        "return_move_ids.returned_move_ids.quantity",
        "return_move_ids.returned_move_ids.product_uom_qty",
        "product_uom_id",
    )
    def _compute_qty_sent_back(self):
        for line in self:
            moves = line._send_back_moves()
            done = moves.filtered(lambda m: m.state == "done")
            line.qty_sent_back = line._sum_move_quantities(done)
            line.qty_sending_back = line._sum_move_quantities(moves - done)

    @api.depends(
        "qty_received",
        "quantity",
        "return_move_ids.returned_move_ids.state",
        "return_move_ids.returned_move_ids.product_uom_qty",
    )
    def _compute_qty_over_received(self):
        for line in self:
            sent_back = line._sum_move_quantities(line._send_back_moves())
            extra = line.qty_received - sent_back - line.quantity
            # a line being typed in a form may have no unit yet
            rounding = line.product_uom_id.rounding or 1.0
            over = float_compare(extra, 0, precision_rounding=rounding) > 0
            line.qty_over_received = extra if over else 0.0

    @api.constrains("sale_line_id")
    def _check_product_not_kit(self):
        kit_sale_lines = self.sale_line_id._return_kit_lines()
        for line in self.filtered(lambda l: l.sale_line_id in kit_sale_lines):
            raise ValidationError(
                self.env._(
                    "%(product)s is a kit: returning kits is not supported yet. "
                    "Use Odoo's return on the delivery instead.",
                    product=line.product_id.display_name,
                )
            )

    def _qty_received_approved(self):
        """Received and kept, never more than approved, in the line's unit:
        the quantity the customer may be credited for. Goods on their way
        back to the customer (a wrong item, extra goods) are not kept."""
        self.ensure_one()
        kept = self.qty_received - self.qty_sent_back - self.qty_sending_back
        return max(min(kept, self.quantity), 0.0)

    def _send_back_moves(self):
        """Moves returning received goods to the customer, not cancelled."""
        return self.return_move_ids.returned_move_ids.filtered(
            lambda m: m.state != "cancel" and m.location_dest_id.usage == "customer"
        )

    def _sum_move_quantities(self, moves):
        """Quantity of moves in the line's unit: done quantity once done,
        demand before."""
        self.ensure_one()
        return sum(
            move.product_uom._compute_quantity(
                move.quantity if move.state == "done" else move.product_uom_qty,
                self.product_uom_id,
            )
            for move in moves
        )

    def _check_approvable_quantity(self):
        """Refuse approving more than is still at the customer.

        Pending requests share what no receipt claims yet in the order they
        were made (oldest first): each line being approved gets what the
        requests before it left, decided with it or not; younger requests
        do not hold it back. So a selection approves what fits and refuses
        only the rest, whatever order it is approved in.
        """
        sale_lines = self.sale_line_id
        if not sale_lines:
            return
        sale_lines._return_lock_for_update()
        left = sale_lines._return_unclaimed_product_qty()
        queue = (sale_lines._return_pending_lines() | self).sorted(
            lambda line: (line.order_id.date_request, line.order_id.id, line.id)
        )
        for line in queue:
            sale_line = line.sale_line_id
            available = left[sale_line.id]
            left[sale_line.id] -= line._product_qty()
            rounding = sale_line.product_id.uom_id.rounding
            if line in self and (
                float_compare(left[sale_line.id], 0, precision_rounding=rounding) < 0
            ):
                raise UserError(
                    self.env._(
                        "You cannot return more %(product)s than is still at the "
                        "customer: %(name)s asks for %(qty)s %(uom)s, and the "
                        "returns requested before it leave %(left)s %(uom)s.",
                        product=sale_line.product_id.display_name,
                        name=line.order_id.name,
                        qty=line._product_qty(),
                        left=max(available, 0.0),
                        uom=sale_line.product_id.uom_id.name,
                    )
                )

    def _check_extra_returnable(self):
        """Refuse accepting extra goods that other returns already claim."""
        sale_lines = self.sale_line_id
        sale_lines._return_lock_for_update()
        remaining = sale_lines._return_remaining_product_qty()
        for sale_line in sale_lines:
            left = remaining[sale_line.id]
            rounding = sale_line.product_id.uom_id.rounding
            if float_compare(left, 0, precision_rounding=rounding) < 0:
                raise UserError(
                    self.env._(
                        "The extra %(product)s cannot be accepted: with the other "
                        "returns of sale order %(sale)s it exceeds what was "
                        "delivered by %(qty)s %(uom)s. Send it back instead.",
                        product=sale_line.product_id.display_name,
                        sale=sale_line.order_id.name,
                        qty=-left,
                        uom=sale_line.product_id.uom_id.name,
                    )
                )

    def _accept_extra_receipt(self):  # pylint: disable=missing-return
        for line in self:
            # Deliberate exception to FROZEN_FIELDS (return_order_line.write):
            # the goods are here and a manager accepts them, so the approved
            # quantity follows the receipt; the returnable quantity was
            # checked by _check_extra_returnable.
            super(ReturnOrderLineRequest, line).write(  # pylint: disable=super-method-mismatch
                {"quantity": line.quantity + line.qty_over_received}
            )

    def _allocate_extra_on_receipt_moves(self):
        """Split each line's extra quantity over its done receipt moves.

        Returns (receipt move, quantity in the product's unit) pairs, newest
        receipt first, never more per move than received minus sent back.
        """
        allocations = []
        for line in self:
            to_send = line.product_uom_id._compute_quantity(
                line.qty_over_received, line.product_id.uom_id
            )
            allocations += line._allocate_on_done_receipts(to_send)
        return allocations

    def _allocate_delivered_moves(self):
        """Split each line's quantity over the delivery moves it came from.

        Returns (line, move, quantity in the product's unit) triplets, newest
        deliveries first, never more per move than delivered minus returned.
        """
        left_on_move = {}
        allocations = []
        # one query for all lines; sorted() below drops the shared prefetch
        self.sale_line_id._return_delivered_moves().fetch(["returned_move_ids"])
        for line in self:
            uom = line.product_id.uom_id
            to_place = line._product_qty()
            moves = line.sale_line_id._return_delivered_moves().sorted(
                "date", reverse=True
            )
            for move in moves:
                if move.id not in left_on_move:
                    left_on_move[move.id] = move._return_remaining_product_qty()
                qty = min(left_on_move[move.id], to_place)
                if float_compare(qty, 0, precision_rounding=uom.rounding) <= 0:
                    continue
                allocations.append((line, move, qty))
                left_on_move[move.id] -= qty
                to_place -= qty
            if not float_is_zero(to_place, precision_rounding=uom.rounding):
                raise UserError(
                    self.env._(
                        "Not enough delivered %(product)s left to return for %(name)s.",
                        product=line.product_id.display_name,
                        name=line.order_id.name,
                    )
                )
        return allocations
