from odoo import fields
from odoo.tests import tagged

from .common import ReturnsCommon


@tagged("post_install", "-at_install")
class TestBatchCredit(ReturnsCommon):
    """Crediting and posting many returns at once, as the list view does."""

    @staticmethod
    def _receivable(move):
        return move.line_ids.filtered(lambda l: l.account_type == "asset_receivable")

    def test_batch_posting_reconciles_each_credit_note_with_its_own_invoice(self):
        sale_a = self._taxed_sale()
        sale_b = self._taxed_sale()
        # two credit notes of invoice A before the one of invoice B: pairing
        # invoices and credit notes by position would reconcile the second
        # credit note of A with invoice B and leave B's own credit open
        returns = (
            self._received_return(sale_a, 2.0)
            | self._received_return(sale_a, 1.0)
            | self._received_return(sale_b, 3.0)
        )
        returns.action_create_credit_notes()
        credit_notes = returns.credit_note_ids
        self.assertEqual(len(credit_notes), 3)
        credit_notes.action_post()

        for order in returns:
            credit_note = order.credit_note_ids
            invoice = order.sale_order_id.invoice_ids.filtered(
                lambda m: m.move_type == "out_invoice"
            )
            self.assertEqual(credit_note.reversed_entry_id, invoice)
            self.assertTrue(
                credit_note.currency_id.is_zero(credit_note.amount_residual)
            )
            matched = self._receivable(credit_note).matched_debit_ids.debit_move_id
            self.assertEqual(matched, self._receivable(invoice))
        # 15 % tax: A keeps 2 of 5 units billed, B keeps 2 of 5
        invoice_a = sale_a.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        invoice_b = sale_b.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        self.assertAlmostEqual(invoice_a.amount_residual, 230.0)
        self.assertAlmostEqual(invoice_b.amount_residual, 230.0)
        self.assertEqual(invoice_a.payment_state, "partial")
        self.assertEqual(sale_a.order_line.qty_invoiced, 2.0)
        self.assertEqual(sale_b.order_line.qty_invoiced, 2.0)
        self.assertEqual(set(returns.mapped("state")), {"done"})

    def test_credit_note_is_dated_when_made_like_a_reversal(self):
        sale = self._taxed_sale()
        order = self._received_return(sale, 2.0)
        order.action_create_credit_notes()
        self.assertEqual(order.credit_note_ids.state, "draft")
        self.assertEqual(
            order.credit_note_ids.invoice_date, fields.Date.context_today(order)
        )

    def test_customer_follows_posted_credit_notes_and_return_valuation(self):
        # with tracking and subscriptions on, as in production
        self.env = self.env(context=dict(self.env.context, tracking_disable=False))
        sale = self._taxed_sale()
        order = self._received_return(sale.with_env(self.env), 2.0)
        valuation_entries = self.env["account.move"].search(
            [("stock_move_id", "in", order.return_picking_ids.move_ids.ids)]
        )
        self.assertTrue(valuation_entries)
        self.assertIn(self.customer, valuation_entries.message_partner_ids)
        order.action_create_credit_notes()
        credit_note = order.credit_note_ids
        self.assertNotIn(self.customer, credit_note.message_partner_ids)
        credit_note.action_post()
        self.assertIn(self.customer, credit_note.message_partner_ids)

    def test_archived_customer_is_not_made_a_follower(self):
        self.env = self.env(context=dict(self.env.context, tracking_disable=False))
        sale = self._taxed_sale()
        order = self._received_return(sale.with_env(self.env), 2.0)
        order.action_create_credit_notes()
        self.customer.active = False
        order.credit_note_ids.action_post()
        self.assertNotIn(self.customer, order.credit_note_ids.message_partner_ids)
