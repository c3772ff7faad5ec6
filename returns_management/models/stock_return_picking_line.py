from odoo import Command, fields, models


class StockReturnPickingLine(models.TransientModel):
    _inherit = "stock.return.picking.line"

    return_order_line_id = fields.Many2one("return.order.line")

    def _prepare_move_default_values(self, new_picking):
        vals = super()._prepare_move_default_values(new_picking)
        if self.return_order_line_id:
            vals["return_order_line_id"] = self.return_order_line_id.id
        return vals

    def _prepare_return_move_copy_vals(self, new_picking):
        """Values of the return move that ``_process_line`` would create."""
        self.ensure_one()
        original = self.move_id
        vals = original.copy_data(self._prepare_move_default_values(new_picking))[0]
        orig_to_link = original.move_dest_ids.returned_move_ids | original
        orig_to_link |= original.move_dest_ids.filtered(
            lambda m: m.state != "cancel"
        ).move_orig_ids.filtered(lambda m: m.state != "cancel")
        dest_to_link = original.move_orig_ids.returned_move_ids
        dest_to_link |= original.move_orig_ids.returned_move_ids.move_orig_ids.filtered(
            lambda m: m.state != "cancel"
        ).move_dest_ids.filtered(lambda m: m.state != "cancel")
        vals["move_orig_ids"] = [Command.set(orig_to_link.ids)]
        vals["move_dest_ids"] = [Command.set(dest_to_link.ids)]
        return vals
