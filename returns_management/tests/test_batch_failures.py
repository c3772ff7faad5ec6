from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ReturnsCommon, return_by_hand


@tagged("post_install", "-at_install")
class TestBatchFailures(ReturnsCommon):
    """One broken return in a batch action: the others proceed, it is reported."""

    def _failure_notes(self, order):
        return order.message_ids.filtered(lambda m: "Could not" in (m.body or ""))

    def test_batch_approval_skips_a_return_whose_goods_came_back_by_hand(self):
        good_sale, broken_sale = self._taxed_sale(), self._taxed_sale()
        good = self._create_return(good_sale, [(good_sale.order_line, 2.0)])
        broken = self._create_return(broken_sale, [(broken_sale.order_line, 2.0)])
        (good | broken).action_submit()
        return_by_hand(broken_sale, 5.0)

        result = (good | broken).with_user(self.manager).action_approve()

        self.assertEqual(good.state, "approved")
        self.assertEqual(good.return_picking_ids.move_ids.product_uom_qty, 2.0)
        self.assertEqual(broken.state, "to_approve")
        self.assertFalse(broken.return_picking_ids)
        self.assertEqual(result["tag"], "display_notification")
        self.assertIn(broken.name, result["params"]["message"])
        self.assertEqual(result["params"]["title"], "1 of 2 returns processed")
        self.assertIn("cannot return more", self._failure_notes(broken).body)
        self.assertFalse(self._failure_notes(good))

    def test_batch_credit_skips_a_return_whose_invoice_is_back_in_draft(self):
        good_sale, broken_sale = self._taxed_sale(), self._taxed_sale()
        good = self._received_return(good_sale, 2.0)
        broken = self._received_return(broken_sale, 2.0)
        broken_sale.invoice_ids.button_draft()

        result = (good | broken).action_create_credit_notes()
        good.credit_note_ids.action_post()

        self.assertEqual(good.state, "done")
        self.assertAlmostEqual(good.credit_note_ids.amount_total, 230.0)
        self.assertEqual(broken.state, "received")
        self.assertFalse(broken.credit_note_ids)
        self.assertEqual(broken.line_ids.qty_refunded, 0.0)
        self.assertIn(broken.name, result["params"]["message"])
        self.assertIn("still a draft", self._failure_notes(broken).body)

    def test_a_single_broken_return_raises_and_changes_nothing(self):
        sale = self._taxed_sale()
        order = self._received_return(sale, 2.0)
        sale.invoice_ids.button_draft()
        with self.assertRaisesRegex(UserError, "still a draft"):
            order.action_create_credit_notes()
        self.assertEqual(order.state, "received")
        self.assertFalse(order.credit_note_ids)
        self.assertFalse(self._failure_notes(order))

    def test_batch_without_failure_returns_the_new_credit_notes(self):
        sales = self._taxed_sale() | self._taxed_sale()
        orders = self.env["return.order"]
        for sale in sales:
            orders |= self._received_return(sale, 1.0)
        result = orders.action_create_credit_notes()
        self.assertEqual(result["domain"], [("id", "in", orders.credit_note_ids.ids)])
        self.assertEqual(set(orders.mapped("state")), {"received"})
        orders.credit_note_ids.action_post()
        self.assertEqual(set(orders.mapped("state")), {"done"})
