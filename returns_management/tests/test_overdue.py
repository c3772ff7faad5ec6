import logging
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..models.return_order_overdue import ReturnOrder as OverdueReturnOrder
from .common import ReturnsCommon

_logger = logging.getLogger(__name__)

OVERDUE_SUMMARIES = ["Decision overdue", "Goods overdue", "Refund overdue"]

# the activities and flags are written in one go per batch; no e-mail is sent
MAX_QUERIES_PER_OVERDUE_RETURN = 0.5


@tagged("post_install", "-at_install")
class TestOverdue(ReturnsCommon):
    """The overdue sweep: one activity per return and delay, never twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy = cls.env["return.policy"].search(
            [("company_id", "=", cls.company.id)], order="sequence", limit=1
        )
        cls.policy.write({"decision_days": 2, "receipt_days": 14, "credit_days": 3})
        cls.approver = cls._new_user(
            "return_approver", "returns_management.group_return_manager"
        )

    def _submitted_return(self, partner=None):
        sale = self._create_sale(
            [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)], partner=partner
        )
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        order.action_submit()
        return order

    def _sweep(self, days_later, hours=0):
        """Run the cron as the scheduler would, some time from now."""
        moment = fields.Datetime.now() + timedelta(days=days_later, hours=hours)
        with freeze_time(moment):
            self.env["return.order"].with_user(
                self.env.ref("base.user_root")
            )._cron_flag_overdue_returns()

    def _alerts(self, orders):
        """The overdue activities of orders (not the escalation ones)."""
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "return.order"),
                ("res_id", "in", orders.ids),
                ("summary", "in", OVERDUE_SUMMARIES),
            ]
        )

    def test_return_waiting_past_the_decision_delay_gets_one_activity(self):
        order = self._submitted_return()

        self._sweep(2, hours=1)

        self.assertEqual(order.overdue_kind, "decision")
        alert = self._alerts(order)
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.summary, "Decision overdue")
        self.assertIn(order.name, str(alert.note))
        self.assertIn(
            order, self.env["return.order"].search([("overdue_kind", "!=", False)])
        )

    def test_return_within_the_decision_delay_gets_nothing(self):
        order = self._submitted_return()

        self._sweep(1, hours=23)

        self.assertFalse(order.overdue_kind)
        self.assertFalse(self._alerts(order))

    def test_second_sweep_adds_no_second_activity(self):
        order = self._submitted_return()
        self._sweep(3)
        self._alerts(order).action_feedback(feedback="Called the customer")

        self._sweep(4)

        self.assertEqual(order.overdue_kind, "decision")
        self.assertFalse(self._alerts(order))
        done = self.env["mail.message"].search(
            [
                ("model", "=", "return.order"),
                ("res_id", "=", order.id),
                ("body", "ilike", "Called the customer"),
            ]
        )
        self.assertEqual(len(done), 1)

    def test_decision_alert_goes_to_the_policy_approver(self):
        self.policy.approver_id = self.approver
        order = self._submitted_return()

        self._sweep(3)

        self.assertEqual(self._alerts(order).user_id, self.approver)

    def test_decision_alert_of_a_returns_user_goes_to_a_manager(self):
        order = self._submitted_return()
        order.user_id = self.return_user

        self._sweep(3)

        alert_user = self._alerts(order).user_id
        self.assertNotEqual(alert_user, self.return_user)
        self.assertTrue(alert_user.has_group("returns_management.group_return_manager"))

    def test_approval_clears_the_decision_alert(self):
        order = self._submitted_return()
        self._sweep(3)

        order.with_user(self.manager).action_approve()

        self.assertFalse(order.overdue_kind)
        self.assertNotIn(
            order, self.env["return.order"].search([("overdue_kind", "!=", False)])
        )

    def test_approved_return_whose_goods_do_not_arrive_gets_a_receipt_alert(self):
        order = self._submitted_return()
        order.with_user(self.manager).action_approve()

        self._sweep(13)
        self.assertFalse(order.overdue_kind)
        self._sweep(15)

        self.assertEqual(order.overdue_kind, "receipt")
        self.assertEqual(self._alerts(order).summary, "Goods overdue")
        self.assertEqual(self._alerts(order).user_id, order.user_id)

    def test_received_return_not_credited_gets_a_refund_alert(self):
        sale = self._taxed_sale()
        order = self._received_return(sale, 2.0)
        self.assertEqual(order.state, "received")

        self._sweep(4)

        self.assertEqual(order.overdue_kind, "credit")
        self.assertEqual(self._alerts(order).summary, "Refund overdue")

    def test_each_delay_alerts_once_as_the_return_moves_on(self):
        order = self._submitted_return()
        self._sweep(3)
        order.with_user(self.manager).action_approve()
        self._sweep(3)
        self.assertFalse(order.overdue_kind)

        self._sweep(15)
        self._sweep(16)

        self.assertEqual(order.overdue_kind, "receipt")
        self.assertEqual(
            sorted(self._alerts(order).mapped("summary")),
            ["Decision overdue", "Goods overdue"],
        )

    def test_zero_days_never_alerts(self):
        self.policy.decision_days = 0
        order = self._submitted_return()

        self._sweep(400)

        self.assertFalse(order.overdue_kind)
        self.assertFalse(self._alerts(order))

    def test_line_policy_delay_beats_the_catch_all(self):
        strict = self.policy.copy(
            {
                "name": "Strict",
                "sequence": 1,
                "decision_days": 1,
                "partner_ids": [Command.set(self.other_customer.ids)],
            }
        )
        lenient_order = self._submitted_return()
        strict_order = self._submitted_return(self.other_customer)
        self.assertEqual(strict_order.line_ids.policy_id, strict)

        self._sweep(1, hours=1)

        self.assertFalse(lenient_order.overdue_kind)
        self.assertEqual(strict_order.overdue_kind, "decision")

    def test_sweep_flags_many_returns_of_two_customers_at_once(self):
        orders = self._submitted_return() | self._submitted_return(self.other_customer)

        self._sweep(3)

        self.assertEqual(orders.mapped("overdue_kind"), ["decision", "decision"])
        self.assertEqual(len(self._alerts(orders)), 2)

    def test_one_broken_return_does_not_stop_the_sweep(self):
        good = self._submitted_return()
        broken = self._submitted_return(self.other_customer)
        prepare = OverdueReturnOrder._prepare_overdue_activity_vals

        def prepare_or_break(order, delay, policy, user):
            if order == broken:
                raise ValueError("broken return")
            return prepare(order, delay, policy, user)

        with (
            patch.object(
                OverdueReturnOrder,
                "_prepare_overdue_activity_vals",
                prepare_or_break,
            ),
            self.assertLogs(
                "odoo.addons.returns_management.models.return_order_overdue",
                level=logging.ERROR,
            ) as logs,
        ):
            self._sweep(3)

        self.assertEqual(good.overdue_kind, "decision")
        self.assertEqual(len(self._alerts(good)), 1)
        self.assertFalse(broken.overdue_kind)
        self.assertFalse(self._alerts(broken))
        self.assertIn(broken.name, logs.output[0])

    def test_sweep_queries_per_overdue_return_stay_small(self):
        """One search per delay and a few queries per batch; what grows with
        the returns is the activities themselves."""
        self._count_sweep_queries(1)  # warms the registry caches
        one = self._count_sweep_queries(1)
        five = self._count_sweep_queries(5)
        per_return = (five - one) / 4
        _logger.info(
            "Overdue sweep: %s queries for 1 return, %s for 5 (%.1f per return)",
            one,
            five,
            per_return,
        )
        self.assertLessEqual(per_return, MAX_QUERIES_PER_OVERDUE_RETURN)

    def _count_sweep_queries(self, count):
        """Queries of a sweep that finds `count` new overdue returns."""
        # the earlier returns out of the sweep's way: only the sweep flags
        # returns, so the test writes the flag as superuser
        self.env["return.order"].search([]).sudo().write({"overdue_kind": "decision"})
        sale = self._taxed_sale()
        orders = self.env["return.order"]
        for _index in range(count):
            orders |= self._create_return(sale, [(sale.order_line, 1.0)])
        orders.action_submit()
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        self._sweep(3)
        queries = self.env.cr.sql_log_count - before
        self.assertEqual(set(orders.mapped("overdue_kind")), {"decision"})
        return queries

    def test_daily_cron_run_manually_flags_overdue_returns(self):
        order = self._submitted_return()
        cron = self.env.ref("returns_management.return_order_cron_overdue")
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))

        with freeze_time(fields.Datetime.now() + timedelta(days=3)):
            cron.method_direct_trigger()

        self.assertEqual(order.overdue_kind, "decision")
        self.assertEqual(len(self._alerts(order)), 1)

    def test_manager_checks_overdue_returns_by_hand(self):
        order = self._submitted_return()
        action = self.env.ref("returns_management.return_order_action_check_overdue")

        with freeze_time(fields.Datetime.now() + timedelta(days=3)):
            result = action.with_user(self.manager).run()

        self.assertEqual(order.overdue_kind, "decision")
        self.assertIn(order.name, result["params"]["message"])

    def test_returns_user_cannot_check_overdue_returns(self):
        order = self._submitted_return()
        action = self.env.ref("returns_management.return_order_action_check_overdue")

        with (
            freeze_time(fields.Datetime.now() + timedelta(days=3)),
            self.assertRaises(AccessError),
        ):
            action.with_user(self.return_user).run()
        self.assertFalse(order.overdue_kind)
