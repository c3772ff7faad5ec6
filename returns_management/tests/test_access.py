from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import ReturnsCommon

OPERATIONS = ("read", "write", "create", "unlink")
MODELS = (
    "return.order",
    "return.order.line",
    "return.reason",
    "return.order.create.wizard",
    "return.order.create.wizard.line",
    "return.order.reject.wizard",
    "return.qc.grade.wizard",
)


@tagged("post_install", "-at_install")
class TestReturnAccess(ReturnsCommon):
    """ACLs per role, server-side approval rights, draft credit notes (B1-B3)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = cls._new_user("return_portal", "base.group_portal")
        cls.employee = cls._new_user("return_employee", "base.group_user")

    # helpers

    def _delivered_sale(self, qty=5.0):
        return self._create_sale([(self.product, qty, 100.0, 0.0, self.tax_sale_a)])

    def _submitted_return(self, qty=2.0):
        sale = self._delivered_sale()
        order = self._create_return(sale, [(sale.order_line, qty)])
        order.action_submit()
        return order

    def _assert_acl(self, user, expected):
        """expected maps each model to the operations the user may run."""
        for model in MODELS:
            for operation in OPERATIONS:
                with self.subTest(model=model, operation=operation):
                    self.assertEqual(
                        self.env[model].with_user(user).has_access(operation),
                        operation in expected.get(model, ()),
                    )

    def _visible_menus(self, user):
        return self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()

    # B1 ACL matrix per role

    def test_portal_user_has_no_access_to_any_returns_model(self):
        self._assert_acl(self.portal_user, {})

    def test_employee_without_returns_rights_has_no_access(self):
        self._assert_acl(self.employee, {})

    def test_returns_user_acl(self):
        self._assert_acl(
            self.return_user,
            {
                "return.order": ("read", "write", "create"),
                "return.order.line": OPERATIONS,
                "return.reason": ("read",),
                "return.order.create.wizard": ("read", "write", "create"),
                "return.order.create.wizard.line": ("read", "write", "create"),
                "return.qc.grade.wizard": ("read", "write", "create"),
            },
        )

    def test_returns_manager_acl(self):
        self._assert_acl(
            self.manager,
            {
                "return.order": OPERATIONS,
                "return.order.line": OPERATIONS,
                "return.reason": OPERATIONS,
                "return.order.create.wizard": ("read", "write", "create"),
                "return.order.create.wizard.line": ("read", "write", "create"),
                "return.order.reject.wizard": ("read", "write", "create"),
                "return.qc.grade.wizard": ("read", "write", "create"),
            },
        )

    def test_portal_user_cannot_read_search_or_create_returns(self):
        order = self._submitted_return()
        sale = order.sale_order_id
        returns = self.env["return.order"].with_user(self.portal_user)
        with self.assertRaises(AccessError):
            returns.browse(order.id).read(["name", "state"])
        with self.assertRaises(AccessError):
            returns.search([])
        with self.assertRaises(AccessError):
            returns.create({"sale_order_id": sale.id})
        with self.assertRaises(AccessError):
            self.env["return.reason"].with_user(self.portal_user).search([])
        self.assertEqual(sale.return_order_count, 1)

    def test_employee_cannot_read_or_create_returns(self):
        order = self._submitted_return()
        sale = order.sale_order_id
        returns = self.env["return.order"].with_user(self.employee)
        with self.assertRaises(AccessError):
            returns.browse(order.id).read(["name", "state"])
        with self.assertRaises(AccessError):
            returns.create({"sale_order_id": sale.id})
        with self.assertRaises(AccessError):
            order.with_user(self.employee).action_submit()
        with self.assertRaises(AccessError):
            self.env["return.order.line"].with_user(self.employee).browse(
                order.line_ids.id
            ).read(["quantity"])
        self.assertEqual(sale.return_order_count, 1)

    def test_employee_cannot_change_a_return(self):
        order = self._submitted_return()
        with self.assertRaises(AccessError):
            order.with_user(self.employee).write({"note": "<p>hello</p>"})
        with self.assertRaises(AccessError):
            order.with_user(self.employee).action_cancel()
        self.assertEqual(order.state, "to_approve")
        self.assertFalse(order.note)

    def test_employee_cannot_open_the_wizards(self):
        sale = self._delivered_sale()
        with self.assertRaises(AccessError):
            self.env["return.order.create.wizard"].with_user(self.employee).create(
                {"sale_order_id": sale.id}
            )
        with self.assertRaises(AccessError):
            self.env["return.order.reject.wizard"].with_user(self.employee).create(
                {"reason": "No"}
            )

    def test_returns_user_creates_edits_and_submits_a_return(self):
        sale = self._delivered_sale()
        order = self._create_return(
            sale, [(sale.order_line, 2.0)], user=self.return_user
        )
        order.write({"note": "<p>Box damaged</p>"})
        order.line_ids.write({"quantity": 1.0})
        order.action_submit()
        self.assertEqual(order.state, "to_approve")
        self.assertEqual(order.line_ids.quantity, 1.0)

    def test_returns_user_uses_the_create_wizard(self):
        sale = self._delivered_sale()
        wizard = self._filled_wizard(sale, 1.0, user=self.return_user)
        result = wizard.action_create_return()
        order = self.env["return.order"].browse(result["res_id"])
        self.assertEqual(order.line_ids.quantity, 1.0)
        self.assertEqual(order.create_uid, self.return_user)

    def test_returns_user_submits_from_the_create_wizard(self):
        sale = self._delivered_sale()
        wizard = self._filled_wizard(sale, 1.0, user=self.return_user)
        result = wizard.action_create_and_submit()
        order = self.env["return.order"].browse(result["res_id"])
        self.assertEqual(order.state, "to_approve")
        self.assertEqual(order.create_uid, self.return_user)
        # the escalation reaches a manager, whom a returns user cannot list
        self.assertEqual(order.policy_verdict, "escalate")
        todo = order.activity_ids
        self.assertEqual(len(todo), 1)
        self.assertTrue(
            todo.user_id.has_group("returns_management.group_return_manager")
        )

    def test_returns_user_cannot_delete_a_return(self):
        sale = self._delivered_sale()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        with self.assertRaises(AccessError):
            order.with_user(self.return_user).unlink()
        self.assertTrue(order.exists())

    def test_returns_user_can_read_but_not_change_reasons(self):
        reasons = self.env["return.reason"].with_user(self.return_user)
        self.assertIn(self.reason, reasons.search([]))
        with self.assertRaises(AccessError):
            reasons.create({"name": "Too big"})
        with self.assertRaises(AccessError):
            self.reason.with_user(self.return_user).write({"name": "Broken"})
        with self.assertRaises(AccessError):
            self.reason.with_user(self.return_user).unlink()
        self.assertTrue(self.reason.exists())
        self.assertNotEqual(self.reason.name, "Broken")

    def test_returns_user_cannot_use_the_reject_wizard(self):
        order = self._submitted_return()
        with self.assertRaises(AccessError):
            self.env["return.order.reject.wizard"].with_user(self.return_user).create(
                {"return_order_ids": [Command.set(order.ids)], "reason": "No"}
            )
        self.assertEqual(order.state, "to_approve")

    def test_manager_deletes_a_draft_return(self):
        sale = self._delivered_sale()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        order.with_user(self.manager).unlink()
        self.assertFalse(order.exists())

    def test_manager_configures_reasons(self):
        reasons = self.env["return.reason"].with_user(self.manager)
        reason = reasons.create({"name": "Too big", "code": "TOO_BIG"})
        reason.write({"customer_fault": True})
        self.assertTrue(reason.customer_fault)
        reason.unlink()
        self.assertFalse(reason.exists())

    def test_manager_rejects_through_the_wizard(self):
        order = self._submitted_return()
        action = order.with_user(self.manager).action_reject()
        form = Form(
            self.env[action["res_model"]]
            .with_user(self.manager)
            .with_context(**action["context"])
        )
        form.reason = "Item was used"
        form.save().action_reject()
        self.assertEqual(order.state, "rejected")

    # B2 approve and reject are enforced server-side

    def test_returns_user_cannot_approve_over_rpc(self):
        order = self._submitted_return()
        with self.assertRaises(AccessError):
            order.with_user(self.return_user).action_approve()
        self.assertEqual(order.state, "to_approve")
        self.assertFalse(order.date_approved)
        self.assertFalse(order.return_picking_ids)

    def test_returns_user_cannot_reject_over_rpc(self):
        order = self._submitted_return()
        with self.assertRaises(AccessError):
            order.with_user(self.return_user).action_reject(reason="No")
        self.assertEqual(order.state, "to_approve")
        self.assertFalse(order.reject_reason)

    def test_returns_user_cannot_open_the_reject_wizard_over_rpc(self):
        order = self._submitted_return()
        with self.assertRaises(AccessError):
            order.with_user(self.return_user).action_reject()
        self.assertEqual(order.state, "to_approve")

    def test_returns_user_cannot_approve_a_batch(self):
        first = self._submitted_return()
        second = self._submitted_return()
        orders = first | second
        with self.assertRaises(AccessError):
            orders.with_user(self.return_user).action_approve()
        self.assertEqual(orders.mapped("state"), ["to_approve", "to_approve"])
        self.assertFalse(orders.return_picking_ids)

    # B3 draft credit notes without billing rights

    def _received_by_returns_user(self):
        sale = self._delivered_sale()
        order = self._create_return(
            sale, [(sale.order_line, 2.0)], user=self.return_user
        )
        order.action_submit()
        order.with_user(self.manager).action_approve()
        self._validate(order.return_picking_ids.with_user(self.return_user))
        self.assertEqual(order.state, "received")
        return order.with_user(self.env.user)

    def test_returns_user_without_billing_rights_creates_a_draft_credit_note(self):
        self.assertFalse(self.return_user.has_group("account.group_account_invoice"))
        order = self._received_by_returns_user()
        order.with_user(self.return_user).action_create_credit_notes()
        credit_note = order.credit_note_ids
        self.assertEqual(len(credit_note), 1)
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.state, "draft")
        self.assertEqual(credit_note.invoice_line_ids.quantity, 2.0)
        self.assertEqual(order.state, "received", "done once an accountant posts it")
        self.assertEqual(order.line_ids.qty_credit_draft, 2.0)

    def test_returns_user_without_billing_rights_cannot_post_the_credit_note(self):
        order = self._received_by_returns_user()
        order.with_user(self.return_user).action_create_credit_notes()
        credit_note = order.credit_note_ids
        with self.assertRaises(AccessError):
            credit_note.with_user(self.return_user).action_post()
        self.assertEqual(credit_note.state, "draft")
        invoice = order.sale_order_id.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice"
        )
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_accountant_posts_the_credit_note_of_a_returns_user(self):
        order = self._received_by_returns_user()
        order.with_user(self.return_user).action_create_credit_notes()
        credit_note = order.credit_note_ids
        # the test user holds the accounting rights
        credit_note.action_post()
        self.assertEqual(credit_note.state, "posted")

    # menus

    def test_returns_user_sees_the_returns_menu(self):
        root = self.env.ref("returns_management.return_order_menu_root")
        returns_menu = self.env.ref("returns_management.return_order_menu")
        config_menu = self.env.ref("returns_management.return_order_menu_config")
        visible = self._visible_menus(self.return_user)
        self.assertIn(root.id, visible)
        self.assertIn(returns_menu.id, visible)
        self.assertNotIn(config_menu.id, visible)

    def test_manager_sees_the_configuration_menu(self):
        config_menu = self.env.ref("returns_management.return_order_menu_config")
        self.assertIn(config_menu.id, self._visible_menus(self.manager))

    def test_employee_does_not_see_the_returns_menu(self):
        root = self.env.ref("returns_management.return_order_menu_root")
        self.assertNotIn(root.id, self._visible_menus(self.employee))

    def test_credit_action_returned_to_a_returns_user_opens_the_credit_note(self):
        order = self._received_by_returns_user()
        action = order.with_user(self.return_user).action_create_credit_notes()
        self.assertEqual(action["res_model"], "account.move")
        self.assertEqual(action["res_id"], order.credit_note_ids.id)
