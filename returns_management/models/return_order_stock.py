from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero


class ReturnOrder(models.Model):
    _inherit = "return.order"

    def action_submit(self):
        self.line_ids._check_product_not_kit()
        return super().action_submit()

    def _create_return_pickings(self):
        """Create one incoming return per original delivery, like core's wizard.

        Core's return wizard links every return move to the move it returns
        (valuation at original cost, sale delivered quantities) and keeps the
        procurement group; we only redirect it to the warehouse's returns
        location and tag the picking and moves with the return.
        """
        self.line_ids._check_product_not_kit()
        allocations = self.line_ids._allocate_delivered_moves()
        per_picking = defaultdict(list)
        for line, move, qty in allocations:
            per_picking[line.order_id, move.picking_id].append((line, move, qty))
        pickings = self.env["stock.picking"].union(*(p for _o, p in per_picking))
        warehouses = self.warehouse_id | pickings.picking_type_id.warehouse_id
        # Warehouses used before the install hook gave them a returns location
        # (e.g. by demo data) get it now; approvers may not create locations.
        warehouse_admin = warehouses.sudo()  # only adds the missing location
        warehouse_admin._create_missing_return_locations()
        wizards = self.env["stock.return.picking"].create(
            [
                order._prepare_return_wizard_vals(picking, items)
                for (order, picking), items in per_picking.items()
            ]
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
                Command.create(
                    {
                        "product_id": move.product_id.id,
                        "move_id": move.id,
                        "quantity": qty,
                        "to_refund": True,
                        "return_order_line_id": line.id,
                    }
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
        arrived.write({"state": "received", "date_received": fields.Datetime.now()})


class ReturnOrderLine(models.Model):
    _inherit = "return.order.line"

    qty_sent_back = fields.Float(
        digits="Product Unit of Measure",
        compute="_compute_qty_sent_back",
        store=True,
        help="Received goods returned to the customer (done), e.g. extra goods "
        "sent back or a return of the receipt made in Odoo.",
    )

    @api.depends(
        "return_move_ids.returned_move_ids.state",
        "return_move_ids.returned_move_ids.quantity",
        "product_uom_id",
    )
    def _compute_qty_sent_back(self):
        for line in self:
            line.qty_sent_back = line._sum_move_quantities(
                line._send_back_moves().filtered(lambda m: m.state == "done")
            )

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
        the quantity the customer may be credited for."""
        self.ensure_one()
        kept = self.qty_received - self.qty_sent_back
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
