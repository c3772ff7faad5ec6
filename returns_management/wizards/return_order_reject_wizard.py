from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class ReturnOrderRejectWizard(models.TransientModel):
    _name = "return.order.reject.wizard"
    _description = "Reject Returns"

    return_order_ids = fields.Many2many("return.order", required=True)
    reason = fields.Text(required=True, help="Shown to the customer.")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "return.order" and context.get("active_ids"):
            res["return_order_ids"] = [Command.set(context["active_ids"])]
        return res

    def action_reject(self):
        self.ensure_one()
        if not self.reason or not self.reason.strip():
            raise UserError(self.env._("Explain why the return is refused."))
        return self.return_order_ids.action_reject(reason=self.reason)
