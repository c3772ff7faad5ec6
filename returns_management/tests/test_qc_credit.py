from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import ReturnsCommon


@tagged("post_install", "-at_install")
class TestQcCredit(ReturnsCommon):
    """Refunds follow the inspection as an accountant would: a draft credit
    note is edited down to what the grades leave creditable, goods graded
    as wrong items are not credited, and goods an inspector finds already
    moved by hand can still be inspected and refunded."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy = cls.env["return.policy"].create(
            {
                "name": "Inspected goods",
                "company_id": cls.company.id,
                "categ_ids": [Command.set(cls.category.ids)],
            }
        )
        cls.fee_product = cls.policy.restocking_fee_product_id
        cls.toaster = cls._create_returnable_product("Toaster", price=50.0, cost=20.0)

    # helpers ------------------------------------------------------------

    def _grade(self, order, grade, quantity, **values):
        return (
            self.env["return.qc.line"]
            .with_user(self.return_user)
            .create(
                {
                    "line_id": order.line_ids.id,
                    "qc_grade": grade,
                    "quantity": quantity,
                    **values,
                }
            )
        )

    def _by_hand(self, quantity, charges=()):
        """The twin: a sale like the return's, credited with Odoo's credit
        note wizard, its quantity edited and charge lines added."""
        invoice = self._taxed_sale().invoice_ids
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id})
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        refund.write(
            {
                "invoice_line_ids": [
                    Command.update(refund.invoice_line_ids.id, {"quantity": quantity}),
                    *(
                        Command.create(
                            {
                                "product_id": self.fee_product.id,
                                "quantity": 1.0,
                                "price_unit": price,
                            }
                        )
                        for price in charges
                    ),
                ]
            }
        )
        return refund

    def _assert_same_credit(self, credit_note, by_hand):
        (credit_note | by_hand).action_post()
        for field in ("amount_untaxed", "amount_tax", "amount_total"):
            self.assertAlmostEqual(credit_note[field], by_hand[field], msg=field)
        self.assertEqual(
            sorted(credit_note.line_ids.mapped(lambda l: (l.account_id.id, l.balance))),
            sorted(by_hand.line_ids.mapped(lambda l: (l.account_id.id, l.balance))),
        )
        self.assertEqual(
            credit_note.reversed_entry_id.invoice_line_ids.sale_line_ids.qty_invoiced,
            by_hand.reversed_entry_id.invoice_line_ids.sale_line_ids.qty_invoiced,
        )

    def _goods(self, credit_note):
        return credit_note.invoice_line_ids.filtered(
            lambda l: l.product_id == self.product
        )

    # draft credit notes follow the grades ---------------------------------

    def test_draft_credit_note_made_on_receipt_drops_wrong_items(self):
        self.policy.refund_trigger = "on_receipt"
        order = self._received_return(self._taxed_sale(), 2.0)
        draft = order.credit_note_ids
        self.assertEqual(draft.state, "draft")
        self.assertEqual(self._goods(draft).quantity, 2.0)

        self._grade(order, "wrong_item", 1.0)
        self._grade(order, "as_new", 1.0)
        order.with_user(self.return_user).action_validate_qc()

        # the same draft, edited down to the goods the customer keeps back
        self.assertEqual(order.credit_note_ids, draft)
        self.assertEqual(draft.state, "draft")
        self.assertEqual(self._goods(draft).quantity, 1.0)
        self.assertEqual(draft.amount_untaxed, 100.0)
        self.assertEqual(order.line_ids.qty_credit_draft, 1.0)
        bodies = " ".join(order.message_ids.mapped("body"))
        self.assertIn("follow the inspection", bodies)
        self.assertNotIn("already credited", bodies)
        self._assert_same_credit(draft, self._by_hand(1.0))
        # posted, it is reconciled against the invoice for what it credits
        self.assertEqual(draft.payment_state, "paid")
        self.assertAlmostEqual(draft.reversed_entry_id.amount_residual, 575.0 - 115.0)

    def test_draft_credit_note_keeps_the_lines_not_inspected_yet(self):
        self.policy.refund_trigger = "on_receipt"
        sale = self._create_sale(
            [
                (self.product, 5.0, 100.0, 0.0, self.tax_sale_a),
                (self.toaster, 5.0, 50.0, 0.0, self.tax_sale_a),
            ]
        )
        kettle_line, toaster_line = sale.order_line
        order = self._approve_and_receive(
            self._create_return(sale, [(kettle_line, 2.0), (toaster_line, 2.0)])
        )
        draft = order.credit_note_ids
        self.assertEqual(draft.amount_untaxed, 300.0)
        kettle = order.line_ids.filtered(lambda l: l.product_id == self.product)
        kettle.with_user(self.return_user).qc_grade = "wrong_item"
        order.with_user(self.return_user).action_validate_qc()
        self.assertEqual(order.credit_note_ids, draft)
        self.assertFalse(self._goods(draft))
        toaster = draft.invoice_line_ids.filtered(
            lambda l: l.product_id == self.toaster
        )
        self.assertEqual(toaster.quantity, 2.0)
        self.assertEqual(draft.amount_untaxed, 100.0)
        self.assertEqual(toaster.sale_line_ids, toaster_line)
        self.assertEqual(order.line_ids.mapped("qty_credit_draft"), [0.0, 2.0])

    def test_drafts_of_returns_inspected_together_each_follow_their_grades(self):
        self.policy.refund_trigger = "on_receipt"
        orders = self._received_return(self._taxed_sale(), 2.0)
        orders |= self._received_return(
            self._create_sale(
                [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)],
                partner=self.other_customer,
            ),
            3.0,
        )
        drafts = orders.credit_note_ids
        self.assertEqual(len(drafts), 2)
        first, second = orders
        self._grade(first, "wrong_item", 2.0)
        self._grade(second, "wrong_item", 1.0)
        self._grade(second, "as_new", 2.0)
        orders.with_user(self.return_user).action_validate_qc()
        self.assertFalse(first.credit_note_ids)
        self.assertEqual(second.credit_note_ids, drafts[1])
        self.assertEqual(self._goods(drafts[1]).quantity, 2.0)
        self.assertEqual(drafts[1].partner_id, self.other_customer)
        self.assertEqual(drafts[1].amount_untaxed, 200.0)

    def test_draft_credit_note_of_wrong_items_only_is_deleted(self):
        self.policy.refund_trigger = "on_receipt"
        order = self._received_return(self._taxed_sale(), 1.0)
        draft = order.credit_note_ids
        self.assertTrue(draft)
        order.line_ids.with_user(self.return_user).qc_grade = "wrong_item"
        order.with_user(self.return_user).action_validate_qc()
        self.assertFalse(draft.exists())
        self.assertFalse(order.credit_note_ids)
        self.assertEqual(order.line_ids.qty_credit_draft, 0.0)
        self.assertEqual(order.sale_order_id.order_line.qty_invoiced, 5.0)
        # nothing left to credit while the item goes back
        order.action_create_credit_notes()
        self.assertFalse(order.credit_note_ids)

    def test_draft_credit_note_takes_the_grade_deduction(self):
        self.policy.write(
            {
                "refund_trigger": "on_receipt",
                "deduction_ids": [
                    Command.create(
                        {
                            "grade_id": self.env.ref(
                                "returns_management.qc_grade_minor_defect"
                            ).id,
                            "deduction_percent": 30.0,
                        }
                    )
                ],
            }
        )
        self.reason = self.env.ref("returns_management.return_reason_changed_mind")
        order = self._received_return(self._taxed_sale(), 2.0)
        draft = order.credit_note_ids
        self.assertEqual(draft.amount_untaxed, 200.0)
        order.line_ids.with_user(self.return_user).qc_grade = "minor_defect"
        order.with_user(self.return_user).action_validate_qc()
        self.assertEqual(order.credit_note_ids, draft)
        self.assertEqual(self._goods(draft).quantity, 2.0)
        self.assertEqual(draft.amount_untaxed, 140.0)
        self._assert_same_credit(draft, self._by_hand(2.0, charges=[-60.0]))

    # a manual credit respects the grades given so far -------------------

    def test_manual_credit_leaves_out_goods_graded_wrong_item(self):
        order = self._received_return(self._taxed_sale(), 2.0)
        self.assertEqual(order.line_ids.refund_trigger, "manual")
        self._grade(order, "wrong_item", 1.0)
        self._grade(order, "as_new", 1.0)
        # the inspection is not validated yet: the wrong item is still here
        order.action_create_credit_notes()
        credit_note = order.credit_note_ids
        self.assertEqual(self._goods(credit_note).quantity, 1.0)
        self.assertEqual(credit_note.amount_untaxed, 100.0)
        order.with_user(self.return_user).action_validate_qc()
        self.assertEqual(order.credit_note_ids, credit_note)
        self.assertEqual(self._goods(credit_note).quantity, 1.0)
        self._assert_same_credit(credit_note, self._by_hand(1.0))

    # goods moved out of the returns location by hand -------------------

    def _move_by_hand(self, quantity):
        """An internal transfer made in Inventory, out of the returns
        location, before anyone inspected the goods."""
        picking_type = self.warehouse._qc_active_type(self.warehouse.int_type_id)
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": self.returns_location.id,
                "location_dest_id": self.stock_location.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": self.product.display_name,
                            "product_id": self.product.id,
                            "product_uom_qty": quantity,
                            "product_uom": self.product.uom_id.id,
                            "location_id": self.returns_location.id,
                            "location_dest_id": self.stock_location.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")

    def test_goods_moved_by_hand_are_recorded_as_inspected_and_refunded(self):
        self.policy.refund_trigger = "after_qc"
        order = self._received_return(self._taxed_sale(), 2.0)
        stock_before = self._quant_qty(self.product, self.stock_location)
        self._move_by_hand(2.0)
        user_order = order.with_user(self.return_user)
        order.line_ids.with_user(self.return_user).qc_grade = "as_new"
        # graded as usual, the inspection cannot move them, nor can a refund
        # come before the inspection
        with self.assertRaisesRegex(UserError, "Already Moved"), self.cr.savepoint():
            user_order.action_validate_qc()
        with self.assertRaises(UserError), self.cr.savepoint():
            user_order.action_create_credit_notes()
        self.assertEqual(order.qc_line_ids.state, "draft")
        self.assertFalse(order.qc_picking_ids)
        self.assertFalse(order.credit_note_ids)

        order.qc_line_ids.with_user(self.return_user).moved_by_hand = True
        user_order.action_validate_qc()
        self.assertEqual(order.qc_line_ids.state, "done")
        self.assertEqual(order.qc_state, "done")
        self.assertFalse(order.qc_picking_ids)
        self.assertFalse(order.qc_scrap_ids)
        self.assertEqual(
            self._quant_qty(self.product, self.stock_location), stock_before + 2.0
        )
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)
        self.assertIn(
            "already moved by hand", " ".join(order.message_ids.mapped("body"))
        )
        credit_note = order.credit_note_ids
        self.assertEqual(self._goods(credit_note).quantity, 2.0)
        self._assert_same_credit(credit_note, self._by_hand(2.0))
        self.assertEqual(order.state, "done")
        # once validated, the flag is part of the decision
        with self.assertRaises(UserError), self.cr.savepoint():
            order.qc_line_ids.with_user(self.return_user).moved_by_hand = False

    def test_wrong_item_cannot_be_recorded_as_moved_by_hand(self):
        order = self._received_return(self._taxed_sale(), 1.0)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._grade(order, "wrong_item", 1.0, moved_by_hand=True)
        self.assertFalse(order.qc_line_ids)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 1.0)
