from datetime import datetime

from odoo import Command, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from .common import ReturnsCommon

DELIVERED = datetime(2026, 3, 1, 10, 0)
PROTECTED_MODELS = (
    "return.order",
    "return.order.line",
    "return.qc.line",
    "stock.picking",
    "stock.move",
    "stock.scrap",
    "account.move",
    "account.move.line",
    "stock.return.picking",
    "stock.return.picking.line",
)


@tagged("post_install", "-at_install")
class TestProtectedFields(ReturnsCommon):
    """What decides for a user, or records a decision, is never written by
    a user: not on create, write, import or copy, not by a manager either."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.tz = "UTC"
        cls.scrap_location = cls.warehouse._qc_scrap_location()

    # helpers

    def _policy(self, **values):
        return self.env["return.policy"].create(
            {"name": "Test policy", "sequence": 5, **values}
        )

    def _sale(self, qty=5.0, delivered=DELIVERED):
        sale = self._create_sale([(self.product, qty, 100.0, 0.0, self.tax_sale_a)])
        sale.picking_ids.move_ids.date = delivered
        return sale

    def _user_return(self, sale, qty=1.0):
        return self._create_return(
            sale, [(sale.order_line, qty)], user=self.return_user
        ).with_user(self.return_user)

    def _snapshot(self, records, names):
        records.invalidate_recordset()
        return [
            {name: record[name] for name in names}
            for record in records.with_user(self.env.user)
        ]

    def _assert_refused(self, records, vals_list, names=None):
        """Each write of vals_list refused to the returns user and to a
        manager, with nothing changed."""
        names = names or sorted({name for vals in vals_list for name in vals})
        before = self._snapshot(records, names)
        for user in (self.return_user, self.manager):
            for vals in vals_list:
                with (
                    self.subTest(user=user.login, vals=vals),
                    self.assertRaises(UserError),
                ):
                    records.with_user(user).write(vals)
        self.assertEqual(self._snapshot(records, names), before)

    def _inspected_by_scrap(self):
        sale = self._sale()
        order = self._received_return(sale, 2.0)
        order = order.with_user(self.return_user)
        order.line_ids.write({"qc_grade": "major_defect"})
        order.action_validate_qc()
        return order

    # the return: its state, its decision and what follows from the sale

    def test_return_decision_fields_are_refused_on_write(self):
        sale = self._sale()
        order = self._user_return(sale)
        order.action_submit()
        other_warehouse = self.env["stock.warehouse"].create(
            {"name": "Other", "code": "OTW"}
        )
        activity = order.activity_ids[:1]
        self._assert_refused(
            order,
            [
                {"state": "approved"},
                {"date_approved": fields.Datetime.now()},
                {"policy_verdict": "auto_approve"},
                {"policy_verdict_note": "Approved"},
                {"override_reason": "Because"},
                {"policy_activity_id": False},
                {"over_receipt_activity_id": activity.id},
                {"overdue_kind": "credit"},
                {"warehouse_id": other_warehouse.id},
                {"company_id": self.company.id},
                {"picking_id": False},
                {"amount_untaxed": 1.0},
                {"has_over_receipt": True},
                {"qc_state": "done"},
                {"qc_picking_ids": [Command.set(sale.picking_ids.ids)]},
                # the documents' side of the links
                {"return_picking_ids": [Command.link(sale.picking_ids.id)]},
                {"credit_note_ids": [Command.link(sale.invoice_ids.id)]},
            ],
        )

    def test_return_created_with_a_decision_is_refused(self):
        sale = self._sale()
        returns = self.env["return.order"].with_user(self.return_user)
        for vals in (
            {"policy_verdict": "auto_approve"},
            {"overdue_kind": "decision"},
            {"amount_untaxed": 0.0},
            {"warehouse_id": self.warehouse.id},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                returns.create({"sale_order_id": sale.id, **vals})
        self.assertFalse(sale.return_order_ids)

    # the lines: what the policies judge and the credit notes refund

    def test_line_decision_fields_are_refused_on_write(self):
        sale = self._sale()
        order = self._user_return(sale)
        other_sale = self._sale()
        self._assert_refused(
            order.line_ids,
            [
                {"refund_amount": 1.0},
                {"price_unit": 1.0},
                {"discount": 90.0},
                {"tax_ids": [Command.clear()]},
                {"product_id": self.product.id},
                {"move_id": other_sale.picking_ids.move_ids.id},
                {"state": "done"},
                {"company_id": self.company.id},
                {"partner_id": self.other_customer.id},
                {"qty_received": 1.0},
                {"qty_refunded": 1.0},
                {"qty_credit_draft": 1.0},
                {"qty_sent_back": 1.0},
                {"qty_sending_back": 1.0},
                {"qty_over_received": 1.0},
                {"qty_unordered": 1.0},
                {"qty_graded": 1.0},
                {"qty_inspected": 1.0},
                {"refund_trigger": "on_receipt"},
                {"policy_id": False},
                {"policy_outcome": "auto_approve"},
                {"return_move_ids": [Command.link(other_sale.picking_ids.move_ids.id)]},
                {
                    "credit_line_ids": [
                        Command.link(other_sale.invoice_ids.line_ids[0].id)
                    ]
                },
            ],
        )

    def test_line_created_with_computed_values_is_refused(self):
        sale = self._sale()
        order = self._user_return(sale)
        line = order.line_ids
        for vals in (
            {"refund_amount": 0.0},
            {"move_id": False},
            {"price_unit": 1.0},
            {"qty_received": 1.0},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                order.write(
                    {
                        "line_ids": [
                            Command.create(
                                {
                                    "sale_line_id": sale.order_line.id,
                                    "quantity": 1.0,
                                    "reason_id": self.reason.id,
                                    **vals,
                                }
                            )
                        ]
                    }
                )
            with self.subTest(vals=vals), self.assertRaises(UserError):
                order.write({"line_ids": [Command.update(line.id, vals)]})
        self.assertEqual(order.line_ids, line)
        self.assertEqual(line.refund_amount, 100.0)
        self.assertEqual(line.move_id, sale.picking_ids.move_ids)

    def test_self_approval_by_refund_amount_is_refused(self):
        self._policy(
            auto_approve=True, auto_approve_max_amount=100.0, return_window_days=30
        )
        sale = self._sale(qty=10.0)
        order = self._user_return(sale, qty=10.0)
        with self.assertRaises(UserError):
            order.line_ids.write({"refund_amount": 100.0})
        with self.assertRaises(UserError):
            self.env["return.order"].with_user(self.return_user).create(
                {
                    "sale_order_id": sale.id,
                    "line_ids": [
                        Command.create(
                            {
                                "sale_line_id": sale.order_line.id,
                                "quantity": 10.0,
                                "reason_id": self.reason.id,
                                "refund_amount": 100.0,
                            }
                        )
                    ],
                }
            )
        with freeze_time("2026-03-05"):
            order.action_submit()
        self.assertEqual(order.line_ids.refund_amount, 1000.0)
        self.assertEqual(order.state, "to_approve")
        self.assertEqual(order.policy_verdict, "escalate")
        self.assertFalse(order.return_picking_ids)

    def test_late_return_pointed_at_a_later_delivery_is_refused(self):
        self._policy(auto_approve=True, return_window_days=30)
        late_sale = self._sale()
        recent_sale = self._sale(delivered=datetime(2026, 4, 25, 10, 0))
        order = self._user_return(late_sale)
        with self.assertRaises(UserError):
            order.line_ids.write({"move_id": recent_sale.picking_ids.move_ids.id})
        with freeze_time("2026-05-01"):
            order.action_submit()
        self.assertEqual(order.line_ids.move_id, late_sale.picking_ids.move_ids)
        self.assertEqual(order.state, "to_approve")
        self.assertEqual(order.policy_verdict, "escalate")
        self.assertTrue(order.line_ids.policy_rule_failed)

    # inspection lines: what validating them moved

    def test_inspection_line_created_as_done_is_refused(self):
        policy = self._policy(refund_trigger="after_qc", auto_post_credit_note=True)
        sale = self._sale()
        order = self._received_return(sale, 2.0)
        self.assertEqual(order.line_ids.policy_id, policy)
        qc_lines = self.env["return.qc.line"].with_user(self.return_user)
        for vals in (
            {"state": "done"},
            {"disposition": "restock"},
            {"location_dest_id": self.stock_location.id},
            {"move_id": order.return_picking_ids.move_ids.id},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                qc_lines.create(
                    {
                        "line_id": order.line_ids.id,
                        "qc_grade": "as_new",
                        "quantity": 2.0,
                        **vals,
                    }
                )
        self.assertFalse(order.qc_line_ids)
        self.assertEqual(order.qc_state, "pending")
        self.assertEqual(order.state, "received")
        self.assertFalse(order.credit_note_ids)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 2.0)

    def test_validated_scrap_line_reset_to_draft_is_refused(self):
        order = self._inspected_by_scrap()
        qc_line = order.qc_line_ids
        scrap = order.qc_scrap_ids
        self.assertEqual(scrap.state, "done")
        self._assert_refused(
            qc_line,
            [
                {"state": "draft"},
                {"scrap_id": False},
                {"move_id": order.return_picking_ids.move_ids.id},
                {"disposition": "restock"},
                {"location_dest_id": self.stock_location.id},
                {"grade_id": False},
            ],
        )
        with self.assertRaises(UserError):
            order.action_validate_qc()
        self.assertEqual(order.qc_scrap_ids, scrap)
        self.assertEqual(self._quant_qty(self.product, self.scrap_location), 2.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)

    # the links of the stock and accounting documents to the returns

    def test_links_of_transfers_and_scraps_to_returns_are_refused(self):
        order = self._inspected_by_scrap()
        other = self._received_return(self._sale(), 1.0)
        receipt = order.return_picking_ids
        self._assert_refused(
            receipt,
            [
                {"return_order_id": other.id},
                {"return_qc_order_ids": [Command.link(other.id)]},
            ],
        )
        waiting_sale = self._sale()
        waiting = self._create_return(waiting_sale, [(waiting_sale.order_line, 1.0)])
        waiting.action_submit()
        waiting.with_user(self.manager).action_approve()
        self._assert_refused(
            waiting.return_picking_ids.move_ids,
            [
                {"return_order_line_id": other.line_ids.id},
                {"return_qc_line_id": order.qc_line_ids.id},
            ],
        )
        self._assert_refused(
            order.qc_scrap_ids,
            [{"return_order_id": other.id}, {"return_qc_line_id": False}],
        )
        self.assertEqual(other.line_ids.qty_received, 1.0)
        self.assertEqual(order.line_ids.qty_received, 2.0)

    def test_move_pointed_at_another_return_line_is_refused_on_create(self):
        sale = self._sale()
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        order.action_submit()
        order.with_user(self.manager).action_approve()
        other = self._received_return(self._sale(), 1.0)
        moves = self.env["stock.move"].with_user(self.return_user)
        with self.assertRaises(UserError):
            moves.create(
                {
                    "name": "Forged",
                    "product_id": self.product.id,
                    "product_uom_qty": 1.0,
                    "location_id": self.customer_location.id,
                    "location_dest_id": self.returns_location.id,
                    "picking_id": order.return_picking_ids.id,
                    "return_order_line_id": other.line_ids.id,
                }
            )
        self.assertEqual(len(order.return_picking_ids.move_ids), 1)

    def test_links_of_credit_notes_to_returns_are_refused(self):
        order = self._received_return(self._sale(), 2.0)
        order.action_create_credit_notes()
        other = self._received_return(self._sale(), 1.0)
        credit_note = order.credit_note_ids
        manager_note = credit_note.with_user(self.manager)
        for vals in ({"return_order_id": other.id}, {"return_order_id": False}):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                manager_note.write(vals)
        with self.assertRaises(UserError):
            manager_note.invoice_line_ids.write(
                {"return_order_line_id": other.line_ids.id}
            )
        self.assertEqual(order.credit_note_ids, credit_note)
        self.assertEqual(order.line_ids.qty_credit_draft, 2.0)
        self.assertFalse(other.credit_note_ids)

    def test_return_wizard_links_are_refused(self):
        order = self._user_return(self._sale())
        order.action_submit()
        order.with_user(self.manager).action_approve()
        other_sale = self._sale()
        wizards = self.env["stock.return.picking"].with_user(self.return_user)
        delivery = other_sale.picking_ids
        for vals in (
            {"return_order_id": order.id},
            {"return_location_id": self.stock_location.id},
            {
                "product_return_moves": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "move_id": delivery.move_ids.id,
                            "quantity": 1.0,
                            "return_order_line_id": order.line_ids.id,
                        }
                    )
                ]
            },
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                wizards.create({"picking_id": delivery.id, **vals})
        self.assertEqual(len(order.return_picking_ids), 1)
        receipts = order.line_ids.return_move_ids.picking_id
        self.assertEqual(receipts, order.return_picking_ids)

    def test_receipt_of_another_delivery_is_refused(self):
        order = self._user_return(self._sale())
        other_delivery = self._sale().picking_ids
        with self.assertRaises(UserError):
            self.env["stock.picking"].with_user(self.return_user).create(
                {
                    "picking_type_id": self.warehouse.in_type_id.id,
                    "location_id": self.customer_location.id,
                    "location_dest_id": self.returns_location.id,
                    "return_id": other_delivery.id,
                    "return_order_id": order.id,
                }
            )
        self.assertFalse(order.return_picking_ids)

    # import and copy go the same way

    def test_import_of_a_protected_field_is_refused(self):
        order = self._user_return(self._sale())
        line = order.line_ids
        result = (
            self.env["return.order.line"]
            .with_user(self.return_user)
            .load([".id", "refund_amount"], [[str(line.id), "1.0"]])
        )
        self.assertFalse(result["ids"])
        self.assertTrue(
            any("cannot be set directly" in m["message"] for m in result["messages"])
        )
        line.invalidate_recordset()
        self.assertEqual(line.refund_amount, 100.0)

    def test_copy_starts_without_the_decisions(self):
        order = self._user_return(self._sale())
        order.action_submit()
        copy = order.copy()
        self.assertEqual(copy.state, "draft")
        self.assertFalse(copy.policy_verdict)
        self.assertFalse(copy.line_ids.policy_id)
        self.assertEqual(copy.line_ids.refund_amount, 100.0)
        for default in ({"state": "approved"}, {"policy_verdict": "auto_approve"}):
            with self.subTest(default=default), self.assertRaises(UserError):
                order.copy(default)
        self.assertEqual(len(order.sale_order_id.return_order_ids), 2)

    # every such field is protected

    def test_every_computed_or_action_field_of_the_addon_is_protected(self):
        """A stored field the addon adds that users do not type (computed
        and not editable, or read-only) is protected, but the reference."""
        not_decisions = {("return.order", "name")}
        for model_name in PROTECTED_MODELS:
            model = self.env[model_name]
            protected = model._protected_field_names()
            self.assertLessEqual(protected, set(model._fields), model_name)
            for name, field in model._fields.items():
                if (
                    "returns_management" in (field._modules or ())
                    and field.store
                    and field.readonly
                    and name not in models.MAGIC_COLUMNS
                    and (model_name, name) not in not_decisions
                ):
                    with self.subTest(model=model_name, field=name):
                        self.assertIn(name, protected)

    # the actions still write them

    def test_returns_user_inspects_and_refunds_through_the_actions(self):
        self._policy(refund_trigger="after_qc")
        order = self._inspected_by_scrap()
        self.assertEqual(order.qc_line_ids.state, "done")
        self.assertEqual(order.qc_line_ids.scrap_id, order.qc_scrap_ids)
        self.assertEqual(order.line_ids.qty_inspected, 2.0)
        self.assertEqual(order.qc_state, "done")
        credit_note = order.credit_note_ids
        self.assertEqual(credit_note.state, "draft")
        self.assertEqual(credit_note.amount_untaxed, 200.0)
        self.assertEqual(order.line_ids.qty_credit_draft, 2.0)


@tagged("post_install", "-at_install")
class TestWarehouseReceipts(ReturnsCommon):
    """A receiver with Inventory / User rights only validates, splits and
    cancels return receipts; the returns follow, refunds by policy too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = cls._new_user("receiver", "stock.group_stock_user")

    def _approved_return(self, qty=2.0):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, qty)])
        order.action_submit()
        order.with_user(self.manager).action_approve()
        return order

    def _receive(self, pickings, quantities=None, backorder=True):
        return self._validate(pickings.with_user(self.receiver), quantities, backorder)

    def test_receiver_has_no_returns_rights(self):
        order = self._approved_return()
        self.assertFalse(
            self.receiver.has_group("returns_management.group_return_user")
        )
        self.assertFalse(self.receiver.has_group("account.group_account_invoice"))
        with self.assertRaises(AccessError):
            order.with_user(self.receiver).read(["state"])

    def test_receiver_validates_a_receipt(self):
        order = self._approved_return()
        self._receive(order.return_picking_ids)
        self.assertEqual(order.return_picking_ids.state, "done")
        self.assertEqual(order.state, "received")
        self.assertEqual(order.line_ids.qty_received, 2.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 2.0)
        self.assertEqual(order.sale_order_id.order_line.qty_delivered, 3.0)
        with self.assertRaises(AccessError):
            order.with_user(self.receiver).read(["state"])

    def test_receiver_validates_a_partial_receipt_then_its_backorder(self):
        order = self._approved_return()
        receipt = order.return_picking_ids
        self._receive(receipt, {self.product: 1.0})
        backorder = order.return_picking_ids - receipt
        self.assertEqual(receipt.state, "done")
        self.assertEqual(backorder.backorder_id, receipt)
        self.assertEqual(backorder.return_order_id, order)
        self.assertEqual(backorder.move_ids.return_order_line_id, order.line_ids)
        self.assertEqual(order.state, "received")
        self.assertEqual(order.line_ids.qty_received, 1.0)
        self._receive(backorder)
        self.assertEqual(backorder.state, "done")
        self.assertEqual(order.line_ids.qty_received, 2.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 2.0)
        self.assertEqual(order.sale_order_id.order_line.qty_delivered, 3.0)

    def test_receiver_cancels_a_receipt(self):
        order = self._approved_return()
        receipt = order.return_picking_ids
        receipt.with_user(self.receiver).action_cancel()
        self.assertEqual(receipt.state, "cancel")
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.line_ids.qty_received, 0.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)

    def test_receipt_validated_by_a_receiver_is_refunded_by_policy(self):
        self.env["return.policy"].create(
            {
                "name": "Refund on receipt",
                "sequence": 5,
                "refund_trigger": "on_receipt",
                "auto_post_credit_note": True,
            }
        )
        order = self._approved_return()
        self._receive(order.return_picking_ids)
        credit_note = order.credit_note_ids
        self.assertEqual(len(credit_note), 1)
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.amount_untaxed, 200.0)
        self.assertEqual(credit_note.amount_total, 230.0)
        invoice = order.sale_order_id.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice"
        )
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        twin = self._credit_two_by_hand(self._taxed_sale().invoice_ids)
        self.assertEqual(self._journal_items(credit_note), self._journal_items(twin))
        self.assertEqual(order.line_ids.qty_refunded, 2.0)
        self.assertEqual(order.sale_order_id.order_line.qty_invoiced, 3.0)
        self.assertEqual(order.state, "done")

    def _credit_two_by_hand(self, invoice):
        """Odoo's credit note wizard on the invoice, 2 of its 5 units kept."""
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id})
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        refund.write(
            {
                "invoice_line_ids": [
                    Command.update(refund.invoice_line_ids.id, {"quantity": 2.0})
                ]
            }
        )
        refund.action_post()
        return refund

    def _journal_items(self, move):
        return sorted(
            (line.account_id.id, line.debit, line.credit, line.tax_line_id.id)
            for line in move.line_ids
        )

    def test_receiver_moves_inspected_goods_in_two_parts(self):
        self.warehouse.qc_validate_transfers = False
        order = self._approved_return()
        self._receive(order.return_picking_ids)
        order.line_ids.qc_grade = "minor_defect"
        order.action_validate_qc()
        transfer = order.qc_picking_ids
        qc_line = order.qc_line_ids
        self._receive(transfer, {self.product: 1.0})
        backorder = transfer.backorder_ids
        self.assertEqual(transfer.state, "done")
        self.assertEqual(backorder.move_ids.return_qc_line_id, qc_line)
        self.assertEqual(qc_line.move_id, transfer.move_ids)
        self.assertEqual(order.state, "received")
        self._receive(backorder)
        refurbish = self.warehouse.refurbish_location_id
        self.assertEqual(self._quant_qty(self.product, refurbish), 2.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)
