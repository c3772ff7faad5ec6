from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import ReturnsCommon, return_by_hand


@tagged("post_install", "-at_install")
class TestReturnFlow(ReturnsCommon):
    def _sale_with_discount_and_tax(self, qty=5.0):
        return self._create_sale([(self.product, qty, 100.0, 10.0, self.tax_sale_a)])

    def test_full_flow_restores_stock_value_and_credits_invoice(self):
        sale = self._sale_with_discount_and_tax()
        sale_line = sale.order_line
        invoice = sale.invoice_ids
        delivery_move = sale.picking_ids.move_ids
        # a later cost change must not change the value of the returned goods
        self.product.standard_price = 55.0
        order = self._create_return(sale, [(sale_line, 2.0)])
        self._approve_and_receive(order)

        self.assertEqual(order.state, "received")
        self.assertEqual(order.line_ids.qty_received, 2.0)
        return_move = order.return_picking_ids.move_ids
        self.assertEqual(return_move.origin_returned_move_id, delivery_move)
        self.assertTrue(return_move.to_refund)
        self.assertEqual(return_move.location_dest_id, self.returns_location)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 2.0)
        self.assertEqual(self._quant_qty(self.product, self.stock_location), 95.0)
        self.assertEqual(return_move.stock_valuation_layer_ids.value, 80.0)
        self.assertEqual(sale_line.qty_delivered, 3.0)

        order.action_create_credit_notes()

        credit_note = order.credit_note_ids
        self.assertEqual(len(credit_note), 1)
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        self.assertEqual(credit_note.invoice_line_ids.sale_line_ids, sale_line)
        self.assertEqual(credit_note.invoice_line_ids.discount, 10.0)
        self.assertEqual(credit_note.invoice_line_ids.tax_ids, self.tax_sale_a)
        self.assertAlmostEqual(credit_note.amount_untaxed, 180.0)
        self.assertAlmostEqual(
            credit_note.amount_total,
            self.tax_sale_a.compute_all(180.0)["total_included"],
        )
        self.assertEqual(sale_line.qty_invoiced, 3.0)
        self.assertEqual(sale.invoice_status, "no")
        # a draft credit note is "to be credited": not refunded, not done yet
        self.assertEqual(order.line_ids.qty_credit_draft, 2.0)
        self.assertEqual(order.line_ids.qty_refunded, 0.0)
        self.assertEqual(order.state, "received")
        credit_note.action_post()
        self.assertEqual(order.line_ids.qty_refunded, 2.0)
        self.assertEqual(order.state, "done")
        self.assertEqual(len(sale.order_line), 1, "no extra sale line may appear")
        self.assertTrue(
            any(f'data-oe-id="{credit_note.id}"' in m.body for m in order.message_ids),
            "the return's chatter links its credit note",
        )

    def test_credit_note_reverses_cost_of_goods_at_original_cost(self):
        self.company.anglo_saxon_accounting = True
        sale = self._sale_with_discount_and_tax()
        self.product.standard_price = 55.0
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 2.0)])
        )
        order.action_create_credit_notes()
        credit_note = order.credit_note_ids
        credit_note.action_post()

        expense = self.product.categ_id.property_account_expense_categ_id
        cogs = credit_note.line_ids.filtered(
            lambda l: l.display_type == "cogs" and l.account_id == expense
        )
        self.assertAlmostEqual(sum(cogs.mapped("balance")), -80.0)
        revenue = credit_note.line_ids.filtered(lambda l: l.display_type == "product")
        self.assertAlmostEqual(sum(revenue.mapped("balance")), 180.0)

    def test_posted_credit_note_reconciles_with_invoice(self):
        sale = self._sale_with_discount_and_tax()
        invoice = sale.invoice_ids
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 5.0)])
        )
        order.action_create_credit_notes()
        credit_note = order.credit_note_ids
        credit_note.action_post()
        # posting a full credit note of the invoice reconciles both
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertTrue(credit_note.currency_id.is_zero(credit_note.amount_residual))
        self.assertEqual(sale.order_line.qty_invoiced, 0.0)

    def test_partial_return_then_rest_credits_each_quantity_once(self):
        sale = self._sale_with_discount_and_tax()
        sale_line = sale.order_line
        first = self._approve_and_receive(self._create_return(sale, [(sale_line, 2.0)]))
        first.action_create_credit_notes()
        second = self._approve_and_receive(
            self._create_return(sale, [(sale_line, 3.0)])
        )
        second.action_create_credit_notes()

        self.assertEqual(second.credit_note_ids.invoice_line_ids.quantity, 3.0)
        self.assertEqual(sale_line.qty_delivered, 0.0)
        self.assertEqual(sale_line.qty_invoiced, 0.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 5.0)
        self.assertEqual(sale_line.return_qty_returnable, 0.0)
        with self.assertRaises(ValidationError):
            self._create_return(sale, [(sale_line, 1.0)])

    def test_partial_receipt_with_backorder_credits_received_quantity(self):
        sale = self._sale_with_discount_and_tax()
        order = self._create_return(sale, [(sale.order_line, 4.0)])
        self._approve_and_receive(order, {self.product: 1.0})

        self.assertEqual(order.state, "received")
        self.assertEqual(order.line_ids.qty_received, 1.0)
        self.assertEqual(len(order.return_picking_ids), 2, "a backorder is expected")
        order.action_create_credit_notes()
        self.assertEqual(order.credit_note_ids.invoice_line_ids.quantity, 1.0)
        self.assertEqual(order.state, "received", "goods are still expected")

        backorder = order.return_picking_ids.filtered(lambda p: p.state != "done")
        self._validate(backorder)
        order.action_create_credit_notes()
        self.assertEqual(
            sum(order.credit_note_ids.invoice_line_ids.mapped("quantity")), 4.0
        )
        order.credit_note_ids.action_post()
        self.assertEqual(order.state, "done")
        self.assertEqual(sale.order_line.qty_delivered, 1.0)

    def test_partial_receipt_without_backorder_frees_the_rest(self):
        sale = self._sale_with_discount_and_tax()
        sale_line = sale.order_line
        order = self._create_return(sale, [(sale_line, 4.0)])
        self._approve_and_receive(order, {self.product: 1.0}, backorder=False)
        order.action_create_credit_notes()
        order.credit_note_ids.action_post()

        self.assertEqual(order.state, "done")
        self.assertEqual(order.line_ids.qty_refunded, 1.0)
        self.assertEqual(sale_line.return_qty_returnable, 4.0)

    def test_uninvoiced_order_gets_no_credit_note_and_bills_less(self):
        sale = self._create_sale(
            [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)], invoice=False
        )
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 2.0)])
        )
        order.action_create_credit_notes()

        self.assertFalse(order.credit_note_ids)
        self.assertEqual(order.state, "done")
        invoice = sale._create_invoices()
        self.assertEqual(invoice.invoice_line_ids.quantity, 3.0)

    def test_partly_invoiced_order_credits_only_what_was_billed(self):
        sale = self._partly_invoiced_sale(2.0)
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 4.0)])
        )
        order.action_create_credit_notes()
        # 5 delivered, 2 billed, 4 back: the customer keeps 1 and was billed 2
        self.assertEqual(order.credit_note_ids.invoice_line_ids.quantity, 1.0)
        self.assertEqual(sale.order_line.qty_invoiced, 1.0)
        order.credit_note_ids.action_post()
        self.assertEqual(order.state, "done")

    def test_multi_invoice_return_credits_each_invoice(self):
        sale = self._create_sale(
            [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)],
            deliver=False,
            invoice=False,
        )
        self._validate(sale.picking_ids, {self.product: 3.0})
        first_invoice = sale._create_invoices()
        first_invoice.action_post()
        self._validate(sale.picking_ids.filtered(lambda p: p.state != "done"))
        second_invoice = sale._create_invoices()
        second_invoice.action_post()

        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 4.0)])
        )
        order.action_create_credit_notes()

        per_invoice = {
            cn.reversed_entry_id: cn.invoice_line_ids.quantity
            for cn in order.credit_note_ids
        }
        self.assertEqual(per_invoice, {second_invoice: 2.0, first_invoice: 2.0})
        self.assertEqual(sale.order_line.qty_invoiced, 1.0)

    def test_cancelled_credit_note_reopens_return_and_can_be_redone(self):
        sale = self._sale_with_discount_and_tax()
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 2.0)])
        )
        order.action_create_credit_notes()
        order.credit_note_ids.button_cancel()

        self.assertEqual(order.state, "received")
        self.assertEqual(order.line_ids.qty_refunded, 0.0)
        self.assertEqual(sale.order_line.qty_invoiced, 5.0)
        order.action_create_credit_notes()
        live = order.credit_note_ids.filtered(lambda m: m.state != "cancel")
        self.assertEqual(live.invoice_line_ids.quantity, 2.0)
        live.action_post()
        self.assertEqual(order.state, "done")

    def test_deleted_credit_note_reopens_return(self):
        sale = self._sale_with_discount_and_tax()
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 2.0)])
        )
        order.action_create_credit_notes()
        order.credit_note_ids.unlink()
        self.assertEqual(order.state, "received")
        self.assertEqual(sale.order_line.qty_invoiced, 5.0)

    def test_second_credit_run_creates_nothing(self):
        sale = self._sale_with_discount_and_tax()
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 2.0)])
        )
        order.action_create_credit_notes()
        with self.assertRaises(UserError):
            order.action_create_credit_notes()
        self.assertEqual(len(order.credit_note_ids), 1)

    def test_manual_core_refund_is_not_credited_twice(self):
        sale = self._sale_with_discount_and_tax()
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 2.0)])
        )
        # the accountant already refunded from the sale order by hand
        sale._create_invoices(final=True).action_post()
        self.assertEqual(sale.order_line.qty_invoiced, 3.0)
        order.action_create_credit_notes()
        self.assertFalse(order.credit_note_ids)
        self.assertEqual(order.state, "done")

    def test_approving_twice_creates_one_receipt(self):
        sale = self._sale_with_discount_and_tax()
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        order.action_submit()
        order.with_user(self.manager).action_approve()
        with self.assertRaises(UserError):
            order.with_user(self.manager).action_approve()
        self.assertEqual(len(order.return_picking_ids), 1)
        self.assertEqual(order.return_picking_ids.move_ids.product_uom_qty, 2.0)

    def test_core_return_counts_against_returnable_quantity(self):
        sale = self._sale_with_discount_and_tax()
        return_by_hand(sale, 3.0)

        self.assertEqual(sale.order_line.return_qty_returnable, 2.0)
        with self.assertRaises(ValidationError):
            self._create_return(sale, [(sale.order_line, 3.0)])

    def test_cancel_approved_return_cancels_receipt_and_frees_quantity(self):
        sale = self._sale_with_discount_and_tax()
        order = self._create_return(sale, [(sale.order_line, 5.0)])
        order.action_submit()
        order.with_user(self.manager).action_approve()
        order.action_cancel()

        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.return_picking_ids.state, "cancel")
        self.assertEqual(sale.order_line.return_qty_returnable, 5.0)

    def test_reject_with_reason(self):
        sale = self._sale_with_discount_and_tax()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        order.action_submit()
        order.with_user(self.manager).action_reject(reason="Outside warranty")
        self.assertEqual(order.state, "rejected")
        self.assertEqual(order.reject_reason, "Outside warranty")
        self.assertFalse(order.return_picking_ids)
        self.assertEqual(sale.order_line.return_qty_returnable, 5.0)

    def test_reject_button_opens_wizard_that_rejects(self):
        sale = self._sale_with_discount_and_tax()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        action = order.action_reject()
        wizard = Form(self.env[action["res_model"]].with_context(**action["context"]))
        wizard.reason = "Item was used"
        wizard.save().action_reject()
        self.assertEqual(order.state, "rejected")

    def test_rpc_create_fills_line_from_sale_line(self):
        sale = self._sale_with_discount_and_tax()
        sale_line = sale.order_line
        order = self._create_return(sale, [(sale_line, 2.0)])
        line = order.line_ids

        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.company_id, self.company)
        self.assertEqual(order.warehouse_id, self.warehouse)
        self.assertEqual(order.picking_id, sale.picking_ids)
        self.assertTrue(order.name.startswith("RET/"))
        self.assertEqual(line.product_id, self.product)
        self.assertEqual(line.product_uom_id, sale_line.product_uom)
        self.assertEqual(line.price_unit, 100.0)
        self.assertEqual(line.discount, 10.0)
        self.assertEqual(line.tax_ids, self.tax_sale_a)
        self.assertEqual(line.move_id, sale.picking_ids.move_ids)
        self.assertEqual(line.refund_amount, 180.0)

    def test_wizard_on_sale_order_creates_draft_return(self):
        sale = self._sale_with_discount_and_tax()
        wizard = self._open_wizard_form(sale)
        with wizard.line_ids.edit(0) as line:
            self.assertEqual(line.qty_returnable, 5.0)
            line.quantity = 2.0
            line.reason_id = self.reason
        action = wizard.save().action_create_return()
        order = self.env["return.order"].browse(action["res_id"])

        self.assertEqual(order.state, "draft")
        self.assertEqual(order.line_ids.quantity, 2.0)
        self.assertEqual(sale.return_order_count, 1)
        self.assertEqual(sale.picking_ids.return_order_count, 1)
        self.assertEqual(sale.invoice_ids.return_order_count, 1)

    def test_wizard_submits_in_one_click(self):
        sale = self._sale_with_discount_and_tax()
        wizard = self._filled_wizard(sale, 2.0, self.reason)
        action = wizard.action_create_and_submit()
        order = self.env["return.order"].browse(action["res_id"])

        self.assertEqual(action["res_model"], "return.order")
        self.assertEqual(order.sale_order_id, sale)
        self.assertEqual(order.state, "to_approve")
        self.assertTrue(order.date_request)
        self.assertEqual(order.policy_verdict, "escalate")
        self.assertEqual(len(order.activity_ids), 1)
        self.assertEqual(order.line_ids.quantity, 2.0)
        self.assertEqual(order.line_ids.refund_amount, 180.0)

    def test_wizard_submit_over_returnable_creates_nothing(self):
        sale = self._sale_with_discount_and_tax()
        wizard = self._filled_wizard(sale, 6.0, self.reason)
        with (
            self.assertRaisesRegex(ValidationError, "cannot return more"),
            self.cr.savepoint(),
        ):
            wizard.action_create_and_submit()
        self.assertFalse(
            self.env["return.order"].search([("sale_order_id", "=", sale.id)])
        )
        self.assertEqual(sale.order_line.return_qty_returnable, 5.0)

    def test_wizard_submit_refused_after_creating_creates_nothing(self):
        sale = self._sale_with_discount_and_tax()
        wizard = self._filled_wizard(sale, 2.0, self.reason)

        def refuse(orders):
            self.assertTrue(orders.exists())  # created, then refused
            raise UserError(self.env._("Submission refused"))

        with (
            patch.object(self.env.registry["return.order"], "action_submit", refuse),
            self.assertRaisesRegex(UserError, "Submission refused"),
            self.cr.savepoint(),
        ):
            wizard.action_create_and_submit()
        self.assertFalse(
            self.env["return.order"].search([("sale_order_id", "=", sale.id)])
        )

    def test_batch_approve_two_customers(self):
        sale_a = self._sale_with_discount_and_tax()
        sale_b = self._create_sale(
            [(self.product, 3.0, 100.0, 0.0, self.tax_sale_a)],
            partner=self.other_customer,
        )
        orders = self._create_return(sale_a, [(sale_a.order_line, 1.0)])
        orders |= self._create_return(sale_b, [(sale_b.order_line, 2.0)])
        orders.action_submit()
        orders.with_user(self.manager).action_approve()
        self._validate(orders.return_picking_ids)
        orders.action_create_credit_notes()
        orders.credit_note_ids.action_post()

        self.assertEqual(set(orders.mapped("state")), {"done"})
        for order in orders:
            self.assertEqual(order.return_picking_ids.partner_id, order.partner_id)
            self.assertEqual(order.credit_note_ids.partner_id, order.partner_id)
        self.assertEqual(sale_b.order_line.qty_delivered, 1.0)

    def test_new_warehouse_gets_a_returns_location(self):
        warehouse = self.env["stock.warehouse"].create(
            {"name": "Second Warehouse", "code": "WH2", "company_id": self.company.id}
        )
        location = warehouse.return_location_id
        self.assertEqual(location.usage, "internal")
        self.assertEqual(location.warehouse_id, warehouse)
        self.assertEqual(location.company_id, self.company)

    def test_warehouse_without_returns_location_gets_one_on_approval(self):
        sale = self._sale_with_discount_and_tax()
        self.warehouse.return_location_id = False
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 1.0)])
        )
        location = self.warehouse.return_location_id
        self.assertTrue(location)
        self.assertEqual(order.return_picking_ids.location_dest_id, location)
        self.assertEqual(self._quant_qty(self.product, location), 1.0)

    def test_return_in_dozens_is_converted(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        sale = self._sale_with_discount_and_tax(qty=24.0)
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        order.line_ids.product_uom_id = dozen
        self._approve_and_receive(order)
        self.assertEqual(order.return_picking_ids.move_ids.product_qty, 12.0)
        self.assertEqual(sale.order_line.qty_delivered, 12.0)
        with self.assertRaises(ValidationError):
            line_vals = {
                "sale_line_id": sale.order_line.id,
                "quantity": 2.0,
                "product_uom_id": dozen.id,
                "reason_id": self.reason.id,
            }
            self.env["return.order"].create(
                {"sale_order_id": sale.id, "line_ids": [Command.create(line_vals)]}
            )
