from odoo import Command
from odoo.tests import tagged

from .common import ReturnsCommon, return_by_hand


@tagged("post_install", "-at_install")
class TestCreditFees(ReturnsCommon):
    """Restocking fees and shipping refunds on credit notes, by policy."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_fault = cls.env.ref(
            "returns_management.return_reason_changed_mind"
        )
        cls.fee_product = cls.env.ref("returns_management.product_restocking_fee")
        cls.fee_product.taxes_id = cls.tax_sale_a
        cls.policy = cls.env["return.policy"].create(
            {
                "name": "Returnable goods, 10 % fee",
                "company_id": cls.company.id,
                "categ_ids": [Command.set(cls.category.ids)],
                "restocking_fee_percent": 10.0,
                "restocking_fee_product_id": cls.fee_product.id,
                "refund_shipping": True,
            }
        )

    def _credited(self, sale, quantity, reason):
        order = self._create_return(sale, [(sale.order_line[0], quantity)])
        order.line_ids.reason_id = reason
        self._approve_and_receive(order)
        self.assertEqual(order.line_ids.policy_id, self.policy)
        order.action_create_credit_notes()
        return order

    def _fee_lines(self, credit_note):
        return credit_note.invoice_line_ids.filtered(
            lambda l: l.product_id == self.fee_product
        )

    def test_customer_fault_is_charged_the_policy_fee_with_its_taxes(self):
        sale = self._taxed_sale()
        order = self._credited(sale, 2.0, self.customer_fault)
        credit_note = order.credit_note_ids
        fee = self._fee_lines(credit_note)
        self.assertEqual(fee.price_subtotal, -20.0)
        self.assertEqual(fee.tax_ids, self.tax_sale_a)
        self.assertEqual(credit_note.amount_untaxed, 180.0)
        self.assertEqual(credit_note.amount_total, 207.0)
        self.assertFalse(fee.sale_line_ids, "the fee is no sale of the order")

        # by hand: Odoo's credit note wizard, the quantity, and a fee line
        twin = self._taxed_sale()
        return_by_hand(twin, 2.0)
        self._validate(twin.picking_ids.filtered(lambda p: p.state != "done"))
        invoice = twin.invoice_ids
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id})
        )
        by_hand = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        by_hand.write(
            {
                "invoice_line_ids": [
                    Command.update(by_hand.invoice_line_ids.id, {"quantity": 2.0}),
                    Command.create(
                        {
                            "product_id": self.fee_product.id,
                            "quantity": 1.0,
                            "price_unit": -20.0,
                        }
                    ),
                ]
            }
        )
        (credit_note | by_hand).action_post()
        for field in ("amount_untaxed", "amount_tax", "amount_total"):
            self.assertEqual(credit_note[field], by_hand[field], field)
        self.assertEqual(
            sorted(credit_note.line_ids.mapped(lambda l: (l.account_id.id, l.balance))),
            sorted(by_hand.line_ids.mapped(lambda l: (l.account_id.id, l.balance))),
        )
        self.assertEqual(order.state, "done")
        self.assertEqual(sale.order_line.qty_invoiced, 3.0)

    def test_no_fee_when_the_customer_is_not_at_fault(self):
        order = self._credited(self._taxed_sale(), 2.0, self.reason)
        self.assertFalse(self._fee_lines(order.credit_note_ids))
        self.assertEqual(order.credit_note_ids.amount_total, 230.0)

    # --- shipping ------------------------------------------------------------

    def _sale_with_shipping(self):
        if "delivery.carrier" not in self.env:
            self.skipTest("needs the delivery module (tools/dev.sh installs it)")
        shipping_product = self._create_product(
            name="Courier", type="service", lst_price=10.0, taxes_id=self.tax_sale_a.ids
        )
        carrier = self.env["delivery.carrier"].create(
            {
                "name": "Courier",
                "product_id": shipping_product.id,
                "delivery_type": "fixed",
                "fixed_price": 10.0,
            }
        )
        sale = self._create_sale(
            [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)],
            before=lambda sale: sale.set_delivery_line(carrier, 10.0),
        )
        self.assertEqual(sale.invoice_ids.amount_untaxed, 510.0)
        return sale

    def _shipping_lines(self, credit_notes):
        return credit_notes.invoice_line_ids.filtered(
            lambda l: l.product_id.name == "Courier"
        )

    def test_partial_return_refunds_its_share_of_shipping(self):
        sale = self._sale_with_shipping()
        order = self._credited(sale, 2.0, self.reason)
        credit_note = order.credit_note_ids
        self.assertEqual(self._shipping_lines(credit_note).price_subtotal, 4.0)
        self.assertEqual(credit_note.amount_untaxed, 204.0)
        self.assertEqual(credit_note.amount_total, 234.6)
        credit_note.action_post()
        shipping_line = sale.order_line.filtered(lambda l: l._is_delivery())
        self.assertEqual(shipping_line.qty_invoiced, 1.0, "shipping stays invoiced")
        self.assertEqual(sale.invoice_status, "no")

    def test_last_return_refunds_the_rest_of_shipping(self):
        sale = self._sale_with_shipping()
        first = self._credited(sale, 2.0, self.reason)
        first.credit_note_ids.action_post()
        last = self._credited(sale, 3.0, self.reason)
        self.assertEqual(self._shipping_lines(last.credit_note_ids).price_subtotal, 6.0)
        credit_notes = first.credit_note_ids | last.credit_note_ids
        self.assertEqual(
            sum(self._shipping_lines(credit_notes).mapped("price_subtotal")), 10.0
        )
        last.credit_note_ids.action_post()
        self.assertEqual(
            sale.invoice_ids.filtered(
                lambda m: m.move_type == "out_invoice"
            ).amount_residual,
            0.0,
        )

    def test_full_return_refunds_all_shipping(self):
        sale = self._sale_with_shipping()
        invoice = sale.invoice_ids
        order = self._credited(sale, 5.0, self.reason)
        self.assertEqual(order.credit_note_ids.amount_total, invoice.amount_total)
        order.credit_note_ids.action_post()
        self.assertEqual(invoice.payment_state, "reversed")

    def test_no_shipping_refund_when_the_policy_says_no(self):
        self.policy.refund_shipping = False
        order = self._credited(self._sale_with_shipping(), 5.0, self.reason)
        self.assertFalse(self._shipping_lines(order.credit_note_ids))
        self.assertEqual(order.credit_note_ids.amount_untaxed, 500.0)
