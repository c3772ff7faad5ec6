from datetime import timedelta

from odoo import Command, fields
from odoo.tests import Form, tagged

from .common import ReturnsCommon, return_by_hand


@tagged("post_install", "-at_install")
class TestCreditCorrectness(ReturnsCommon):
    """Credit notes of returns against the same return done by hand in Odoo:
    its return wizard, then the credit note wizard on the invoice with the
    returned quantities."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dozen = cls.env.ref("uom.product_uom_dozen")
        cls.unit = cls.env.ref("uom.product_uom_unit")

    # --- the twin, by hand ---------------------------------------------------

    def _credit_by_hand(self, invoice, quantities, prices=None):
        """Odoo's credit note wizard on the invoice, then the draft edited to
        the returned quantities (other lines removed); ``prices`` maps an
        invoice line to the price an expert would type (a discount's share).
        ``quantities`` maps an invoice line to (quantity, unit)."""
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id})
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        prices = prices or {}
        commands = []
        for refund_line, invoice_line in zip(
            refund.invoice_line_ids, invoice.invoice_line_ids, strict=True
        ):
            if invoice_line in quantities:
                qty, uom = quantities[invoice_line]
                price = invoice_line.product_uom_id._compute_price(
                    invoice_line.price_unit, uom
                )
                values = {"quantity": qty, "product_uom_id": uom.id}
                values["price_unit"] = price
                commands.append(Command.update(refund_line.id, values))
            elif invoice_line in prices:
                commands.append(
                    Command.update(
                        refund_line.id,
                        {"price_unit": prices[invoice_line], "sale_line_ids": False},
                    )
                )
            else:
                commands.append(Command.delete(refund_line.id))
        refund.write({"invoice_line_ids": commands})
        return refund

    def _journal_items(self, move):
        return sorted(
            (line.account_id.id, round(line.balance, 2), line.date_maturity)
            for line in move.line_ids
        )

    def _assert_same_credit(self, ours, twin):
        """Totals, taxes, dates, due dates, payment term and journal items."""
        for field in (
            "amount_untaxed",
            "amount_tax",
            "amount_total",
            "date",
            "invoice_date",
            "invoice_date_due",
            "invoice_payment_term_id",
            "invoice_cash_rounding_id",
            "journal_id",
            "fiscal_position_id",
            "currency_id",
            "move_type",
            "state",
        ):
            self.assertEqual(ours[field], twin[field], field)
        self.assertEqual(self._journal_items(ours), self._journal_items(twin))
        self.assertEqual(
            ours.reversed_entry_id.amount_residual,
            twin.reversed_entry_id.amount_residual,
            "the invoices are left open by the same amount",
        )

    def _credit_return(self, sale, quantity, sale_line=None):
        order = self._approve_and_receive(
            self._create_return(sale, [(sale_line or sale.order_line[0], quantity)])
        )
        order.action_create_credit_notes()
        return order

    def _twin(self, lines, quantity, quantities=None, **invoice_values):
        """The same sale, returned with Odoo's wizard, not yet credited."""
        sale = self._create_sale(lines, invoice=False)
        invoice = sale._create_invoices()
        invoice.write(invoice_values)
        invoice.action_post()
        return_by_hand(sale, quantity)
        self._validate(sale.picking_ids.filtered(lambda p: p.state != "done"))
        return sale

    # --- units of measure ----------------------------------------------------

    def _sale_in_dozens(self):
        return [(self.product, 2.0, 1200.0, 0.0, self.tax_sale_a)]

    def _sell_in(self, lines, uom, invoice=True):
        """A sale of ``lines`` in ``uom``, delivered (and invoiced)."""
        return self._create_sale(lines, invoice=invoice, uom=uom)

    def test_unit_returned_from_line_sold_in_dozens_credits_unit_price(self):
        sale = self._sell_in(self._sale_in_dozens(), self.dozen)
        sale_line = sale.order_line
        self.assertEqual(sale_line.qty_delivered, 2.0)
        order = self._create_return(sale, [(sale_line, 1.0)])
        order.line_ids.write({"product_uom_id": self.unit.id, "quantity": 1.0})
        self.assertEqual(order.line_ids.price_unit, 100.0)
        self.assertEqual(order.line_ids.refund_amount, 100.0)
        self._approve_and_receive(order)
        order.action_create_credit_notes()

        credit_note = order.credit_note_ids
        self.assertEqual(credit_note.amount_untaxed, 100.0)
        self.assertEqual(credit_note.amount_total, 115.0)
        self.assertEqual(credit_note.invoice_line_ids.product_uom_id, self.unit)
        self.assertEqual(order.line_ids.qty_credit_draft, 1.0)

        twin = self._sell_in(self._sale_in_dozens(), self.dozen)
        return_by_hand(twin, 1.0)
        self._validate(twin.picking_ids.filtered(lambda p: p.state != "done"))
        invoice_line = twin.invoice_ids.invoice_line_ids
        by_hand = self._credit_by_hand(
            twin.invoice_ids, {invoice_line: (1.0, self.unit)}
        )
        self._assert_same_credit(credit_note, by_hand)
        (credit_note + by_hand).action_post()
        self._assert_same_credit(credit_note, by_hand)
        self.assertEqual(sale_line.qty_delivered, twin.order_line.qty_delivered)
        # by hand, Odoo rounds the credited unit up (0.09 dozen) but the
        # returned one half-up (0.08): 0.01 dozen would be billed again
        self.assertEqual(sale_line.qty_delivered, 1.92)
        self.assertEqual(sale_line.qty_invoiced, 1.92)
        self.assertEqual(sale_line.qty_to_invoice, 0.0)
        self.assertEqual(sale.invoice_status, "no")

    def test_dozen_returned_from_line_sold_in_units_credits_twelve_units(self):
        lines = [(self.product, 24.0, 100.0, 0.0, self.tax_sale_a)]
        sale = self._create_sale(lines)
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        order.line_ids.product_uom_id = self.dozen
        self.assertEqual(order.line_ids.price_unit, 1200.0)
        self.assertEqual(order.line_ids.refund_amount, 1200.0)
        self._approve_and_receive(order)
        self.assertEqual(sale.order_line.qty_delivered, 12.0)
        order.action_create_credit_notes()

        credit_line = order.credit_note_ids.invoice_line_ids
        self.assertEqual(credit_line.product_uom_id, self.unit)
        self.assertEqual(credit_line.quantity, 12.0)
        self.assertEqual(order.credit_note_ids.amount_total, 1380.0)
        order.credit_note_ids.action_post()
        self.assertEqual(sale.order_line.qty_invoiced, 12.0)
        self.assertEqual(sale.order_line.qty_to_invoice, 0.0)
        self.assertEqual(order.line_ids.qty_refunded, 1.0)
        self.assertEqual(order.state, "done")

    # --- several return lines on one sale line -------------------------------

    def _five_delivered_two_invoiced(self):
        sale = self._partly_invoiced_sale(2.0)
        self.assertEqual(sale.order_line.qty_delivered, 5.0)
        self.assertEqual(sale.order_line.qty_invoiced, 2.0)
        return sale

    def test_two_lines_on_one_sale_line_credit_only_what_was_overbilled(self):
        sale = self._five_delivered_two_invoiced()
        sale_line = sale.order_line
        order = self._approve_and_receive(
            self._create_return(sale, [(sale_line, 2.0), (sale_line, 2.0)])
        )
        order.action_create_credit_notes()
        # the customer keeps 1 and was billed 2: 1 is credited, not 2
        self.assertEqual(
            sum(order.credit_note_ids.invoice_line_ids.mapped("quantity")), 1.0
        )
        self.assertEqual(order.credit_note_ids.amount_untaxed, 100.0)
        self.assertEqual(sale_line.qty_delivered, 1.0)
        self.assertEqual(sale_line.qty_invoiced, 1.0)

    def test_two_returns_credited_in_one_batch_share_the_overbilled_cap(self):
        sale = self._five_delivered_two_invoiced()
        sale_line = sale.order_line
        orders = self._approve_and_receive(
            self._create_return(sale, [(sale_line, 2.0)])
        ) | self._approve_and_receive(self._create_return(sale, [(sale_line, 2.0)]))
        orders.action_create_credit_notes()
        credited = orders.credit_note_ids.invoice_line_ids
        self.assertEqual(sum(credited.mapped("quantity")), 1.0)
        self.assertEqual(sale_line.qty_invoiced, sale_line.qty_delivered)
        orders.credit_note_ids.action_post()
        self.assertEqual(orders.mapped("state"), ["done", "done"])

    # --- products invoiced on ordered quantities -----------------------------

    def _order_policy_product(self):
        product = self._create_returnable_product("Lamp", price=100.0, cost=40.0)
        product.invoice_policy = "order"
        return product

    def test_ordered_quantity_lowered_so_returned_goods_are_not_billed_again(self):
        product = self._order_policy_product()
        sale = self._create_sale([(product, 5.0, 100.0, 0.0, self.tax_sale_a)])
        order = self._credit_return(sale, 2.0)
        order.credit_note_ids.action_post()
        sale_line = sale.order_line
        self.assertEqual(sale_line.product_uom_qty, 3.0)
        self.assertEqual(sale_line.qty_delivered, 3.0)
        self.assertEqual(sale_line.qty_invoiced, 3.0)
        self.assertEqual(sale_line.qty_to_invoice, 0.0)
        self.assertEqual(sale.invoice_status, "invoiced")
        self.assertEqual(order.credit_note_ids.amount_untaxed, 200.0)
        self.assertTrue(
            any(order.name in (m.body or "") for m in sale.message_ids),
            "the change is logged on the order",
        )
        # crediting again changes nothing
        order.line_ids._lower_ordered_quantities()
        self.assertEqual(sale_line.product_uom_qty, 3.0)

    def test_ordered_quantity_lowered_on_uninvoiced_order(self):
        product = self._order_policy_product()
        sale = self._create_sale(
            [(product, 5.0, 100.0, 0.0, self.tax_sale_a)], invoice=False
        )
        sale.action_lock()
        order = self._credit_return(sale, 2.0)
        self.assertFalse(order.credit_note_ids)
        self.assertEqual(order.state, "done")
        self.assertTrue(sale.locked, "a locked order stays locked")
        invoice = sale._create_invoices()
        self.assertEqual(invoice.invoice_line_ids.quantity, 3.0)

    # --- done only when the credit notes are posted --------------------------

    def test_return_done_only_when_its_credit_note_is_posted(self):
        sale = self._taxed_sale()
        order = self._credit_return(sale, 2.0)
        credit_note = order.credit_note_ids
        line = order.line_ids
        self.assertEqual(order.state, "received")
        self.assertEqual((line.qty_refunded, line.qty_credit_draft), (0.0, 2.0))

        # the accountant edits the draft down to 1 of 2, then posts it
        credit_note.invoice_line_ids.quantity = 1.0
        credit_note.action_post()
        self.assertEqual((line.qty_refunded, line.qty_credit_draft), (1.0, 0.0))
        self.assertEqual(order.state, "received", "1 is still to be credited")

        order.action_create_credit_notes()
        second = order.credit_note_ids - credit_note
        self.assertEqual(second.invoice_line_ids.quantity, 1.0)
        second.action_post()
        self.assertEqual(order.state, "done")
        self.assertEqual(line.qty_refunded, 2.0)

        second.button_draft()
        self.assertEqual(order.state, "received")
        self.assertEqual((line.qty_refunded, line.qty_credit_draft), (1.0, 1.0))
        second.button_cancel()
        self.assertEqual((line.qty_refunded, line.qty_credit_draft), (1.0, 0.0))
        self.assertEqual(order.state, "received")

    def test_accountant_without_returns_rights_posts_and_cancels(self):
        accountant = self._new_user("billing_only", "account.group_account_invoice")
        order = self._credit_return(self._taxed_sale(), 2.0)
        credit_note = order.credit_note_ids.with_user(accountant)
        credit_note.action_post()
        self.assertEqual(order.state, "done")
        credit_note.button_draft()
        self.assertEqual(order.state, "received")
        credit_note.button_cancel()
        self.assertEqual(order.line_ids.qty_credit_draft, 0.0)
        self.assertEqual(order.line_ids._qty_to_credit(), 2.0)

    # --- credit notes derived from the invoice -------------------------------

    def test_cash_rounding_is_credited_as_invoiced(self):
        rounding = self.env["account.cash.rounding"].create(
            {
                "name": "0.05",
                "rounding": 0.05,
                "strategy": "add_invoice_line",
                "profit_account_id": self.company_data["default_account_revenue"].id,
                "loss_account_id": self.company_data["default_account_expense"].id,
                "rounding_method": "HALF-UP",
            }
        )
        lines = [(self.product, 1.0, 29.97, 0.0, self.tax_sale_a)]
        sale = self._create_sale(lines, invoice=False)
        invoice = sale._create_invoices()
        invoice.invoice_cash_rounding_id = rounding
        invoice.action_post()
        self.assertEqual(invoice.amount_total, 34.45)
        order = self._credit_return(sale, 1.0)
        credit_note = order.credit_note_ids
        credit_note.action_post()
        self.assertEqual(credit_note.amount_total, 34.45)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(invoice.payment_state, "reversed")

        twin = self._twin(lines, 1.0, invoice_cash_rounding_id=rounding.id)
        by_hand = self._credit_by_hand(
            twin.invoice_ids,
            {twin.invoice_ids.invoice_line_ids: (1.0, self.unit)},
        )
        by_hand.action_post()
        self._assert_same_credit(credit_note, by_hand)

    def _term_30_now_70_in_60_days(self, **values):
        return self.env["account.payment.term"].create(
            {
                "name": "30% now, 70% in 60 days",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 30.0, "nb_days": 0}
                    ),
                    Command.create(
                        {"value": "percent", "value_amount": 70.0, "nb_days": 60}
                    ),
                ],
                **values,
            }
        )

    def test_payment_term_of_the_invoice_not_the_customer(self):
        term = self._term_30_now_70_in_60_days()
        lines = [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)]
        sale = self._create_sale(lines, invoice=False)
        invoice = sale._create_invoices()
        invoice.invoice_payment_term_id = term
        invoice.action_post()
        self.customer.property_payment_term_id = term
        order = self._credit_return(sale, 2.0)
        twin = self._twin(lines, 2.0, invoice_payment_term_id=term.id)
        by_hand = self._credit_by_hand(
            twin.invoice_ids, {twin.invoice_ids.invoice_line_ids: (2.0, self.unit)}
        )
        credit_note = order.credit_note_ids
        self._assert_same_credit(credit_note, by_hand)
        receivable = credit_note.line_ids.filtered(
            lambda l: l.display_type == "payment_term"
        )
        self.assertEqual(len(receivable), 1, "one due date, as Odoo's wizard")

    def test_early_payment_discount_mixed_tax_credited_as_by_hand(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "2% in 10 days, net 30",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100.0, "nb_days": 30}
                    )
                ],
                "early_discount": True,
                "discount_percentage": 2.0,
                "discount_days": 10,
                "early_pay_discount_computation": "mixed",
            }
        )
        lines = [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)]
        sale = self._create_sale(lines, invoice=False)
        invoice = sale._create_invoices()
        invoice.invoice_payment_term_id = term
        invoice.action_post()
        order = self._credit_return(sale, 5.0)
        credit_note = order.credit_note_ids
        self.assertEqual(credit_note.amount_total, invoice.amount_total)
        self.assertEqual(credit_note.amount_tax, invoice.amount_tax)
        twin = self._twin(lines, 5.0, invoice_payment_term_id=term.id)
        by_hand = self._credit_by_hand(
            twin.invoice_ids, {twin.invoice_ids.invoice_line_ids: (5.0, self.unit)}
        )
        self._assert_same_credit(credit_note, by_hand)
        credit_note.action_post()
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_receivable_of_the_invoice_when_the_customer_changed_since(self):
        sale = self._taxed_sale()
        invoice = sale.invoice_ids
        receivable = invoice.line_ids.filtered(
            lambda l: l.display_type == "payment_term"
        ).account_id
        self.customer.property_account_receivable_id = receivable.copy(
            {"code": "121099", "name": "Other receivable"}
        )
        order = self._credit_return(sale, 5.0)
        credit_note = order.credit_note_ids
        credit_note.action_post()
        self.assertEqual(
            credit_note.line_ids.filtered(
                lambda l: l.display_type == "payment_term"
            ).account_id,
            receivable,
        )
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(credit_note.amount_residual, 0.0)

        other_receivable = self.customer.property_account_receivable_id
        self.customer.property_account_receivable_id = receivable
        twin = self._twin([(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)], 5.0)
        twin_invoice = twin.invoice_ids
        self.customer.property_account_receivable_id = other_receivable
        by_hand = self._credit_by_hand(
            twin_invoice, {twin_invoice.invoice_line_ids: (5.0, self.unit)}
        )
        by_hand.action_post()
        self._assert_same_credit(credit_note, by_hand)

    def test_sales_lock_date_moves_the_credit_note_to_the_first_open_day(self):
        sale = self._taxed_sale()
        today = fields.Date.context_today(self.env.user)
        self.company.sale_lock_date = today
        order = self._credit_return(sale, 2.0)
        credit_note = order.credit_note_ids
        credit_note.action_post()
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.date, today + timedelta(days=1))
        self.assertEqual(order.state, "done")

        self.company.sale_lock_date = False
        lines = [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)]
        twin = self._twin(lines, 2.0)
        self.company.sale_lock_date = today
        by_hand = self._credit_by_hand(
            twin.invoice_ids, {twin.invoice_ids.invoice_line_ids: (2.0, self.unit)}
        )
        by_hand.action_post()
        self._assert_same_credit(credit_note, by_hand)

    def _sale_with_global_discount(self):
        sale = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": 2.0,
                            "price_unit": 161.0,
                            "tax_id": [Command.set(self.tax_sale_a.ids)],
                        }
                    )
                ],
            }
        )
        self.env["sale.order.discount"].create(
            {
                "sale_order_id": sale.id,
                "discount_type": "so_discount",
                "discount_percentage": 0.1,
            }
        ).action_apply_discount()
        sale.action_confirm()
        self._validate(sale.picking_ids)
        sale._create_invoices().action_post()
        self.assertEqual(sale.invoice_ids.amount_untaxed, 289.80)
        return sale

    def test_full_return_credits_what_was_paid_after_global_discount(self):
        sale = self._sale_with_global_discount()
        invoice = sale.invoice_ids
        goods_line = sale.order_line.filtered(lambda l: l.product_id == self.product)
        order = self._credit_return(sale, 2.0, goods_line)
        credit_note = order.credit_note_ids
        self.assertEqual(credit_note.amount_untaxed, 289.80)
        self.assertEqual(credit_note.amount_total, invoice.amount_total)
        credit_note.action_post()
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_return_shows_what_is_credited_after_global_discount(self):
        for quantity, untaxed in ((2.0, 289.80), (1.0, 144.90)):
            with self.subTest(quantity=quantity):
                sale = self._sale_with_global_discount()
                goods_line = sale.order_line.filtered(
                    lambda l: l.product_id == self.product
                )
                order = self._create_return(sale, [(goods_line, quantity)])
                # the goods less their share of the 10 % global discount
                self.assertEqual(order.amount_untaxed, untaxed)
                self._approve_and_receive(order)
                order.action_create_credit_notes()
                self.assertEqual(order.credit_note_ids.amount_untaxed, untaxed)
                self.assertEqual(order.amount_untaxed, untaxed)

    def test_partial_return_credits_its_share_of_the_global_discount(self):
        sale = self._sale_with_global_discount()
        invoice = sale.invoice_ids
        goods_line = sale.order_line.filtered(lambda l: l.product_id == self.product)
        order = self._credit_return(sale, 1.0, goods_line)
        credit_note = order.credit_note_ids
        self.assertEqual(credit_note.amount_untaxed, 144.90)
        discount_line = sale.order_line - goods_line
        credit_note.action_post()
        self.assertEqual(
            discount_line.qty_invoiced, 1.0, "the discount stays invoiced once"
        )
        self.assertEqual(goods_line.qty_invoiced, 1.0)
        invoice_goods = invoice.invoice_line_ids.filtered(
            lambda l: l.product_id == self.product
        )
        invoice_discount = invoice.invoice_line_ids - invoice_goods
        twin = self._sale_with_global_discount()
        twin_goods = twin.order_line.filtered(lambda l: l.product_id == self.product)
        return_by_hand(twin, 1.0)
        self._validate(twin.picking_ids.filtered(lambda p: p.state != "done"))
        twin_invoice = twin.invoice_ids
        twin_lines = twin_invoice.invoice_line_ids
        by_hand = self._credit_by_hand(
            twin_invoice,
            {
                twin_lines.filtered(lambda l: l.sale_line_ids == twin_goods): (
                    1.0,
                    self.unit,
                )
            },
            prices={
                twin_lines.filtered(lambda l: l.sale_line_ids != twin_goods): (
                    invoice_discount.price_unit / 2
                )
            },
        )
        by_hand.action_post()
        self._assert_same_credit(credit_note, by_hand)

    def test_return_form_follows_the_unit_chosen(self):
        self.env.user.groups_id += self.env.ref("uom.group_uom")
        sale = self._sell_in(self._sale_in_dozens(), self.dozen)
        with Form(self.env["return.order"]) as form:
            form.sale_order_id = sale
            with form.line_ids.new() as line:
                line.sale_line_id = sale.order_line
                line.reason_id = self.reason
                line.quantity = 1.0
                self.assertEqual(line.refund_amount, 1200.0)
                line.product_uom_id = self.unit
                self.assertEqual(line.price_unit, 100.0)
                self.assertEqual(line.refund_amount, 100.0)
