"""18.0.1.3.0: a line's refund_amount is after fees and grade deductions, and
a return's amount_untaxed includes its share of the order's global discount
(issue 15). Their stored values were the goods' value before: recompute
them for every return, so that what a return shows is what is credited."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    lines = env["return.order.line"].with_context(active_test=False).search([])
    for name in ("goods_amount", "refund_amount"):
        env.add_to_compute(lines._fields[name], lines)
    orders = lines.order_id
    env.add_to_compute(orders._fields["amount_untaxed"], orders)
    env.flush_all()
