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

    def _three_waiting_returns_of_one(self):
        """30 delivered; three returns of 1 waiting; then 28 taken back with
        Odoo's own return: 2 are still at the customer."""
        sale = self._create_sale([(self.product, 30.0, 100.0, 0.0, self.tax_sale_a)])
        orders = self.env["return.order"]
        for _i in range(3):
            orders |= self._create_return(sale, [(sale.order_line, 1.0)])
        orders.action_submit()
        self._validate(sale.picking_ids.browse(return_by_hand(sale, 28.0)["res_id"]))
        return sale, orders

    def test_batch_approval_shares_out_what_is_still_at_the_customer(self):
        sale, orders = self._three_waiting_returns_of_one()
        oldest, second, youngest = orders.sorted(lambda o: (o.date_request, o.id))

        result = (youngest | second | oldest).with_user(self.manager).action_approve()

        self.assertEqual((oldest | second).mapped("state"), ["approved"] * 2)
        self.assertEqual(youngest.state, "to_approve")
        self.assertFalse(youngest.return_picking_ids)
        self.assertEqual(result["params"]["title"], "2 of 3 returns processed")
        self.assertIn("cannot return more", self._failure_notes(youngest).body)
        moves = (oldest | second).return_picking_ids.move_ids
        self.assertEqual(sum(moves.mapped("product_uom_qty")), 2.0)
        self._validate((oldest | second).return_picking_ids)
        self.assertEqual(sale.order_line.qty_delivered, 0.0)

    def test_younger_waiting_returns_do_not_hold_back_the_oldest(self):
        _sale, orders = self._three_waiting_returns_of_one()
        oldest, _second, youngest = orders.sorted(lambda o: (o.date_request, o.id))

        with self.assertRaises(UserError) as refusal:
            youngest.with_user(self.manager).action_approve()
        self.assertIn("cannot return more", str(refusal.exception))
        oldest.with_user(self.manager).action_approve()

        self.assertEqual(oldest.state, "approved")
        self.assertEqual(youngest.state, "to_approve")
        self.assertFalse(youngest.return_picking_ids)

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
