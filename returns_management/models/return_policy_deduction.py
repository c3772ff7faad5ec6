from odoo import fields, models


class ReturnPolicyDeduction(models.Model):
    """What a policy keeps from the refund of goods of a grade that came
    back damaged by the customer (the reason is the customer's fault)."""

    _name = "return.policy.deduction"
    _inherit = ["return.cached.mixin"]
    _description = "Return Policy Deduction per Grade"
    _order = "policy_id, grade_id"

    policy_id = fields.Many2one(
        "return.policy", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="policy_id.company_id", store=True)
    grade_id = fields.Many2one("return.qc.grade", required=True, ondelete="cascade")
    deduction_percent = fields.Float(
        string="Deduction (%)",
        digits=(5, 2),
        help="Share of the refund of goods of this grade kept, 100: nothing refunded.",
    )

    _sql_constraints = [
        (
            "policy_grade_uniq",
            "unique(policy_id, grade_id)",
            "A policy deducts once per grade.",
        ),
        (
            "deduction_percent_range",
            "CHECK(deduction_percent >= 0 AND deduction_percent <= 100)",
            "A deduction is a percentage between 0 and 100.",
        ),
    ]
