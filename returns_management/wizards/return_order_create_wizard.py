from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class ReturnOrderCreateWizard(models.TransientModel):
    _name = "return.order.create.wizard"
    _description = "Create a Return from a Sale Order"

    sale_order_id = fields.Many2one("sale.order", required=True, readonly=True)
    partner_id = fields.Many2one(related="sale_order_id.partner_id")
    line_ids = fields.One2many(
        "return.order.create.wizard.line",
        "wizard_id",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    note = fields.Html()

    @api.depends("sale_order_id")
    def _compute_line_ids(self):
        # the lines' default reason, looked up once rather than once per line
        reason = self.env["return.reason"].search([], limit=1)
        for wizard in self:
            sale_lines = wizard.sale_order_id.order_line.filtered(
                lambda l: l.product_id.type == "consu" and not l.display_type
            )
            returnable = sale_lines.filtered(lambda l: l.return_qty_returnable > 0)
            wizard.line_ids = [Command.clear()] + [
                Command.create(
                    {"sale_line_id": line.id, "quantity": 0.0, "reason_id": reason.id}
                )
                for line in returnable
            ]

    def action_create_return(self):
        """Create the return as a draft and open it."""
        return self._create_return()._action_view_self()

    def action_create_and_submit(self):
        """Create the return and submit it at once: one click instead of
        two, and the return policy decides straight away. If submitting
        refuses, nothing is created."""
        order = self._create_return()
        order.action_submit()
        return order._action_view_self()

    def _create_return(self):
        self.ensure_one()
        chosen = self.line_ids.filtered(lambda l: l.quantity)
        if not chosen:
            raise UserError(
                self.env._("Set a quantity to return on at least one line.")
            )
        return self.env["return.order"].create(self._prepare_return_order_vals(chosen))

    def _prepare_return_order_vals(self, chosen_lines):
        return {
            "sale_order_id": self.sale_order_id.id,
            "origin": "backend",
            "note": self.note,
            "line_ids": [
                Command.create(
                    {
                        "sale_line_id": line.sale_line_id.id,
                        "quantity": line.quantity,
                        "product_uom_id": line.product_uom_id.id,
                        "reason_id": line.reason_id.id,
                        "note": line.note,
                        "lot_ids": [Command.set(line.lot_ids.ids)],
                    }
                )
                for line in chosen_lines
            ],
        }
