from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from odoo.addons.web.controllers.utils import clean_action

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
        return self._existing_action_on_submit(self.approve_action)

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

    def test_automation_rule_approves_the_returns_a_returns_user_submits(self):
        """The rule was set up by an administrator: it approves for the
        returns user whose submission triggers it, once."""
        self._approve_on_submit_rule()
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])

        order.with_user(self.return_user).action_submit()

        self.assertEqual(order.state, "approved")
        self.assertEqual(len(order.return_picking_ids), 1)
        self.assertEqual(order.return_picking_ids.move_ids.product_uom_qty, 2.0)
        self.assertFalse(order.activity_ids)

    def test_returns_user_still_cannot_run_the_approve_action_itself(self):
        orders = self._two_submitted_returns()
        self._approve_on_submit_rule()
        with self.assertRaises(AccessError):
            self._run(self.approve_action, orders, user=self.return_user)
        with self.assertRaises(AccessError):
            self.approve_action.with_user(self.return_user).with_context(
                active_model="return.order", active_ids=orders.ids
            ).run()
        self.assertEqual(orders.mapped("state"), ["to_approve", "to_approve"])
        self.assertFalse(orders.return_picking_ids)

    def _rule_on_submit(self, action_vals):
        """An automation rule run when a return is submitted."""
        if "base.automation" not in self.env:
            self.skipTest("base_automation is not installed")
        state_field = self.env["ir.model.fields"]._get("return.order", "state")
        to_approve = state_field.selection_ids.filtered(
            lambda s: s.value == "to_approve"
        )
        model = self.env["ir.model"]._get("return.order")
        return self.env["base.automation"].create(
            {
                "name": "On submission",
                "model_id": model.id,
                "trigger": "on_state_set",
                "trg_selection_field_id": to_approve.id,
                "action_server_ids": [
                    Command.create(
                        {
                            "name": "Decide",
                            "model_id": model.id,
                            "usage": "base_automation",
                            **action_vals,
                        }
                    )
                ],
            }
        )

    def _existing_action_on_submit(self, action):
        return self._rule_on_submit(
            {"state": "multi", "child_ids": [Command.link(action.id)]}
        )

    def _auto_approving_policy(self):
        return self.env["return.policy"].create(
            {"name": "Approve everything", "sequence": 1, "auto_approve": True}
        )

    def test_automation_rule_and_approving_policy_create_one_receipt(self):
        """The rule approves on submission, then the policy would approve
        again: one receipt, and the sale line counts the goods back once,
        as Odoo's own return of the same quantity does."""
        self._auto_approving_policy()
        self._approve_on_submit_rule()
        for user in (self.manager, self.return_user):
            with self.subTest(user=user.login):
                sale = self._taxed_sale()
                order = self._create_return(sale, [(sale.order_line, 2.0)])
                before = self._quant_qty(self.product, self.returns_location)

                order.with_user(user).action_submit()

                self.assertEqual(order.state, "approved")
                self.assertEqual(order.policy_verdict, "auto_approve")
                self.assertEqual(len(order.return_picking_ids), 1)
                receipt = order.return_picking_ids
                self.assertEqual(receipt.move_ids.product_uom_qty, 2.0)
                self._validate(receipt)
                self.assertEqual(order.state, "received")
                twin = self._taxed_sale()
                twin_return = twin.picking_ids.browse(
                    return_by_hand(twin, 2.0)["res_id"]
                )
                self._validate(twin_return)
                self.assertEqual(twin.order_line.qty_delivered, 3.0)
                self.assertEqual(
                    sale.order_line.qty_delivered, twin.order_line.qty_delivered
                )
                self.assertEqual(
                    self._quant_qty(self.product, self.returns_location),
                    before + 2.0,
                )

    def test_approving_an_approved_return_again_internally_does_nothing(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        order.action_submit()
        order._approve()
        receipt = order.return_picking_ids

        order._approve()
        order._create_return_pickings()

        self.assertEqual(order.return_picking_ids, receipt)
        self.assertEqual(receipt.move_ids.product_uom_qty, 2.0)
        self._validate(receipt)
        self.assertEqual(sale.order_line.qty_delivered, 3.0)

    def test_automation_rule_approval_leaves_no_escalation_todo(self):
        self._approve_on_submit_rule()
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])

        order.with_user(self.return_user).action_submit()

        self.assertEqual(order.policy_verdict, "escalate")
        self.assertEqual(order.state, "approved")
        self.assertFalse(order.activity_ids)
        self.assertFalse(order.policy_activity_id)
        self.assertEqual(len(order.return_picking_ids), 1)

    def test_automation_rule_rejects_with_the_standard_reason(self):
        self._existing_action_on_submit(self.reject_action)
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])

        order.with_user(self.return_user).action_submit()

        self.assertEqual(order.state, "rejected")
        self.assertEqual(order.reject_reason, "We cannot accept this return.")
        self.assertFalse(order.return_picking_ids)
        self.assertFalse(order.activity_ids)
        self.assertEqual(sale.order_line.return_qty_returnable, 5.0)

    def test_automation_rule_and_refusing_policy_reject_once(self):
        self.env["return.policy"].create(
            {
                "name": "Never this product",
                "sequence": 1,
                "categ_ids": [Command.set(self.category.ids)],
                "non_returnable": True,
            }
        )
        self._existing_action_on_submit(self.reject_action)
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])

        order.with_user(self.return_user).action_submit()

        self.assertEqual(order.state, "rejected")
        self.assertEqual(order.policy_verdict, "reject")
        self.assertEqual(order.reject_reason, order.policy_verdict_note)
        self.assertIn("cannot be returned", order.reject_reason)
        refusals = order.message_ids.filtered(
            lambda m: "Return refused" in (m.body or "")
        )
        self.assertEqual(len(refusals), 1)
        self.assertFalse(order.return_picking_ids)
        self.assertFalse(order.activity_ids)

    def test_automation_rule_rejects_with_the_reason_set_in_the_rule(self):
        self._rule_on_submit(
            {
                "state": "code",
                "code": 'records.action_reject(reason="We do not take back '
                'returns from abroad.")',
            }
        )
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])

        order.with_user(self.return_user).action_submit()

        self.assertEqual(order.state, "rejected")
        self.assertEqual(
            order.reject_reason, "We do not take back returns from abroad."
        )

    def test_automation_rule_rejecting_without_a_reason_is_a_clear_error(self):
        self._rule_on_submit({"state": "code", "code": "records.action_reject()"})
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])

        with self.assertRaises(UserError) as refusal:
            order.with_user(self.return_user).action_submit()
        self.assertIn("reason", str(refusal.exception))
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.reject_reason)

    def test_automation_rule_leaves_a_return_needing_an_override_to_a_manager(self):
        self.env["return.policy"].create(
            {
                "name": "30 days, automatic",
                "sequence": 1,
                "return_window_days": 30,
                "auto_approve": True,
            }
        )
        self._approve_on_submit_rule()
        sale = self._taxed_sale()
        sale.picking_ids.move_ids.date = fields.Datetime.now() - timedelta(days=60)
        order = self._create_return(sale, [(sale.order_line, 2.0)])

        order.with_user(self.return_user).action_submit()

        self.assertEqual(order.state, "to_approve")
        self.assertTrue(order.policy_needs_override)
        self.assertFalse(order.return_picking_ids)
        self.assertEqual(len(order.activity_ids), 1)
        note = order.message_ids.filtered(lambda m: "did not approve" in (m.body or ""))
        self.assertEqual(len(note), 1)

    def test_automation_rule_approves_the_returns_still_waiting_only(self):
        orders = self._two_submitted_returns()
        waiting, rejected = orders
        rejected.with_user(self.manager).action_reject(reason="Worn")

        self.approve_action.sudo().with_context(
            active_model="return.order", active_ids=orders.ids
        ).run()

        self.assertEqual(waiting.state, "approved")
        self.assertEqual(rejected.state, "rejected")
        self.assertFalse(rejected.return_picking_ids)
        self.assertEqual(len(waiting.return_picking_ids), 1)

    # what the web client receives (/web/action/run hands it to clean_action)

    def _assert_web_client_answer(self, result):
        self.assertTrue(
            result is False or isinstance(result, dict),
            f"a server action answers an action or nothing, not {result!r}",
        )
        if result:
            clean_action(result, env=self.env)

    def test_approve_action_answers_the_web_client_with_an_action(self):
        selection = self._two_submitted_returns()  # from the list
        single = self._two_submitted_returns()[:1]  # from the form
        for orders in (selection, single):
            result = self._run(self.approve_action, orders)
            self._assert_web_client_answer(result)
            self.assertEqual(set(orders.mapped("state")), {"approved"})
        self.assertEqual(len((selection | single).return_picking_ids), 3)

    def test_recheck_action_answers_the_web_client_with_an_action(self):
        orders = self._two_submitted_returns()
        for active in (orders, orders[:1]):
            result = self._run(self.recheck_action, active)
            self._assert_web_client_answer(result)
        self.assertEqual(orders.mapped("state"), ["to_approve", "to_approve"])
        self.assertEqual(len(orders.activity_ids), 2)

    def test_reject_action_answers_the_web_client_with_the_wizard(self):
        orders = self._two_submitted_returns()
        result = self._run(self.reject_action, orders[:1])
        self._assert_web_client_answer(result)
        self.assertEqual(result["res_model"], "return.order.reject.wizard")
