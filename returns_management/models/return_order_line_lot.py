from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero

PENDING_STATES = ("draft", "to_approve")


class ReturnOrder(models.Model):
    _inherit = "return.order"

    def action_submit(self):
        self.line_ids._check_lots()
        return super().action_submit()

    def _create_return_pickings(self):
        """Check the chosen lots again on approval, then pre-fill the receipt
        move lines with them so validating does not ask for them again."""
        self.line_ids._check_lots()
        res = super()._create_return_pickings()
        self.line_ids.filtered("lot_ids")._assign_receipt_lots()
        return res


class ReturnOrderLine(models.Model):
    _inherit = "return.order.line"

    tracking = fields.Selection(related="product_id.tracking")
    lot_ids = fields.Many2many(
        "stock.lot",
        "return_order_line_stock_lot_rel",
        "line_id",
        "lot_id",
        string="Lots/Serial Numbers",
        copy=False,
        domain="[('id', 'in', returnable_lot_ids)]",
        help="Lots or serial numbers coming back: only those delivered on the "
        "sale line and not yet returned. Left empty, the warehouse scans them "
        "on the receipt.",
    )
    returnable_lot_ids = fields.Many2many(
        "stock.lot",
        string="Returnable Lots/Serial Numbers",
        compute="_compute_returnable_lot_ids",
    )

    def write(self, vals):
        # the receipt was pre-filled with the lots chosen before approval
        if "lot_ids" in vals:
            self.order_id._ensure_lines_editable()
        return super().write(vals)

    @api.depends("sale_line_id", "product_id")
    def _compute_returnable_lot_ids(self):
        for line in self:
            if not line.sale_line_id or line.product_id.tracking == "none":
                line.returnable_lot_ids = False
                continue
            available = line._lot_available(exclude_lines=line)
            rounding = line.product_id.uom_id.rounding
            line.returnable_lot_ids = self.env["stock.lot"].union(
                *(
                    lot
                    for lot, qty in available.items()
                    if float_compare(qty, 0, precision_rounding=rounding) > 0
                )
            )

    @api.constrains("lot_ids", "quantity", "product_uom_id", "sale_line_id")
    def _check_lot_ids(self):
        self.filtered(lambda line: line.state in PENDING_STATES)._check_lots()

    def _check_lots(self):
        """Refuse lots that are not this line's product and company, were not
        delivered on its sale line or already came back (or are claimed by
        another return), and quantities that do not fit them."""
        lines = self.filtered("lot_ids")
        for line in lines:
            line._check_lot_identity()
        for sale_line, sale_lines in lines.grouped("sale_line_id").items():
            sale_lines._allocate_lots(
                sale_lines[:1]._lot_available(
                    sale_line=sale_line, exclude_lines=sale_lines
                ),
                raise_if_short=True,
            )

    def _check_lot_identity(self):
        self.ensure_one()
        product = self.product_id
        if product.tracking == "none":
            raise ValidationError(
                self.env._(
                    "%(product)s is not tracked by lots or serial numbers: leave "
                    "its lots empty.",
                    product=product.display_name,
                )
            )
        for lot in self.lot_ids:
            if lot.product_id != product:
                raise ValidationError(
                    self.env._(
                        "%(lot)s is a lot of %(other)s, not of %(product)s.",
                        lot=lot.name,
                        other=lot.product_id.display_name,
                        product=product.display_name,
                    )
                )
            if lot.company_id and lot.company_id != self.company_id:
                raise ValidationError(
                    self.env._(
                        "%(lot)s belongs to company %(company)s, not to the "
                        "return's company.",
                        lot=lot.name,
                        company=lot.company_id.name,
                    )
                )
        qty = self._product_qty()
        if product.tracking == "serial" and float_compare(
            qty, len(self.lot_ids), precision_rounding=product.uom_id.rounding
        ):
            raise ValidationError(
                self.env._(
                    "Returning %(qty)s %(product)s needs as many serial numbers; "
                    "%(count)s were given.",
                    qty=qty,
                    product=product.display_name,
                    count=len(self.lot_ids),
                )
            )

    def _lot_available(self, sale_line=None, exclude_lines=None, exclude_moves=None):
        """Per lot, what the customer still has of the sale line's goods and
        nobody claimed: delivered minus done or open returns from the customer
        (ours and core's) minus pending return requests, in the product's unit.
        """
        sale_line = sale_line or self.sale_line_id
        sale_line.ensure_one()
        available = defaultdict(float)
        for move_line in sale_line._return_delivered_moves().move_line_ids:
            if move_line.lot_id and move_line.state == "done":
                available[move_line.lot_id] += move_line.quantity_product_uom
        incoming = sale_line._return_incoming_moves() - (
            exclude_moves or self.env["stock.move"]
        )
        for move_line in incoming.move_line_ids:
            if move_line.lot_id:
                available[move_line.lot_id] -= move_line.quantity_product_uom
        exclude_ids = [
            line._origin.id for line in exclude_lines or () if line._origin.id
        ]
        pending = self.search(
            [
                ("sale_line_id", "=", sale_line.id),
                ("state", "in", PENDING_STATES),
                ("lot_ids", "!=", False),
                ("id", "not in", exclude_ids),
            ]
        )
        pending._allocate_lots(available)
        return available

    def _allocate_lots(self, available, raise_if_short=False):
        """Take each line's quantity from its lots, in the lots' order, out of
        `available` (updated in place). Returns {line: {lot: quantity}}."""
        allocation = {}
        for line in self:
            rounding = line.product_id.uom_id.rounding
            to_place = line._product_qty()
            allocation[line] = per_lot = {}
            for lot in line.lot_ids:
                left = available.get(lot, 0.0)
                qty = min(left, to_place)
                if lot.product_id.tracking == "serial":
                    qty = (
                        1.0
                        if float_compare(left, 1.0, precision_rounding=rounding) >= 0
                        else 0.0
                    )
                if (
                    raise_if_short
                    and float_compare(qty, 0, precision_rounding=rounding) <= 0
                ):
                    line._raise_lot_not_returnable(lot)
                if float_compare(qty, 0, precision_rounding=rounding) <= 0:
                    continue
                per_lot[lot] = qty
                available[lot] = left - qty
                to_place -= qty
            if raise_if_short and not float_is_zero(
                to_place, precision_rounding=rounding
            ):
                raise ValidationError(
                    self.env._(
                        "You cannot return %(qty)s %(uom)s of %(product)s from lots "
                        "%(lots)s: only %(left)s %(uom)s of them was delivered on "
                        "%(sale)s and not yet returned.",
                        qty=line._product_qty(),
                        uom=line.product_id.uom_id.name,
                        product=line.product_id.display_name,
                        lots=", ".join(line.lot_ids.mapped("name")),
                        left=line._product_qty() - to_place,
                        sale=line.sale_line_id.order_id.name,
                    )
                )
        return allocation

    def _raise_lot_not_returnable(self, lot):
        self.ensure_one()
        raise ValidationError(
            self.env._(
                "%(lot)s of %(product)s cannot be returned on %(sale)s: it was not "
                "delivered to %(customer)s on this sale line, or it was already "
                "returned or requested on another return.",
                lot=lot.name,
                product=self.product_id.display_name,
                sale=self.sale_line_id.order_id.name,
                customer=self.sale_line_id.order_id.partner_id.display_name,
            )
        )

    def _allocate_delivered_moves(self):
        """Lines with lots return through the deliveries that brought those
        lots, so each receipt move is valued at the cost its lots left at."""
        allocations = [
            allocation
            for allocation in super()._allocate_delivered_moves()
            if not allocation[0].lot_ids
        ]
        used = defaultdict(float)
        for line in self.filtered("lot_ids"):
            per_lot = line._allocate_lots(line._lot_available(exclude_lines=line))
            moves = line.sale_line_id._return_delivered_moves().sorted(
                "date", reverse=True
            )
            rounding = line.product_id.uom_id.rounding
            per_move = defaultdict(float)
            for lot, qty in per_lot[line].items():
                for move in moves:
                    left = self._lot_remaining_on_move(move, lot) - used[move, lot]
                    take = min(left, qty)
                    if float_compare(take, 0, precision_rounding=rounding) <= 0:
                        continue
                    per_move[move] += take
                    used[move, lot] += take
                    qty -= take
            allocations += [(line, move, qty) for move, qty in per_move.items()]
        return allocations

    @api.model
    def _lot_remaining_on_move(self, move, lot):
        """Done quantity of a delivery move in that lot, not returned yet
        (open or done returns), in the product's unit."""
        delivered = sum(
            ml.quantity_product_uom
            for ml in move.move_line_ids
            if ml.lot_id == lot and ml.state == "done"
        )
        returns = move.returned_move_ids.filtered(lambda m: m.state != "cancel")
        returned = sum(
            ml.quantity_product_uom for ml in returns.move_line_ids if ml.lot_id == lot
        )
        return delivered - returned

    def _assign_receipt_lots(self):
        """Replace the move lines core reserved on our receipt moves by one
        line per chosen lot, with the quantity taken from that lot."""
        for line in self:
            moves = line.return_move_ids._return_customer_receipt_moves().filtered(
                lambda m: m.state not in ("done", "cancel")
            )
            available = line._lot_available(exclude_lines=line, exclude_moves=moves)
            per_lot = line._allocate_lots(available)[line]
            moves.move_line_ids.unlink()
            vals_list = []
            for move in moves:
                to_place = move.product_qty
                delivered = move.origin_returned_move_id.move_line_ids.lot_id
                # lots this delivery brought first, then any chosen lot left
                for lot in sorted(per_lot, key=lambda lot: lot not in delivered):
                    qty = min(per_lot[lot], to_place)
                    if float_is_zero(
                        qty, precision_rounding=move.product_id.uom_id.rounding
                    ):
                        continue
                    vals = move._prepare_move_line_vals(
                        quantity=move.product_id.uom_id._compute_quantity(
                            qty, move.product_uom
                        )
                    )
                    vals["lot_id"] = lot.id
                    vals_list.append(vals)
                    per_lot[lot] -= qty
                    to_place -= qty
            self.env["stock.move.line"].create(vals_list)

    def _check_receipt_lots(self, moves):
        """Refuse receiving lots that were not delivered on the sale line, that
        already came back or that another return claims, more of a lot than
        the customer has, and lots other than those the return line chose."""
        for sale_line, sale_moves in moves.grouped(
            lambda m: m.return_order_line_id.sale_line_id
        ).items():
            lines = sale_moves.return_order_line_id
            available = lines[:1]._lot_available(
                sale_line=sale_line, exclude_lines=lines, exclude_moves=sale_moves
            )
            for move_line in sale_moves.move_line_ids:
                line = move_line.move_id.return_order_line_id
                lot = move_line.lot_id
                if not lot or float_is_zero(
                    move_line.quantity,
                    precision_rounding=move_line.product_uom_id.rounding,
                ):
                    continue
                if line.lot_ids and lot not in line.lot_ids:
                    raise UserError(
                        self.env._(
                            "%(lot)s was not requested on return %(name)s (it asked "
                            "for %(lots)s): correct receipt %(receipt)s.",
                            lot=lot.name,
                            name=line.order_id.name,
                            lots=", ".join(line.lot_ids.mapped("name")),
                            receipt=move_line.picking_id.name,
                        )
                    )
                available[lot] = (
                    available.get(lot, 0.0) - move_line.quantity_product_uom
                )
                if (
                    float_compare(
                        available[lot],
                        0,
                        precision_rounding=line.product_id.uom_id.rounding,
                    )
                    < 0
                ):
                    raise UserError(
                        self.env._(
                            "%(lot)s of %(product)s cannot be received on %(receipt)s: "
                            "%(customer)s did not get that much of it on %(sale)s, or "
                            "it already came back.",
                            lot=lot.name,
                            product=line.product_id.display_name,
                            receipt=move_line.picking_id.name,
                            customer=sale_line.order_id.partner_id.display_name,
                            sale=sale_line.order_id.name,
                        )
                    )
