from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ReturnsCommon


@tagged("post_install", "-at_install")
class TestReturnMultiCompany(ReturnsCommon):
    """Company B's returns stay in company B and out of company A's sight (F1-F3)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b_data = cls.setup_other_company(name="Returns Company B")
        cls.company_b = cls.company_b_data["company"]
        cls.warehouse_b = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company_b.id)], limit=1
        )
        cls.tax_sale_b_company = cls.company_b_data["default_tax_sale"]
        cls.category.with_company(cls.company_b).write(
            {"property_cost_method": "fifo", "property_valuation": "real_time"}
        )
        cls.env["stock.quant"].with_company(cls.company_b).with_context(
            inventory_mode=True
        ).create(
            {
                "product_id": cls.product.id,
                "location_id": cls.warehouse_b.lot_stock_id.id,
                "inventory_quantity": 50.0,
            }
        ).action_apply_inventory()
        cls.sequence_b = cls.env["ir.sequence"].create(
            {
                "name": "Return Orders of B",
                "code": "return.order",
                "prefix": "RETB/",
                "padding": 5,
                "company_id": cls.company_b.id,
            }
        )
        both = cls.company + cls.company_b
        cls.manager_both = new_test_user(
            cls.env,
            login="return_manager_ab",
            groups="returns_management.group_return_manager,account.group_account_invoice,"
            "sales_team.group_sale_salesman_all_leads,stock.group_stock_user",
            company_id=cls.company.id,
            company_ids=[Command.set(both.ids)],
        )
        cls.both_companies = both.ids

    # helpers

    def _create_sale_b(self, qty=5.0):
        sale = (
            self.env["sale.order"]
            .with_company(self.company_b)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company_b.id,
                    "warehouse_id": self.warehouse_b.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_uom_qty": qty,
                                "price_unit": 100.0,
                                "tax_id": [Command.set(self.tax_sale_b_company.ids)],
                            }
                        )
                    ],
                }
            )
        )
        sale.action_confirm()
        self._validate(sale.picking_ids)
        sale._create_invoices().action_post()
        return sale

    def _return_vals(self, sale, qty):
        return {
            "sale_order_id": sale.id,
            "line_ids": [
                Command.create(
                    {
                        "sale_line_id": sale.order_line.id,
                        "quantity": qty,
                        "reason_id": self.reason.id,
                    }
                )
            ],
        }

    def _env_both(self, user=None):
        env = self.env(user=user) if user else self.env
        return env(context=dict(env.context, allowed_company_ids=self.both_companies))

    def _create_return_b(self, qty=2.0):
        sale = self._create_sale_b()
        return self._env_both()["return.order"].create(self._return_vals(sale, qty))

    # F1 company A cannot see company B

    def test_company_a_user_does_not_find_company_b_returns(self):
        order_b = self._create_return_b()
        returns = self.env["return.order"].with_user(self.return_user)
        self.assertNotIn(order_b, returns.search([]))
        self.assertFalse(returns.search([("id", "=", order_b.id)]))
        self.assertFalse(
            returns.search_count([("sale_order_id", "=", order_b.sale_order_id.id)])
        )
        lines = self.env["return.order.line"].with_user(self.return_user)
        self.assertFalse(lines.search([("order_id", "=", order_b.id)]))

    def test_company_a_user_cannot_read_company_b_return(self):
        order_b = self._create_return_b()
        with self.assertRaises(AccessError):
            order_b.with_user(self.return_user).read(["name", "partner_id"])
        with self.assertRaises(AccessError):
            order_b.line_ids.with_user(self.return_user).read(["quantity"])

    def test_company_a_manager_cannot_act_on_company_b_return(self):
        order_b = self._create_return_b()
        order_b.action_submit()
        with self.assertRaises(AccessError):
            order_b.with_user(self.manager).action_approve()
        self.assertEqual(order_b.state, "to_approve")
        self.assertFalse(order_b.return_picking_ids)

    def test_company_a_user_does_not_see_company_b_reasons(self):
        reason_b = self.env["return.reason"].create(
            {"name": "Only in B", "company_id": self.company_b.id}
        )
        reasons = self.env["return.reason"].with_user(self.return_user)
        self.assertNotIn(reason_b, reasons.search([]))
        self.assertIn(self.reason, reasons.search([]))
        with self.assertRaises(AccessError):
            reason_b.with_user(self.return_user).read(["name"])

    def test_company_a_user_cannot_return_a_company_b_order(self):
        sale_b = self._create_sale_b()
        count = self.env["return.order"].search_count([])
        with self.assertRaises(AccessError):
            self.env["return.order"].with_user(self.return_user).create(
                self._return_vals(sale_b, 1.0)
            )
        self.assertEqual(self.env["return.order"].search_count([]), count)
        self.assertEqual(sale_b.order_line.return_qty_returnable, 5.0)

    # F2 company B everywhere

    def test_company_b_warehouse_gets_its_own_returns_location(self):
        location = self.warehouse_b.return_location_id
        self.assertTrue(location)
        self.assertEqual(location.company_id, self.company_b)
        self.assertEqual(location.warehouse_id, self.warehouse_b)
        self.assertNotEqual(location, self.returns_location)

    def test_company_b_return_takes_company_and_warehouse_of_the_order(self):
        order = self._create_return_b()
        self.assertEqual(order.company_id, self.company_b)
        self.assertEqual(order.warehouse_id, self.warehouse_b)
        self.assertEqual(order.line_ids.company_id, self.company_b)

    def test_company_b_return_draws_company_b_sequence(self):
        # created while company A is the active company, as from a multi-company session
        order = self._create_return_b()
        self.assertTrue(order.name.startswith("RETB/"), order.name)
        sale_a = self._create_sale([(self.product, 1.0, 100.0, 0.0, self.tax_sale_a)])
        order_a = (
            self._env_both()["return.order"]
            .with_company(self.company_b)
            .create(self._return_vals(sale_a, 1.0))
        )
        self.assertTrue(order_a.name.startswith("RET/"), order_a.name)

    def test_company_b_return_receipt_uses_company_b_locations(self):
        order = self._create_return_b()
        self._approve_and_receive_as(order, self.manager_both)
        picking = order.return_picking_ids
        self.assertEqual(len(picking), 1)
        self.assertEqual(picking.company_id, self.company_b)
        self.assertEqual(picking.picking_type_id.company_id, self.company_b)
        self.assertEqual(picking.picking_type_id.warehouse_id, self.warehouse_b)
        self.assertEqual(picking.location_dest_id, self.warehouse_b.return_location_id)
        self.assertEqual(picking.move_ids.company_id, self.company_b)
        self.assertEqual(
            self._quant_qty(self.product, self.warehouse_b.return_location_id), 2.0
        )
        layers = picking.move_ids.stock_valuation_layer_ids
        self.assertEqual(layers.company_id, self.company_b)

    def test_company_b_credit_note_uses_company_b_journal_and_accounts(self):
        order = self._create_return_b()
        invoice = order.sale_order_id.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice"
        )
        self._approve_and_receive_as(order, self.manager_both)
        order.with_env(self._env_both(self.manager_both)).action_create_credit_notes()
        credit_note = order.credit_note_ids
        self.assertEqual(len(credit_note), 1)
        self.assertEqual(credit_note.company_id, self.company_b)
        self.assertEqual(credit_note.journal_id, invoice.journal_id)
        self.assertEqual(credit_note.journal_id.company_id, self.company_b)
        self.assertEqual(credit_note.currency_id, self.company_b.currency_id)
        self.assertEqual(credit_note.invoice_line_ids.tax_ids, self.tax_sale_b_company)
        for account in credit_note.line_ids.account_id:
            self.assertIn(self.company_b, account.company_ids)
        # posting stays with the accountant (the test user)
        credit_note.with_env(self._env_both()).action_post()
        self.assertEqual(credit_note.state, "posted")

    def test_company_b_fee_credited_from_company_a_takes_company_b_accounts(self):
        fee_product = self.env.ref("returns_management.product_restocking_fee")
        self.env["return.policy"].create(
            {
                "name": "B: 10 % fee",
                "company_id": self.company_b.id,
                "sequence": 1,
                "restocking_fee_percent": 10.0,
                "restocking_fee_product_id": fee_product.id,
            }
        )
        self.reason = self.env.ref("returns_management.return_reason_changed_mind")
        order = self._create_return_b()
        self._approve_and_receive_as(order, self.manager_both)
        # company A is the user's current company
        env = self._env_both(self.manager_both)
        self.assertEqual(env.company, self.company)
        order.with_env(env).action_create_credit_notes()
        credit_note = order.credit_note_ids
        fee = credit_note.invoice_line_ids.filtered(
            lambda l: l.product_id == fee_product
        )
        self.assertEqual(fee.price_subtotal, -20.0)
        self.assertEqual(
            fee.account_id,
            fee_product.with_company(
                self.company_b
            ).product_tmpl_id.get_product_accounts()["income"],
        )
        self.assertEqual(fee.tax_ids, self.tax_sale_b_company)
        credit_note.with_env(self._env_both()).action_post()

        # by hand, in company B: the credit note wizard, 2 units, the fee
        twin = self._create_sale_b()
        invoice = twin.invoice_ids
        env_b = self.env(
            context=dict(
                self.env.context,
                allowed_company_ids=[self.company_b.id, self.company.id],
            )
        )
        wizard = (
            env_b["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id})
        )
        by_hand = env_b["account.move"].browse(wizard.refund_moves()["res_id"])
        by_hand.write(
            {
                "invoice_line_ids": [
                    Command.update(by_hand.invoice_line_ids.id, {"quantity": 2.0}),
                    Command.create(
                        {
                            "product_id": fee_product.id,
                            "quantity": 1.0,
                            "price_unit": -20.0,
                        }
                    ),
                ]
            }
        )
        by_hand.action_post()
        for field in ("amount_untaxed", "amount_tax", "amount_total"):
            self.assertEqual(credit_note[field], by_hand[field], field)
        self.assertEqual(
            sorted(credit_note.line_ids.mapped(lambda l: (l.account_id.id, l.balance))),
            sorted(by_hand.line_ids.mapped(lambda l: (l.account_id.id, l.balance))),
        )

    def _approve_and_receive_as(self, order, user):
        order = order.with_env(self._env_both(user))
        order.action_submit()
        order.action_approve()
        self._validate(order.return_picking_ids)
        self.assertEqual(order.state, "received")

    # batches over two companies

    def test_batch_over_two_companies_approves_and_credits_each_in_its_company(self):
        sale_a = self._taxed_sale()
        order_a = self._create_return(sale_a, [(sale_a.order_line, 1.0)])
        order_b = self._create_return_b(2.0)
        orders = (order_a | order_b).with_env(self._env_both(self.manager_both))

        orders.action_submit()
        orders.action_approve()
        self.assertEqual(orders.mapped("state"), ["approved", "approved"])
        self._validate(orders.return_picking_ids)
        orders.action_create_credit_notes()
        orders.credit_note_ids.action_post()

        self.assertEqual(orders.mapped("state"), ["done", "done"])
        for order, company, warehouse in (
            (order_a, self.company, self.warehouse),
            (order_b, self.company_b, self.warehouse_b),
        ):
            with self.subTest(company=company.name):
                self.assertEqual(order.return_picking_ids.company_id, company)
                self.assertEqual(
                    order.return_picking_ids.location_dest_id,
                    warehouse.return_location_id,
                )
                self.assertEqual(order.credit_note_ids.company_id, company)
                self.assertEqual(order.credit_note_ids.journal_id.company_id, company)
                invoice = order.sale_order_id.invoice_ids.filtered(
                    lambda m: m.move_type == "out_invoice"
                )
                self.assertEqual(order.credit_note_ids.reversed_entry_id, invoice)
