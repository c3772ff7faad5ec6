from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import ReturnsCommon


@tagged("post_install", "-at_install")
class TestReturnBadInput(ReturnsCommon):
    """Every bad input is refused with a clear error and changes nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uom_unit = cls.env.ref("uom.product_uom_unit")
        cls.uom_dozen = cls.env.ref("uom.product_uom_dozen")
        cls.uom_kg = cls.env.ref("uom.product_uom_kgm")

    # helpers

    def _delivered_sale(self, qty=5.0, **kwargs):
        return self._create_sale(
            [(self.product, qty, 100.0, 0.0, self.tax_sale_a)], **kwargs
        )

    def _return_vals(self, sale, sale_line, quantity, **line_values):
        return {
            "sale_order_id": sale.id,
            "line_ids": [
                Command.create(
                    {
                        "sale_line_id": sale_line.id,
                        "quantity": quantity,
                        "reason_id": self.reason.id,
                        **line_values,
                    }
                )
            ],
        }

    def _submitted(self, sale, qty=2.0):
        order = self._create_return(sale, [(sale.order_line, qty)])
        order.action_submit()
        return order

    def _approved(self, sale, qty=2.0):
        order = self._submitted(sale, qty)
        order.with_user(self.manager).action_approve()
        return order

    def _snapshot(self, sale=None, orders=None):
        """Everything a refused request must leave untouched."""
        self.env.invalidate_all()
        snapshot = {
            "returns": self.env["return.order"].search_count([]),
            "return_lines": self.env["return.order.line"].search_count([]),
            "pickings": self.env["stock.picking"].search_count([]),
            "stock_moves": self.env["stock.move"].search_count([]),
            "account_moves": self.env["account.move"].search_count([]),
            "stock": self._quant_qty(self.product, self.stock_location),
            "returns_stock": self._quant_qty(self.product, self.returns_location),
        }
        if sale:
            lines = sale.order_line
            snapshot |= {
                "sale_state": sale.state,
                "returnable": lines.mapped("return_qty_returnable"),
                "delivered": lines.mapped("qty_delivered"),
                "invoiced": lines.mapped("qty_invoiced"),
            }
        if orders:
            snapshot |= {
                "states": orders.mapped("state"),
                "quantities": orders.line_ids.mapped("quantity"),
                "return_pickings": orders.return_picking_ids.ids,
                "credit_notes": orders.credit_note_ids.ids,
            }
        return snapshot

    def _assert_refused(self, exception, call, sale=None, orders=None):
        before = self._snapshot(sale, orders)
        with self.assertRaises(exception):
            call()
        self.assertEqual(self._snapshot(sale, orders), before)

    def _create_refused(
        self, sale, sale_line, quantity, exception=ValidationError, **line_values
    ):
        self._assert_refused(
            exception,
            lambda: self.env["return.order"].create(
                self._return_vals(sale, sale_line, quantity, **line_values)
            ),
            sale=sale,
        )

    # A1 more than delivered in one request

    def test_create_more_than_delivered_is_refused(self):
        sale = self._delivered_sale(5.0)
        self._create_refused(sale, sale.order_line, 6.0)

    def test_wizard_more_than_returnable_is_refused(self):
        sale = self._delivered_sale(5.0)
        form = self._open_wizard_form(sale)
        with form.line_ids.edit(0) as line:
            line.quantity = 6.0
            line.reason_id = self.reason
        wizard = form.save()
        self._assert_refused(ValidationError, wizard.action_create_return, sale=sale)

    def test_wizard_with_no_quantity_is_refused(self):
        sale = self._delivered_sale(5.0)
        wizard = self._open_wizard_form(sale).save()
        self._assert_refused(UserError, wizard.action_create_return, sale=sale)

    def test_raising_a_draft_line_above_delivered_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        self._assert_refused(
            ValidationError,
            lambda: order.line_ids.write({"quantity": 6.0}),
            sale=sale,
            orders=order,
        )

    # A2 cumulative

    def test_second_request_exceeding_the_rest_is_refused(self):
        sale = self._delivered_sale(5.0)
        self._create_return(sale, [(sale.order_line, 3.0)])
        self._create_refused(sale, sale.order_line, 3.0)
        second = self._create_return(sale, [(sale.order_line, 2.0)])
        self.assertEqual(second.line_ids.quantity, 2.0)

    def test_draft_return_reserves_its_quantity(self):
        sale = self._delivered_sale(5.0)
        self._create_return(sale, [(sale.order_line, 3.0)])
        self.assertEqual(sale.order_line.return_qty_returnable, 2.0)

    def test_submitted_return_reserves_its_quantity(self):
        sale = self._delivered_sale(5.0)
        self._submitted(sale, 4.0)
        self.assertEqual(sale.order_line.return_qty_returnable, 1.0)
        self._create_refused(sale, sale.order_line, 2.0)

    def test_approved_return_reserves_its_quantity(self):
        sale = self._delivered_sale(5.0)
        self._approved(sale, 4.0)
        self.assertEqual(sale.order_line.return_qty_returnable, 1.0)
        self._create_refused(sale, sale.order_line, 2.0)

    def test_two_lines_of_one_request_exceeding_together_are_refused(self):
        sale = self._delivered_sale(5.0)
        line_vals = {
            "sale_line_id": sale.order_line.id,
            "quantity": 3.0,
            "reason_id": self.reason.id,
        }
        self._assert_refused(
            ValidationError,
            lambda: self.env["return.order"].create(
                {
                    "sale_order_id": sale.id,
                    "line_ids": [Command.create(line_vals), Command.create(line_vals)],
                }
            ),
            sale=sale,
        )

    def test_reset_to_draft_is_refused_when_the_quantity_was_taken_meanwhile(self):
        sale = self._delivered_sale(5.0)
        first = self._submitted(sale, 4.0)
        first.action_cancel()
        self._submitted(sale, 3.0)
        self._assert_refused(
            ValidationError, first.action_draft, sale=sale, orders=first
        )

    # A3 units of measure

    def test_dozens_are_converted_before_the_check(self):
        sale = self._delivered_sale(24.0)
        order = self.env["return.order"].create(
            self._return_vals(
                sale, sale.order_line, 1.0, product_uom_id=self.uom_dozen.id
            )
        )
        self.assertEqual(order.line_ids.product_uom_id, self.uom_dozen)
        self.assertEqual(sale.order_line.return_qty_returnable, 12.0)
        self._create_refused(
            sale, sale.order_line, 2.0, product_uom_id=self.uom_dozen.id
        )
        self._create_refused(sale, sale.order_line, 13.0)
        self.env["return.order"].create(self._return_vals(sale, sale.order_line, 12.0))
        self.assertEqual(sale.order_line.return_qty_returnable, 0.0)

    def test_unit_of_another_category_is_refused(self):
        sale = self._delivered_sale(5.0)
        self._create_refused(sale, sale.order_line, 1.0, product_uom_id=self.uom_kg.id)

    def test_switching_a_draft_line_to_another_category_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        self._assert_refused(
            ValidationError,
            lambda: order.line_ids.write({"product_uom_id": self.uom_kg.id}),
            sale=sale,
            orders=order,
        )
        self.assertEqual(order.line_ids.product_uom_id, self.uom_unit)

    # A4 malformed quantities

    def test_zero_quantity_is_refused(self):
        sale = self._delivered_sale(5.0)
        self._create_refused(sale, sale.order_line, 0.0)

    def test_negative_quantity_is_refused(self):
        sale = self._delivered_sale(5.0)
        self._create_refused(sale, sale.order_line, -1.0)

    def test_nan_quantity_is_refused(self):
        sale = self._delivered_sale(5.0)
        self._create_refused(sale, sale.order_line, float("nan"), exception=UserError)

    def test_infinite_quantity_is_refused(self):
        sale = self._delivered_sale(5.0)
        for quantity in (float("inf"), float("-inf")):
            with self.subTest(quantity=quantity):
                self._create_refused(
                    sale, sale.order_line, quantity, exception=UserError
                )

    def test_non_numeric_quantity_is_refused(self):
        sale = self._delivered_sale(5.0)
        for quantity in ("two", None, [1.0]):
            with self.subTest(quantity=quantity):
                self._create_refused(
                    sale, sale.order_line, quantity, exception=UserError
                )

    def test_nan_written_on_a_draft_line_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        self._assert_refused(
            UserError,
            lambda: order.line_ids.write({"quantity": float("nan")}),
            sale=sale,
            orders=order,
        )

    def test_nan_in_the_create_wizard_is_refused(self):
        sale = self._delivered_sale(5.0)
        wizards = self.env["return.order.create.wizard"]
        count = wizards.search_count([])
        with self.assertRaises(UserError):
            wizards.create(
                {
                    "sale_order_id": sale.id,
                    "line_ids": [
                        Command.create(
                            {
                                "sale_line_id": sale.order_line.id,
                                "quantity": float("nan"),
                            }
                        )
                    ],
                }
            )
        self.assertEqual(wizards.search_count([]), count)

    def test_more_decimals_than_the_unit_allows_are_refused(self):
        self.assertEqual(self.uom_unit.rounding, 0.01)
        sale = self._delivered_sale(5.0)
        for quantity in (0.0001, 1.0001, 1.005):
            with self.subTest(quantity=quantity):
                self._create_refused(
                    sale, sale.order_line, quantity, exception=UserError
                )

    def test_fraction_of_a_whole_unit_is_refused(self):
        whole_unit = self.env["uom.uom"].create(
            {
                "name": "Whole piece",
                "category_id": self.uom_unit.category_id.id,
                "uom_type": "bigger",
                "factor_inv": 1.0,
                "rounding": 1.0,
            }
        )
        sale = self._delivered_sale(5.0)
        self._create_refused(sale, sale.order_line, 1.5, product_uom_id=whole_unit.id)
        order = self.env["return.order"].create(
            self._return_vals(sale, sale.order_line, 2.0, product_uom_id=whole_unit.id)
        )
        self.assertEqual(order.line_ids.quantity, 2.0)

    # A5 tampered ids

    def test_line_of_another_customers_order_is_refused(self):
        sale = self._delivered_sale(5.0)
        foreign_sale = self._delivered_sale(5.0, partner=self.other_customer)
        self._create_refused(sale, foreign_sale.order_line, 1.0)
        self.assertEqual(foreign_sale.order_line.return_qty_returnable, 5.0)

    def test_line_of_another_order_of_the_same_customer_is_refused(self):
        sale = self._delivered_sale(5.0)
        other_sale = self._delivered_sale(5.0)
        self._create_refused(sale, other_sale.order_line, 1.0)

    def test_moving_a_draft_line_to_another_customers_order_line_is_refused(self):
        sale = self._delivered_sale(5.0)
        foreign_sale = self._delivered_sale(5.0, partner=self.other_customer)
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        self._assert_refused(
            ValidationError,
            lambda: order.line_ids.write({"sale_line_id": foreign_sale.order_line.id}),
            sale=foreign_sale,
            orders=order,
        )
        self.assertEqual(order.line_ids.sale_line_id, sale.order_line)

    def test_switching_the_sale_order_of_a_draft_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        foreign_sale = self._delivered_sale(5.0, partner=self.other_customer)
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        self._assert_refused(
            ValidationError,
            lambda: order.write({"sale_order_id": foreign_sale.id}),
            sale=sale,
            orders=order,
        )
        self.assertEqual(order.sale_order_id, sale)
        self.assertEqual(order.partner_id, self.customer)

    def test_partner_other_than_the_customer_is_refused(self):
        sale = self._delivered_sale(5.0)
        vals = self._return_vals(sale, sale.order_line, 1.0)
        vals["partner_id"] = self.other_customer.id
        self._assert_refused(
            ValidationError, lambda: self.env["return.order"].create(vals), sale=sale
        )

    def test_changing_the_partner_of_a_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        self._assert_refused(
            ValidationError,
            lambda: order.write({"partner_id": self.other_customer.id}),
            sale=sale,
            orders=order,
        )
        self.assertEqual(order.partner_id, self.customer)

    def test_contact_of_the_customer_is_accepted(self):
        contact = self.env["res.partner"].create(
            {"name": "Anna's colleague", "parent_id": self.customer.id}
        )
        sale = self._delivered_sale(5.0)
        vals = self._return_vals(sale, sale.order_line, 1.0)
        vals["partner_id"] = contact.id
        order = self.env["return.order"].create(vals)
        self.assertEqual(order.partner_id, contact)

    # A9 orders and products that cannot be returned

    def test_quotation_is_refused(self):
        sale = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 2.0}
                    )
                ],
            }
        )
        self.assertEqual(sale.state, "draft")
        self._create_refused(sale, sale.order_line, 1.0)
        self._assert_refused(UserError, sale.action_open_return_wizard, sale=sale)

    def test_cancelled_sale_order_is_refused(self):
        sale = self._delivered_sale(5.0, deliver=False, invoice=False)
        sale._action_cancel()
        self.assertEqual(sale.state, "cancel")
        self._create_refused(sale, sale.order_line, 1.0)
        self._assert_refused(UserError, sale.action_open_return_wizard, sale=sale)

    def test_undelivered_order_is_refused(self):
        sale = self._delivered_sale(5.0, deliver=False, invoice=False)
        self.assertEqual(sale.order_line.return_qty_returnable, 0.0)
        self._create_refused(sale, sale.order_line, 1.0)
        wizard = self._open_wizard_form(sale).save()
        self.assertFalse(wizard.line_ids, "nothing delivered, nothing to offer")

    def test_service_line_is_refused(self):
        service = self._create_product(
            name="Installation", type="service", lst_price=50.0, invoice_policy="order"
        )
        sale = self._create_sale(
            [
                (self.product, 1.0, 100.0, 0.0, self.tax_sale_a),
                (service, 1.0, 50.0, 0.0, self.tax_sale_a),
            ]
        )
        service_line = sale.order_line.filtered(lambda l: l.product_id == service)
        self._create_refused(sale, service_line, 1.0)
        wizard = self._open_wizard_form(sale).save()
        self.assertEqual(wizard.line_ids.product_id, self.product)

    # D3 every state action twice in a row

    def test_submitting_twice_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._submitted(sale)
        self._assert_refused(UserError, order.action_submit, sale=sale, orders=order)
        self.assertEqual(order.state, "to_approve")

    def test_approving_twice_creates_one_receipt(self):
        sale = self._delivered_sale(5.0)
        order = self._approved(sale)
        self.assertEqual(len(order.return_picking_ids), 1)
        self._assert_refused(
            UserError,
            order.with_user(self.manager).action_approve,
            sale=sale,
            orders=order,
        )
        self.assertEqual(len(order.return_picking_ids), 1)

    def test_cancelling_twice_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._approved(sale)
        order.action_cancel()
        self._assert_refused(UserError, order.action_cancel, sale=sale, orders=order)
        self.assertEqual(order.state, "cancel")

    def test_rejecting_twice_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._submitted(sale)
        order.with_user(self.manager).action_reject(reason="Worn")
        self._assert_refused(
            UserError,
            lambda: order.with_user(self.manager).action_reject(reason="Again"),
            sale=sale,
            orders=order,
        )
        self.assertEqual(order.reject_reason, "Worn")

    def test_crediting_twice_creates_one_credit_note(self):
        sale = self._delivered_sale(5.0)
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 2.0)])
        )
        order.action_create_credit_notes()
        self.assertEqual(order.state, "received", "its credit note is a draft")
        self.assertEqual(len(order.credit_note_ids), 1)
        self._assert_refused(
            UserError, order.action_create_credit_notes, sale=sale, orders=order
        )
        order.credit_note_ids.action_post()
        self.assertEqual(order.state, "done")
        self._assert_refused(
            UserError, order.action_create_credit_notes, sale=sale, orders=order
        )
        self.assertEqual(len(order.credit_note_ids), 1)

    def test_crediting_again_while_goods_are_expected_creates_nothing(self):
        sale = self._delivered_sale(5.0)
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 4.0)]), {self.product: 1.0}
        )
        order.action_create_credit_notes()
        self.assertEqual(order.state, "received")
        # its draft credit note holds what can be credited: a clear refusal
        self._assert_refused(
            UserError, order.action_create_credit_notes, sale=sale, orders=order
        )
        order.credit_note_ids.action_post()
        before = self._snapshot(sale, order)
        order.action_create_credit_notes()  # nothing more came in: a no-op
        self.assertEqual(self._snapshot(sale, order), before)
        self.assertEqual(len(order.credit_note_ids), 1)

    def test_approving_a_cancelled_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._submitted(sale)
        order.action_cancel()
        self._assert_refused(
            UserError,
            order.with_user(self.manager).action_approve,
            sale=sale,
            orders=order,
        )
        self.assertFalse(order.return_picking_ids)

    def test_approving_a_rejected_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._submitted(sale)
        order.with_user(self.manager).action_reject(reason="Worn")
        self._assert_refused(
            UserError,
            order.with_user(self.manager).action_approve,
            sale=sale,
            orders=order,
        )
        self.assertFalse(order.return_picking_ids)

    def test_rejecting_an_approved_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._approved(sale)
        self._assert_refused(
            UserError,
            lambda: order.with_user(self.manager).action_reject(reason="Too late"),
            sale=sale,
            orders=order,
        )

    def test_submitting_without_lines_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self.env["return.order"].create({"sale_order_id": sale.id})
        self._assert_refused(UserError, order.action_submit, sale=sale, orders=order)
        self._assert_refused(
            UserError,
            order.with_user(self.manager).action_approve,
            sale=sale,
            orders=order,
        )
        self.assertEqual(order.state, "draft")

    def test_crediting_a_return_not_received_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._approved(sale)
        self._assert_refused(
            UserError, order.action_create_credit_notes, sale=sale, orders=order
        )

    def test_cancelling_after_goods_were_received_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 2.0)])
        )
        self.assertEqual(order.state, "received")
        self._assert_refused(UserError, order.action_cancel, sale=sale, orders=order)
        self.assertEqual(order.return_picking_ids.state, "done")

    def test_deleting_a_draft_return_is_allowed(self):
        sale = self._delivered_sale(5.0)
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        order.unlink()
        self.assertFalse(order.exists())
        self.assertEqual(sale.order_line.return_qty_returnable, 5.0)

    def test_deleting_a_submitted_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._submitted(sale)
        self._assert_refused(UserError, order.unlink, sale=sale, orders=order)

    def test_deleting_an_approved_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._approved(sale)
        self._assert_refused(UserError, order.unlink, sale=sale, orders=order)

    def test_deleting_a_done_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, 2.0)])
        )
        order.action_create_credit_notes()
        self._assert_refused(UserError, order.unlink, sale=sale, orders=order)

    # lines of a return that left draft are frozen

    def test_changing_the_quantity_of_an_approved_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._approved(sale, 2.0)
        self._assert_refused(
            UserError,
            lambda: order.line_ids.write({"quantity": 5.0}),
            sale=sale,
            orders=order,
        )

    def test_deleting_a_line_of_an_approved_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._approved(sale, 2.0)
        self._assert_refused(UserError, order.line_ids.unlink, sale=sale, orders=order)

    def test_adding_a_line_to_an_approved_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        order = self._approved(sale, 2.0)
        line_vals = {
            "sale_line_id": sale.order_line.id,
            "quantity": 1.0,
            "reason_id": self.reason.id,
        }
        self._assert_refused(
            UserError,
            lambda: order.write({"line_ids": [Command.create(line_vals)]}),
            sale=sale,
            orders=order,
        )

    def test_switching_the_sale_order_of_an_approved_return_is_refused(self):
        sale = self._delivered_sale(5.0)
        other_sale = self._delivered_sale(5.0)
        order = self._approved(sale, 2.0)
        self._assert_refused(
            UserError,
            lambda: order.write({"sale_order_id": other_sale.id}),
            sale=sale,
            orders=order,
        )
