from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero


class StockMove(models.Model):
    _name = "stock.move"
    _inherit = ["stock.move", "return.protected.mixin"]
    # the return line (inspection line) whose goods a move carries: its
    # quantities decide what is received, refunded and inspected
    _protected_fields = ("return_order_line_id", "return_qc_line_id")

    # not copied: a return of our receipt (goods sent back) is no receipt of
    # the return; splits and backorders keep it through _prepare_move_split_vals
    return_order_line_id = fields.Many2one(
        "return.order.line", index="btree_not_null", readonly=True, copy=False
    )

    # the inspection line whose goods this transfer, send-back or scrap moves
    return_qc_line_id = fields.Many2one(
        "return.qc.line", index="btree_not_null", readonly=True, copy=False
    )

    def _prepare_merge_moves_distinct_fields(self):
        # two return lines on one sale line return the same delivery move:
        # each keeps its own receipt move, so each counts its own quantity;
        # likewise each inspection line keeps its own move (and lot)
        return [
            *super()._prepare_merge_moves_distinct_fields(),
            "return_order_line_id",
            "return_qc_line_id",
        ]

    @api.model
    def _is_consistent_link(self, name, value, vals):
        """A move may point at a return line only in a receipt of its
        return, and at an inspection line only in a transfer already moving
        that line's goods (a split, a backorder) or in a return of the
        receipt that brought them; the inspection creates the others."""
        picking = self.env["stock.picking"].browse(vals.get("picking_id"))
        # sudo is safe: reads only which return and goods the transfer moves
        picking, linked = picking.sudo(), self[name].sudo().browse(value)  # see above
        if not picking:
            return False
        if name == "return_order_line_id":
            return picking.return_order_id == linked.order_id
        return picking in linked.move_id.picking_id or (
            picking.return_id in linked.line_id.return_move_ids.picking_id
        )

    def _prepare_move_split_vals(self, qty):
        vals = super()._prepare_move_split_vals(qty)
        vals["return_order_line_id"] = self.return_order_line_id.id
        vals["return_qc_line_id"] = self.return_qc_line_id.id
        return vals

    def _return_qc_record_moves(self):
        """Record on each inspection line the move that carries its goods."""
        self.return_qc_line_id._set_protected_each(
            {move.return_qc_line_id: {"move_id": move.id} for move in self}
        )

    def _return_qc_reserve(self):
        """Reserve the graded lot/serial of inspection moves, any goods of
        the others."""
        tracked = self.filtered(lambda m: m.return_qc_line_id.lot_id)
        tracked._do_unreserve()
        sources = tracked.return_qc_line_id._source_locations()
        vals_list = []
        for move in tracked:
            vals = move._return_qc_move_line_vals()
            vals["location_id"] = move._return_qc_source_location(sources).id
            vals_list.append(vals)
        # Odoo's putaway rules pick the shelf, as its own reservation does
        self.env["stock.move.line"].create(vals_list)._apply_putaway_strategy()
        (self - tracked)._action_assign()

    def _return_qc_source_location(self, sources):
        """Where the goods of this inspection move are: for a send-back, where
        the receipt move it returns put the lot; else where they arrived."""
        self.ensure_one()
        lot = self.return_qc_line_id.lot_id
        arrived = self.origin_returned_move_id.move_line_ids.filtered(
            lambda ml: ml.lot_id == lot
        )[:1].location_dest_id
        return arrived or sources[self.return_qc_line_id]

    def _action_done(self, cancel_backorder=False):
        # sudo is safe: only reads what the returns requested, to refuse
        # receiving more; Odoo checks the user's rights on the moves (a
        # receiver needs no returns rights to validate a receipt)
        checked = self.sudo()  # see above
        checked._return_check_requested()
        checked._return_check_still_at_customer()
        checked._return_check_lots()
        return super()._action_done(cancel_backorder=cancel_backorder)

    def _return_check_requested(self):
        """Refuse goods added to a return receipt that no return line asked
        for: nothing would credit them, and they would sit in stock unlinked
        from the sale."""
        unrequested = self.filtered(
            lambda m: (
                m.picking_id.return_order_id
                and not m.return_order_line_id
                and m.location_id.usage == "customer"
                and m.state not in ("done", "cancel")
                and not float_is_zero(
                    m.quantity, precision_rounding=m.product_uom.rounding
                )
            )
        )
        if unrequested:
            move = unrequested[0]
            raise UserError(
                self.env._(
                    "%(product)s was not requested on return %(name)s: add it to "
                    "a return first, or remove it from receipt %(receipt)s.",
                    product=move.product_id.display_name,
                    name=move.picking_id.return_order_id.name,
                    receipt=move.picking_id.name,
                )
            )

    def _return_check_still_at_customer(self):
        """Refuse receiving more than the customer still has.

        The customer has what was delivered minus what already came back;
        a receipt beyond it would make the sale line's delivered quantity
        negative and bring in goods that were never sold.
        """
        receiving = self._return_customer_receipt_moves().filtered(
            lambda m: m.state not in ("done", "cancel") and m.picked
        )
        per_sale_line = defaultdict(float)
        for move in receiving:
            sale_line = move.return_order_line_id.sale_line_id
            per_sale_line[sale_line] += move.product_uom._compute_quantity(
                move.quantity, move.product_id.uom_id
            )
        for sale_line, quantity in per_sale_line.items():
            at_customer = sale_line._return_qty_at_customer()
            uom = sale_line.product_id.uom_id
            rounding = uom.rounding
            if float_compare(quantity, at_customer, precision_rounding=rounding) > 0:
                raise UserError(
                    self.env._(
                        "You are receiving %(qty)s %(uom)s of %(product)s, but the "
                        "customer only has %(left)s %(uom)s of sale order %(sale)s "
                        "(delivered and not yet returned). Correct the received "
                        "quantity before validating.",
                        qty=quantity,
                        uom=uom.name,
                        product=sale_line.product_id.display_name,
                        left=at_customer,
                        sale=sale_line.order_id.name,
                    )
                )

    def _return_check_lots(self):
        """Refuse lots/serials on return receipts that were not delivered on
        the sale line or already came back (see return_order_line_lot)."""
        receiving = self._return_customer_receipt_moves().filtered(
            lambda m: (
                m.state not in ("done", "cancel")
                and m.picked
                and m.product_id.tracking != "none"
            )
        )
        if receiving:
            receiving.return_order_line_id._check_receipt_lots(receiving)

    def _return_qc_move_line_vals(self):
        """The goods (lot) an inspection move moves: its own quantity, which
        is the inspection line's share on that move (a send-back of a lot
        received on two receipts has one move per receipt)."""
        self.ensure_one()
        qc_line = self.return_qc_line_id
        vals = self._prepare_move_line_vals(quantity=self.product_qty)
        vals.update(lot_id=qc_line.lot_id.id, location_id=self.location_id.id)
        return vals

    def _return_qc_check_available(self):
        """Refuse moving inspected goods that are no longer (unreserved)
        where they arrived, read for all the moves at once."""
        storable = self.filtered(lambda m: m.product_id.is_storable)
        needed = defaultdict(float)
        for move in storable:
            key = (move.product_id, move.location_id, move.return_qc_line_id.lot_id)
            needed[key] += move.product_qty
        if not needed:
            return
        groups = self.env["stock.quant"]._read_group(
            [
                ("product_id", "in", storable.product_id.ids),
                ("location_id", "in", storable.location_id.ids),
            ],
            ["product_id", "location_id", "lot_id"],
            ["quantity:sum", "reserved_quantity:sum"],
        )
        available = {
            (product, location, lot): quantity - reserved
            for product, location, lot, quantity, reserved in groups
        }
        for (product, location, lot), qty in needed.items():
            left = available.get((product, location, lot), 0.0)
            if float_compare(left, qty, precision_rounding=product.uom_id.rounding) < 0:
                self._return_qc_raise_missing(product, location)

    def _return_qc_raise_missing(self, product, location):
        raise UserError(
            self.env._(
                "%(product)s is no longer in %(location)s: it cannot be moved from "
                "there. Check where the returned goods went; if they were moved by "
                "hand, mark their inspection line as Already Moved.",
                product=product.display_name,
                location=location.display_name,
            )
        )

    def _return_customer_receipt_moves(self):
        """Moves of return receipts bringing goods from the customer."""
        return self.filtered(
            lambda m: m.return_order_line_id and m.location_id.usage == "customer"
        )

    def _return_remaining_product_qty(self):
        """Done quantity of this delivery move not returned yet (open or done)."""
        self.ensure_one()
        uom = self.product_id.uom_id
        remaining = self.product_uom._compute_quantity(self.quantity, uom)
        for returned in self.returned_move_ids.filtered(lambda m: m.state != "cancel"):
            qty = (
                returned.quantity
                if returned.state == "done"
                else returned.product_uom_qty
            )
            remaining -= returned.product_uom._compute_quantity(qty, uom)
        return remaining

    def _return_remaining_lot_qty(self, lot):
        """Done quantity of lot on this move not returned yet (open or done),
        in the product's unit."""
        self.ensure_one()
        returns = self.returned_move_ids.filtered(lambda m: m.state != "cancel")
        returned = sum(
            ml.quantity_product_uom for ml in returns.move_line_ids if ml.lot_id == lot
        )
        moved = sum(
            ml.quantity_product_uom for ml in self.move_line_ids if ml.lot_id == lot
        )
        return moved - returned
