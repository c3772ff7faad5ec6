from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class ReturnOrderApproveWizard(models.TransientModel):
    """Asks the manager why returns that failed a policy rule are approved."""

    _name = "return.order.approve.wizard"
    _description = "Approve Returns Despite the Policy"

    return_order_ids = fields.Many2many("return.order", required=True)
    verdict_summary = fields.Text(
        string="Policy Verdicts", compute="_compute_verdict_summary"
    )
    override_reason = fields.Text(
        required=True, help="Stored on the returns and logged in their chatter."
    )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "return.order" and context.get("active_ids"):
            res["return_order_ids"] = [Command.set(context["active_ids"])]
        return res

    @api.depends("return_order_ids")
    def _compute_verdict_summary(self):
        for wizard in self:
            wizard.verdict_summary = "\n".join(
                f"{order.name}: {order.policy_verdict_note}"
                for order in wizard.return_order_ids
                if order.policy_needs_override
            )

    def action_approve(self):
        self.ensure_one()
        if not self.override_reason or not self.override_reason.strip():
            raise UserError(
                self.env._("Explain why the returns are approved despite the policy.")
            )
        return self.return_order_ids.action_approve(
            override_reason=self.override_reason
        )
