from odoo import fields, models


class StockReturnPicking(models.TransientModel):
    _inherit = "stock.return.picking"

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

    def _create_returns_batch(self):
        """Core's ``_create_return`` for many wizards at once.

        Same hooks (``_prepare_picking_default_values``,
        ``_prepare_move_default_values``) and the same move chaining as
        ``stock.return.picking.line._process_line``, but one create, confirm
        and assign for all pickings instead of one round per picking.
        """
        self.product_return_moves.move_id.move_dest_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        )._do_unreserve()
        new_pickings = self.env["stock.picking"].create(
            [
                wizard.picking_id.copy_data(
                    dict(wizard._prepare_picking_default_values(), user_id=False)
                )[0]
                for wizard in self
            ]
        )
        move_vals_list = []
        for wizard, new_picking in zip(self, new_pickings, strict=True):
            for line in wizard.product_return_moves:
                move_vals_list.append(line._prepare_return_move_copy_vals(new_picking))
        self.env["stock.move"].create(move_vals_list)
        new_pickings.action_confirm()
        new_pickings.action_assign()
        return new_pickings
