from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import ReturnsCommon, return_by_hand

REJECT_REASON = "Used goods cannot be taken back."


@tagged("post_install", "-at_install")
class TestServerActions(ReturnsCommon):
    """Approve, Reject and Re-check Policy from the Action menu, on a
    selection, and from automation rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.approve_action = cls.env.ref(
            "returns_management.return_order_action_approve"
        )
        cls.reject_action = cls.env.ref("returns_management.return_order_action_reject")
        cls.recheck_action = cls.env.ref(
            "returns_management.return_order_action_recheck_policy"
        )

    def _two_submitted_returns(self):
        """One return each for two customers, waiting for a decision."""
        orders = self.env["return.order"]
        for customer in (self.customer, self.other_customer):
            sale = self._create_sale(
                [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)], partner=customer
            )
            orders |= self._create_return(sale, [(sale.order_line, 2.0)])
        orders.action_submit()
        return orders

    def _run(self, action, orders, user=None):
        """Run a server action as the web client does from the Action menu."""
        return (
            action.with_user(user or self.manager)
            .with_context(
                active_model="return.order",
                active_ids=orders.ids,
                active_id=orders[0].id,
            )
            .run()
        )

    def test_approve_action_approves_the_whole_selection(self):
        orders = self._two_submitted_returns()

        self._run(self.approve_action, orders)

        self.assertEqual(orders.mapped("state"), ["approved", "approved"])
        self.assertEqual(len(orders.return_picking_ids), 2)
        self.assertEqual(
            orders.return_picking_ids.partner_id, self.customer | self.other_customer
        )

    def test_approve_action_approves_the_others_when_one_is_broken(self):
        good, broken = self._two_submitted_returns()
        return_by_hand(broken.sale_order_id, 5.0)

        result = self._run(self.approve_action, good | broken)

        self.assertEqual(good.state, "approved")
        self.assertEqual(broken.state, "to_approve")
        self.assertFalse(broken.return_picking_ids)
        self.assertIn(broken.name, result["params"]["message"])

    def test_reject_action_asks_one_reason_for_the_whole_selection(self):
        orders = self._two_submitted_returns()

        action = self._run(self.reject_action, orders)

        self.assertEqual(action["res_model"], "return.order.reject.wizard")
        self.assertEqual(orders.mapped("state"), ["to_approve", "to_approve"])
        wizard_env = self.env(user=self.manager, context=action["context"])
        with Form(wizard_env[action["res_model"]]) as wizard:
            self.assertEqual(wizard.return_order_ids.ids, orders.ids)
            wizard.reason = REJECT_REASON
        wizard.record.action_reject()
        self.assertEqual(orders.mapped("state"), ["rejected", "rejected"])
        self.assertEqual(orders.mapped("reject_reason"), [REJECT_REASON] * 2)

    def test_reject_action_refuses_a_selection_with_an_approved_return(self):
        waiting, approved = self._two_submitted_returns()
        approved.with_user(self.manager).action_approve()

        with self.assertRaises(UserError):
            self._run(self.reject_action, waiting | approved)
        self.assertEqual(waiting.state, "to_approve")
        self.assertEqual(approved.state, "approved")

    def test_recheck_policy_action_applies_a_changed_policy_to_the_selection(self):
        orders = self._two_submitted_returns()
        self.assertEqual(orders.mapped("policy_verdict"), ["escalate", "escalate"])
        orders.line_ids.policy_id.auto_approve = True

        self._run(self.recheck_action, orders)

        self.assertEqual(orders.mapped("policy_verdict"), ["auto_approve"] * 2)
        self.assertEqual(orders.mapped("state"), ["approved", "approved"])

    def test_returns_user_cannot_run_the_approval_actions(self):
        orders = self._two_submitted_returns()
        for action in (self.approve_action, self.reject_action, self.recheck_action):
            with self.subTest(action=action.name), self.assertRaises(AccessError):
                self._run(action, orders, user=self.return_user)
        self.assertEqual(orders.mapped("state"), ["to_approve", "to_approve"])

    def test_approval_actions_are_in_the_action_menu_of_managers_only(self):
        actions = self.approve_action | self.reject_action | self.recheck_action
        bindings = self.env["ir.actions.actions"].with_user(self.manager)
        bound = {
            a["id"] for a in bindings.get_bindings("return.order").get("action", [])
        }
        self.assertLessEqual(set(actions.ids), bound)
        bindings = bindings.with_user(self.return_user)
        bound = {
            a["id"] for a in bindings.get_bindings("return.order").get("action", [])
        }
        self.assertFalse(set(actions.ids) & bound)

    # automation rules (base_automation is installed in the test database,
    # the addon does not depend on it)

    def _approve_on_submit_rule(self):
        if "base.automation" not in self.env:
            self.skipTest("base_automation is not installed")
        state_field = self.env["ir.model.fields"]._get("return.order", "state")
        to_approve = state_field.selection_ids.filtered(
            lambda s: s.value == "to_approve"
        )
        model = self.env["ir.model"]._get("return.order")
        return self.env["base.automation"].create(
            {
                "name": "Approve submitted returns",
                "model_id": model.id,
                "trigger": "on_state_set",
                "trg_selection_field_id": to_approve.id,
                "action_server_ids": [
                    Command.create(
                        {
                            "name": "Approve",
                            "model_id": model.id,
                            "usage": "base_automation",
                            "state": "multi",
                            "child_ids": [Command.link(self.approve_action.id)],
                        }
                    )
                ],
            }
        )

    def test_automation_rule_approves_the_returns_a_manager_submits(self):
        self._approve_on_submit_rule()
        orders = self.env["return.order"]
        for customer in (self.customer, self.other_customer):
            sale = self._create_sale(
                [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)], partner=customer
            )
            orders |= self._create_return(sale, [(sale.order_line, 2.0)])

        orders.with_user(self.manager).action_submit()

        self.assertEqual(orders.mapped("state"), ["approved", "approved"])
        self.assertEqual(len(orders.return_picking_ids), 2)

    def test_automation_rule_cannot_approve_for_a_returns_user(self):
        """The rule runs with the rights of whoever triggers it: a returns
        user's submission is refused rather than approved behind the
        managers' back, and nothing changes."""
        self._approve_on_submit_rule()
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])

        with self.assertRaises(AccessError):
            order.with_user(self.return_user).action_submit()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.return_picking_ids)
