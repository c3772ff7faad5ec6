from collections import defaultdict

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

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

    # --- the twin, by hand -----------------------------------------------------

    def _by_hand(self, sale, edits, extra_lines=()):
        """Odoo's credit note wizard on the sale's invoice, as an accountant
        uses it: each kept line edited ({sale line: values}), the others
        removed, then lines typed by hand (a fee, a deduction), posted."""
        invoice = sale.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id})
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        commands = []
        for line in refund.invoice_line_ids:
            if line.sale_line_ids in edits:
                commands.append(Command.update(line.id, edits[line.sale_line_ids]))
            else:
                commands.append(Command.delete(line.id))
        commands += [Command.create(values) for values in extra_lines]
        refund.write({"invoice_line_ids": commands})
        refund.action_post()
        return refund

    def _money(self, moves):
        """What an accountant checks: totals, tax per tax, balance per account."""
        per_tax = defaultdict(float)
        per_account = defaultdict(float)
        for line in moves.line_ids:
            per_account[line.account_id] += line.balance
            if line.tax_line_id:
                per_tax[line.tax_line_id] += line.balance
        return {
            "untaxed": round(sum(moves.mapped("amount_untaxed")), 2),
            "tax": round(sum(moves.mapped("amount_tax")), 2),
            "total": round(sum(moves.mapped("amount_total")), 2),
            "per_tax": {tax.name: round(v, 2) for tax, v in per_tax.items()},
            "per_account": {a.code: round(v, 2) for a, v in per_account.items()},
        }

    def _assert_same_money(self, ours, by_hand):
        ours.filtered(lambda m: m.state == "draft").action_post()
        self.assertEqual(self._money(ours), self._money(by_hand))

    def _tax_included(self, amount=15.0):
        return self.tax_sale_a.copy(
            {
                "name": f"{amount} % included",
                "amount": amount,
                "price_include_override": "tax_included",
            }
        )

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

    # --- fees and taxes included in prices -----------------------------------

    def test_fee_on_tax_included_prices_is_a_share_of_the_untaxed_goods(self):
        included = self._tax_included()
        self.fee_product.taxes_id = included
        lines = [(self.product, 5.0, 115.0, 0.0, included)]
        sale = self._create_sale(lines)
        order = self._credited(sale, 2.0, self.customer_fault)
        credit_note = order.credit_note_ids
        fee = self._fee_lines(credit_note)
        self.assertEqual(fee.price_subtotal, -20.0)
        self.assertEqual(credit_note.amount_untaxed, 180.0)
        self.assertEqual(credit_note.amount_total, 207.0)
        self.assertEqual(order.amount_untaxed, 180.0, "shown as credited")

        twin = self._create_sale(lines)
        return_by_hand(twin, 2.0)
        by_hand = self._by_hand(
            twin,
            {twin.order_line: {"quantity": 2.0}},
            # the accountant types the fee with its tax included: 20 + 15 %
            [{"product_id": self.fee_product.id, "quantity": 1.0, "price_unit": -23.0}],
        )
        self._assert_same_money(credit_note, by_hand)

    def test_fee_product_gets_the_default_sale_tax_of_each_new_company(self):
        # as on a fresh install, before any chart: no tax in any company
        template = self.fee_product.product_tmpl_id.sudo()
        template.invalidate_recordset(["taxes_id"])
        template.taxes_id = [Command.clear()]
        template.invalidate_recordset(["taxes_id"])
        self.assertFalse(template.taxes_id)
        data = self.setup_other_company(name="Returns Company C")
        company = data["company"]
        self.assertTrue(company.account_sale_tax_id)
        self.assertIn(company.account_sale_tax_id, self.fee_product.taxes_id)
        # like a product created by hand in that company
        by_hand = (
            self.env["product.product"]
            .with_company(company)
            .with_context(allowed_company_ids=company.ids)
            .create({"name": "Fee by hand", "type": "service"})
        )
        self.assertEqual(
            self.fee_product.taxes_id.filtered(lambda t: t.company_id == company),
            by_hand.taxes_id,
        )

    def test_fee_product_gets_the_default_sale_tax_of_existing_companies(self):
        template = self.fee_product.product_tmpl_id.sudo()
        template.invalidate_recordset(["taxes_id"])
        template.taxes_id = [Command.clear()]
        # what the addon's installation runs for the companies it finds
        self.env["res.company"].search([])._return_give_fee_product_default_tax()
        self.assertIn(self.company.account_sale_tax_id, template.taxes_id)
        self.assertEqual(
            template.taxes_id.filtered(lambda t: t.company_id == self.company),
            self.company.account_sale_tax_id,
        )

    # --- deductions per credited unit and its grade ---------------------------

    def _deducting_policy(self):
        if self.policy.deduction_ids:
            return
        self.policy.write(
            {
                "restocking_fee_percent": 0.0,
                "refund_trigger": "after_qc",
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

    def _grade_and_validate(self, order, grade):
        self.env["return.qc.line"].create(
            {"line_id": order.line_ids.id, "qc_grade": grade, "quantity": 1.0}
        )
        order.action_validate_qc()

    def _deduction_twin(self, taxes):
        """2 returned, one as new and one with a minor defect (30 % kept),
        credited by hand: the goods, and a deduction of 30 with their taxes."""
        twin = self._create_sale([(self.product, 2.0, 100.0, 0.0, taxes)])
        return_by_hand(twin, 2.0)
        invoice_line = twin.invoice_ids.invoice_line_ids
        return self._by_hand(
            twin,
            {twin.order_line: {"quantity": 2.0}},
            [
                {
                    "name": "Deduction for a minor defect",
                    "quantity": 1.0,
                    "price_unit": -30.0,
                    "tax_ids": [Command.set(taxes.ids)],
                    "account_id": invoice_line.account_id.id,
                }
            ],
        )

    def _inspected_in_two_rounds(self, grades, taxes, partial_receipts=False):
        """2 returned at the customer's fault, one unit graded and validated
        at a time (each unit received just before, or both at once)."""
        self._deducting_policy()
        sale = self._create_sale([(self.product, 2.0, 100.0, 0.0, taxes)])
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        order.line_ids.reason_id = self.customer_fault
        order.action_submit()
        order.with_user(self.manager).action_approve()
        if not partial_receipts:
            self._validate(order.return_picking_ids)
        for grade in grades:
            if partial_receipts:
                self._validate(
                    order.return_picking_ids.filtered(lambda p: p.state != "done"),
                    {self.product: 1.0},
                )
            self._grade_and_validate(order, grade)
        # the draft made after the first round follows the second one (drafts
        # follow the grades): one credit note for both units
        self.assertEqual(len(order.credit_note_ids), 1)
        self.assertFalse(order.line_ids._qty_to_credit())
        return order

    def test_deductions_follow_each_credited_unit_whatever_the_order(self):
        for grades in (("as_new", "minor_defect"), ("minor_defect", "as_new")):
            with self.subTest(grades=grades):
                order = self._inspected_in_two_rounds(grades, self.tax_sale_a)
                credit_notes = order.credit_note_ids
                self.assertEqual(sum(credit_notes.mapped("amount_untaxed")), 170.0)
                self._assert_same_money(
                    credit_notes, self._deduction_twin(self.tax_sale_a)
                )

    def test_deductions_follow_each_unit_over_partial_receipts(self):
        order = self._inspected_in_two_rounds(
            ("as_new", "minor_defect"),
            self.tax_sale_a,
            partial_receipts=True,
        )
        self.assertEqual(len(order.return_picking_ids), 2)
        credit_notes = order.credit_note_ids
        self.assertEqual(sum(credit_notes.mapped("amount_untaxed")), 170.0)
        self._assert_same_money(credit_notes, self._deduction_twin(self.tax_sale_a))

    def test_deduction_carries_the_taxes_of_the_goods(self):
        five = self.tax_sale_a.copy({"name": "5 %", "amount": 5.0})
        order = self._inspected_in_two_rounds(("minor_defect", "as_new"), five)
        credit_notes = order.credit_note_ids
        deduction = credit_notes.invoice_line_ids.filtered(
            lambda l: l.price_subtotal < 0
        )
        self.assertEqual(deduction.tax_ids, five)
        self.assertEqual(sum(credit_notes.mapped("amount_tax")), 8.5)
        self._assert_same_money(credit_notes, self._deduction_twin(five))

    # --- shipping shared over the lines whose policy refunds it ---------------

    def _mixed_shipping_sale(self):
        """A sale of 2 kettles at 100 (policy refunding shipping) and 2 lamps
        at 300 (policy that does not), with 40 of shipping; a function that
        sells it again (for the twin) and the lamp."""
        if "delivery.carrier" not in self.env:
            self.skipTest("needs the delivery module (tools/dev.sh installs it)")
        other_category = self.env["product.category"].create(
            {"name": "Other goods", "parent_id": self.category.id}
        )
        self.env["return.policy"].create(
            {
                "name": "Other goods, no shipping refund",
                "company_id": self.company.id,
                "categ_ids": [Command.set(other_category.ids)],
                "sequence": 1,
            }
        )
        lamp = self._create_returnable_product("Lamp", price=300.0, cost=100.0)
        lamp.categ_id = other_category
        shipping_product = self._create_product(
            name="Courier", type="service", lst_price=40.0, taxes_id=self.tax_sale_a.ids
        )
        carrier = self.env["delivery.carrier"].create(
            {
                "name": "Courier",
                "product_id": shipping_product.id,
                "delivery_type": "fixed",
                "fixed_price": 40.0,
            }
        )

        def sell():
            return self._create_sale(
                [
                    (self.product, 2.0, 100.0, 0.0, self.tax_sale_a),
                    (lamp, 2.0, 300.0, 0.0, self.tax_sale_a),
                ],
                before=lambda sale: sale.set_delivery_line(carrier, 40.0),
            )

        return sell, lamp

    def test_shipping_share_counts_only_the_lines_whose_policy_refunds_it(self):
        sell, lamp = self._mixed_shipping_sale()
        sale = sell()
        kettle_line = sale.order_line.filtered(lambda l: l.product_id == self.product)
        lamp_line = sale.order_line.filtered(lambda l: l.product_id == lamp)
        order = self._create_return(sale, [(kettle_line, 1.0), (lamp_line, 1.0)])
        self._approve_and_receive(order)
        self.assertEqual(
            [line.policy_id.refund_shipping for line in order.line_ids], [True, False]
        )
        order.action_create_credit_notes()
        credit_note = order.credit_note_ids
        # 1 kettle of 800 of goods: its share of the 40 of shipping
        self.assertEqual(self._shipping_lines(credit_note).price_subtotal, 5.0)

        twin = sell()
        twin_kettle = twin.order_line.filtered(lambda l: l.product_id == self.product)
        twin_lamp = twin.order_line.filtered(lambda l: l.product_id == lamp)
        twin_shipping = twin.order_line - twin_kettle - twin_lamp
        picking = twin.picking_ids
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_id=picking.id,
                active_ids=picking.ids,
                active_model="stock.picking",
            )
        )
        for index in range(2):
            with wizard.product_return_moves.edit(index) as line:
                line.quantity = 1.0
        wizard.save().action_create_returns()
        self._validate(twin.picking_ids.filtered(lambda p: p.state != "done"))
        by_hand = self._by_hand(
            twin,
            {
                twin_kettle: {"quantity": 1.0},
                twin_lamp: {"quantity": 1.0},
                twin_shipping: {"price_unit": 5.0, "sale_line_ids": False},
            },
        )
        self._assert_same_money(credit_note, by_hand)

    # --- the terms decided at approval ----------------------------------------

    def _approved(self, sale, quantity):
        order = self._create_return(sale, [(sale.order_line[0], quantity)])
        order.line_ids.reason_id = self.customer_fault
        order.action_submit()
        order.with_user(self.manager).action_approve()
        self.assertEqual(order.line_ids.policy_id, self.policy)
        return order

    def _fee_twin(self, fee):
        """2 returned, credited by hand with a fee of ``fee`` (untaxed)."""
        twin = self._taxed_sale()
        return_by_hand(twin, 2.0)
        return self._by_hand(
            twin,
            {twin.order_line: {"quantity": 2.0}},
            [{"product_id": self.fee_product.id, "quantity": 1.0, "price_unit": -fee}],
        )

    def _receive_and_credit(self, order):
        self._validate(order.return_picking_ids)
        order.action_create_credit_notes()
        return order.credit_note_ids

    def test_fee_raised_after_approval_charges_the_approved_fee(self):
        order = self._approved(self._taxed_sale(), 2.0)
        self.assertEqual(order.line_ids.policy_fee_percent, 10.0)
        self.policy.restocking_fee_percent = 25.0
        credit_note = self._receive_and_credit(order)
        self.assertEqual(self._fee_lines(credit_note).price_subtotal, -20.0)
        self._assert_same_money(credit_note, self._fee_twin(20.0))

    def test_shipping_refund_withdrawn_after_approval_is_still_refunded(self):
        sale = self._sale_with_shipping()
        order = self._approved(sale, 2.0)
        self.policy.refund_shipping = False
        credit_note = self._receive_and_credit(order)
        self.assertEqual(self._shipping_lines(credit_note).price_subtotal, 4.0)

    def test_policy_used_by_returns_cannot_be_deleted(self):
        order = self._approved(self._taxed_sale(), 2.0)
        with self.assertRaises(UserError), self.cr.savepoint():
            self.policy.with_user(self.manager).unlink()
        self.assertTrue(self.policy.exists())
        self.assertEqual(order.line_ids.policy_id, self.policy)

    def test_archived_policy_keeps_charging_its_approved_fee(self):
        order = self._approved(self._taxed_sale(), 2.0)
        self.policy.with_user(self.manager).active = False
        credit_note = self._receive_and_credit(order)
        self.assertEqual(self._fee_lines(credit_note).price_subtotal, -20.0)
        self._assert_same_money(credit_note, self._fee_twin(20.0))

    def test_unused_policy_can_be_deleted(self):
        policy = self.env["return.policy"].create({"name": "Unused"})
        policy.with_user(self.manager).unlink()
        self.assertFalse(policy.exists())

    def test_kept_terms_are_refused_by_hand(self):
        order = self._approved(self._taxed_sale(), 2.0)
        line = order.line_ids.with_user(self.return_user)
        for values in (
            {"policy_fee_percent": 0.0},
            {"policy_refund_shipping": False},
            {"policy_terms_kept": False},
        ):
            with self.subTest(values=values), self.assertRaises(UserError):
                line.write(values)
        self.assertEqual(order.line_ids.policy_fee_percent, 10.0)
        self.assertTrue(order.line_ids.policy_terms_kept)

    # --- what the return shows is what is credited -----------------------------

    def test_refund_amount_is_what_the_credit_note_credits(self):
        order = self._approved(self._taxed_sale(), 2.0)
        # before the goods arrive: the goods less the fee
        self.assertEqual(order.line_ids.goods_amount, 200.0)
        self.assertEqual(order.line_ids.refund_amount, 180.0)
        self.assertEqual(order.amount_untaxed, 180.0)
        credit_note = self._receive_and_credit(order)
        self.assertEqual(order.amount_untaxed, credit_note.amount_untaxed)
        by_hand = self._fee_twin(20.0)
        self._assert_same_money(credit_note, by_hand)
        self.assertEqual(order.amount_untaxed, by_hand.amount_untaxed)

    def test_refund_amount_follows_the_grades_of_inspected_units(self):
        order = self._inspected_in_two_rounds(
            ("minor_defect", "as_new"), self.tax_sale_a
        )
        credit_notes = order.credit_note_ids
        self.assertEqual(order.line_ids.refund_amount, 170.0)
        self.assertEqual(
            order.amount_untaxed, sum(credit_notes.mapped("amount_untaxed"))
        )
        by_hand = self._deduction_twin(self.tax_sale_a)
        self.assertEqual(order.amount_untaxed, by_hand.amount_untaxed)

    def test_full_return_refunds_only_the_shipping_share_of_refunding_lines(self):
        sell, _lamp = self._mixed_shipping_sale()
        sale = sell()
        goods = sale.order_line.filtered(lambda l: not l._is_delivery())
        order = self._create_return(sale, [(line, 2.0) for line in goods])
        self._approve_and_receive(order)
        order.action_create_credit_notes()
        credit_note = order.credit_note_ids
        # everything is back, but only the kettles' 200 of 800 refund shipping
        self.assertEqual(self._shipping_lines(credit_note).price_subtotal, 10.0)

        twin = sell()
        twin_goods = twin.order_line.filtered(lambda l: not l._is_delivery())
        picking = twin.picking_ids
        Form(
            self.env["stock.return.picking"].with_context(
                active_id=picking.id,
                active_ids=picking.ids,
                active_model="stock.picking",
            )
        ).save().action_create_returns_all()
        self._validate(twin.picking_ids.filtered(lambda p: p.state != "done"))
        edits = {line: {"quantity": 2.0} for line in twin_goods}
        edits[twin.order_line - twin_goods] = {
            "price_unit": 10.0,
            "sale_line_ids": False,
        }
        self._assert_same_money(credit_note, self._by_hand(twin, edits))
