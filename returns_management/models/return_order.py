from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import sql

from .isolating import run_isolating_failures

RETURN_STATES = [
    ("draft", "Draft"),
    ("to_approve", "To Approve"),
    ("approved", "Approved"),
    ("received", "Received"),
    ("done", "Done"),
    ("rejected", "Rejected"),
    ("cancel", "Cancelled"),
]

# Changed only through the actions (submit, approve, reject, cancel, receipt,
# credit notes), never by a plain write: see return.protected.mixin and
# _set_state(). The capability files add their own fields.
PROTECTED_FIELDS = (
    "state",
    "date_approved",
    "date_received",
    "date_done",
    "reject_reason",
    # follow the sale order and the delivery the goods come from
    "company_id",
    "warehouse_id",
    "picking_id",
    "amount_untaxed",
)


class ReturnOrder(models.Model):
    _name = "return.order"
    _description = "Return Order"
    _inherit = [
        "portal.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "return.protected.mixin",
    ]
    _order = "date_request desc, id desc"
    _check_company_auto = True
    _protected_fields = PROTECTED_FIELDS

    name = fields.Char(
        string="Reference", default="/", required=True, copy=False, readonly=True
    )
    state = fields.Selection(
        RETURN_STATES,
        default="draft",
        required=True,
        copy=False,
        readonly=True,
        tracking=True,
        group_expand=True,
    )
    sale_order_id = fields.Many2one(
        "sale.order",
        required=True,
        index=True,
        check_company=True,
        tracking=True,
        domain="[('state', '=', 'sale')]",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_from_sale_order",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        index=True,
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_from_sale_order",
        store=True,
        precompute=True,
        required=True,
        index=True,
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        compute="_compute_warehouse_id",
        store=True,
        readonly=True,
        precompute=True,
        check_company=True,
        help="Warehouse the goods come back to: the one that delivered them.",
    )
    currency_id = fields.Many2one(related="sale_order_id.currency_id")
    picking_id = fields.Many2one(
        "stock.picking",
        string="Original Delivery",
        compute="_compute_picking_id",
        store=True,
        readonly=False,
        check_company=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        domain="[('share', '=', False)]",
    )
    origin = fields.Selection(
        [
            ("backend", "Back Office"),
            ("portal", "Portal"),
            ("email", "E-mail"),
            ("api", "API"),
        ],
        default="backend",
        required=True,
    )
    date_request = fields.Datetime(
        string="Requested On",
        default=fields.Datetime.now,
        required=True,
        copy=False,
        index=True,  # the default order of every list and kanban column
    )
    date_approved = fields.Datetime(string="Approved On", readonly=True, copy=False)
    date_received = fields.Datetime(string="Received On", readonly=True, copy=False)
    date_done = fields.Datetime(string="Done On", readonly=True, copy=False)
    reject_reason = fields.Text(string="Rejection Reason", readonly=True, copy=False)
    note = fields.Html()
    line_ids = fields.One2many("return.order.line", "order_id", copy=True)
    amount_untaxed = fields.Monetary(
        compute="_compute_amount_untaxed", store=True, string="Untaxed Amount"
    )
    return_picking_ids = fields.One2many(
        "stock.picking", "return_order_id", string="Return Receipts"
    )
    credit_note_ids = fields.One2many(
        "account.move",
        "return_order_id",
        string="Credit Notes",
        domain=[("move_type", "=", "out_refund")],
    )
    return_picking_count = fields.Integer(compute="_compute_document_counts")
    credit_note_count = fields.Integer(compute="_compute_document_counts")

    def init(self):  # pylint: disable=missing-return
        super().init()
        # the kanban's counts and sums per state read this index only
        # (benchmarks/SCALE.md); it also serves every search on the state
        sql.create_index(
            self.env.cr,
            "return_order_state_company_id_index",
            self._table,
            ["state", "company_id", "amount_untaxed"],
        )
        sql.drop_index(self.env.cr, "return_order__state_index", self._table)

    @api.depends("sale_order_id")
    def _compute_from_sale_order(self):
        for order in self:
            sale = order.sale_order_id
            order.partner_id = sale.partner_id or order.partner_id
            order.company_id = sale.company_id or order.company_id or self.env.company

    @api.depends("sale_order_id", "line_ids.move_id")
    def _compute_warehouse_id(self):
        """The return receipt goes to the warehouse of the delivery it
        returns; the sale order's warehouse until a delivery is known."""
        for order in self:
            warehouses = order.line_ids.move_id.picking_id.picking_type_id.warehouse_id
            order.warehouse_id = (
                warehouses if len(warehouses) == 1 else order.sale_order_id.warehouse_id
            )

    @api.depends("line_ids.move_id")
    def _compute_picking_id(self):
        for order in self:
            pickings = order.line_ids.move_id.picking_id
            order.picking_id = pickings if len(pickings) == 1 else False

    @api.depends("line_ids.refund_amount", "line_ids.goods_amount")
    def _compute_amount_untaxed(self):
        """What the credit notes will credit before taxes: the lines' refunds
        and the returned goods' share of the order's global discounts."""
        for order in self:
            order.amount_untaxed = sum(
                order.line_ids.mapped("refund_amount")
            ) + order._returned_discount_share(order.line_ids)

    def _returned_discount_share(self, lines):
        """Untaxed share (negative) of the sale order's global discount lines
        for the goods of ``lines``: per set of taxes, as a credit note
        prorates them, over the goods as ordered before any return lowered
        them."""
        self.ensure_one()
        sale_lines = self.sale_order_id.order_line
        discounts = sale_lines.filtered(
            lambda l: (
                not l.display_type and l.price_subtotal < 0 and not l.is_downpayment
            )
        )
        if not discounts:
            return 0.0
        goods = sale_lines.filtered(
            lambda l: (
                not l.display_type and l.price_subtotal > 0 and not l._is_delivery()
            )
        )
        base = defaultdict(float)
        for sale_line, ordered in goods._return_ordered_amounts().items():
            base[sale_line.tax_id] += ordered
        returned = defaultdict(float)
        for line in lines:
            returned[line.sale_line_id.tax_id] += line.goods_amount
        share = 0.0
        for discount in discounts:
            taxes = discount.tax_id
            if base[taxes]:
                share += discount.price_subtotal * returned[taxes] / base[taxes]
        return self.currency_id.round(share)

    @api.depends("return_picking_ids", "credit_note_ids")
    def _compute_document_counts(self):
        for order in self:
            order.return_picking_count = len(order.return_picking_ids)
            order.credit_note_count = len(order.credit_note_ids)

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for order in self:
            order.access_url = f"/my/returns/{order.id}"

    # The customer portal pages (/my/returns) are not built yet. Until they
    # are, portal.mixin must send nobody there: each way it would is below.

    @api.model
    def action_share(self):
        """portal.mixin's "Share" wizard would share a link to a missing page."""
        raise UserError(
            self.env._("Returns cannot be shared yet: they have no portal page.")
        )

    def _get_access_action(self, access_uid=None, force_website=False):
        """Always the back-office form, never portal.mixin's portal page.

        Deliberately not calling super(): portal.mixin's version redirects
        portal users and e-mail links to the missing portal page; this is the
        base implementation it falls back to otherwise.
        """
        self.ensure_one()
        return self.get_formview_action(access_uid=access_uid)

    def _notify_get_recipients_groups(self, message, model_description, msg_vals=None):
        """No "View" button in e-mails to customers and portal users."""
        groups = super()._notify_get_recipients_groups(
            message, model_description, msg_vals=msg_vals
        )
        for group_name, _check, group_data in groups:
            if group_name in ("portal_customer", "portal"):
                group_data["has_button_access"] = False
        return groups

    @api.constrains("partner_id", "sale_order_id")
    def _check_partner_matches_sale_order(self):
        for order in self:
            customer = order.sale_order_id.partner_id.commercial_partner_id
            if order.partner_id.commercial_partner_id != customer:
                raise ValidationError(
                    self.env._(
                        "Return %(name)s: the customer must be the customer of "
                        "sale order %(sale)s.",
                        name=order.name,
                        sale=order.sale_order_id.name,
                    )
                )

    @api.constrains("sale_order_id", "state")
    def _check_sale_order_confirmed(self):
        for order in self.filtered(lambda o: o.state in ("draft", "to_approve")):
            if order.sale_order_id.state != "sale":
                raise ValidationError(
                    self.env._(
                        "Only confirmed sale orders can be returned; %(sale)s is not.",
                        sale=order.sale_order_id.name,
                    )
                )

    @api.constrains("sale_order_id")
    def _check_lines_belong_to_sale_order(self):
        self.line_ids._check_sale_line_belongs_to_order()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self.env["return.order.line"]._check_quantity_commands(vals.get("line_ids"))
        orders = super().create(vals_list)
        orders.filtered(lambda o: o.name == "/")._assign_sequence_names()
        return orders

    def _assign_sequence_names(self):
        """Number returns as next_by_code would, looking the sequence up once
        per company rather than once per return; the return's company, not
        the active one, picks the sequence."""
        sequences = self.env["ir.sequence"]
        sequences.check_access("read")
        for company, orders in self.grouped("company_id").items():
            sequence = sequences.with_company(company).search(
                [
                    ("code", "=", "return.order"),
                    ("company_id", "in", [company.id, False]),
                ],
                order="company_id",
                limit=1,
            )
            for order in orders:
                order.name = sequence._next() if sequence else "/"

    def write(self, vals):
        self.env["return.order.line"]._check_quantity_commands(vals.get("line_ids"))
        return super().write(vals)

    def _check_protected_write_vals(self, vals):  # pylint: disable=missing-return
        """Once submitted, the request date dates the return window and the
        decision delay: only the actions move it."""
        super()._check_protected_write_vals(vals)
        if "date_request" in vals and any(o.state != "draft" for o in self):
            self._raise_protected_fields(["date_request"])

    def _set_state(self, vals):
        """Write the state and the other protected fields of the returns
        once the caller has checked the business rules of the action."""
        return self._set_protected(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_processed(self):
        if any(order.state not in ("draft", "cancel") for order in self):
            raise UserError(
                self.env._("Only draft or cancelled returns can be deleted.")
            )

    def _ensure_state(self, allowed_states, message):
        """Refuse if a return is not in allowed_states.

        message(names) builds the whole error sentence, so that translators
        get full sentences: ``lambda names: self.env._("... %(names)s ...",
        names=names)``.
        """
        wrong = self.filtered(lambda order: order.state not in allowed_states)
        if wrong:
            raise UserError(message(", ".join(wrong.mapped("name"))))

    def _ensure_manager(self):
        # server code running with superuser rights decides for itself: an
        # automation rule set up by an administrator (base_automation runs
        # its actions with sudo()); an RPC or web client call never is sudo
        if self.env.su:
            return
        if not self.env.user.has_group("returns_management.group_return_manager"):
            raise AccessError(
                self.env._("Only return managers can approve or reject returns.")
            )

    def _lock_for_update(self):
        """Serialize concurrent state changes on the same returns.

        The loser of a race gets LockNotAvailable, which Odoo's RPC and HTTP
        layers retry; the retry then sees the new state and refuses cleanly.
        """
        if not self.ids:
            return
        self.flush_recordset(["state"])
        # the state is read with the lock, in the same query, so that every
        # caller decides on the state as it is once the rows are locked
        self.env.cr.execute(
            "SELECT id, state FROM return_order WHERE id IN %s "
            "FOR NO KEY UPDATE NOWAIT",
            [tuple(self.ids)],
        )
        states = dict(self.env.cr.fetchall())
        locked = self.browse(list(states))
        self.env.cache.update(locked, self._fields["state"], list(states.values()))

    def _ensure_lines_editable(self):
        self._ensure_state(
            ("draft", "to_approve"),
            lambda names: self.env._(
                "The products of %(names)s can only be changed before approval.",
                names=names,
            ),
        )

    def _ensure_lines(self):
        empty = self.filtered(lambda order: not order.line_ids)
        if empty:
            raise UserError(
                self.env._(
                    "Add at least one product to return on %(names)s.",
                    names=", ".join(empty.mapped("name")),
                )
            )

    def action_submit(self):
        """Submit the requests; the return policies decide at once (see
        return_order_policy.py): approved, refused or waiting for a manager."""
        self._lock_for_update()
        self._ensure_state(
            ("draft",),
            lambda names: self.env._(
                "Only draft returns can be submitted, not %(names)s.",
                names=names,
            ),
        )
        self._ensure_lines()
        self.line_ids._check_returnable_quantity()
        return self._submit_with_policy()

    def action_approve(self, override_reason=None):
        """Approve the returns: their return receipts are created.

        A return that failed a policy rule (outside the window, not
        returnable, refused by policy) is approved only with an
        override_reason, which is stored and logged; without it, the
        approval wizard opens to ask for it. A return refused by policy is
        approved from the rejected state directly, its quantities checked
        again as for a pending return.
        """
        self._ensure_manager()
        self._lock_for_update()
        self._ensure_approvable()
        self._ensure_lines()
        override_reason = (override_reason or "").strip()
        if not override_reason and self._policy_needs_override():
            return self._action_open_approve_wizard()
        failed = self._run_isolating_failures(
            lambda orders: orders._approve(override_reason)
        )
        report = self._report_failures(
            failed,
            lambda error: self.env._(
                "Could not approve this return: %(error)s", error=error
            ),
        )
        return report or True

    def _ensure_approvable(self):
        self._ensure_state(
            ("draft", "to_approve", "rejected"),
            lambda names: self.env._(
                "Only draft or submitted returns can be approved, not %(names)s.",
                names=names,
            ),
        )
        refused_by_hand = self.filtered(
            lambda order: order.state == "rejected" and order.policy_verdict != "reject"
        )
        if refused_by_hand:
            raise UserError(
                self.env._(
                    "%(names)s was refused by a manager: reset it to draft before "
                    "approving it.",
                    names=", ".join(refused_by_hand.mapped("name")),
                )
            )

    def _action_open_approve_wizard(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "returns_management.return_order_approve_wizard_action"
        )
        action["context"] = {"default_return_order_ids": self.ids}
        return action

    def _approve(self, override_reason=None):
        """Approve the returns still approvable, however often it is called:
        a second call (an automation rule that approved them meanwhile, the
        policy after it) does nothing. Every caller (the actions, the policy,
        the bound actions) holds the returns' row locks, taken with their
        states by _lock_for_update: locking again here would cost a query
        per approval for nothing."""
        orders = self._filter_approvable()
        if not orders:
            return
        refused = orders.filtered(lambda order: order.state == "rejected")
        # back among the pending returns, so their quantities count again
        refused._set_state({"state": "to_approve", "reject_reason": False})
        orders.line_ids._check_approvable_quantity()
        orders._create_return_pickings()
        orders._set_state({"state": "approved", "date_approved": fields.Datetime.now()})
        orders._approve_after_hook(override_reason)

    def _filter_approvable(self):
        """Pending returns, and those refused by a policy (not by a manager)."""
        return self.filtered(
            lambda order: (
                order.state in ("draft", "to_approve")
                or (order.state == "rejected" and order.policy_verdict == "reject")
            )
        )

    def _approve_after_hook(self, override_reason=None):
        """Called once the returns are approved (extended by the policies)."""

    def _reject_after_hook(self, reason):
        """Called once the returns are rejected (extended by the policies)."""

    def _cancel_after_hook(self):
        """Called once the returns are cancelled (extended by the policies)."""

    def _run_isolating_failures(self, process):
        """One broken return does not hold back the others; a single return
        still raises (see run_isolating_failures)."""
        return run_isolating_failures(self, process)

    def _report_failures(self, failed, message):
        """Note each failure on its return and tell the user which failed.

        message(error) builds the whole note, so that translators get full
        sentences: ``lambda error: self.env._("... %(error)s", error=error)``.
        """
        if not failed:
            return None
        for order, error in failed.items():
            order.message_post(body=message(error))
        done = len(self) - len(failed)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "sticky": True,
                "title": self.env._(
                    "%(done)s of %(total)s returns processed",
                    done=done,
                    total=len(self),
                ),
                "message": "; ".join(
                    f"{order.name}: {error}" for order, error in failed.items()
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_reject(self, reason=None):
        """Refuse the returns with a reason the customer reads; without one,
        the wizard opens to ask for it (server code, which has nobody to
        ask, gets an error)."""
        self._ensure_manager()
        if not reason:
            if self.env.su:
                raise UserError(
                    self.env._(
                        "A reason the customer can read is needed to reject "
                        "%(names)s: give it to action_reject(reason=...).",
                        names=", ".join(self.mapped("name")),
                    )
                )
            return self._action_open_reject_wizard()
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            raise UserError(self.env._("Explain why the return is refused."))
        self._lock_for_update()
        self._ensure_rejectable()
        self._reject(reason)
        return True

    def _reject(self, reason):
        """Refuse the returns still pending; the caller holds their row
        locks (see _approve)."""
        orders = self.filtered(lambda o: o.state in ("draft", "to_approve"))
        orders._set_state({"state": "rejected", "reject_reason": reason})
        for order in orders:
            order.message_post(
                body=self.env._("Return refused: %(reason)s", reason=reason)
            )
        orders._reject_after_hook(reason)

    def _ensure_rejectable(self):
        self._ensure_state(
            ("draft", "to_approve"),
            lambda names: self.env._(
                "Only draft or submitted returns can be rejected, not %(names)s.",
                names=names,
            ),
        )

    def _action_open_reject_wizard(self):
        self._ensure_rejectable()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "returns_management.return_order_reject_wizard_action"
        )
        action["context"] = {"default_return_order_ids": self.ids}
        return action

    def action_cancel(self):
        self._lock_for_update()
        self._ensure_state(
            ("draft", "to_approve", "approved"),
            lambda names: self.env._(
                "Only returns whose goods have not arrived yet can be cancelled, "
                "not %(names)s.",
                names=names,
            ),
        )
        self.return_picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        ).action_cancel()
        self._set_state({"state": "cancel"})
        self._cancel_after_hook()
        return True

    def action_draft(self):
        self._lock_for_update()
        self._ensure_state(
            ("cancel", "rejected"),
            lambda names: self.env._(
                "Only cancelled or rejected returns can be reset to draft, "
                "not %(names)s.",
                names=names,
            ),
        )
        self._set_state(
            {
                "state": "draft",
                "reject_reason": False,
                "policy_verdict": False,
                "policy_verdict_note": False,
                "override_reason": False,
            }
        )
        # back in draft, the lines reserve their quantities again
        self.line_ids._check_returnable_quantity()
        return True

    def action_view_return_pickings(self):
        return self._action_view_records(
            self.return_picking_ids, "stock.action_picking_tree_all"
        )

    def action_view_credit_notes(self):
        return self._action_view_records(
            self.credit_note_ids, "account.action_move_out_refund_type"
        )

    def action_view_sale_order(self):
        return self._action_view_records(self.sale_order_id, "sale.action_orders")

    def _action_view_records(self, records, action_xmlid):
        if len(records) == 1:
            # a plain action: reading the window action and its groups would
            # cost a dozen queries per click on cold caches, for a form
            return {
                "type": "ir.actions.act_window",
                "res_model": records._name,
                "res_id": records.id,
                "views": [(False, "form")],
                "context": {"create": False},
            }
        action = self.env["ir.actions.act_window"]._for_xml_id(action_xmlid)
        action["domain"] = [("id", "in", records.ids)]
        action["context"] = {"create": False}
        return action

    def _action_view_self(self):
        return self._action_view_records(self, "returns_management.return_order_action")
