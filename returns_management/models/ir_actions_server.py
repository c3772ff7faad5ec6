from odoo import models

# bound to returns; restricted to return managers, which keeps them out of
# the Action menu of everybody else (see return_order_automation.py)
RETURN_APPROVAL_ACTIONS = (
    "returns_management.return_order_action_approve",
    "returns_management.return_order_action_reject",
    "returns_management.return_order_action_recheck_policy",
)


class IrActionsServer(models.Model):
    _inherit = "ir.actions.server"

    def run(self):
        """Run the approval actions of returns for an automation rule.

        Odoo checks an action's groups against the user whose change
        triggered the rule, so a rule "submitted -> Approve" set up by an
        administrator would refuse every submission of a returns user. A
        rule runs its actions as superuser (base_automation elevates
        them); a user running an action from the web client or over RPC
        never does, and still goes through Odoo's check. The actions' code
        then decides as a rule (see return_order_automation.py).
        """
        approval = self._return_approval_actions() if self.env.su else self.browse()
        if not self & approval:
            return super().run()
        res = False
        for action in self:
            # another action alone goes through this method again, to Odoo's run
            res = action._return_run_for_rule() if action in approval else action.run()
        return res or False

    def _return_approval_actions(self):
        return self.browse(
            [
                action.id
                for xmlid in RETURN_APPROVAL_ACTIONS
                if (action := self.env.ref(xmlid, raise_if_not_found=False))
            ]
        )

    def _return_run_for_rule(self):
        self.ensure_one()
        eval_context = self._get_eval_context(self)
        run_self = self.with_context(**eval_context["env"].context)
        return run_self._run_action_code_multi(eval_context=eval_context)
