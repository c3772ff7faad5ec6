from odoo import models

from .isolating import run_isolating_failures


class ReturnOrder(models.Model):
    """Approve, Reject and Re-check Policy as the bound server actions of
    data/ir_actions_server_data.xml: from the Action menu (list, kanban,
    form) and from automation rules.

    - From the Action menu they answer the web client with an action
      (a wizard, a notification) or a reload of the view, never a bare
      True, and raise clear errors as the buttons do.
    - Run by an automation rule (server code with superuser rights:
      base_automation runs every action of a rule as superuser; a click in
      the web client never is) nobody can be asked anything: they act on
      the returns still in the right state and skip the others; Reject
      gives the reason of _default_reject_reason, and Approve leaves a return whose
      policy needs a manager's override reason waiting for a manager, with
      a note. The rule was set up by an administrator: it does not check
      the rights of the user whose change triggered it (see
      ir_actions_server.py).
    """

    _inherit = "return.order"

    def _server_action_approve(self):
        if not self._run_by_rule():
            return self._server_action_result(self.action_approve())
        self._lock_for_update()
        orders = self._filter_approvable().filtered("line_ids")
        orders._policy_needs_override()  # drafts get their verdict first
        blocked = orders.filtered(lambda order: order._policy_rule_failed())
        for order in blocked:
            order.message_post(
                body=self.env._(
                    "An automation rule did not approve this return: it failed a "
                    "rule of its return policy, and a manager approves it only "
                    "with a reason."
                )
            )
        ready = orders - blocked
        # the change that triggered the rule goes through: a return that
        # cannot be approved waits for a manager, with a note saying why
        failed = run_isolating_failures(
            ready, lambda batch: batch._approve(), isolate_single=True
        )
        ready._report_failures(
            failed,
            lambda error: self.env._(
                "An automation rule could not approve this return: %(error)s",
                error=error,
            ),
        )
        return False

    def _server_action_reject(self):
        if not self._run_by_rule():
            return self._server_action_result(self.action_reject())
        self._lock_for_update()
        orders = self.filtered(lambda order: order.state in ("draft", "to_approve"))
        for reason, group in orders.grouped(
            lambda order: order._default_reject_reason()
        ).items():
            group.action_reject(reason=reason)
        return False

    def _server_action_recheck_policy(self):
        orders = self
        if self._run_by_rule():
            self._lock_for_update()
            orders = self.filtered(lambda o: o.state in ("draft", "to_approve"))
            if not orders:
                return False
        result = orders.action_recheck_policy()
        return False if self._run_by_rule() else self._server_action_result(result)

    def _run_by_rule(self):
        """Whether server code with superuser rights runs the action (an
        automation rule), rather than a user from the Action menu."""
        return self.env.su

    def _default_reject_reason(self):
        """The reason the customer reads when an automation rule refuses:
        the policy's own when it refused the return, else a standard one."""
        self.ensure_one()
        if self.policy_verdict == "reject" and self.policy_verdict_note:
            return self.policy_verdict_note
        return self.env._("We cannot accept this return.")

    def _server_action_result(self, result):
        """The web client runs the action a server action returns: an action
        dict as is; otherwise the view reloads to show the new states."""
        if isinstance(result, dict):
            return result
        return {"type": "ir.actions.client", "tag": "soft_reload"}
