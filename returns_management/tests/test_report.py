import base64
import io
from datetime import date, datetime, timedelta

import openpyxl

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ReturnsCommon

T0 = datetime(2026, 3, 2, 9, 0, 0)


class ReturnsReportCommon(ReturnsCommon):
    """A seeded data set: two products in two categories, three sales to
    two customers, and three returns at known stages.

    Delivered: kettle 5 (Anna) + 3 (Bob), toaster 4 (Bob).
    Returned: 3 kettles from Anna (credited, posted), 1 toaster from Bob
    (graded for scrap), 1 kettle from Bob only requested.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.small_appliances = cls.env["product.category"].create(
            {"name": "Small appliances", "parent_id": cls.category.id}
        )
        cls.toaster = cls._create_returnable_product("Toaster", price=50.0, cost=20.0)
        cls.toaster.categ_id = cls.small_appliances

    def setUp(self):
        super().setUp()
        self.sale_anna = self._create_sale(
            [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)]
        )
        self.sale_bob = self._create_sale(
            [
                (self.toaster, 4.0, 50.0, 0.0, self.tax_sale_a),
                (self.product, 3.0, 100.0, 0.0, self.tax_sale_a),
            ],
            partner=self.other_customer,
        )
        self.credited = self._received_return(self.sale_anna, 3.0)
        self.credited.action_create_credit_notes()
        self.credited.credit_note_ids.action_post()
        toaster_line = self.sale_bob.order_line.filtered(
            lambda l: l.product_id == self.toaster
        )
        self.scrapped = self._approve_and_receive(
            self._create_return(self.sale_bob, [(toaster_line, 1.0)])
        )
        self.scrapped.line_ids.qc_grade = "major_defect"
        self.scrapped.action_validate_qc()
        kettle_line = self.sale_bob.order_line - toaster_line
        self.requested = self._create_return(self.sale_bob, [(kettle_line, 1.0)])
        self.requested.action_submit()
        self._set_dates()

    def _set_dates(self):
        """Known steps: the credited return took 1, 2 and 0.5 days; the
        scrapped one 3 and 4 days and was inspected 6 hours after receipt."""
        cr = self.env.cr
        self.env.flush_all()
        for order, approve, receive in ((self.credited, 1, 2), (self.scrapped, 3, 4)):
            cr.execute(
                "UPDATE return_order SET date_request = %s, date_approved = %s, "
                "date_received = %s WHERE id = %s",
                (
                    T0,
                    T0 + timedelta(days=approve),
                    T0 + timedelta(days=approve + receive),
                    order.id,
                ),
            )
        cr.execute(
            "UPDATE return_order SET date_done = %s WHERE id = %s",
            (T0 + timedelta(days=3.5), self.credited.id),
        )
        cr.execute(
            "UPDATE account_move SET create_date = %s WHERE id = %s",
            (T0 + timedelta(days=3.5), self.credited.credit_note_ids.id),
        )
        cr.execute(
            "UPDATE return_qc_line SET write_date = %s WHERE order_id = %s",
            (T0 + timedelta(days=7, hours=6), self.scrapped.id),
        )
        cr.execute(
            "UPDATE return_order SET date_request = %s WHERE id = %s",
            (T0, self.requested.id),
        )
        self.env.invalidate_all()

    @property
    def products(self):
        return self.product | self.toaster

    def _report_domain(self):
        return [
            ("company_id", "=", self.company.id),
            ("product_id", "in", self.products.ids),
        ]

    def _grouped(self, groupby, aggregates, user=None):
        report = self.env["return.report"]
        if user:
            report = report.with_user(user)
        self.env.flush_all()
        return {
            group[0]: group[1:]
            for group in report._read_group(
                self._report_domain(), [groupby], aggregates
            )
        }

    # independent figures, from the documents themselves

    def _delivered_by_product(self):
        moves = (self.sale_anna | self.sale_bob).picking_ids.move_ids.filtered(
            lambda m: m.state == "done" and m.location_dest_id.usage == "customer"
        )
        totals = {}
        for move in moves:
            totals[move.product_id] = totals.get(move.product_id, 0.0) + move.quantity
        return totals

    def _returned_by_product(self):
        totals = {}
        lines = (self.credited | self.scrapped | self.requested).line_ids
        for line in lines:
            totals[line.product_id] = totals.get(line.product_id, 0.0) + (
                line.qty_received
            )
        return totals


@tagged("post_install", "-at_install")
class TestReturnReport(ReturnsReportCommon):
    def test_return_rate_by_product_is_returned_over_delivered(self):
        delivered = self._delivered_by_product()
        returned = self._returned_by_product()
        self.assertEqual(delivered, {self.product: 8.0, self.toaster: 4.0})
        self.assertEqual(returned, {self.product: 3.0, self.toaster: 1.0})
        groups = self._grouped("product_id", ["qty_returned:sum", "qty_delivered:sum"])
        for product in self.products:
            with self.subTest(product=product.name):
                qty_returned, qty_delivered = groups[product]
                self.assertAlmostEqual(qty_delivered, delivered[product])
                self.assertAlmostEqual(qty_returned, returned[product])
        self.assertAlmostEqual(
            groups[self.product][0] / groups[self.product][1], 3.0 / 8.0
        )
        self.assertAlmostEqual(
            groups[self.toaster][0] / groups[self.toaster][1], 1.0 / 4.0
        )

    def test_return_rate_by_category_is_a_ratio_of_sums(self):
        groups = self._grouped("categ_id", ["qty_returned:sum", "qty_delivered:sum"])
        self.assertEqual(set(groups), {self.category, self.small_appliances})
        self.assertEqual(groups[self.category], (3.0, 8.0))
        self.assertEqual(groups[self.small_appliances], (1.0, 4.0))
        [(returned, delivered)] = self.env["return.report"]._read_group(
            [
                *self._report_domain(),
                ("categ_id", "child_of", self.category.id),
            ],
            [],
            ["qty_returned:sum", "qty_delivered:sum"],
        )
        # 4 / 12, not the average of 3/8 and 1/4
        self.assertAlmostEqual(returned / delivered, 4.0 / 12.0)

    def test_return_rate_in_value_by_customer(self):
        groups = self._grouped(
            "partner_id", ["value_returned:sum", "value_delivered:sum"]
        )
        self.assertEqual(groups[self.customer], (300.0, 500.0))
        self.assertEqual(groups[self.other_customer], (50.0, 500.0))

    def test_cycle_times_are_averages_over_returns(self):
        orders = self.credited | self.scrapped
        expected_approve = sum(
            (o.date_approved - o.date_request).total_seconds() / 86400 for o in orders
        ) / len(orders)
        self.assertAlmostEqual(expected_approve, 2.0)
        [(approve, receive, inspect, credit, done)] = self.env[
            "return.report"
        ]._read_group(
            [*self._report_domain(), ("row_type", "=", "returned")],
            [],
            [
                "days_to_approve:avg",
                "days_to_receive:avg",
                "days_to_inspect:avg",
                "days_to_credit:avg",
                "days_to_done:avg",
            ],
        )
        # the requested return has no approval yet: it does not lower averages
        self.assertAlmostEqual(approve, expected_approve)
        self.assertAlmostEqual(receive, 3.0)
        self.assertAlmostEqual(inspect, 0.25)
        self.assertAlmostEqual(credit, 0.5)
        self.assertAlmostEqual(done, 3.5)
        self.assertEqual(self.credited.state, "done")

    def test_cycle_times_are_empty_on_delivered_rows(self):
        rows = self.env["return.report"].search(
            [*self._report_domain(), ("row_type", "=", "delivered")]
        )
        self.assertEqual(len(rows), 3)
        [(approve,)] = self.env["return.report"]._read_group(
            [("id", "in", rows.ids)], [], ["days_to_approve:avg"]
        )
        self.assertTrue(approve is None or approve is False, "no average at all")

    def test_refunded_amount_is_the_posted_credit_note(self):
        credit_note = self.credited.credit_note_ids
        self.assertEqual(credit_note.state, "posted")
        expected = sum(
            credit_note.invoice_line_ids.filtered("return_order_line_id").mapped(
                "price_subtotal"
            )
        )
        self.assertAlmostEqual(expected, 300.0)
        groups = self._grouped("return_order_id", ["amount_refunded:sum"])
        self.assertAlmostEqual(groups[self.credited][0], expected)
        self.assertAlmostEqual(groups[self.scrapped][0], 0.0)

    def test_draft_credit_note_is_not_refunded_yet(self):
        self.credited.credit_note_ids.button_draft()
        groups = self._grouped("return_order_id", ["amount_refunded:sum"])
        self.assertAlmostEqual(groups[self.credited][0], 0.0)

    def test_cost_of_returns_adds_the_scrap_write_down_at_cost(self):
        receipt_layers = self.env["stock.valuation.layer"].search(
            [("stock_move_id", "in", self.scrapped.return_picking_ids.move_ids.ids)]
        )
        unit_cost = sum(receipt_layers.mapped("value")) / sum(
            receipt_layers.mapped("quantity")
        )
        self.assertAlmostEqual(unit_cost, 20.0)
        self.assertEqual(self.scrapped.qc_line_ids.disposition, "scrap")
        groups = self._grouped(
            "return_order_id",
            ["value_writedown:sum", "cost_of_returns:sum", "disposition:array_agg"],
        )
        self.assertAlmostEqual(groups[self.scrapped][0], unit_cost)
        self.assertAlmostEqual(groups[self.scrapped][1], unit_cost)
        self.assertEqual(groups[self.scrapped][2], ["scrap"])
        self.assertAlmostEqual(groups[self.credited][1], 300.0)

    def test_cost_of_returns_deducts_restocking_fees(self):
        fault = self.env.ref("returns_management.return_reason_changed_mind")
        self.env["return.policy"].create(
            {
                "name": "10 % fee",
                "company_id": self.company.id,
                "categ_ids": [Command.set(self.category.ids)],
                "restocking_fee_percent": 10.0,
                "restocking_fee_product_id": self.env.ref(
                    "returns_management.product_restocking_fee"
                ).id,
                "sequence": 1,
            }
        )
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        order.line_ids.reason_id = fault
        self._approve_and_receive(order)
        order.action_create_credit_notes()
        order.credit_note_ids.action_post()
        self.assertAlmostEqual(order.credit_note_ids.amount_untaxed, 180.0)
        groups = self._grouped(
            "return_order_id",
            ["amount_refunded:sum", "amount_fees:sum", "cost_of_returns:sum"],
        )
        self.assertEqual(groups[order], (200.0, 20.0, 180.0))

    def test_counts_each_return_once(self):
        groups = self._grouped("partner_id", ["nbr_returns:sum"])
        self.assertEqual(groups[self.customer], (1,))
        self.assertEqual(groups[self.other_customer], (2,))

    def test_user_of_another_company_sees_none_of_the_figures(self):
        company_b = self.setup_other_company(name="Report Company B")["company"]
        user_b = new_test_user(
            self.env,
            login="report_user_b",
            groups="base.group_user,returns_management.group_return_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        report = self.env["return.report"].with_user(user_b)
        self.env.flush_all()
        self.assertFalse(report.search([("company_id", "=", self.company.id)]))
        self.assertFalse(report.search([("product_id", "in", self.products.ids)]))
        self.assertFalse(report._read_group([], ["company_id"], ["qty_returned:sum"]))
        self.assertTrue(
            self.env["return.report"]
            .with_user(self.return_user)
            .search_count(self._report_domain())
        )
        with self.assertRaises(AccessError):
            self.env["return.report.xlsx"].with_user(user_b).create(
                {"company_id": self.company.id}
            )
        dashboard = report.get_dashboard_data()
        self.assertEqual(dashboard["top_products"], [])
        self.assertFalse(sum(state["count"] for state in dashboard["queue"]))

    def test_report_is_read_only_for_returns_users(self):
        report = self.env["return.report"].with_user(self.return_user)
        self.assertTrue(report.has_access("read"))
        for operation in ("write", "create", "unlink"):
            with self.subTest(operation=operation):
                self.assertFalse(report.has_access(operation))
        employee = self._new_user("report_employee", "base.group_user")
        self.assertFalse(
            self.env["return.report"].with_user(employee).has_access("read")
        )

    def test_views_open(self):
        for view_type in ("pivot", "graph", "list", "search"):
            with self.subTest(view=view_type):
                self.env["return.report"].with_user(self.return_user).get_views(
                    [(False, view_type)]
                )


@tagged("post_install", "-at_install")
class TestReturnReportXlsx(ReturnsReportCommon):
    def _export(self, **values):
        wizard = self.env["return.report.xlsx"].create(
            {
                "date_from": date(2026, 1, 1),
                "date_to": fields.Date.today(),
                "categ_id": self.category.id,
                **values,
            }
        )
        action = wizard.action_export()
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", wizard._name), ("res_id", "=", wizard.id)]
        )
        self.assertEqual(len(attachment), 1)
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(action["url"], f"/web/content/{attachment.id}?download=true")
        content = base64.b64decode(attachment.datas)
        return openpyxl.load_workbook(io.BytesIO(content))

    def _rows(self, sheet):
        return list(sheet.iter_rows(values_only=True))

    def test_workbook_has_the_expected_sheets(self):
        book = self._export()
        self.assertEqual(
            book.sheetnames,
            ["Summary", "By Product", "By Reason", "By Customer", "Detail"],
        )

    def test_by_product_sheet_gives_quantities_and_rates_as_numbers(self):
        sheet = self._export()["By Product"]
        rows = self._rows(sheet)
        self.assertEqual(
            rows[0][:4], ("Product", "Delivered", "Returned", "Return rate")
        )
        by_name = {row[0]: row for row in rows[1:]}
        kettle = by_name[self.product.display_name]
        self.assertEqual(kettle[1:4], (8, 3, 0.375))
        self.assertEqual(by_name[self.toaster.display_name][1:4], (4, 1, 0.25))
        self.assertEqual(sheet.cell(2, 4).number_format, "0.0%")
        money = sheet.cell(2, 5)
        self.assertEqual(money.value, 800)
        self.assertIn(self.company.currency_id.symbol, money.number_format)
        self.assertEqual(sheet.freeze_panes, "B2")
        self.assertEqual(sheet.auto_filter.ref, "A1:J3")
        self.assertEqual(len(sheet._charts), 1)

    def test_summary_sheet_gives_the_kpis(self):
        sheet = self._export()["Summary"]
        kpis = {
            row[0]: sheet.cell(index, 2)
            for index, row in enumerate(self._rows(sheet), start=1)
            if row[0]
        }
        self.assertEqual(kpis["Returns"].value, 3)
        self.assertEqual(kpis["Quantity delivered"].value, 12)
        self.assertEqual(kpis["Quantity returned"].value, 4)
        self.assertAlmostEqual(kpis["Return rate (quantity)"].value, 4 / 12)
        self.assertEqual(kpis["Refunded"].value, 300)
        self.assertEqual(kpis["Cost of returns"].value, 320)
        self.assertIn(self.company.currency_id.symbol, kpis["Refunded"].number_format)
        self.assertIsInstance(sheet["B2"].value, datetime)
        self.assertTrue(sheet._charts)

    def test_detail_sheet_lists_return_lines_with_dates(self):
        sheet = self._export()["Detail"]
        rows = self._rows(sheet)
        self.assertEqual(rows[0][:3], ("Return", "Date", "Customer"))
        self.assertEqual(len(rows), 4)
        names = {row[0] for row in rows[1:]}
        self.assertEqual(
            names, {self.credited.name, self.scrapped.name, self.requested.name}
        )
        for row in rows[1:]:
            self.assertIsInstance(row[1], datetime)
        requested = next(row for row in rows if row[0] == self.requested.name)
        self.assertIsNone(requested[-1], "no time for a step not done")
        self.assertEqual(sheet.freeze_panes, "B2")
        self.assertTrue(sheet.auto_filter.ref)

    def test_customer_filter_keeps_the_customer_only(self):
        sheet = self._export(partner_id=self.other_customer.id)["By Customer"]
        rows = self._rows(sheet)
        self.assertEqual([row[0] for row in rows[1:]], [self.other_customer.name])
        self.assertEqual(rows[1][1:3], (7, 1))


@tagged("post_install", "-at_install")
class TestReturnDashboard(ReturnsReportCommon):
    def test_dashboard_figures(self):
        this_month = fields.Date.today().replace(day=1)
        self.env.flush_all()
        data = self.env["return.report"].with_user(self.manager).get_dashboard_data()
        queue = {state["state"]: state["count"] for state in data["queue"]}
        orders = self.env["return.order"].with_user(self.manager)
        for state in ("draft", "to_approve", "approved", "received"):
            with self.subTest(state=state):
                self.assertEqual(
                    queue[state], orders.search_count([("state", "=", state)])
                )
        self.assertGreaterEqual(queue["to_approve"], 1)
        queue_action = next(s for s in data["queue"] if s["state"] == "to_approve")
        self.assertIn(
            self.requested,
            orders.search(queue_action["action"]["domain"]),
        )
        report = self.env["return.report"]
        [(returned, delivered)] = report._read_group(
            [("date", ">=", this_month), ("date", "<=", fields.Date.today())],
            [],
            ["qty_returned:sum", "qty_delivered:sum"],
        )
        rate = data["rate_this_month"]
        self.assertAlmostEqual(rate["qty_delivered"], delivered)
        self.assertAlmostEqual(rate["rate"], returned / delivered)
        self.assertGreaterEqual(delivered, 12.0)
        top = {item["id"]: item["qty_returned"] for item in data["top_products"]}
        self.assertLessEqual(len(top), 10)
        self.assertGreaterEqual(top.get(self.product.id, 0.0), 3.0)
        self.assertIn(self.toaster.id, top)
        self.assertTrue(data["top_reasons"])
        self.assertIsNotNone(data["overdue"]["count"])
        self.assertTrue(data["cycle_trend"])

    def test_dashboard_cost_of_returns_is_this_months_sum(self):
        # every seeded return was received in March 2026 (back-dated)
        self.env.flush_all()
        this_month = fields.Date.today().replace(day=1)
        report = self.env["return.report"]
        [(cost,)] = report._read_group(
            [
                ("date", ">=", this_month),
                ("date", "<=", fields.Date.today()),
                ("row_type", "=", "returned"),
            ],
            [],
            ["cost_of_returns:sum"],
        )
        data = report.get_dashboard_data()
        self.assertAlmostEqual(data["cost_this_month"]["cost_of_returns"], cost or 0.0)
        self.assertEqual(
            report.search_count(data["cost_this_month"]["action"]["domain"]),
            report.search_count(
                [
                    ("date", ">=", this_month),
                    ("date", "<=", fields.Date.today()),
                    ("row_type", "=", "returned"),
                ]
            ),
        )


@tagged("post_install", "-at_install")
class TestReturnDemoHistory(ReturnsCommon):
    def test_demo_history_spreads_returns_over_a_year_at_every_stage(self):
        before = self.env["return.order"].search([])
        self.env["return.order"]._demo_create_history(count=40)
        orders = self.env["return.order"].search([]) - before
        self.assertEqual(len(orders), 40)
        states = set(orders.mapped("state"))
        self.assertGreaterEqual(len(states), 3, states)
        self.assertIn("done", states)
        months = {order.date_request.strftime("%Y-%m") for order in orders}
        self.assertGreaterEqual(len(months), 6)
        self.assertLessEqual(max(orders.mapped("date_request")), fields.Datetime.now())
        for order in orders.filtered("date_received"):
            self.assertLessEqual(order.date_request, order.date_received)
        done = orders.filtered(lambda o: o.state == "done")
        self.assertTrue(done.credit_note_ids)
        self.env.flush_all()
        rows = self.env["return.report"].search_count(
            [("return_order_id", "in", orders.ids)]
        )
        self.assertEqual(
            rows, len(orders.line_ids.filtered(lambda l: l.state != "draft"))
        )
