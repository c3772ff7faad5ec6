from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

QUEUE_STATES = ("draft", "to_approve", "approved", "received")
TOP = 10


class ReturnReport(models.Model):
    _inherit = "return.report"

    @api.model
    def get_dashboard_data(self):
        """The figures of the return manager's dashboard, in one call, with
        the user's rights and companies; each figure comes with the window
        action that lists or analyses what it counts."""
        today = fields.Date.context_today(self)
        month = today.replace(day=1)
        last_month = month - relativedelta(months=1)
        year_start = month - relativedelta(months=11)
        return {
            "currency_id": self.env.company.currency_id.id,
            "queue": self._dashboard_queue(),
            "overdue": self._dashboard_overdue(),
            "rate_this_month": self._dashboard_rate(month, today),
            "rate_last_month": self._dashboard_rate(
                last_month, month - relativedelta(days=1)
            ),
            "cost_this_month": self._dashboard_cost(month, today),
            "top_products": self._dashboard_top("product_id", year_start, today),
            "top_reasons": self._dashboard_top("reason_id", year_start, today),
            "cycle_trend": self._dashboard_cycle_trend(year_start, today),
            "cycle_action": self._dashboard_report_action(
                self.env._("Cycle Times"),
                [("row_type", "=", "returned")],
                {
                    "pivot_measures": [
                        "days_to_approve",
                        "days_to_receive",
                        "days_to_inspect",
                        "days_to_credit",
                        "days_to_done",
                    ],
                    "pivot_row_groupby": ["date:month"],
                },
            ),
        }

    def _dashboard_orders_action(self, name, domain):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "return.order",
            "views": [(False, "list"), (False, "kanban"), (False, "form")],
            "domain": domain,
        }

    def _dashboard_report_action(self, name, domain, context=None):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "return.report",
            "views": [(False, "pivot"), (False, "graph"), (False, "list")],
            "domain": domain,
            "context": context or {},
        }

    def _dashboard_queue(self):
        orders = self.env["return.order"]
        counts = dict(
            orders._read_group([("state", "in", QUEUE_STATES)], ["state"], ["__count"])
        )
        labels = dict(orders._fields["state"]._description_selection(self.env))
        return [
            {
                "state": state,
                "label": labels[state],
                "count": counts.get(state, 0),
                "action": self._dashboard_orders_action(
                    labels[state], [("state", "=", state)]
                ),
            }
            for state in QUEUE_STATES
        ]

    def _dashboard_overdue(self):
        domain = [("overdue_kind", "!=", False)]
        return {
            "count": self.env["return.order"].search_count(domain),
            "action": self._dashboard_orders_action(
                self.env._("Overdue Returns"), domain
            ),
        }

    def _period_domain(self, date_from, date_to):
        return [("date", ">=", date_from), ("date", "<=", date_to)]

    def _dashboard_rate(self, date_from, date_to):
        """Returned / delivered quantity over the period: a ratio of sums."""
        domain = self._period_domain(date_from, date_to)
        [(returned, delivered)] = self._read_group(
            domain, [], ["qty_returned:sum", "qty_delivered:sum"]
        )
        return {
            "date_from": fields.Date.to_string(date_from),
            "date_to": fields.Date.to_string(date_to),
            "qty_returned": returned or 0.0,
            "qty_delivered": delivered or 0.0,
            "rate": (returned or 0.0) / delivered if delivered else None,
            "action": self._dashboard_report_action(
                self.env._("Return Rate"),
                domain,
                {"pivot_row_groupby": ["product_id"]},
            ),
        }

    def _dashboard_cost(self, date_from, date_to):
        domain = [
            *self._period_domain(date_from, date_to),
            ("row_type", "=", "returned"),
        ]
        measures = (
            "cost_of_returns",
            "amount_refunded",
            "amount_shipping_refunded",
            "value_writedown",
            "amount_fees",
        )
        [values] = self._read_group(domain, [], [f"{m}:sum" for m in measures])
        figures = {m: value or 0.0 for m, value in zip(measures, values, strict=True)}
        figures["action"] = self._dashboard_report_action(
            self.env._("Cost of Returns"),
            domain,
            {"pivot_measures": list(measures), "pivot_row_groupby": ["reason_id"]},
        )
        return figures

    def _dashboard_top(self, dimension, date_from, date_to):
        domain = [
            *self._period_domain(date_from, date_to),
            ("row_type", "=", "returned"),
            ("qty_returned", ">", 0),
        ]
        groups = self._read_group(
            domain,
            [dimension],
            ["qty_returned:sum", "nbr_returns:sum"],
            order="qty_returned:sum desc",
            limit=TOP,
        )
        return [
            {
                "id": record.id,
                "name": record.display_name,
                "qty_returned": qty,
                "action": self._dashboard_report_action(
                    record.display_name,
                    [*domain, (dimension, "=", record.id)],
                    {"pivot_row_groupby": ["date:month"]},
                ),
            }
            for record, qty, _count in groups
        ]

    def _dashboard_cycle_trend(self, date_from, date_to):
        """Average days per step and month of receipt, over return lines."""
        domain = [
            *self._period_domain(date_from, date_to),
            ("row_type", "=", "returned"),
        ]
        groups = self._read_group(
            domain,
            ["date:month"],
            ["days_to_approve:avg", "days_to_receive:avg", "days_to_done:avg"],
        )
        return [
            {
                "month": fields.Date.to_string(month),
                "days_to_approve": approve,
                "days_to_receive": receive,
                "days_to_done": done,
            }
            for month, approve, receive, done in groups
        ]
