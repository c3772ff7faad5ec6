from collections import defaultdict

from odoo import Command, api, fields, models


class StockReturnPicking(models.TransientModel):
    _name = "stock.return.picking"
    _inherit = ["stock.return.picking", "return.protected.mixin"]
    # which return the new transfer receives, and where its goods go
    _protected_fields = ("return_order_id", "return_location_id")

    return_order_id = fields.Many2one("return.order")
    return_location_id = fields.Many2one("stock.location")

    def _prepare_picking_default_values(self):
        vals = super()._prepare_picking_default_values()
        if self.return_order_id:
            vals["return_order_id"] = self.return_order_id.id
            vals["origin"] = self.env._(
                "%(return_name)s (return of %(picking)s)",
                return_name=self.return_order_id.name,
                picking=self.picking_id.name,
            )
        if self.return_location_id:
            vals["location_dest_id"] = self.return_location_id.id
        return vals

    @api.model
    def _return_line_command(self, move, quantity, **extra):
        """A line of the wizard returning quantity of move (in the move's
        unit), counted back on the sale (to_refund)."""
        return Command.create(
            {
                "product_id": move.product_id.id,
                "move_id": move.id,
                "quantity": quantity,
                "to_refund": True,
                **extra,
            }
        )

    @api.model
    def _return_send_back(self, items):
        """Send received goods back to the customer with Odoo's return of
        their receipts: one return per receipt, ``to_refund`` so the sale's
        delivered quantity is restored. items: (receipt move, quantity in
        the move's unit, extra return line values). Returns the pickings."""
        per_receipt = defaultdict(list)
        for move, qty, extra in items:
            per_receipt[move.picking_id].append((move, qty, extra))
        # sudo is safe: only our callers set the links, checked by their
        # actions; the returns are created with the user's rights
        creator = self.sudo()  # see above
        wizards = creator.create(
            [
                {
                    "picking_id": receipt.id,
                    "product_return_moves": [
                        self._return_line_command(move, qty, **extra)
                        for move, qty, extra in lines
                    ],
                }
                for receipt, lines in per_receipt.items()
            ]
        ).sudo(False)
        return self.env["stock.picking"].union(
            *(wizard._create_return() for wizard in wizards)
        )
