from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError


class ReturnPolicy(models.Model):
    """What happens to a return request: its window, its fees, whether it
    approves itself, and when the customer is refunded.

    Policies are per company and tried from the most specific (limited to
    customers) to the least (limited to nothing), then by sequence.
    """

    _name = "return.policy"
    _inherit = ["return.cached.mixin"]
    _description = "Return Policy"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")

    # what the policy applies to (empty: everything)
    categ_ids = fields.Many2many(
        "product.category",
        string="Product Categories",
        help="Products of these categories or of their subcategories.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        check_company=True,
        help="These customers (their commercial entity and its contacts).",
    )
    partner_category_ids = fields.Many2many(
        "res.partner.category",
        string="Customer Tags",
        help="Customers with any of these tags.",
    )
    reason_ids = fields.Many2many(
        "return.reason",
        "return_policy_reason_rel",
        string="Reasons",
        check_company=True,
        help="Only returns for these reasons.",
    )

    # rules
    non_returnable = fields.Boolean(
        help="The products this policy applies to cannot be returned "
        "(e.g. hygiene products).",
    )
    return_window_days = fields.Integer(
        string="Return Window (days)",
        help="Days after delivery during which a return may be requested, the "
        "day of delivery included, in the company's time zone. 0: no limit.",
    )
    window_action = fields.Selection(
        [("reject", "Reject"), ("escalate", "Ask a manager")],
        string="Outside the Window",
        default="escalate",
        required=True,
    )
    auto_approve = fields.Boolean(
        string="Approve Automatically",
        help="Requests that meet the conditions below approve themselves on "
        "submission; the others go to a manager.",
    )
    auto_approve_max_amount = fields.Monetary(
        string="Up To Amount",
        currency_field="currency_id",
        help="Largest value of the goods of a return that approves itself: "
        "untaxed, before fees, in the company's currency. 0: any amount.",
    )
    auto_approve_reason_ids = fields.Many2many(
        "return.reason",
        "return_policy_auto_approve_reason_rel",
        string="For Reasons",
        check_company=True,
        help="Only these reasons approve themselves. Empty: any reason.",
    )
    auto_approve_within_window = fields.Boolean(
        string="Only Within the Window",
        default=True,
        help="Only requests inside the return window approve themselves.",
    )
    approver_id = fields.Many2one(
        "res.users",
        domain="[('share', '=', False)]",
        help="Who gets the escalated requests. Empty: the return managers.",
    )

    # fees and refunds
    restocking_fee_percent = fields.Float(
        string="Restocking Fee (%)",
        digits=(5, 2),
        help="Deducted from the refund when the reason is the customer's fault.",
    )
    restocking_fee_product_id = fields.Many2one(
        "product.product",
        check_company=True,
        domain="[('type', '=', 'service')]",
        default=lambda self: self.env.ref(
            "returns_management.product_restocking_fee", raise_if_not_found=False
        ),
        help="Service product of the fee line on the credit note (its taxes and "
        "income account apply).",
    )
    refund_shipping = fields.Boolean(
        help="Refund the sale order's shipping: its share of what comes back, "
        "or all of it when everything comes back.",
    )
    deduction_ids = fields.One2many(
        "return.policy.deduction",
        "policy_id",
        string="Deductions per Grade",
        help="Kept from the refund of goods inspected with these grades, when "
        "the reason is the customer's fault.",
    )
    refund_trigger = fields.Selection(
        [
            ("on_receipt", "When the goods are received"),
            ("after_qc", "After inspection"),
            ("manual", "Manually"),
        ],
        default="manual",
        required=True,
    )
    auto_post_credit_note = fields.Boolean(
        help="Post the credit notes created automatically.",
    )
    require_photo = fields.Boolean(
        help="Customers must attach a photo to request a return on the portal.",
    )

    # overdue alerts
    decision_days = fields.Integer(
        string="Decide Within (days)",
        default=2,
        help="A request still waiting for a decision after this many days is "
        "overdue. 0: never.",
    )
    receipt_days = fields.Integer(
        string="Goods Expected Within (days)",
        default=14,
        help="An approved return whose goods have not arrived after this many "
        "days is overdue. 0: never.",
    )
    credit_days = fields.Integer(
        string="Refund Within (days)",
        default=3,
        help="Received goods not credited after this many days are overdue. 0: never.",
    )

    _sql_constraints = [
        (
            "restocking_fee_percent_range",
            "CHECK(restocking_fee_percent >= 0 AND restocking_fee_percent <= 100)",
            "The restocking fee is a percentage between 0 and 100.",
        ),
        (
            "return_window_days_positive",
            "CHECK(return_window_days >= 0)",
            "The return window cannot be negative.",
        ),
        (
            "auto_approve_max_amount_positive",
            "CHECK(auto_approve_max_amount >= 0)",
            "The amount up to which returns approve themselves cannot be negative.",
        ),
        (
            "overdue_days_positive",
            "CHECK(decision_days >= 0 AND receipt_days >= 0 AND credit_days >= 0)",
            "Overdue delays cannot be negative.",
        ),
    ]

    @api.constrains("restocking_fee_percent", "restocking_fee_product_id")
    def _check_restocking_fee_product(self):
        for policy in self:
            if policy.restocking_fee_percent and not policy.restocking_fee_product_id:
                raise ValidationError(
                    self.env._(
                        "Policy %(name)s charges a restocking fee: choose the "
                        "product of its credit note line.",
                        name=policy.name,
                    )
                )

    @api.constrains("approver_id", "company_id")
    def _check_approver_can_approve(self):
        for policy in self.filtered("approver_id"):
            user = policy.approver_id
            if (
                not user.has_group("returns_management.group_return_manager")
                or policy.company_id not in user.company_ids
            ):
                raise ValidationError(
                    self.env._(
                        "%(user)s cannot approve the returns of policy %(name)s: "
                        "choose a return manager of %(company)s.",
                        user=user.name,
                        name=policy.name,
                        company=policy.company_id.name,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used_by_returns(self):
        """Submitted returns name the policy that decided on them: archive
        it instead (its terms stay on the returns it approved)."""
        # sudo is safe: only whether returns of any company use these
        # policies is read, to refuse deleting them
        used = (
            self.env["return.order.line"]
            .sudo()  # see above
            .search(
                [
                    ("policy_id", "in", self.ids),
                    ("state", "not in", ("draft", "cancel")),
                ]
            )
            .policy_id
        )
        if used:
            raise UserError(
                self.env._(
                    "Returns follow the policies %(names)s: archive them instead "
                    "of deleting them.",
                    names=", ".join(used.mapped("name")),
                )
            )

    @api.model
    @tools.ormcache("company_id")
    def _scopes_of_company(self, company_id):
        """((policy id, scope), ...) of the company's active policies, most
        specific first: limited to customers, then to product categories,
        then to nothing; then by sequence. Cached: every submission reads it.
        """
        # policies are company settings that any returns user may apply;
        # only their ids and scopes are cached, records are read by the caller
        # sudo is safe: only ids and scopes are kept, and the caller reads the
        # policies it applies with its own rights
        policies = self.sudo().search([("company_id", "=", company_id)])  # see above
        ranked = []
        for policy in policies:
            scope = {
                "partners": frozenset(policy.partner_ids.commercial_partner_id.ids),
                "tags": frozenset(policy.partner_category_ids.ids),
                "categories": frozenset(policy.categ_ids.ids),
                "reasons": frozenset(policy.reason_ids.ids),
                # kept on the lines at approval (ReturnOrderLine._policy_keep_terms)
                "deductions": tuple(
                    sorted(
                        (str(d.grade_id.id), d.deduction_percent)
                        for d in policy.deduction_ids
                    )
                ),
            }
            customer_limited = bool(scope["partners"] or scope["tags"])
            rank = 2 if customer_limited else 1 if scope["categories"] else 0
            ranked.append(((-rank, policy.sequence, policy.id), policy.id, scope))
        return tuple((policy_id, scope) for _key, policy_id, scope in sorted(ranked))

    @api.model
    def _create_missing_default_policies(self):
        """Called at install and at every update (idempotent)."""
        companies = (
            self.env["res.company"]
            .with_context(active_test=False)
            .search([("id", "!=", False)])
        )
        return self._create_default_policies(companies)

    @api.model
    def _create_default_policies(self, companies):
        """One catch-all policy per company that has none, which keeps the
        behaviour of a new install: every request goes to a manager."""
        with_policy = (
            self.with_context(active_test=False)
            .search([("company_id", "in", companies.ids)])
            .company_id
        )
        return self.create(
            [
                {
                    "name": self.env._("Standard"),
                    "sequence": 100,
                    "company_id": company.id,
                }
                for company in companies - with_policy
            ]
        )
