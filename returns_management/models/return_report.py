from odoo import api, fields, models, tools

from .return_order import RETURN_STATES
from .return_qc_grade import DISPOSITIONS

# Quantities are in the product's unit: q / unit.factor * product_unit.factor
# (uom_uom.factor: units per reference unit). Dates are UTC days.
SECONDS_PER_DAY = 86400.0


def _days(start, end):
    """Days from start to end; NULL when a step did not happen; never
    negative: a credit note made on receipt is created a moment before the
    receipt's date is written, in the same transaction."""
    days = f"EXTRACT(EPOCH FROM ({end} - {start})) / {SECONDS_PER_DAY}"
    return (
        f"(CASE WHEN {end} >= {start} THEN {days}"
        f" WHEN {end} < {start} THEN 0 END)::float"
    )


class ReturnReport(models.Model):
    """What was delivered and what came back, for pivots, graphs, the
    dashboard and the workbook.

    Two kinds of rows, told apart by ``row_type``:

    - ``delivered``: one row per done outgoing move of a sale line to a
      customer (quantity and untaxed sale value delivered);
    - ``returned``: one row per line of a submitted return (quantity
      received, value at the sale price, posted credit notes, cycle times,
      grade, disposition, cost).

    The return rate is a ratio of sums: sum(qty_returned) /
    sum(qty_delivered) over whatever rows are grouped; it is never stored
    per row. Cycle times exist on returned rows only (NULL on delivered
    rows), so their averages are averages over return lines. Amounts that
    belong to a whole credit note (shipping refunded, fees and deductions)
    are carried by the return's first line, so that sums stay exact.
    All amounts are untaxed, in the company's currency.
    """

    _name = "return.report"
    _description = "Returns Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "product_id"

    row_type = fields.Selection(
        [("delivered", "Delivered"), ("returned", "Returned")],
        string="Row",
        readonly=True,
    )
    date = fields.Date(
        readonly=True,
        help="Delivery date, or receipt date of a return (request date until "
        "received).",
    )
    product_id = fields.Many2one("product.product", readonly=True)
    categ_id = fields.Many2one(
        "product.category", string="Product Category", readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    reason_id = fields.Many2one("return.reason", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    sale_order_id = fields.Many2one("sale.order", readonly=True)
    return_order_id = fields.Many2one("return.order", string="Return", readonly=True)
    state = fields.Selection(RETURN_STATES, string="Return Status", readonly=True)
    qc_grade = fields.Selection(
        selection="_selection_qc_grade", string="Grade", readonly=True
    )
    disposition = fields.Selection(
        [*DISPOSITIONS, ("mixed", "Several Dispositions")], readonly=True
    )
    currency_id = fields.Many2one("res.currency", readonly=True)

    qty_delivered = fields.Float(digits="Product Unit of Measure", readonly=True)
    qty_requested = fields.Float(digits="Product Unit of Measure", readonly=True)
    qty_returned = fields.Float(
        digits="Product Unit of Measure", readonly=True, help="Received back."
    )
    value_delivered = fields.Monetary(readonly=True)
    value_returned = fields.Monetary(
        readonly=True, help="Received quantity at the untaxed sale price."
    )
    amount_refunded = fields.Monetary(
        readonly=True, help="Goods credited by posted credit notes, untaxed."
    )
    amount_shipping_refunded = fields.Monetary(
        string="Shipping Refunded", readonly=True
    )
    amount_fees = fields.Monetary(
        string="Fees and Deductions",
        readonly=True,
        help="Restocking fees and grade deductions kept on posted credit notes.",
    )
    value_writedown = fields.Monetary(
        string="Write-down",
        readonly=True,
        help="Goods graded for scrap or refurbishing, at the cost they came back at.",
    )
    cost_of_returns = fields.Monetary(
        readonly=True,
        help="Refunds + shipping refunded + write-down - fees and deductions.",
    )
    nbr_returns = fields.Integer(
        string="# Returns",
        readonly=True,
        help="1 on each return's first line: sums count returns.",
    )
    days_to_approve = fields.Float(
        string="Days to Approve", aggregator="avg", readonly=True
    )
    days_to_receive = fields.Float(
        string="Days Approval to Receipt", aggregator="avg", readonly=True
    )
    days_to_inspect = fields.Float(
        string="Days Receipt to Inspection", aggregator="avg", readonly=True
    )
    days_to_credit = fields.Float(
        string="Days Receipt to Credit Note", aggregator="avg", readonly=True
    )
    days_to_done = fields.Float(
        string="Days Request to Done", aggregator="avg", readonly=True
    )

    @api.model
    def _selection_qc_grade(self):
        return self.env["return.order.line"]._selection_line_qc_grade()

    def _measures_null(self, names):
        return ", ".join(f"NULL::float AS {name}" for name in names)

    def _select_delivered(self):
        zero = ", ".join(
            f"0.0 AS {name}"
            for name in (
                "qty_requested",
                "qty_returned",
                "value_returned",
                "amount_refunded",
                "amount_shipping_refunded",
                "amount_fees",
                "value_writedown",
                "cost_of_returns",
            )
        )
        days = self._measures_null(self._days_fields())
        return f"""
            SELECT
                sm.id * 2 AS id,
                'delivered' AS row_type,
                sm.date::date AS date,
                sm.product_id,
                pt.categ_id,
                cp.id AS partner_id,
                cp.country_id,
                NULL::integer AS reason_id,
                so.user_id,
                sm.company_id,
                COALESCE(spt.warehouse_id, so.warehouse_id) AS warehouse_id,
                so.id AS sale_order_id,
                NULL::integer AS return_order_id,
                NULL::varchar AS state,
                NULL::varchar AS qc_grade,
                NULL::varchar AS disposition,
                company.currency_id,
                sm.quantity / mu.factor * pu.factor AS qty_delivered,
                sm.quantity / mu.factor * solu.factor * sol.price_reduce_taxexcl
                    / COALESCE(NULLIF(so.currency_rate, 0), 1.0) AS value_delivered,
                {zero},
                0 AS nbr_returns,
                {days}
            FROM stock_move sm
            JOIN sale_order_line sol ON sol.id = sm.sale_line_id
            JOIN sale_order so ON so.id = sol.order_id
            JOIN res_partner p ON p.id = so.partner_id
            JOIN res_partner cp ON cp.id = COALESCE(p.commercial_partner_id, p.id)
            JOIN res_company company ON company.id = sm.company_id
            JOIN product_product pp ON pp.id = sm.product_id
            JOIN product_template pt ON pt.id = pp.product_tmpl_id
            JOIN uom_uom mu ON mu.id = sm.product_uom
            JOIN uom_uom pu ON pu.id = pt.uom_id
            JOIN uom_uom solu ON solu.id = sol.product_uom
            JOIN stock_location dest ON dest.id = sm.location_dest_id
            JOIN stock_location src ON src.id = sm.location_id
            LEFT JOIN stock_picking_type spt ON spt.id = sm.picking_type_id
            WHERE sm.state = 'done'
              AND dest.usage = 'customer'
              AND src.usage != 'customer'
        """

    @api.model
    def _days_fields(self):
        return (
            "days_to_approve",
            "days_to_receive",
            "days_to_inspect",
            "days_to_credit",
            "days_to_done",
        )

    def _with_returned(self):
        """Per return line: credited goods, validated inspection, write-down;
        per return: credit note date and order-level credit note lines."""
        return """
            credit AS (
                SELECT aml.return_order_line_id AS line_id,
                       SUM(aml.balance) AS amount
                  FROM account_move_line aml
                 WHERE aml.return_order_line_id IS NOT NULL
                   AND aml.parent_state = 'posted'
                 GROUP BY aml.return_order_line_id
            ),
            order_credit AS (
                SELECT am.return_order_id AS order_id,
                       MIN(am.create_date) AS date_credit,
                       SUM(CASE WHEN aml.return_order_line_id IS NULL
                                 AND aml.display_type = 'product'
                                 AND aml.balance > 0
                                THEN aml.balance ELSE 0 END) AS shipping,
                       SUM(CASE WHEN aml.return_order_line_id IS NULL
                                 AND aml.display_type = 'product'
                                 AND aml.balance < 0
                                THEN -aml.balance ELSE 0 END) AS fees
                  FROM account_move am
                  JOIN account_move_line aml ON aml.move_id = am.id
                 WHERE am.return_order_id IS NOT NULL
                   AND am.move_type = 'out_refund'
                   AND am.state = 'posted'
                 GROUP BY am.return_order_id
            ),
            receipt_cost AS (
                SELECT sm.return_order_line_id AS line_id,
                       SUM(svl.value) / NULLIF(SUM(svl.quantity), 0) AS unit_cost
                  FROM stock_move sm
                  JOIN stock_location src ON src.id = sm.location_id
                  JOIN stock_valuation_layer svl ON svl.stock_move_id = sm.id
                 WHERE sm.return_order_line_id IS NOT NULL
                   AND sm.state = 'done'
                   AND src.usage = 'customer'
                 GROUP BY sm.return_order_line_id
            ),
            qc AS (
                SELECT qcl.line_id,
                       MAX(qcl.write_date) FILTER (WHERE qcl.state = 'done')
                           AS date_inspected,
                       SUM(qcl.quantity) FILTER (
                           WHERE qcl.disposition IN ('scrap', 'refurbish')
                       ) AS qty_written_down,
                       CASE WHEN COUNT(DISTINCT qcl.disposition) > 1 THEN 'mixed'
                            ELSE MIN(qcl.disposition) END AS disposition
                  FROM return_qc_line qcl
                 GROUP BY qcl.line_id
            )
        """

    def _select_returned(self):
        first = "rol.id = MIN(rol.id) OVER (PARTITION BY ro.id)"
        line_qty = "rol.qty_received / lu.factor * pu.factor"
        refunded = "COALESCE(credit.amount, 0.0)"
        shipping = f"CASE WHEN {first} THEN COALESCE(oc.shipping, 0.0) ELSE 0.0 END"
        fees = f"CASE WHEN {first} THEN COALESCE(oc.fees, 0.0) ELSE 0.0 END"
        writedown = (
            "COALESCE(qc.qty_written_down / lu.factor * pu.factor * rc.unit_cost, 0.0)"
        )
        return f"""
            SELECT
                rol.id * 2 + 1 AS id,
                'returned' AS row_type,
                COALESCE(ro.date_received, ro.date_request)::date AS date,
                rol.product_id,
                pt.categ_id,
                cp.id AS partner_id,
                cp.country_id,
                rol.reason_id,
                so.user_id,
                ro.company_id,
                ro.warehouse_id,
                so.id AS sale_order_id,
                ro.id AS return_order_id,
                ro.state,
                rol.qc_grade,
                qc.disposition,
                company.currency_id,
                0.0 AS qty_delivered,
                0.0 AS value_delivered,
                rol.quantity / lu.factor * pu.factor AS qty_requested,
                {line_qty} AS qty_returned,
                rol.qty_received * rol.price_unit
                    * (1 - COALESCE(rol.discount, 0) / 100)
                    / COALESCE(NULLIF(so.currency_rate, 0), 1.0) AS value_returned,
                {refunded} AS amount_refunded,
                {shipping} AS amount_shipping_refunded,
                {fees} AS amount_fees,
                {writedown} AS value_writedown,
                {refunded} + {shipping} + {writedown} - {fees} AS cost_of_returns,
                CASE WHEN {first} THEN 1 ELSE 0 END AS nbr_returns,
                {_days("ro.date_request", "ro.date_approved")} AS days_to_approve,
                {_days("ro.date_approved", "ro.date_received")} AS days_to_receive,
                {_days("ro.date_received", "qc.date_inspected")} AS days_to_inspect,
                {_days("ro.date_received", "oc.date_credit")} AS days_to_credit,
                {_days("ro.date_request", "ro.date_done")} AS days_to_done
            FROM return_order_line rol
            JOIN return_order ro ON ro.id = rol.order_id
            JOIN sale_order so ON so.id = ro.sale_order_id
            JOIN res_partner p ON p.id = ro.partner_id
            JOIN res_partner cp ON cp.id = COALESCE(p.commercial_partner_id, p.id)
            JOIN res_company company ON company.id = ro.company_id
            JOIN product_product pp ON pp.id = rol.product_id
            JOIN product_template pt ON pt.id = pp.product_tmpl_id
            JOIN uom_uom lu ON lu.id = rol.product_uom_id
            JOIN uom_uom pu ON pu.id = pt.uom_id
            LEFT JOIN credit ON credit.line_id = rol.id
            LEFT JOIN order_credit oc ON oc.order_id = ro.id
            LEFT JOIN receipt_cost rc ON rc.line_id = rol.id
            LEFT JOIN qc ON qc.line_id = rol.id
            WHERE ro.state != 'draft'
        """

    def _column_order(self):
        return (
            "id, row_type, date, product_id, categ_id, partner_id, country_id, "
            "reason_id, user_id, company_id, warehouse_id, sale_order_id, "
            "return_order_id, state, qc_grade, disposition, currency_id, "
            "qty_delivered, value_delivered, qty_requested, qty_returned, "
            "value_returned, amount_refunded, amount_shipping_refunded, "
            "amount_fees, value_writedown, cost_of_returns, nbr_returns, "
            + ", ".join(self._days_fields())
        )

    def _query(self):
        columns = self._column_order()
        return f"""
            WITH {self._with_returned()}
            SELECT {columns} FROM ({self._select_delivered()}) delivered
            UNION ALL
            SELECT {columns} FROM ({self._select_returned()}) returned
        """

    def init(self):  # pylint: disable=missing-return
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"CREATE OR REPLACE VIEW {self._table} AS ({self._query()})"  # noqa: S608
        )
