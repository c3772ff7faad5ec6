from lxml import etree

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval
from odoo.tools.translate import TranslationModuleReader

from .common import ReturnsCommon, return_by_hand

PENDING_STATES = ("draft", "to_approve")


@tagged("post_install", "-at_install")
class TestConventions(ReturnsCommon):
    """Rights, translatable messages, honest forms (issue item 9 and 10)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = cls._new_user(
            "billing_only", "account.group_account_invoice"
        )
        cls.stock_user = cls._new_user("stock_only", "stock.group_stock_user")
        cls.stock_manager = cls._new_user("stock_manager", "stock.group_stock_manager")
        cls.salesman = cls._new_user(
            "salesman_only", "sales_team.group_sale_salesman_all_leads"
        )
        cls.returns_only_user = cls._new_user(
            "returns_only", "returns_management.group_return_user"
        )

    # helpers

    def _returned_sale(self):
        """A delivered and invoiced sale with a received return of 2 units."""
        sale = self._taxed_sale()
        order = self._received_return(sale, 2.0)
        return sale, order

    def _view_fields(self, model, user, view_type="form"):
        views = self.env[model].with_user(user).get_views([(False, view_type)])
        return views["models"][model]["fields"]

    def _web_read_form(self, records, user):
        """What the web client reads to open the records' form view."""
        fields = self._view_fields(records._name, user)
        return records.with_user(user).web_read({name: {} for name in fields})

    def _arch_fields(self, model, view_type, user=None):
        records = self.env[model].with_user(user) if user else self.env[model]
        arch = records.get_views([(False, view_type)])["views"][view_type]["arch"]
        return etree.fromstring(arch)

    def _visible_field_names(self, model, view_type):
        tree = self._arch_fields(model, view_type)
        return {
            node.get("name")
            for node in tree.iter("field")
            if node.get("invisible") not in ("1", "True")
            and node.get("column_invisible") not in ("1", "True")
        }

    def _code_terms(self):
        reader = TranslationModuleReader(self.env.cr, modules=["returns_management"])
        return {
            source for _m, ttype, _n, _r, source, _v, _c in reader if ttype == "code"
        }

    def _assert_whole_translatable_sentence(self, message, **placeholders):
        """message is one exported source term with only placeholders filled."""
        for term in self._code_terms():
            try:
                if term % placeholders == message:
                    return
            except (KeyError, TypeError, ValueError):
                continue
        self.fail(f"{message!r} is not one translatable sentence")

    # 9a: returns rights only

    def test_returns_user_group_implies_no_sales_or_stock_group(self):
        group = self.env.ref("returns_management.group_return_user")
        implied = group.trans_implied_ids
        self.assertNotIn(
            self.env.ref("sales_team.group_sale_salesman_all_leads"), implied
        )
        self.assertNotIn(self.env.ref("sales_team.group_sale_salesman"), implied)
        self.assertNotIn(self.env.ref("stock.group_stock_user"), implied)
        self.assertFalse(self.returns_only_user.has_group("stock.group_stock_user"))
        self.assertFalse(
            self.returns_only_user.has_group("sales_team.group_sale_salesman")
        )

    def test_returns_user_without_sales_rights_cannot_return_a_sale_order(self):
        sale = self._taxed_sale()
        with self.assertRaises(AccessError):
            self._create_return(
                sale, [(sale.order_line, 1.0)], user=self.returns_only_user
            )
        self.assertFalse(sale.return_order_ids)

    def test_returns_user_with_sales_and_stock_groups_runs_the_flow(self):
        user = self.return_user
        self.assertTrue(user.has_group("sales_team.group_sale_salesman_all_leads"))
        self.assertTrue(user.has_group("stock.group_stock_user"))
        sale = self._taxed_sale()
        action = sale.with_user(user).action_open_return_wizard()
        wizard = Form(
            self.env[action["res_model"]]
            .with_user(user)
            .with_context(**action["context"])
        )
        with wizard.line_ids.edit(0) as line:
            line.quantity = 2.0
        result = wizard.save().action_create_return()
        order = self.env["return.order"].with_user(user).browse(result["res_id"])
        order.action_submit()
        self.assertEqual(order.state, "to_approve")
        order.with_user(self.manager).action_approve()
        self._validate(order.return_picking_ids.with_user(user))
        self.assertEqual(order.state, "received")
        order.action_create_credit_notes()
        self.assertEqual(order.state, "received", "its credit note is a draft")
        self.assertEqual(order.credit_note_ids.state, "draft")

    # 9b: returns counts on shared documents need returns rights only to see

    def test_billing_user_opens_the_invoice_of_a_returned_order(self):
        sale, _order = self._returned_sale()
        invoice = sale.invoice_ids
        self.assertEqual(invoice.return_order_count, 1)
        self.env.invalidate_all()  # counts have no dependencies: a new request
        # (core itself refuses a billing user read() of every invoice field)
        values = self._web_read_form(invoice, self.billing_user)[0]
        self.assertNotIn("return_order_count", values)
        self.assertEqual(values["name"], invoice.name)

    def test_stock_user_opens_the_delivery_and_receipt_of_a_returned_order(self):
        sale, order = self._returned_sale()
        pickings = sale.picking_ids
        self.assertEqual(len(pickings), 2)
        self.assertIn(order.return_picking_ids, pickings)
        self.assertEqual(pickings.mapped("return_order_count"), [1, 1])
        self.env.invalidate_all()  # counts have no dependencies: a new request
        self._web_read_form(pickings, self.stock_user)
        values = pickings.with_user(self.stock_user).read()
        self.assertNotIn("return_order_ids", values[0])

    def test_salesman_opens_a_returned_sale_order(self):
        sale, _order = self._returned_sale()
        self.assertEqual(sale.return_order_count, 1)
        self.env.invalidate_all()  # counts have no dependencies: a new request
        self._web_read_form(sale, self.salesman)
        values = sale.with_user(self.salesman).read()[0]
        self.assertNotIn("return_order_count", values)

    def test_returns_user_sees_the_return_counts(self):
        sale, order = self._returned_sale()
        user = self.return_user
        self.env.invalidate_all()  # the counts have no dependencies: a new request
        self.assertIn("return_order_count", self._view_fields("sale.order", user))
        self.assertEqual(sale.with_user(user).return_order_count, 1)
        self.assertEqual(sale.invoice_ids.with_user(user).return_order_ids, order)
        delivery = sale.picking_ids - order.return_picking_ids
        self.assertEqual(delivery.with_user(user).return_order_ids, order)

    # 9c: every message is one translatable sentence

    def _assert_refusal_is_one_sentence(self, order, refusal):
        with self.assertRaises(UserError) as caught:
            refusal()
        self._assert_whole_translatable_sentence(
            caught.exception.args[0], names=order.name
        )

    def test_state_refusals_are_whole_translatable_sentences(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        manager_order = order.with_user(self.manager)
        order.action_submit()
        for refusal in (
            order.action_submit,
            order.action_draft,
            order.action_create_credit_notes,
        ):
            with self.subTest(state="to_approve", refusal=refusal.__name__):
                self._assert_refusal_is_one_sentence(order, refusal)
        manager_order.action_approve()
        for refusal in (
            manager_order.action_approve,
            manager_order.action_reject,
            lambda: manager_order.action_reject(reason="No"),
            lambda: order.line_ids.write({"quantity": 2.0}),
        ):
            with self.subTest(state="approved", refusal=refusal.__name__):
                self._assert_refusal_is_one_sentence(order, refusal)
        self._validate(order.return_picking_ids)
        self.assertEqual(order.state, "received")
        self._assert_refusal_is_one_sentence(order, order.action_cancel)

    def test_batch_failure_note_is_one_translatable_sentence(self):
        good_sale, broken_sale = self._taxed_sale(), self._taxed_sale()
        good = self._create_return(good_sale, [(good_sale.order_line, 2.0)])
        broken = self._create_return(broken_sale, [(broken_sale.order_line, 2.0)])
        (good | broken).action_submit()
        return_by_hand(broken_sale, 5.0)
        notes_before = broken.message_ids

        (good | broken).with_user(self.manager).action_approve()

        note = broken.message_ids - notes_before
        self.assertEqual(len(note), 1)
        body = etree.fromstring(f"<div>{note.body}</div>").xpath("string()")
        error = body.split(": ", 1)[1]
        self._assert_whole_translatable_sentence(body, error=error)

    def test_no_verb_fragment_is_exported_for_translation(self):
        fragments = {"submit", "approve", "reject", "cancel", "reset", "credit"}
        self.assertFalse(fragments & {t.lower() for t in self._code_terms()})

    # 9d: the warehouse is the delivery's, not editable

    def test_warehouse_is_read_only_in_the_form_and_model(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        self.assertTrue(order._fields["warehouse_id"].readonly)
        other = self.env["stock.warehouse"].create({"name": "Other", "code": "OTH"})
        form = Form(order)
        with self.assertRaises(AssertionError):
            form.warehouse_id = other
        self.assertEqual(
            order.warehouse_id, sale.picking_ids.picking_type_id.warehouse_id
        )

    def test_warehouse_is_the_one_receiving_the_goods(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        order.action_submit()
        order.with_user(self.manager).action_approve()
        self.assertEqual(
            order.return_picking_ids.location_dest_id,
            order.warehouse_id.return_location_id,
        )

    # 9e: the returns location is configurable

    def test_stock_manager_configures_where_returns_arrive(self):
        new_location = self.env["stock.location"].create(
            {
                "name": "Returns desk",
                "usage": "internal",
                "location_id": self.warehouse.view_location_id.id,
            }
        )
        form = Form(self.warehouse.with_user(self.stock_manager))
        form.return_location_id = new_location
        form.save()
        self.assertEqual(self.warehouse.return_location_id, new_location)

        sale = self._taxed_sale()
        order = self._received_return(sale, 2.0)

        receipt = order.return_picking_ids
        self.assertEqual(receipt.location_dest_id, new_location)
        self.assertEqual(receipt.move_ids.location_dest_id, new_location)
        self.assertEqual(self._quant_qty(self.product, new_location), 2.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)

    def test_returns_location_must_be_internal(self):
        with self.assertRaises(ValidationError):
            self.warehouse.return_location_id = self.customer_location
        self.assertEqual(self.warehouse.return_location_id, self.returns_location)

    def test_stock_user_cannot_change_the_returns_location(self):
        with self.assertRaises(AccessError):
            self.warehouse.with_user(
                self.stock_user
            ).return_location_id = self.stock_location

    # 9f: the form lets edit the lines exactly when the model does

    def test_form_line_rule_matches_the_model(self):
        tree = self._arch_fields("return.order", "form")
        expression = tree.xpath("//field[@name='line_ids']")[0].get("readonly")
        for state, _label in self.env["return.order"]._fields["state"].selection:
            with self.subTest(state=state):
                self.assertEqual(
                    bool(safe_eval(expression, {"state": state})),
                    state not in PENDING_STATES,
                )

    def test_manager_adjusts_quantities_of_a_submitted_return_in_the_form(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        order.action_submit()
        form = Form(order.with_user(self.manager))
        with form.line_ids.edit(0) as line:
            line.quantity = 1.0
        form.save()
        self.assertEqual(order.line_ids.quantity, 1.0)
        order.with_user(self.manager).action_approve()
        self.assertEqual(order.return_picking_ids.move_ids.product_uom_qty, 1.0)

    def test_lines_are_fixed_after_approval_in_form_and_model(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        order.action_submit()
        order.with_user(self.manager).action_approve()
        form = Form(order.with_user(self.manager))
        with self.assertRaises(AssertionError):
            with form.line_ids.edit(0) as line:
                line.quantity = 1.0
        with self.assertRaises(UserError):
            order.line_ids.write({"quantity": 1.0})
        self.assertEqual(order.line_ids.quantity, 2.0)

    # 10: nothing offered that does not work yet

    def test_share_is_not_offered(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        toolbar = (
            self.env["return.order"]
            .get_views([(False, "form")], {"toolbar": True})["views"]["form"]
            .get("toolbar", {})
        )
        actions = [action for actions in toolbar.values() for action in actions]
        self.assertFalse([a for a in actions if a.get("res_model") == "portal.share"])
        with self.assertRaises(UserError):
            order.with_context(
                active_id=order.id, active_model="return.order"
            ).action_share()

    def test_links_never_lead_to_the_missing_portal_page(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        action = order._get_access_action(force_website=True)
        self.assertEqual(action["type"], "ir.actions.act_window")
        portal_user = self._new_user("returns_portal", "base.group_portal")
        action = order._get_access_action(access_uid=portal_user.id)
        self.assertEqual(action["type"], "ir.actions.act_window")

        message = order.message_post(body="Your return", message_type="comment")
        groups = order._notify_get_recipients_groups(message, "Return")
        for name, _check, data in groups:
            if name in ("portal", "portal_customer", "customer"):
                with self.subTest(group=name):
                    self.assertFalse(data.get("has_button_access"))

    def test_form_hides_what_is_not_built(self):
        visible = self._visible_field_names("return.order", "form")
        self.assertNotIn("origin", visible)
        self.assertNotIn("resolution", visible)
        reason_columns = self._visible_field_names("return.reason", "list")
        # customer_fault is shown: return policies charge fees on it
        self.assertIn("customer_fault", reason_columns)
        for name in ("requires_qc", "default_resolution"):
            with self.subTest(field=name):
                self.assertNotIn(name, reason_columns)

    def test_public_names_are_kept(self):
        origin = self.env["return.order"]._fields["origin"]
        self.assertEqual(
            [key for key, _label in origin.selection],
            ["backend", "portal", "email", "api"],
        )
        for model, name in (
            ("return.reason", "customer_fault"),
            ("return.reason", "requires_qc"),
            ("return.reason", "default_resolution"),
            ("return.order.line", "resolution"),
            ("return.order", "warehouse_id"),
        ):
            with self.subTest(field=name):
                self.assertIn(name, self.env[model]._fields)
