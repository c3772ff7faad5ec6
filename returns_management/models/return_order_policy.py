from odoo import fields, models

POLICY_VERDICTS = [
    ("auto_approve", "Approved automatically"),
    ("escalate", "Waiting for a manager"),
    ("reject", "Refused by policy"),
]


class ReturnOrder(models.Model):
    _inherit = "return.order"

    policy_verdict = fields.Selection(
        POLICY_VERDICTS, readonly=True, copy=False, tracking=True
    )
    policy_verdict_note = fields.Text(
        string="Verdict Explained",
        readonly=True,
        copy=False,
        help="Why the request was approved, escalated or refused, in words the "
        "customer can read.",
    )
    override_reason = fields.Text(
        readonly=True,
        copy=False,
        help="Why a manager approved the request despite a failed policy rule.",
    )


class ReturnOrderLine(models.Model):
    _inherit = "return.order.line"

    policy_id = fields.Many2one(
        "return.policy", readonly=True, copy=False, index="btree_not_null"
    )
    policy_result = fields.Text(
        readonly=True,
        copy=False,
        help="The rules of the policy this line passed or failed, and why.",
    )
    policy_rule_failed = fields.Boolean(readonly=True, copy=False)
