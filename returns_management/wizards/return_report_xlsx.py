import base64
import io

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

try:
    import xlsxwriter
except ImportError:  # pragma: no cover - declared in the manifest
    xlsxwriter = None

DAYS = (
    ("days_to_approve", "Days request → approval"),
    ("days_to_receive", "Days approval → receipt"),
    ("days_to_inspect", "Days receipt → inspection"),
    ("days_to_credit", "Days receipt → credit note"),
    ("days_to_done", "Days request → done"),
)
SUMS = (
    "qty_delivered",
    "qty_returned",
    "value_delivered",
    "value_returned",
    "amount_refunded",
    "amount_shipping_refunded",
    "amount_fees",
    "value_writedown",
    "cost_of_returns",
    "nbr_returns",
)


def _rate(returned, delivered):
    """Returned / delivered, a ratio of sums; None without deliveries."""
    return (returned or 0.0) / delivered if delivered else None


class ReturnReportXlsx(models.TransientModel):
    """The returns workbook of a period: KPIs, by product, reason and
    customer, the detail of every return line, with native charts."""

    _name = "return.report.xlsx"
    _description = "Returns Workbook"
    _check_company_auto = True

    date_from = fields.Date(
        string="From", required=True, default=lambda self: self._default_date_from()
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    warehouse_id = fields.Many2one("stock.warehouse", check_company=True)
    categ_id = fields.Many2one("product.category", string="Product Category")
    partner_id = fields.Many2one("res.partner", string="Customer")

    @api.model
    def _default_date_from(self):
        today = fields.Date.context_today(self)
        return today.replace(day=1) - relativedelta(months=11)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(
                    self.env._("The period of the workbook ends before it starts.")
                )

    def _report_domain(self):
        self.ensure_one()
        domain = [
            ("date", ">=", self.date_from),
            ("date", "<=", self.date_to),
            ("company_id", "=", self.company_id.id),
        ]
        if self.warehouse_id:
            domain.append(("warehouse_id", "=", self.warehouse_id.id))
        if self.categ_id:
            domain.append(("categ_id", "child_of", self.categ_id.id))
        if self.partner_id:
            domain.append(("partner_id", "=", self.partner_id.commercial_partner_id.id))
        return domain

    def _groups(self, groupby):
        """Sums (and averages of cycle times) per ``groupby``, as dicts."""
        aggregates = [f"{name}:sum" for name in SUMS] + [
            f"{name}:avg" for name, _label in DAYS
        ]
        rows = self.env["return.report"]._read_group(
            self._report_domain(), groupby, aggregates
        )
        names = [*groupby, *SUMS, *(name for name, _label in DAYS)]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def action_export(self):
        self.ensure_one()
        content = self._build_workbook()
        name = f"returns_{self.date_from}_{self.date_to}.xlsx"
        attachment = self.env["ir.attachment"].create(
            {
                "name": name,
                "datas": base64.b64encode(content),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    # workbook

    def _build_workbook(self):
        output = io.BytesIO()
        book = xlsxwriter.Workbook(output, {"in_memory": True})
        styles = self._styles(book)
        self._sheet_summary(book, styles)
        self._sheet_grouped(book, styles, "By Product", ["product_id"])
        self._sheet_grouped(book, styles, "By Reason", ["reason_id"])
        self._sheet_grouped(book, styles, "By Customer", ["partner_id"])
        self._sheet_detail(book, styles)
        book.close()
        return output.getvalue()

    def _currency_format(self):
        currency = self.company_id.currency_id
        number = "#,##0" + (
            "." + "0" * currency.decimal_places if currency.decimal_places else ""
        )
        symbol = f'"{currency.symbol}"'
        if currency.position == "before":
            return f"{symbol} {number};-{symbol} {number}"
        return f"{number} {symbol};-{number} {symbol}"

    def _styles(self, book):
        return {
            "title": book.add_format({"bold": True, "font_size": 14}),
            "header": book.add_format(
                {"bold": True, "bg_color": "#E9ECEF", "bottom": 1, "text_wrap": True}
            ),
            "label": book.add_format({"bold": True}),
            "text": book.add_format({}),
            "qty": book.add_format({"num_format": "#,##0.00"}),
            "int": book.add_format({"num_format": "0"}),
            "money": book.add_format({"num_format": self._currency_format()}),
            "rate": book.add_format({"num_format": "0.0%"}),
            "days": book.add_format({"num_format": "0.0"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "month": book.add_format({"num_format": "mmm yyyy"}),
        }

    def _write_table(self, sheet, styles, row, columns, records):
        """Write a header at ``row`` and one row per record; columns are
        (header, style, value getter); widths fit the longest cell."""
        # a sheet with two tables keeps the widths of the widest
        widths = getattr(sheet, "returns_widths", None) or []
        widths += [0] * (len(columns) - len(widths))
        for col, (header, _style, _getter) in enumerate(columns):
            widths[col] = max(widths[col], len(header))
        sheet.returns_widths = widths
        for col, (header, _style, _getter) in enumerate(columns):
            sheet.write(row, col, header, styles["header"])
        for offset, record in enumerate(records, start=1):
            for col, (_header, style, getter) in enumerate(columns):
                value = getter(record)
                if value is None or value is False:
                    sheet.write_blank(row + offset, col, None, styles[style])
                    continue
                sheet.write(row + offset, col, value, styles[style])
                shown = len(str(value)) if style == "text" else 12
                widths[col] = max(widths[col], shown)
        for col, width in enumerate(widths[: len(columns)]):
            sheet.set_column(col, col, min(width + 2, 50))
        sheet.freeze_panes(row + 1, 1)
        sheet.autofilter(row, 0, row + max(len(records), 1), len(columns) - 1)
        return row + len(records)

    def _sheet_summary(self, book, styles):
        sheet = book.add_worksheet("Summary")
        total = (self._groups([]) or [dict.fromkeys(SUMS, 0.0)])[0]
        sheet.write(
            0,
            0,
            self.env._("Returns %(company)s", company=self.company_id.name),
            styles["title"],
        )
        sheet.write(1, 0, self.env._("From"), styles["label"])
        sheet.write_datetime(1, 1, self.date_from, styles["date"])
        sheet.write(2, 0, self.env._("To"), styles["label"])
        sheet.write_datetime(2, 1, self.date_to, styles["date"])
        kpis = [
            (self.env._("Returns"), "int", total["nbr_returns"]),
            (self.env._("Quantity delivered"), "qty", total["qty_delivered"]),
            (self.env._("Quantity returned"), "qty", total["qty_returned"]),
            (
                self.env._("Return rate (quantity)"),
                "rate",
                _rate(total["qty_returned"], total["qty_delivered"]),
            ),
            (self.env._("Value delivered"), "money", total["value_delivered"]),
            (self.env._("Value returned"), "money", total["value_returned"]),
            (
                self.env._("Return rate (value)"),
                "rate",
                _rate(total["value_returned"], total["value_delivered"]),
            ),
            (self.env._("Refunded"), "money", total["amount_refunded"]),
            (
                self.env._("Shipping refunded"),
                "money",
                total["amount_shipping_refunded"],
            ),
            (self.env._("Fees and deductions"), "money", total["amount_fees"]),
            (self.env._("Write-down"), "money", total["value_writedown"]),
            (self.env._("Cost of returns"), "money", total["cost_of_returns"]),
        ] + [(label, "days", total.get(name)) for name, label in DAYS]
        row = self._write_table(
            sheet,
            styles,
            4,
            [
                (self.env._("Indicator"), "text", lambda k: k[0]),
                (self.env._("Value"), "qty", lambda k: k[2]),
            ],
            kpis,
        )
        # each KPI's own format (the table wrote them all as quantities)
        for offset, (_label, style, value) in enumerate(kpis, start=5):
            if value is None:
                sheet.write_blank(offset, 1, None, styles[style])
            else:
                sheet.write(offset, 1, value, styles[style])
        months = self._groups(["date:month"])
        start = row + 3
        self._write_table(
            sheet,
            styles,
            start,
            [
                (self.env._("Month"), "month", lambda m: m["date:month"]),
                (self.env._("Delivered"), "qty", lambda m: m["qty_delivered"]),
                (self.env._("Returned"), "qty", lambda m: m["qty_returned"]),
                (
                    self.env._("Return rate"),
                    "rate",
                    lambda m: _rate(m["qty_returned"], m["qty_delivered"]),
                ),
                (
                    self.env._("Cost of returns"),
                    "money",
                    lambda m: m["cost_of_returns"],
                ),
            ],
            months,
        )
        sheet.freeze_panes(5, 1)
        sheet.autofilter(4, 0, 4 + len(kpis), 1)
        if months:
            chart = book.add_chart({"type": "column"})
            last = start + len(months)
            for col in (1, 2):
                chart.add_series(
                    {
                        "name": ["Summary", start, col],
                        "categories": ["Summary", start + 1, 0, last, 0],
                        "values": ["Summary", start + 1, col, last, col],
                    }
                )
            chart.set_title({"name": self.env._("Delivered and returned per month")})
            sheet.insert_chart(4, 3, chart, {"x_scale": 1.4})

    def _sheet_grouped(self, book, styles, title, groupby):
        sheet = book.add_worksheet(title)
        groups = sorted(
            self._groups(groupby),
            key=lambda g: (-g["qty_returned"], -g["qty_delivered"]),
        )
        key = groupby[0]
        columns = [
            (
                self._fields_label(key),
                "text",
                lambda g: g[key].display_name if g[key] else self.env._("None"),
            ),
            (self.env._("Delivered"), "qty", lambda g: g["qty_delivered"]),
            (self.env._("Returned"), "qty", lambda g: g["qty_returned"]),
            (
                self.env._("Return rate"),
                "rate",
                lambda g: _rate(g["qty_returned"], g["qty_delivered"]),
            ),
            (self.env._("Value delivered"), "money", lambda g: g["value_delivered"]),
            (self.env._("Value returned"), "money", lambda g: g["value_returned"]),
            (self.env._("Returns"), "int", lambda g: g["nbr_returns"]),
            (self.env._("Refunded"), "money", lambda g: g["amount_refunded"]),
            (self.env._("Cost of returns"), "money", lambda g: g["cost_of_returns"]),
            (self.env._("Days request → done"), "days", lambda g: g["days_to_done"]),
        ]
        if key == "reason_id":
            # reasons exist on returns only: no deliveries, no rate
            groups = [g for g in groups if g["reason_id"]]
            columns = [columns[0], columns[2], *columns[5:]]
        self._write_table(sheet, styles, 0, columns, groups)
        top = min(len(groups), 10)
        if top:
            returned_col = 1 if key == "reason_id" else 2
            chart = book.add_chart({"type": "pie" if key == "reason_id" else "bar"})
            chart.add_series(
                {
                    "name": [title, 0, returned_col],
                    "categories": [title, 1, 0, top, 0],
                    "values": [title, 1, returned_col, top, returned_col],
                }
            )
            chart.set_title({"name": self.env._("Returned quantity (top 10)")})
            chart.set_legend({"none": key != "reason_id"})
            sheet.insert_chart(1, len(columns) + 1, chart)

    def _fields_label(self, name):
        return (
            self.env["return.report"]._fields[name].get_description(self.env)["string"]
        )

    def _sheet_detail(self, book, styles):
        sheet = book.add_worksheet("Detail")
        lines = self.env["return.report"].search(
            [*self._report_domain(), ("row_type", "=", "returned")],
            order="date, return_order_id, id",
        )
        days = self._detail_days(lines)
        selection = {
            name: dict(lines._fields[name]._description_selection(self.env))
            for name in ("state", "qc_grade", "disposition")
        }

        def label(name):
            return lambda r: selection[name].get(r[name]) if r[name] else None

        def name_of(field):
            return lambda r: r[field].display_name if r[field] else None

        columns = [
            (self.env._("Return"), "text", name_of("return_order_id")),
            (self.env._("Date"), "date", lambda r: r.date),
            (self.env._("Customer"), "text", name_of("partner_id")),
            (self.env._("Country"), "text", name_of("country_id")),
            (self.env._("Product"), "text", name_of("product_id")),
            (self.env._("Category"), "text", name_of("categ_id")),
            (self.env._("Reason"), "text", name_of("reason_id")),
            (self.env._("Salesperson"), "text", name_of("user_id")),
            (self.env._("Warehouse"), "text", name_of("warehouse_id")),
            (self.env._("Status"), "text", label("state")),
            (self.env._("Grade"), "text", label("qc_grade")),
            (self.env._("Disposition"), "text", label("disposition")),
            (self.env._("Requested"), "qty", lambda r: r.qty_requested),
            (self.env._("Returned"), "qty", lambda r: r.qty_returned),
            (self.env._("Value returned"), "money", lambda r: r.value_returned),
            (self.env._("Refunded"), "money", lambda r: r.amount_refunded),
            (
                self.env._("Shipping refunded"),
                "money",
                lambda r: r.amount_shipping_refunded,
            ),
            (self.env._("Fees and deductions"), "money", lambda r: r.amount_fees),
            (self.env._("Write-down"), "money", lambda r: r.value_writedown),
            (self.env._("Cost of returns"), "money", lambda r: r.cost_of_returns),
        ] + [(label_, "days", lambda r, n=name: days[r.id][n]) for name, label_ in DAYS]
        self._write_table(sheet, styles, 0, columns, lines)

    def _detail_days(self, lines):
        """Cycle times of these (searched, hence readable) rows, None where
        the step did not happen: the ORM would read NULL as 0."""
        names = [name for name, _label in DAYS]
        self.env.cr.execute(
            SQL(
                "SELECT id, %s FROM return_report WHERE id = ANY(%s)",
                SQL(", ").join(SQL.identifier(name) for name in names),
                lines.ids,
            )
        )
        return {
            row[0]: dict(zip(names, row[1:], strict=True))
            for row in self.env.cr.fetchall()
        }
