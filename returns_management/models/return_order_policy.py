import json
from collections import defaultdict
from typing import NamedTuple

import pytz
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import format_amount, format_date

POLICY_VERDICTS = [
    ("auto_approve", "Approved automatically"),
    ("escalate", "Escalated to a manager"),
    ("reject", "Refused by policy"),
]
# the line fields the policy decides; like the return's verdict, only the
# actions change them (see return.protected.mixin)
LINE_VERDICT_FIELDS = (
    "policy_id",
    "policy_result",
    "policy_rule_failed",
    "policy_outcome",
    # the fee and refund terms kept at approval (see _policy_keep_terms)
    "policy_terms_kept",
    "policy_fee_percent",
    "policy_fee_product_id",
    "policy_refund_shipping",
    "policy_deduction_percents",
)

# what the policy of a line reads: changing it on a submitted return checks
# the return again (see ReturnOrder._policy_lines_changed)
LINE_POLICY_INPUTS = (
    "order_id",
    "sale_line_id",
    "quantity",
    "product_uom_id",
    "reason_id",
)


class PolicyTerms(NamedTuple):
    """What a return line's policy charges and refunds: the fee (percent and
    product), whether shipping is refunded, the deduction per grade id."""

    fee_percent: float
    fee_product: models.BaseModel
    refund_shipping: bool
    deductions: dict


class LineCheck:
    """The policy decision on one return line, before it is stored."""

    SEVERITY = {"auto_approve": 0, "escalate": 1, "reject": 2}

    def __init__(self, line, policy, delivery_day, request_day):
        self.line = line
        self.policy = policy
        self.delivery_day = delivery_day
        self.request_day = request_day
        self.outcome = "auto_approve"
        self.rule_failed = False  # a manager approves only with a reason
        self.results = []  # for the staff: every rule, passed or failed
        self.customer = []  # for the customer: why it is not approved

    def passed(self, result):
        self.results.append(result)

    def blocked(self, outcome, result, customer=None, rule_failed=False):
        """A rule or condition refuses (reject) or escalates the line."""
        if self.SEVERITY[outcome] > self.SEVERITY[self.outcome]:
            self.outcome = outcome
        self.rule_failed = self.rule_failed or rule_failed
        self.results.append(result)
        if customer and customer not in self.customer:
            self.customer.append(customer)


