from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import ReturnsCommon


@tagged("post_install", "-at_install")
class TestQc(ReturnsCommon):
    """Inspection grades move real stock: internal transfers per destination,
    Odoo scraps, returns to the customer; the refund follows grade and policy."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kettle = cls.product
        cls.toaster = cls._create_returnable_product("Toaster", price=50.0, cost=20.0)
        cls.refurbish_location = cls.warehouse.refurbish_location_id
        cls.quarantine_location = cls.warehouse.quarantine_location_id
        cls.scrap_location = cls.warehouse._qc_scrap_location()
        cls.grade = {
            code: cls.env.ref(f"returns_management.qc_grade_{code}")
            for code in ("as_new", "minor_defect", "major_defect", "wrong_item")
        }
        cls.policy = cls.env["return.policy"].create(
            {
                "name": "Inspected goods",
                "company_id": cls.company.id,
                "categ_ids": [Command.set(cls.category.ids)],
            }
        )

    def _received(self, quantities):
        """A return of quantities {product: qty} of one sale of 5 of each,
        received into the returns location."""
        sale = self._create_sale(
            [(product, 5.0, 100.0, 0.0, self.tax_sale_a) for product in quantities]
        )
        lines = [
            (sale.order_line.filtered(lambda l, p=product: l.product_id == p), qty)
            for product, qty in quantities.items()
        ]
        return self._approve_and_receive(self._create_return(sale, lines))

    def _line(self, order, product):
        return order.line_ids.filtered(lambda l: l.product_id == product)

    def _grade(self, order, product, grade, quantity, **values):
        return self.env["return.qc.line"].create(
            {
                "line_id": self._line(order, product).id,
                "qc_grade": grade,
                "quantity": quantity,
                **values,
            }
        )

    def _layers_value(self, product):
        return sum(
            self.env["stock.valuation.layer"]
            .search([("product_id", "=", product.id)])
            .mapped("value")
        )

    # routing -----------------------------------------------------------

    def test_every_disposition_moves_real_stock(self):
        order = self._received({self.kettle: 4.0, self.toaster: 2.0})
        sale_line = self._line(order, self.kettle).sale_line_id
        self.assertEqual(self._quant_qty(self.kettle, self.returns_location), 4.0)
        stock_before = self._quant_qty(self.kettle, self.stock_location)
        value_before = self._layers_value(self.kettle)
        self._grade(order, self.kettle, "as_new", 1.0)
        self._grade(order, self.kettle, "minor_defect", 1.0)
        self._grade(order, self.kettle, "major_defect", 1.0)
        self._grade(order, self.kettle, "wrong_item", 1.0)
        self._line(order, self.toaster).qc_grade = "as_new"
        self.assertEqual(order.qc_state, "pending")

        self.assertTrue(order.action_validate_qc())

        # one transfer per destination: kettle and toaster restocked together
        # the internal type, or the returns inspection type when the internal
        # one is archived (no Storage Locations, as on the test database)
        internal_type = self.warehouse._qc_active_type(self.warehouse.int_type_id)
        transfers = order.qc_picking_ids.filtered(
            lambda p: p.picking_type_id == internal_type
        )
        self.assertEqual(len(transfers), 2)
        to_stock = transfers.filtered(
            lambda p: p.location_dest_id == self.stock_location
        )
        self.assertEqual(to_stock.move_ids.product_id, self.kettle | self.toaster)
        self.assertEqual(set(transfers.mapped("state")), {"done"})
        self.assertEqual(
            self._quant_qty(self.kettle, self.stock_location), stock_before + 1.0
        )
        self.assertEqual(self._quant_qty(self.kettle, self.refurbish_location), 1.0)
        self.assertEqual(self._quant_qty(self.toaster, self.returns_location), 0.0)
        # scrap through Odoo's scrap, which books the write-off at cost
        scrap = order.qc_scrap_ids
        self.assertEqual(scrap.state, "done")
        self.assertEqual(scrap.scrap_qty, 1.0)
        self.assertEqual(scrap.location_id, self.returns_location)
        self.assertEqual(self._quant_qty(self.kettle, self.scrap_location), 1.0)
        self.assertEqual(scrap.move_ids.stock_valuation_layer_ids.value, -40.0)
        self.assertEqual(self._layers_value(self.kettle), value_before - 40.0)
        # the wrong item goes back by a return of the receipt, to ship
        send_back = order.qc_picking_ids - transfers
        self.assertEqual(send_back.location_dest_id, self.customer_location)
        self.assertEqual(send_back.return_id, order.return_picking_ids)
        self.assertEqual(send_back.state, "assigned")
        self._validate(send_back)
        # delivered: 5 - 4 back + 1 sent again; no move but the receipt from
        # the customer counts against the sale
        self.assertEqual(sale_line.qty_delivered, 2.0)
        self.assertEqual(len(sale_line.order_id.order_line), 2)
        self.assertEqual(self._quant_qty(self.kettle, self.returns_location), 0.0)
        self.assertEqual(order.qc_state, "done")
        self.assertEqual(order.line_ids.mapped("qc_grade"), ["mixed", "as_new"])

    def test_goods_come_back_at_original_cost_and_restock_keeps_value(self):
        order = self._received({self.kettle: 2.0})
        receipt_layers = order.return_picking_ids.move_ids.stock_valuation_layer_ids
        self.assertEqual(receipt_layers.value, 80.0)
        value = self._layers_value(self.kettle)
        self._line(order, self.kettle).qc_grade = "as_new"
        order.action_validate_qc()
        # an internal transfer is not valued: the books do not move
        self.assertEqual(self._layers_value(self.kettle), value)
        self.assertFalse(order.qc_picking_ids.move_ids.stock_valuation_layer_ids)
        self.assertEqual(order.qc_picking_ids.state, "done")
        self.assertEqual(self._quant_qty(self.kettle, self.returns_location), 0.0)

    def test_scrap_journal_entry_with_automated_valuation(self):
        order = self._received({self.kettle: 1.0})
        self._line(order, self.kettle).qc_grade = "major_defect"
        order.action_validate_qc()
        entry = order.qc_scrap_ids.move_ids.account_move_ids
        self.assertEqual(len(entry), 1)
        accounts = self.category.property_stock_valuation_account_id
        stock_line = entry.line_ids.filtered(lambda l: l.account_id == accounts)
        self.assertEqual(stock_line.credit, 40.0)
        self.assertEqual(sum(entry.line_ids.mapped("debit")), 40.0)

    def test_batch_groups_documents_per_destination(self):
        orders = self.env["return.order"]
        for _i in range(3):
            orders |= self._received({self.kettle: 2.0})
        orders.line_ids.qc_grade = "as_new"
        orders.action_validate_qc()
        pickings = orders.qc_picking_ids
        self.assertEqual(len(pickings), 1)
        self.assertEqual(len(pickings.move_ids), 3)
        self.assertEqual(sum(pickings.move_ids.mapped("quantity")), 6.0)
        self.assertEqual(pickings.state, "done")
        for order in orders:
            self.assertEqual(order.qc_picking_ids, pickings)
            self.assertEqual(order.qc_state, "done")

    def test_transfers_wait_for_the_warehouse_when_configured(self):
        self.warehouse.qc_validate_transfers = False
        order = self._received({self.kettle: 2.0})
        order.line_ids.qc_grade = "minor_defect"
        order.action_validate_qc()
        transfer = order.qc_picking_ids
        self.assertEqual(transfer.state, "assigned")
        self.assertEqual(self._quant_qty(self.kettle, self.refurbish_location), 0.0)
        order.action_create_credit_notes()
        order.credit_note_ids.action_post()
        # credited, but goods still on their way: not done until moved
        self.assertEqual(order.state, "received")
        self._validate(transfer)
        self.assertEqual(self._quant_qty(self.kettle, self.refurbish_location), 2.0)
        self.assertEqual(order.state, "done")

    def test_routing_is_configurable_per_warehouse(self):
        route = self.warehouse.qc_route_ids.filtered(
            lambda r: r.grade_id == self.grade["minor_defect"]
        )
        route.disposition = "quarantine"
        self.assertEqual(route.location_dest_id, self.quarantine_location)
        order = self._received({self.kettle: 1.0})
        order.line_ids.qc_grade = "minor_defect"
        self.assertEqual(order.line_ids.disposition, "quarantine")
        order.action_validate_qc()
        self.assertEqual(self._quant_qty(self.kettle, self.quarantine_location), 1.0)

    def test_new_warehouse_gets_locations_and_routing(self):
        warehouse = self.env["stock.warehouse"].create({"name": "East", "code": "EST"})
        self.assertTrue(warehouse.refurbish_location_id)
        self.assertTrue(warehouse.quarantine_location_id)
        self.assertEqual(warehouse.refurbish_location_id.warehouse_id, warehouse)
        self.assertEqual(warehouse.quarantine_location_id.warehouse_id, warehouse)
        routes = {r.grade_id: r for r in warehouse.qc_route_ids}
        self.assertEqual(
            routes[self.grade["as_new"]].location_dest_id, warehouse.lot_stock_id
        )
        self.assertEqual(routes[self.grade["major_defect"]].disposition, "scrap")
        self.assertEqual(
            routes[self.grade["wrong_item"]].disposition, "return_to_customer"
        )

    def test_new_grade_is_a_record(self):
        grade = self.env["return.qc.grade"].create(
            {
                "name": "Missing parts",
                "code": "missing_parts",
                "default_disposition": "quarantine",
            }
        )
        order = self._received({self.kettle: 1.0})
        order.line_ids.qc_grade = "missing_parts"
        self.assertEqual(order.qc_line_ids.grade_id, grade)
        order.action_validate_qc()
        self.assertEqual(self._quant_qty(self.kettle, self.quarantine_location), 1.0)
        with self.assertRaisesRegex(UserError, "archive it"), self.cr.savepoint():
            grade.unlink()
        grade.active = False
        self.assertEqual(order.line_ids.qc_grade, "missing_parts")

    # partial inspection and re-grading -----------------------------------

    def test_partial_inspection_then_the_rest(self):
        order = self._received({self.kettle: 3.0, self.toaster: 1.0})
        self._line(order, self.kettle).qc_grade = "major_defect"
        # re-grading before validation replaces the grade
        self._line(order, self.kettle).qc_grade = "as_new"
        self.assertEqual(order.qc_line_ids.qc_grade, "as_new")
        self.assertEqual(order.qc_line_ids.quantity, 3.0)
        order.action_validate_qc()
        self.assertEqual(order.qc_state, "pending")
        self.assertFalse(order.qc_scrap_ids)
        # validated grades are final
        with self.assertRaises(UserError), self.cr.savepoint():
            order.qc_line_ids.qc_grade = "major_defect"
        with self.assertRaises(UserError), self.cr.savepoint():
            order.qc_line_ids.unlink()
        self._line(order, self.toaster).qc_grade = "minor_defect"
        order.action_validate_qc()
        self.assertEqual(order.qc_state, "done")
        self.assertEqual(len(order.qc_picking_ids), 2)

    # bad input ------------------------------------------------------------

    def test_bad_input_is_refused_and_changes_nothing(self):
        sale = self._create_sale([(self.kettle, 5.0, 100.0, 0.0, self.tax_sale_a)])
        pending = self._create_return(sale, [(sale.order_line, 2.0)])
        pending.action_submit()
        pending.with_user(self.manager).action_approve()
        # not received yet
        with (
            self.assertRaisesRegex(UserError, "received nothing yet"),
            self.cr.savepoint(),
        ):
            pending.line_ids.qc_grade = "as_new"
        with (
            self.assertRaisesRegex(UserError, "received nothing yet"),
            self.cr.savepoint(),
        ):
            pending.action_validate_qc()
        self._validate(pending.return_picking_ids, {self.kettle: 1.0}, backorder=True)
        # more than received
        with self.assertRaisesRegex(UserError, "only 1.0"), self.cr.savepoint():
            self._grade(pending, self.kettle, "as_new", 2.0)
        with self.assertRaises(ValidationError):
            self._grade(pending, self.kettle, "as_new", 0.0)
        with (
            self.assertRaisesRegex(UserError, "not an inspection grade"),
            self.cr.savepoint(),
        ):
            self._grade(pending, self.kettle, "no_such_grade", 1.0)
        with (
            self.assertRaisesRegex(UserError, "not an inspection grade"),
            self.cr.savepoint(),
        ):
            pending.line_ids.qc_grade = "mixed"
        # nothing graded
        with self.assertRaisesRegex(UserError, "Nothing graded"), self.cr.savepoint():
            pending.action_validate_qc()
        self.assertFalse(pending.qc_line_ids)
        stock = self._quant_qty(self.kettle, self.stock_location)
        pending.line_ids.qc_grade = "as_new"
        pending.action_validate_qc()
        # validating again creates nothing twice
        pickings = pending.qc_picking_ids
        with self.assertRaisesRegex(UserError, "Nothing graded"), self.cr.savepoint():
            pending.action_validate_qc()
        self.assertEqual(pending.qc_picking_ids, pickings)
        self.assertEqual(self._quant_qty(self.kettle, self.stock_location), stock + 1)

    def test_destination_of_another_company_is_refused(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        foreign = self.env["stock.warehouse"].search([("company_id", "=", other.id)])
        route = self.warehouse.qc_route_ids.filtered(
            lambda r: r.grade_id == self.grade["as_new"]
        )
        with self.assertRaises(UserError), self.cr.savepoint():
            route.location_dest_id = foreign.lot_stock_id
        order = self._received({self.kettle: 1.0})
        order.line_ids.qc_grade = "as_new"
        # a route changed behind the checks (SQL) is still refused at validation
        self.env.cr.execute(
            "UPDATE return_qc_route SET location_dest_id = %s WHERE id = %s",
            [foreign.lot_stock_id.id, route.id],
        )
        route.invalidate_recordset()
        with self.assertRaisesRegex(UserError, "another company"), self.cr.savepoint():
            order.action_validate_qc()
        self.assertFalse(order.qc_picking_ids)
        self.assertEqual(order.qc_line_ids.state, "draft")

    def test_goods_gone_from_returns_location_are_refused(self):
        order = self._received({self.kettle: 2.0})
        self.env["stock.quant"]._update_available_quantity(
            self.kettle, self.returns_location, -2.0
        )
        order.line_ids.qc_grade = "as_new"
        with self.assertRaisesRegex(UserError, "no longer in"), self.cr.savepoint():
            order.action_validate_qc()
        self.assertEqual(order.qc_line_ids.state, "draft")

    # refunds by grade and policy -----------------------------------------

    def test_after_qc_credits_on_validation_with_deductions(self):
        self.policy.write(
            {
                "refund_trigger": "after_qc",
                "auto_post_credit_note": True,
                "deduction_ids": [
                    Command.create(
                        {
                            "grade_id": self.grade["minor_defect"].id,
                            "deduction_percent": 30.0,
                        }
                    ),
                    Command.create(
                        {
                            "grade_id": self.grade["major_defect"].id,
                            "deduction_percent": 100.0,
                        }
                    ),
                ],
            }
        )
        self.reason = self.env.ref("returns_management.return_reason_changed_mind")
        order = self._received({self.kettle: 4.0})
        self.assertEqual(order.line_ids.policy_id, self.policy)
        # credited only after inspection
        self.assertFalse(order.credit_note_ids)
        with self.assertRaisesRegex(UserError, "after inspection"), self.cr.savepoint():
            order.action_create_credit_notes()
        self._grade(order, self.kettle, "as_new", 1.0)
        self._grade(order, self.kettle, "minor_defect", 1.0)
        self._grade(order, self.kettle, "major_defect", 1.0)
        self._grade(order, self.kettle, "wrong_item", 1.0)
        order.action_validate_qc()
        credit = order.credit_note_ids
        self.assertEqual(credit.state, "posted")
        # 3 kept units at 100 credited, minus 30 % of one and 100 % of another
        goods = credit.invoice_line_ids.filtered(lambda l: l.product_id == self.kettle)
        self.assertEqual(goods.quantity, 3.0)
        deductions = credit.invoice_line_ids - goods
        self.assertEqual(sorted(deductions.mapped("price_subtotal")), [-100.0, -30.0])
        self.assertAlmostEqual(credit.amount_untaxed, 170.0)
        # reconciled against the invoice
        invoice = order.sale_order_id.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice"
        )
        self.assertEqual(credit.reversed_entry_id, invoice)
        self.assertEqual(credit.payment_state, "paid")
        self.assertEqual(order.line_ids.qty_refunded, 3.0)
        self.assertEqual(order.state, "received")  # the wrong item is on its way
        self._validate(order.qc_picking_ids.filtered(lambda p: p.state != "done"))
        self.assertEqual(order.state, "done")

    def test_as_new_is_refunded_in_full_even_at_customer_fault(self):
        self.policy.write(
            {
                "refund_trigger": "after_qc",
                "deduction_ids": [
                    Command.create(
                        {
                            "grade_id": self.grade["minor_defect"].id,
                            "deduction_percent": 30.0,
                        }
                    )
                ],
            }
        )
        self.reason = self.env.ref("returns_management.return_reason_changed_mind")
        order = self._received({self.kettle: 2.0})
        order.line_ids.qc_grade = "as_new"
        order.action_validate_qc()
        self.assertEqual(order.credit_note_ids.amount_untaxed, 200.0)
        self.assertEqual(order.credit_note_ids.state, "draft")

    def test_no_deduction_when_not_the_customers_fault(self):
        self.policy.write(
            {
                "refund_trigger": "after_qc",
                "deduction_ids": [
                    Command.create(
                        {
                            "grade_id": self.grade["major_defect"].id,
                            "deduction_percent": 50.0,
                        }
                    )
                ],
            }
        )
        order = self._received({self.kettle: 1.0})  # defective: our fault
        order.line_ids.qc_grade = "major_defect"
        order.action_validate_qc()
        self.assertEqual(order.credit_note_ids.amount_untaxed, 100.0)

    def test_on_receipt_credits_when_the_receipt_is_validated(self):
        self.policy.write(
            {"refund_trigger": "on_receipt", "auto_post_credit_note": True}
        )
        order = self._received({self.kettle: 2.0})
        self.assertEqual(order.credit_note_ids.state, "posted")
        self.assertEqual(order.credit_note_ids.amount_untaxed, 200.0)
        self.assertEqual(order.state, "done")
        # inspection still possible afterwards, and moves the goods
        order.line_ids.qc_grade = "as_new"
        order.action_validate_qc()
        self.assertEqual(self._quant_qty(self.kettle, self.returns_location), 0.0)
        self.assertEqual(len(order.credit_note_ids), 1)

    def test_wrong_item_already_credited_on_receipt_is_flagged(self):
        # posted: a draft follows the grade instead (test_qc_credit)
        self.policy.write(
            {"refund_trigger": "on_receipt", "auto_post_credit_note": True}
        )
        order = self._received({self.kettle: 1.0})
        self.assertEqual(order.line_ids.qty_refunded, 1.0)
        posted = order.credit_note_ids
        order.line_ids.qc_grade = "wrong_item"
        order.action_validate_qc()
        bodies = order.message_ids.mapped("body")
        self.assertTrue(any("already credited" in body for body in bodies))
        # a posted credit note is left alone
        self.assertEqual(order.credit_note_ids, posted)
        self.assertEqual(posted.state, "posted")
        self.assertEqual(posted.amount_untaxed, 100.0)

    def test_failed_automatic_refund_leaves_a_todo_not_a_half_state(self):
        self.policy.write(
            {"refund_trigger": "on_receipt", "auto_post_credit_note": True}
        )
        moves = self.env.registry["account.move"]

        def broken(*_args, **_kwargs):
            raise UserError(self.env._("Missing income account"))

        with patch.object(moves, "_return_reverse", broken):
            order = self._received({self.kettle: 1.0})
        # the receipt went through; the refund waits for a person
        self.assertEqual(order.return_picking_ids.state, "done")
        self.assertEqual(order.state, "received")
        self.assertFalse(order.credit_note_ids)
        self.assertIn("Missing income account", order.activity_ids.note)
        # by hand, once; the automatic refund does not credit it again
        order.action_create_credit_notes()
        order._auto_credit("on_receipt")
        self.assertEqual(len(order.credit_note_ids), 1)

    def test_failed_automatic_posting_keeps_the_draft_and_a_todo(self):
        self.policy.write({"refund_trigger": "after_qc", "auto_post_credit_note": True})
        order = self._received({self.kettle: 1.0})
        order.line_ids.qc_grade = "as_new"

        def broken(*_args, **_kwargs):
            raise UserError(self.env._("Fiscal period locked"))

        with patch.object(self.env.registry["account.move"], "action_post", broken):
            order.action_validate_qc()
        self.assertEqual(order.qc_state, "done")
        self.assertEqual(order.credit_note_ids.state, "draft")
        self.assertIn("Fiscal period locked", order.activity_ids.note)

    def test_manual_trigger_waits_for_the_button(self):
        order = self._received({self.kettle: 2.0})
        self.assertEqual(order.line_ids.policy_id.refund_trigger, "manual")
        order.line_ids.qc_grade = "as_new"
        order.action_validate_qc()
        self.assertFalse(order.credit_note_ids)
        self.assertEqual(self._quant_qty(self.kettle, self.returns_location), 0.0)
        order.action_create_credit_notes()
        self.assertEqual(len(order.credit_note_ids), 1)

    def test_wrong_item_is_not_refunded_by_hand_either(self):
        order = self._received({self.kettle: 2.0})
        self._grade(order, self.kettle, "wrong_item", 1.0)
        self._grade(order, self.kettle, "as_new", 1.0)
        order.action_validate_qc()
        order.action_create_credit_notes()
        self.assertEqual(order.line_ids.qty_credit_draft, 1.0)
        self.assertEqual(order.credit_note_ids.amount_untaxed, 100.0)

    def test_validation_by_rpc_values_only(self):
        order = self._received({self.kettle: 2.0})
        order.line_ids.write({"qc_grade": "minor_defect"})
        order.invalidate_recordset()
        self.assertEqual(order.line_ids.qc_grade, "minor_defect")
        self.assertEqual(order.line_ids.disposition, "refurbish")
        order.action_validate_qc()
        self.assertEqual(order.line_ids.qty_inspected, 2.0)

    def test_qc_screen_grades_with_buttons(self):
        order = self._received({self.kettle: 1.0, self.toaster: 1.0})
        action = order.action_open_qc()
        self.assertEqual(action["res_id"], order.id)
        self._line(order, self.kettle).with_context(qc_grade="as_new").action_qc_grade()
        self._line(order, self.toaster).with_context(
            qc_grade="major_defect"
        ).action_qc_grade()
        form = Form(order, view="returns_management.return_order_view_form_qc")
        self.assertEqual(len(form.qc_line_ids), 2)
        order.action_validate_qc()
        self.assertEqual(order.qc_state, "done")
        self.assertEqual(order.qc_scrap_ids.product_id, self.toaster)
