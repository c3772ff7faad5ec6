from odoo import fields, models


class ReturnReason(models.Model):
    _name = "return.reason"
    _description = "Return Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char()
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    customer_fault = fields.Boolean(
        help="The customer caused the return (changed mind, ordered the wrong "
        "item): restocking fees may apply."
    )
    requires_qc = fields.Boolean(
        string="Requires Inspection",
        help="Returned goods with this reason must be inspected before they are "
        "restocked.",
    )
    default_resolution = fields.Selection(
        [("refund", "Refund")], default="refund", required=True
    )
    company_id = fields.Many2one("res.company", index=True)

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique(code, company_id)",
            "A return reason code must be unique per company.",
        ),
    ]