class ReturnOrder(models.Model):
    """Return policies decide on submission: each line gets the most
    specific policy that matches it, the return one verdict.

    - A policy limited to customers (partner_ids, partner_category_ids)
      beats one limited to product categories (categ_ids, subcategories
      included), which beats one limited to nothing; then sequence. A policy
      limited to reasons matches only lines with one of them.
    - Hard rules (non returnable, outside the window when the policy says
      reject) refuse the return; an escalating window failure sends it to a
      manager, who approves it only with an override reason.
    - Automatic approval needs every line to pass its policy's conditions.
      The amount limit applies per return and policy: the refund of the
      return's lines that this policy governs, summed.
    - The return window counts from the date of the line's delivery move,
      the day of delivery being day 1, in the company's time zone (the
      company partner's, else UTC); the request date is the submission.
    """

    _inherit = "return.order"
    _protected_fields = (
        "policy_verdict",
        "policy_verdict_note",
        "override_reason",
        "policy_activity_id",
    )

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
    policy_activity_id = fields.Many2one(
        "mail.activity",
        string="Escalation Activity",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The open to-do asking a manager to decide on this return.",
    )
    policy_needs_override = fields.Boolean(
        compute="_compute_policy_needs_override",
        help="A policy rule failed: a manager approves only with a reason.",
    )

    @api.depends("state", "policy_verdict", "line_ids.policy_rule_failed")
    def _compute_policy_needs_override(self):
        for order in self:
            order.policy_needs_override = order._policy_rule_failed()

    def _policy_rule_failed(self):
        self.ensure_one()
        return self.policy_verdict == "reject" or any(
            line.policy_rule_failed for line in self.line_ids
        )

    def _policy_needs_override(self):
        """Whether approving these returns needs an override reason; drafts
        get the verdict preview first."""
        drafts = self.filtered(lambda order: order.state == "draft")
        if drafts:
            checks = drafts._policy_evaluate(fields.Datetime.now())
            drafts._policy_store(checks, drafts._policy_verdicts(checks))
        return any(order._policy_rule_failed() for order in self)

    # evaluation

    def _policy_evaluate(self, now):
        """{return: [LineCheck per line]}: every policy loaded once per call."""
        candidates = self._policy_candidates()
        checks = {}
        for order in self:
            company = order.company_id
            customer = order.partner_id.commercial_partner_id
            tags = set((order.partner_id.category_id | customer.category_id).ids)
            tz = pytz.timezone(company.partner_id.tz or "UTC")
            request_day = self._policy_local_day(
                now if order.state == "draft" else order.date_request, tz
            )
            order_checks = []
            for line in order.line_ids:
                policy = next(
                    (
                        policy
                        for policy, scope in candidates[company.id]
                        if self._policy_matches(scope, line, customer.id, tags)
                    ),
                    self.env["return.policy"],
                )
                delivery_day = self._policy_local_day(line.move_id.date, tz)
                order_checks.append(LineCheck(line, policy, delivery_day, request_day))
            order._policy_check_lines(order_checks)
            checks[order] = order_checks
        return checks

    def _policy_candidates(self):
        """{company id: [(policy, scope)]}, most specific first."""
        # sudo is safe: these are the active policies of the returns' own
        # companies (from _scopes_of_company), settings every returns user
        # may read; it spares the record rules on every submission
        policies = self.env["return.policy"].sudo()  # see above
        return {
            company.id: [
                (policies.browse(policy_id), scope)
                for policy_id, scope in policies._scopes_of_company(company.id)
            ]
            for company in self.company_id
        }

    @api.model
    def _policy_matches(self, scope, line, customer_id, tags):
        if scope["reasons"] and line.reason_id.id not in scope["reasons"]:
            return False
        if (scope["partners"] or scope["tags"]) and not (
            customer_id in scope["partners"] or scope["tags"] & tags
        ):
            return False
        if scope["categories"]:
            path = line.product_id.categ_id.parent_path or ""
            ancestors = {int(part) for part in path.split("/") if part}
            if not ancestors & scope["categories"]:
                return False
        return True

    @api.model
    def _policy_local_day(self, moment, tz):
        if not moment:
            return None
        return pytz.utc.localize(moment).astimezone(tz).date()

    def _policy_check_lines(self, checks):
        """Apply each line's policy rules to its LineCheck."""
        self.ensure_one()
        # the value of the goods returned (untaxed, before fees), in the
        # currency of the company, whose policy sets the limit
        company = self.company_id
        amounts = defaultdict(float)
        for check in checks:
            amounts[check.policy] += self.currency_id._convert(
                check.line.goods_amount,
                company.currency_id,
                company,
                check.request_day or fields.Date.context_today(self),
                round=False,
            )
        for check in checks:
            policy, product = check.policy, check.line.product_id.display_name
            if not policy:
                check.blocked(
                    "escalate", self.env._("No return policy applies to this line.")
                )
                continue
            if policy.non_returnable:
                sentence = self.env._(
                    "%(product)s cannot be returned.", product=product
                )
                check.blocked("reject", sentence, sentence, rule_failed=True)
            self._policy_check_window(check)
            self._policy_check_auto_approval(check, amounts[policy])

    def _policy_check_window(self, check):
        policy, product = check.policy, check.line.product_id.display_name
        days = policy.return_window_days
        if not days:
            return
        if not check.delivery_day:
            check.blocked(
                "escalate",
                self.env._(
                    "The delivery date is unknown: the %(days)s-day return window "
                    "cannot be checked.",
                    days=days,
                ),
                self.env._(
                    "We need to check when %(product)s was delivered.", product=product
                ),
                rule_failed=True,
            )
            return
        day = (check.request_day - check.delivery_day).days + 1
        delivered = format_date(self.env, check.delivery_day)
        if day <= days:
            check.passed(
                self.env._(
                    "Delivered on %(date)s: day %(day)s of the %(days)s-day return "
                    "window.",
                    date=delivered,
                    day=day,
                    days=days,
                )
            )
            return
        outside = self.env._(
            "Delivered on %(date)s: day %(day)s, outside the %(days)s-day return "
            "window.",
            date=delivered,
            day=day,
            days=days,
        )
        if policy.window_action == "escalate" and not policy.auto_approve_within_window:
            # this policy lets late returns approve themselves
            check.passed(outside)
            return
        check.blocked(
            "reject" if policy.window_action == "reject" else "escalate",
            outside,
            self.env._(
                "%(product)s was delivered on %(date)s; returns are accepted within "
                "%(days)s days of delivery.",
                product=product,
                date=delivered,
                days=days,
            ),
            rule_failed=True,
        )

    def _policy_check_auto_approval(self, check, policy_amount):
        """The conditions of automatic approval; the amount is the untaxed
        value of the goods of the return's lines governed by this policy,
        before fees, in the company's currency (the limit's)."""
        policy, line = check.policy, check.line
        if check.outcome == "reject":
            return
        if not policy.auto_approve:
            check.blocked("escalate", self.env._("A manager decides on this policy."))
            return
        limit = policy.auto_approve_max_amount
        currency = self.company_id.currency_id
        if limit and currency.compare_amounts(policy_amount, limit) > 0:
            limit_text = format_amount(self.env, limit, currency)
            check.blocked(
                "escalate",
                self.env._(
                    "Refund of %(amount)s, above the %(limit)s approved automatically.",
                    amount=format_amount(self.env, policy_amount, currency),
                    limit=limit_text,
                ),
                self.env._(
                    "Returns above %(limit)s are reviewed by our team.",
                    limit=limit_text,
                ),
            )
        reasons = policy.auto_approve_reason_ids
        if reasons and line.reason_id not in reasons:
            check.blocked(
                "escalate",
                self.env._(
                    "The reason %(reason)s is not approved automatically.",
                    reason=line.reason_id.name,
                ),
                self.env._(
                    "Returns for the reason %(reason)s are reviewed by our team.",
                    reason=line.reason_id.name,
                ),
            )
        if check.outcome == "auto_approve":
            check.passed(self.env._("Approved automatically."))

    # verdict

    def _policy_verdicts(self, checks):
        """{return: (verdict, customer note)} from the line checks."""
        verdicts = {}
        for order in self:
            outcomes = {check.outcome for check in checks[order]}
            verdict = (
                "reject"
                if "reject" in outcomes
                else "escalate"
                if "escalate" in outcomes
                else "auto_approve"
            )
            verdicts[order] = (verdict, order._policy_note(verdict, checks[order]))
        return verdicts

    def _policy_note(self, verdict, checks):
        """Plain sentences for the customer (the portal shows them)."""
        self.ensure_one()
        sentences = []
        for check in checks:
            if verdict == "reject" and check.outcome != "reject":
                continue
            for sentence in check.customer:
                if sentence not in sentences:
                    sentences.append(sentence)
        opening = {
            "auto_approve": self.env._(
                "Your return is approved: it meets our return policy."
            ),
            "escalate": self.env._(
                "Your return request is being reviewed by our team."
            ),
            "reject": self.env._("We cannot accept this return."),
        }[verdict]
        return " ".join([opening, *sentences])

    def _policy_store(self, checks, verdicts, vals=None):
        """Write each line's policy, results and terms and the return's
        verdict."""
        scopes = self.line_ids._policy_scopes()
        for order in self:
            for check in checks[order]:
                check.line._policy_set(
                    {
                        "policy_id": check.policy.id,
                        "policy_result": "\n".join(
                            [
                                self.env._(
                                    "Policy %(policy)s:",
                                    policy=check.policy.name or "-",
                                ),
                                *check.results,
                            ]
                        ),
                        "policy_rule_failed": check.rule_failed,
                        "policy_outcome": check.outcome,
                        # checked again when the return is approved
                        **check.line._policy_terms_vals(check.policy, scopes),
                    }
                )
            verdict, note = verdicts[order]
            order._set_state(
                {
                    **(vals or {}),
                    "policy_verdict": verdict,
                    "policy_verdict_note": note,
                }
            )

    def _submit_with_policy(self):
        """Evaluate, store, then act on the verdict of each return."""
        now = fields.Datetime.now()
        checks = self._policy_evaluate(now)
        verdicts = self._policy_verdicts(checks)
        self._policy_store(
            checks, verdicts, {"state": "to_approve", "date_request": now}
        )
        return self._policy_apply(verdicts)

    def _policy_apply(self, verdicts):
        """Act on the stored verdicts of these submitted returns: approve,
        refuse, or ask a manager (one activity).

        Only the returns still waiting are acted on: an automation rule run
        by the submission may have decided already. The callers (submit,
        re-check) hold the returns' row locks, so the state read here is
        the one under the lock.
        """
        self._policy_log(verdicts)
        waiting = self.filtered(lambda o: o.state == "to_approve")
        rejected = waiting.filtered(lambda o: verdicts[o][0] == "reject")
        for order in rejected:
            order._set_state({"state": "rejected", "reject_reason": verdicts[order][1]})
        rejected._policy_close_activity()
        approving = waiting.filtered(lambda o: verdicts[o][0] == "auto_approve")
        failed = approving._run_isolating_failures(lambda orders: orders._approve())
        for order, error in failed.items():
            # e.g. the goods are no longer returnable: a manager looks at it
            note = self.env._("Your return request is being reviewed by our team.")
            verdicts[order] = ("escalate", note)
            order._set_state(
                {"policy_verdict": "escalate", "policy_verdict_note": note}
            )
            order.message_post(
                body=self.env._(
                    "The return policy approves this return, but it could not be "
                    "approved: %(error)s",
                    error=error,
                )
            )
        escalated = waiting.filtered(
            lambda o: verdicts[o][0] == "escalate" or o in failed
        )
        escalated._policy_schedule_activity(verdicts)
        return (
            approving._report_failures(
                failed,
                lambda error: self.env._(
                    "Could not approve this return: %(error)s", error=error
                ),
            )
            or True
        )

    def _policy_log(self, verdicts):
        labels = dict(self._fields["policy_verdict"]._description_selection(self.env))
        bodies = {}
        for order in self:
            verdict, note = verdicts[order]
            lines = "\n".join(
                f"- {line.product_id.display_name}: {line.policy_result}"
                for line in order.line_ids
            )
            if verdict == "auto_approve":
                summary = self.env._(
                    "Approved automatically by the return policy (submitted by "
                    "%(user)s, who needs no approval rights for it).",
                    user=self.env.user.name,
                )
            else:
                summary = self.env._(
                    "Return policy: %(verdict)s.", verdict=labels[verdict]
                )
            bodies[order.id] = self.env._(
                "%(summary)s\n%(note)s\n%(lines)s",
                summary=summary,
                note=note,
                lines=lines,
            )
        self._message_log_batch(
            {order_id: self._policy_html(body) for order_id, body in bodies.items()}
        )

    @api.model
    def _policy_html(self, text):
        return Markup("<br/>").join(escape(part) for part in text.split("\n"))

    # escalation

    def _policy_schedule_activity(self, verdicts):
        """One to-do per return for its approver, never a second one."""
        todo = self.env.ref("mail.mail_activity_data_todo")
        group = self.env.ref("returns_management.group_return_manager")
        # sudo is safe: a returns user submitting may not read the group's
        # members; only the approver to assign is picked from them
        managers = group.sudo().users.filtered(lambda u: not u.share)  # see above
        model_id = self.env["ir.model"]._get_id(self._name)
        pending = self.filtered(lambda o: not o.policy_activity_id)
        vals_list = []
        for order in pending:
            user = order._policy_approver(managers)
            vals_list.append(
                {
                    "activity_type_id": todo.id,
                    "summary": self.env._("Decide on return %(name)s", name=order.name),
                    "note": self._policy_html(
                        "\n".join(
                            filter(
                                None,
                                [
                                    verdicts[order][1],
                                    *order.line_ids.mapped("policy_result"),
                                ],
                            )
                        )
                    ),
                    "date_deadline": fields.Date.context_today(self),
                    "res_model_id": model_id,
                    "res_id": order.id,
                    "user_id": user.id,
                    "automated": True,
                }
            )
        # the approvers find their to-dos in the activity menu: no e-mail
        # per escalation (hundreds a day), which also keeps submitting cheap
        activities = (
            self.env["mail.activity"]
            .with_context(mail_activity_quick_update=True)
            .create(vals_list)
        )
        pending._set_protected_each(
            {
                order: {"policy_activity_id": activity.id}
                for order, activity in zip(pending, activities, strict=True)
            }
        )

    def _policy_approver(self, managers):
        """The approver of the first escalating line's policy if still a
        manager of the return's company, else the return's responsible if
        one, else the first manager of the company."""
        self.ensure_one()
        # an approver who lost the rights since is passed over
        approvers = self.line_ids.filtered(
            lambda line: line.policy_outcome != "auto_approve"
        ).policy_id.approver_id.filtered(
            lambda user: (
                self.company_id in user.company_ids
                and user._has_group("returns_management.group_return_manager")
            )
        )
        if approvers:
            return approvers[0]
        company_managers = managers.filtered(
            lambda user: self.company_id in user.company_ids
        )
        if self.user_id in company_managers:
            return self.user_id
        return company_managers.sorted("id")[:1] or self.user_id or self.env.user

    def _policy_close_activity(self):
        """The decision is logged by the return's own tracking (and the
        override reason by its note): the to-do goes without a second
        "done" message in the chatter."""
        activities = self.policy_activity_id
        if activities:
            activities.unlink()

    def _policy_lines_changed(self):
        """The products of submitted returns changed: their lines are checked
        again and the verdict stored, so that a failed rule needs a
        manager's override reason as on submission. The return keeps waiting
        for a manager (it is not approved or refused in the middle of an
        edit); Re-check Policy applies the new verdict."""
        waiting = self.filtered(lambda o: o.state == "to_approve")
        if not waiting:
            return
        checks = waiting._policy_evaluate(fields.Datetime.now())
        verdicts = waiting._policy_verdicts(checks)
        for order, (verdict, _note) in verdicts.items():
            if verdict == "auto_approve":
                verdicts[order] = (
                    "escalate",
                    order._policy_note("escalate", checks[order]),
                )
        waiting._policy_store(checks, verdicts)
        waiting._policy_log(verdicts)

    def _approve_after_hook(self, override_reason=None):  # pylint: disable=missing-return
        super()._approve_after_hook(override_reason=override_reason)
        overridden = self.filtered(lambda o: o._policy_rule_failed())
        if override_reason and overridden:
            overridden._set_state({"override_reason": override_reason})
            for order in overridden:
                order.message_post(
                    body=self.env._(
                        "Approved by %(user)s despite the return policy: %(reason)s",
                        user=self.env.user.name,
                        reason=override_reason,
                    )
                )
        self.line_ids._policy_keep_terms()
        self._policy_close_activity()

    def _reject_after_hook(self, reason):  # pylint: disable=missing-return
        super()._reject_after_hook(reason)
        self._policy_close_activity()

    def _cancel_after_hook(self):  # pylint: disable=missing-return
        super()._cancel_after_hook()
        self._policy_close_activity()

    # re-check

    def action_recheck_policy(self):
        """Evaluate the policies again: draft returns get a preview of the
        verdict; submitted ones get the new verdict applied (approved,
        refused, or still waiting for a manager)."""
        self._lock_for_update()
        self._ensure_state(
            ("draft", "to_approve"),
            lambda names: self.env._(
                "Only draft or submitted returns can be checked against the "
                "policies again, not %(names)s.",
                names=names,
            ),
        )
        checks = self._policy_evaluate(fields.Datetime.now())
        verdicts = self._policy_verdicts(checks)
        self._policy_store(checks, verdicts)
        submitted = self.filtered(lambda o: o.state == "to_approve")
        if submitted:
            submitted._policy_apply(verdicts)
        return True


