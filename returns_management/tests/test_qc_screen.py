from odoo import Command
from odoo.tests import Form, tagged
from odoo.tools import format_amount

from .common import ReturnsCommon

QC_FORM = "returns_management.return_order_view_form_qc"


@tagged("post_install", "-at_install")
class TestQcScreen(ReturnsCommon):
    """The grade buttons of the inspection screen: built from the grade
    records, grading only what is left, asking before they undo work or send
    back refunded goods."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.scrap_location = cls.warehouse._qc_scrap_location()
        cls.policy = cls.env["return.policy"].create(
            {
                "name": "Inspected goods",
                "company_id": cls.company.id,
                "categ_ids": [Command.set(cls.category.ids)],
            }
        )

    def _received(self, quantity):
        """quantity of 5 kettles sold at 100 (15 % tax), returned and received."""
        return self._received_return(self._taxed_sale(), quantity)

    def _press(self, lines, code):
        """The grade button of code on the cards of lines."""
        return lines.with_context(qc_grade=code).action_qc_grade()

    def _confirm(self, action):
        self.assertEqual(action["res_model"], "return.qc.grade.wizard")
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        return wizard, wizard.action_confirm

    def _qc_state(self, order):
        return [
            (q.qc_grade, q.quantity, q.note or False, q.state)
            for q in order.qc_line_ids.sorted("id")
        ]

    # grading what is left ---------------------------------------------------

    def test_grade_button_grades_only_what_is_left(self):
        order = self._received(3.0)
        line = order.line_ids
        self.env["return.qc.line"].create(
            {
                "line_id": line.id,
                "qc_grade": "as_new",
                "quantity": 2.0,
                "note": "Box opened, unused",
            }
        )
        stock = self._quant_qty(self.product, self.stock_location)

        self.assertIs(self._press(line, "major_defect"), True)

        self.assertEqual(
            self._qc_state(order),
            [
                ("as_new", 2.0, "Box opened, unused", "draft"),
                ("major_defect", 1.0, False, "draft"),
            ],
        )
        self.assertEqual(line.qc_grade, "mixed")
        # each card shows where its goods go
        self.assertEqual(
            line.qc_location_dest_ids, self.stock_location | self.scrap_location
        )
        order.action_validate_qc()
        self.assertEqual(
            self._quant_qty(self.product, self.stock_location), stock + 2.0
        )
        self.assertEqual(order.qc_scrap_ids.scrap_qty, 1.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)

    def test_grade_button_asks_before_replacing_grades_given(self):
        order = self._received(2.0)
        line = order.line_ids
        self.env["return.qc.line"].create(
            {
                "line_id": line.id,
                "qc_grade": "as_new",
                "quantity": 2.0,
                "note": "Scratch on the lid",
            }
        )
        before = self._qc_state(order)
        # the same grade again: nothing to do, nothing asked
        self.assertIs(self._press(line, "as_new"), True)
        self.assertEqual(self._qc_state(order), before)

        action = self._press(line, "minor_defect")

        # asked first: nothing changed yet
        wizard, confirm = self._confirm(action)
        self.assertIn("replaces", wizard.warning)
        self.assertIn("notes", wizard.warning)
        self.assertEqual(self._qc_state(order), before)
        confirm()
        self.assertEqual(self._qc_state(order), [("minor_defect", 2.0, False, "draft")])

    def test_grade_button_on_several_lines_asks_once_for_all(self):
        toaster = self._create_returnable_product("Toaster", price=50.0, cost=20.0)
        sale = self._create_sale(
            [
                (self.product, 5.0, 100.0, 0.0, self.tax_sale_a),
                (toaster, 5.0, 50.0, 0.0, self.tax_sale_a),
            ]
        )
        order = self._approve_and_receive(
            self._create_return(
                sale, [(sale.order_line[0], 2.0), (sale.order_line[1], 1.0)]
            )
        )
        kettle_line, toaster_line = order.line_ids
        kettle_line.qc_grade = "as_new"
        before = self._qc_state(order)

        wizard, confirm = self._confirm(self._press(order.line_ids, "minor_defect"))

        self.assertIn("Kettle", wizard.warning)
        self.assertNotIn("Toaster", wizard.warning)
        self.assertEqual(self._qc_state(order), before)
        confirm()
        self.assertEqual(kettle_line.qc_line_ids.mapped("qc_grade"), ["minor_defect"])
        self.assertEqual(kettle_line.qty_graded, 2.0)
        self.assertEqual(toaster_line.qc_line_ids.mapped("qc_grade"), ["minor_defect"])
        self.assertEqual(toaster_line.qty_graded, 1.0)

    def test_grade_button_after_partial_validation_grades_the_rest(self):
        order = self._received(3.0)
        line = order.line_ids
        self.env["return.qc.line"].create(
            {"line_id": line.id, "qc_grade": "as_new", "quantity": 1.0}
        )
        order.action_validate_qc()
        self.assertIs(self._press(line, "minor_defect"), True)
        self.assertEqual(
            self._qc_state(order),
            [("as_new", 1.0, False, "done"), ("minor_defect", 2.0, False, "draft")],
        )

    # grades are records ------------------------------------------------------

    def test_grade_added_by_a_user_is_a_button_and_grades(self):
        grade = self.env["return.qc.grade"].create(
            {
                "name": "Missing parts",
                "code": "missing_parts",
                "default_disposition": "quarantine",
            }
        )
        archived = self.env.ref("returns_management.qc_grade_minor_defect")
        archived.active = False
        order = self._received(1.0)
        line = order.line_ids.with_user(self.return_user)

        self.assertIn(grade, line.qc_grade_choice_ids)
        self.assertNotIn(archived, line.qc_grade_choice_ids)
        active = self.env["return.qc.grade"].search([])
        self.assertEqual(line.qc_grade_choice_ids, active)
        # the screen lists the grade records, no button is written for a grade
        arch = self.env["return.order"].get_view(self.env.ref(QC_FORM).id)["arch"]
        self.assertIn('widget="return_qc_grade_buttons"', arch)
        self.assertNotIn("'qc_grade':", arch)

        self._press(line, "missing_parts")
        self.assertEqual(order.qc_line_ids.grade_id, grade)
        self.assertEqual(
            line.qc_location_dest_ids, self.warehouse.quarantine_location_id
        )
        order.with_user(self.return_user).action_validate_qc()
        self.assertEqual(
            self._quant_qty(self.product, self.warehouse.quarantine_location_id), 1.0
        )

    # sending back goods already refunded -------------------------------------

    def test_sending_back_refunded_goods_asks_and_leaves_accounting_a_todo(self):
        self.policy.write(
            {"refund_trigger": "on_receipt", "auto_post_credit_note": True}
        )
        order = self._received(2.0)
        line = order.line_ids
        credit_note = order.credit_note_ids
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(line.qty_refunded, 2.0)
        credit_line = credit_note.invoice_line_ids.filtered(
            lambda l: l.product_id == self.product
        )
        # the accountant's figures for one kettle: what the credit note gave
        currency = credit_note.currency_id
        untaxed = format_amount(self.env, credit_line.price_subtotal / 2, currency)
        total = format_amount(self.env, credit_line.price_total / 2, currency)
        self.assertEqual(credit_line.price_subtotal, 200.0)
        self.assertAlmostEqual(credit_line.price_total, 230.0)
        self.env["return.qc.line"].create(
            {"line_id": line.id, "qc_grade": "as_new", "quantity": 1.0}
        )

        action = self._press(line, "wrong_item")

        wizard, confirm = self._confirm(action)
        self.assertIn(untaxed, wizard.warning)
        self.assertIn(total, wizard.warning)
        self.assertEqual(self._qc_state(order), [("as_new", 1.0, False, "draft")])
        confirm()
        self.assertEqual(
            self._qc_state(order),
            [("as_new", 1.0, False, "draft"), ("wrong_item", 1.0, False, "draft")],
        )
        order.action_validate_qc()

        todo = order.activity_ids
        self.assertEqual(len(todo), 1)
        self.assertEqual(
            todo.activity_type_id, self.env.ref("mail.mail_activity_data_todo")
        )
        self.assertTrue(todo.user_id.has_group("account.group_account_invoice"))
        note = str(todo.note).replace("&nbsp;", "\xa0")  # as the to-do shows it
        self.assertIn(untaxed, note)
        self.assertIn(total, note)
        # the twin: billing the kettle again by hand, at the credit note's price
        form = Form(
            self.env["account.move"].with_context(default_move_type="out_invoice")
        )
        form.partner_id = order.partner_id
        with form.invoice_line_ids.new() as invoice_line:
            invoice_line.product_id = self.product
            invoice_line.quantity = 1.0
            invoice_line.price_unit = credit_line.price_unit
            invoice_line.tax_ids.clear()
            for tax in credit_line.tax_ids:
                invoice_line.tax_ids.add(tax)
        by_hand = form.save()
        self.assertIn(format_amount(self.env, by_hand.amount_untaxed, currency), note)
        self.assertIn(format_amount(self.env, by_hand.amount_total, currency), note)
        self.assertIn(credit_note.name, note)
        # the goods are on their way back, the credit note untouched
        send_back = order.qc_picking_ids.filtered(
            lambda p: p.location_dest_id == self.customer_location
        )
        self.assertEqual(send_back.move_ids.product_uom_qty, 1.0)
        self.assertEqual(credit_note.amount_untaxed, 200.0)

    def test_sending_back_goods_not_refunded_needs_no_confirmation(self):
        self.policy.refund_trigger = "after_qc"
        order = self._received(1.0)
        self.assertIs(self._press(order.line_ids, "wrong_item"), True)
        order.action_validate_qc()
        self.assertFalse(order.activity_ids)

    def test_draft_refund_of_sent_back_goods_follows_the_grade_without_a_todo(self):
        self.policy.refund_trigger = "on_receipt"
        order = self._received(1.0)
        self.assertEqual(order.line_ids.qty_credit_draft, 1.0)
        # nothing posted: nothing to bill again, nothing to ask
        self.assertIs(self._press(order.line_ids, "wrong_item"), True)
        order.action_validate_qc()
        self.assertFalse(order.activity_ids)
        # the draft follows the grade (as an accountant edits it down): the
        # goods going back are no longer credited, so nothing is to bill again
        self.assertEqual(order.line_ids.qty_credit_draft, 0.0)
        self.assertFalse(
            any("already credited" in body for body in order.message_ids.mapped("body"))
        )

    # the screen ---------------------------------------------------------------

    def test_inspection_screen_is_in_the_inventory_menu_for_returns_users(self):
        menu = self.env.ref("returns_management.return_order_menu_qc_stock")
        self.assertEqual(
            menu.action, self.env.ref("returns_management.return_order_action_qc")
        )
        self.assertEqual(
            menu.parent_id.parent_id, self.env.ref("stock.menu_stock_warehouse_mgmt")
        )
        menus = self.env["ir.ui.menu"]
        self.assertIn(menu.id, menus.with_user(self.return_user)._visible_menu_ids())
        stock_only = self._new_user("stock_only", "stock.group_stock_user")
        self.assertNotIn(menu.id, menus.with_user(stock_only)._visible_menu_ids())

    def test_inspection_form_grades_the_rest_of_a_line(self):
        order = self._received(2.0)
        self.env["return.qc.line"].create(
            {"line_id": order.line_ids.id, "qc_grade": "as_new", "quantity": 1.0}
        )
        self._press(order.line_ids, "major_defect")
        form = Form(order, view=QC_FORM)
        self.assertEqual(len(form.qc_line_ids), 2)
        self.assertEqual(
            [q.location_dest_id for q in order.qc_line_ids.sorted("id")],
            [self.stock_location, self.scrap_location],
        )
