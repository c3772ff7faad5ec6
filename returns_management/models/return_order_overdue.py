"""Overdue alerts: returns stuck past one of their policy's delays.

Three delays, each tied to one state and the date the return entered it:
waiting for a decision (``decision_days`` from ``date_request``), goods not
arrived (``receipt_days`` from ``date_approved``), not credited
(``credit_days`` from ``date_received``). A sweep (cron, or by hand) flags
each overdue return once per delay in ``overdue_kind`` and gives it one
activity; leaving the state clears the flag.
"""

import logging
from collections import namedtuple
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import sql

_logger = logging.getLogger(__name__)

OverdueDelay = namedtuple("OverdueDelay", "kind state date_field days_field")

OVERDUE_DELAYS = (
    OverdueDelay("decision", "to_approve", "date_request", "decision_days"),
    OverdueDelay("receipt", "approved", "date_approved", "receipt_days"),
    OverdueDelay("credit", "received", "date_received", "credit_days"),
)

OVERDUE_KINDS = [
    ("decision", "Decision overdue"),
    ("receipt", "Goods overdue"),
    ("credit", "Refund overdue"),
]

# returns handled per savepoint; a failing batch is retried return by return
OVERDUE_BATCH_SIZE = 500


class ReturnOrder(models.Model):
    _inherit = "return.order"
    _protected_fields = ("overdue_kind",)

    overdue_kind = fields.Selection(
        OVERDUE_KINDS,
        string="Overdue",
        compute="_compute_overdue_kind",
        store=True,
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The delay of its policy this return is past, set by the daily "
        "overdue check. Cleared when the return changes state.",
    )

    def init(self):  # pylint: disable=missing-return
        super().init()
        # the Overdue filter sorted by the default order, in the list and in
        # each kanban column, without sorting all its matches (SCALE.md)
        for name, columns in (
            (
                "return_order_overdue_date_request_index",
                ["date_request DESC", "id DESC"],
            ),
            (
                "return_order_overdue_state_date_request_index",
                ["state", "date_request DESC", "id DESC"],
            ),
        ):
            sql.create_index(
                self.env.cr,
                name,
                self._table,
                columns,
                where="overdue_kind IS NOT NULL",
            )

    @api.depends("state")
    def _compute_overdue_kind(self):
        """A new state starts with no alert: only the sweep sets one."""
        self.overdue_kind = False

    # ------------------------------------------------------------------
    # sweep
    # ------------------------------------------------------------------

    @api.model
    def _cron_flag_overdue_returns(self):
        flagged = self._flag_overdue_returns()
        self.env["ir.cron"]._notify_progress(done=len(flagged), remaining=0)
        return True

    @api.model
    def _action_check_overdue_returns(self):
        """The "Check overdue returns" server action: sweep now, say what
        was found."""
        self._ensure_manager()
        flagged = self._flag_overdue_returns()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if flagged else "info",
                "title": self.env._("Overdue returns checked"),
                "message": self.env._(
                    "%(count)s returns newly overdue: %(names)s.",
                    count=len(flagged),
                    names=", ".join(flagged[:10].mapped("name")),
                )
                if flagged
                else self.env._("No return is newly overdue."),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _flag_overdue_returns(self):
        """Flag and alert every return past a delay; returns those flagged.

        One search per delay, then batches of OVERDUE_BATCH_SIZE: a broken
        return is logged and skipped, the others are flagged (RELIABILITY E4).
        """
        now = fields.Datetime.now()
        flagged = self.browse()
        for delay in OVERDUE_DELAYS:
            candidates = self._overdue_candidates(delay, now)
            for start in range(0, len(candidates), OVERDUE_BATCH_SIZE):
                batch = candidates[start : start + OVERDUE_BATCH_SIZE]
                flagged |= batch._flag_overdue_batch(delay, now)
        return flagged

    @api.model
    def _overdue_candidates(self, delay, now):
        """Returns in the delay's state, not flagged yet, past the shortest
        delay any policy sets: a superset of the overdue ones."""
        policies = self.env["return.policy"].with_context(active_test=False)
        [(shortest,)] = policies._read_group(
            [(delay.days_field, ">", 0)], aggregates=[f"{delay.days_field}:min"]
        )
        if not shortest:
            return self.browse()
        return self.search(
            [
                ("state", "=", delay.state),
                ("overdue_kind", "=", False),
                (delay.date_field, "<=", now - timedelta(days=shortest)),
            ],
            order="id",
        )

    def _flag_overdue_batch(self, delay, now):
        try:
            with self.env.cr.savepoint():
                return self._flag_overdue(delay, now)
        except Exception:  # noqa: BLE001 - a cron must get past any broken return
            _logger.info("Overdue batch failed, retrying return by return")
        flagged = self.browse()
        for order in self:
            try:
                with self.env.cr.savepoint():
                    flagged |= order._flag_overdue(delay, now)
            except Exception:  # noqa: BLE001 - logged, the others proceed
                _logger.exception(
                    "Could not flag return %s (id %s) as overdue", order.name, order.id
                )
        return flagged

    def _flag_overdue(self, delay, now):
        """Flag the returns of self past their own delay; one activity each."""
        default_policies = self._overdue_default_policies()
        managers = self._overdue_managers()
        common_vals = self._prepare_overdue_activity_common_vals(delay)
        overdue = self.browse()
        vals_list = []
        for order in self:
            policy = order._overdue_policy(delay, default_policies)
            days = policy[delay.days_field]
            if days and order[delay.date_field] + timedelta(days=days) < now:
                overdue |= order
                user = order._overdue_user(delay, managers)
                vals_list.append(
                    dict(
                        common_vals,
                        **order._prepare_overdue_activity_vals(delay, policy, user),
                    )
                )
        if overdue:
            overdue._set_protected({"overdue_kind": delay.kind})
            # The activities are the alert: they show in their users' activity
            # menu. No "assigned to you" e-mail each: a sweep finding hundreds
            # of late returns must not send hundreds of e-mails.
            self.env["mail.activity"].with_context(
                mail_activity_quick_update=True
            ).create(vals_list)
        return overdue

    def _overdue_default_policies(self):
        """The catch-all policy of each company: active, limited to nothing,
        lowest sequence. One search for all companies."""
        policies = self.env["return.policy"].search(
            [
                ("company_id", "in", self.company_id.ids),
                ("categ_ids", "=", False),
                ("partner_ids", "=", False),
                ("partner_category_ids", "=", False),
                ("reason_ids", "=", False),
            ],
            order="sequence, id",
        )
        default_policies = {}
        for policy in policies:
            default_policies.setdefault(policy.company_id, policy)
        return default_policies

    def _overdue_policy(self, delay, default_policies):
        """The policy whose delay applies: of the policies the lines were
        judged by, the one with the shortest delay (0 means never); the
        company's catch-all policy when no line has one."""
        self.ensure_one()
        policies = self.line_ids.policy_id
        if not policies:
            return default_policies.get(self.company_id, self.env["return.policy"])
        with_delay = policies.filtered(delay.days_field)
        return min(with_delay, key=lambda p: p[delay.days_field], default=policies[:1])

    def _overdue_managers(self):
        """The return managers of the companies of self, in one search."""
        group = self.env.ref("returns_management.group_return_manager")
        return self.env["res.users"].search(
            [
                ("groups_id", "in", group.ids),
                ("share", "=", False),
                ("company_ids", "in", self.company_id.ids),
            ]
        )

    def _overdue_user(self, delay, managers):
        """Who gets the alert: a late decision goes to whoever was asked to
        decide (as the escalation to-do does: the policy's approver, else the
        responsible if a manager, else the company's first manager); late
        goods and refunds go to the return's responsible."""
        self.ensure_one()
        if delay.kind != "decision" and self.user_id.active:
            return self.user_id
        return self._policy_approver(managers)

    @api.model
    def _prepare_overdue_activity_common_vals(self, delay):
        """What the activities of one delay share, looked up once a batch."""
        labels = dict(self._fields["overdue_kind"]._description_selection(self.env))
        return {
            "res_model_id": self.env["ir.model"]._get_id(self._name),
            "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
            "summary": labels[delay.kind],
            "date_deadline": fields.Date.context_today(self),
            "automated": True,
        }

    def _prepare_overdue_activity_vals(self, delay, policy, user):
        self.ensure_one()
        return {
            "res_id": self.id,
            "note": self._overdue_note(delay.kind, policy),
            "user_id": user.id,
        }

    def _overdue_note(self, kind, policy):
        """Why this return is late, for the person who gets the to-do."""
        values = {"name": self.name, "policy": policy.name}
        if kind == "decision":
            return self.env._(
                "Return %(name)s has been waiting for a decision for more than "
                "%(days)s days (policy %(policy)s).",
                days=policy.decision_days,
                **values,
            )
        if kind == "receipt":
            return self.env._(
                "The goods of return %(name)s, approved more than %(days)s days "
                "ago, have not arrived (policy %(policy)s).",
                days=policy.receipt_days,
                **values,
            )
        return self.env._(
            "The goods of return %(name)s arrived more than %(days)s days "
            "ago and are not credited yet (policy %(policy)s).",
            days=policy.credit_days,
            **values,
        )