class ReturnOrderLine(models.Model):
    _inherit = "return.order.line"
    _protected_fields = LINE_VERDICT_FIELDS

    policy_id = fields.Many2one(
        "return.policy",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
    )
    policy_result = fields.Text(
        readonly=True,
        copy=False,
        help="The rules of the policy this line passed or failed, and why.",
    )
    policy_rule_failed = fields.Boolean(readonly=True, copy=False)
    policy_outcome = fields.Selection(
        POLICY_VERDICTS,
        string="Line Verdict",
        readonly=True,
        copy=False,
        help="What the line's policy decided for this line alone.",
    )

    # what the policy decided when the return was approved: the credit
    # notes follow it, whatever becomes of the policy afterwards
    policy_terms_kept = fields.Boolean(readonly=True, copy=False)
    policy_fee_percent = fields.Float(
        string="Restocking Fee Kept (%)",
        digits=(5, 2),
        readonly=True,
        copy=False,
        help="The restocking fee of the line's policy when the return was approved.",
    )
    policy_fee_product_id = fields.Many2one(
        "product.product", string="Fee Product Kept", readonly=True, copy=False
    )
    policy_refund_shipping = fields.Boolean(
        string="Shipping Refund Kept",
        readonly=True,
        copy=False,
        help="Whether the line's policy refunded shipping when the return was "
        "approved.",
    )
    policy_deduction_percents = fields.Json(
        string="Deductions Kept",
        readonly=True,
        copy=False,
        help="Deduction per grade id of the line's policy when the return was "
        "approved.",
    )

    # the terms kept at approval are the policy's at that moment, and
    # inspected units get their grade when the inspection is validated
    # (which recomputes this): neither is a dependency
    @api.depends(
        "goods_amount",
        "reason_id.customer_fault",
        "policy_id.restocking_fee_percent",
        "policy_id.deduction_ids.deduction_percent",
    )
    def _compute_refund_amount(self):
        """What the credit notes will credit for these goods: their value
        minus, when the reason is the customer's fault, the restocking fee
        and the deductions for the grades of the inspected units."""
        for line in self:
            line.refund_amount = line.goods_amount - line._refund_charges()

    def _refund_charges(self):
        """Untaxed fee and deductions the line's terms take off its goods,
        as its credit notes charge them."""
        self.ensure_one()
        if not self.reason_id.customer_fault or not (
            self.policy_id or self.policy_terms_kept
        ):
            return 0.0
        currency = self.currency_id
        terms = self._policy_terms()
        goods = self.goods_amount
        fee = currency.round(goods * terms.fee_percent / 100)
        left = goods - goods * terms.fee_percent / 100
        deductions = 0.0
        if terms.deductions and self.quantity:
            for grade, graded in self._qc_graded_units(0.0, self.quantity).items():
                percent = terms.deductions.get(grade.id, 0.0)
                deduction = currency.round(
                    min(goods * graded / self.quantity * percent / 100, left)
                )
                left -= deduction
                deductions += deduction
        return fee + deductions

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._policy_lines_changed()
        return lines

    def write(self, vals):
        if not any(name in vals for name in LINE_POLICY_INPUTS):
            return super().write(vals)
        before = self.order_id
        res = super().write(vals)
        (before | self.order_id)._policy_lines_changed()
        return res

    def unlink(self):
        orders = self.order_id
        res = super().unlink()
        orders.exists()._policy_lines_changed()
        return res

    def _policy_set(self, vals):
        """Store the policy decision, which write() refuses to users."""
        return self._set_protected(vals)

    def _policy_keep_terms(self):
        """Keep the fee and refund terms of each line's policy at approval:
        changing or archiving the policy later changes no approved return.
        They were stored with the verdict; only lines whose policy changed
        its terms since are written again."""
        scopes = self._policy_scopes()
        per_terms = defaultdict(list)
        for line in self:
            vals = line._policy_terms_vals(line.policy_id, scopes)
            kept = {
                name: line[name].id if name == "policy_fee_product_id" else line[name]
                for name in vals
            }
            if vals != kept:
                per_terms[json.dumps(vals, sort_keys=True)].append(line.id)
        for vals, ids in per_terms.items():
            self.browse(ids)._policy_set(json.loads(vals))

    def _policy_scopes(self):
        """{policy id: scope} of the active policies of these lines'
        companies (cached, see return.policy._scopes_of_company)."""
        policies = self.env["return.policy"]
        return {
            policy_id: scope
            for company in self.company_id
            for policy_id, scope in policies._scopes_of_company(company.id)
        }

    def _policy_terms_vals(self, policy, scopes):
        """The line's kept terms for policy, as stored (deductions per grade
        id, read from the cached scope when the policy is active)."""
        scope = scopes.get(policy.id)
        deductions = (
            scope["deductions"]
            if scope
            else tuple(
                sorted(
                    (str(d.grade_id.id), d.deduction_percent)
                    for d in policy.deduction_ids
                )
            )
        )
        return {
            "policy_terms_kept": bool(policy),
            "policy_fee_percent": policy.restocking_fee_percent,
            "policy_fee_product_id": policy.restocking_fee_product_id.id,
            "policy_refund_shipping": policy.refund_shipping,
            "policy_deduction_percents": dict(deductions) or False,
        }

    def _policy_terms(self):
        """The fee and refund terms that apply to this line: those kept at
        approval, else (approved before they were kept) its policy's."""
        self.ensure_one()
        if self.policy_terms_kept:
            return PolicyTerms(
                self.policy_fee_percent,
                self.policy_fee_product_id,
                self.policy_refund_shipping,
                {
                    int(grade_id): percent
                    for grade_id, percent in (
                        self.policy_deduction_percents or {}
                    ).items()
                },
            )
        policy = self.policy_id
        return PolicyTerms(
            policy.restocking_fee_percent,
            policy.restocking_fee_product_id,
            policy.refund_shipping,
            {d.grade_id.id: d.deduction_percent for d in policy.deduction_ids},
        )
