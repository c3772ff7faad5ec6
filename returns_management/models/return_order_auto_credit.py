from odoo import fields, models

from .isolating import run_isolating_failures

# from the latest refund to the earliest: a return whose lines follow
# several policies is refunded when the latest of them allows it
TRIGGERS_LATEST_FIRST = ("manual", "after_qc", "on_receipt")


class ReturnOrder(models.Model):
    _inherit = "return.order"

    def _on_return_receipt_done(self):
        res = super()._on_return_receipt_done()
        self._auto_credit("on_receipt")
        return res

    def _refund_trigger(self):
        """When the return's policies refund it: on_receipt, after_qc or
        manual (also for lines no policy applied to)."""
        self.ensure_one()
        triggers = {line.refund_trigger or "manual" for line in self.line_ids}
        return next((t for t in TRIGGERS_LATEST_FIRST if t in triggers), "manual")

    def _auto_credit_failed(self, message):
        """Leave the refund to a person: the reason on the return, and a
        to-do for its responsible (the return stays received)."""
        self.ensure_one()
        self.message_post(body=message)
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=self.user_id.id or self.env.uid,
            summary=self.env._("Refund this return by hand"),
            note=message,
        )

    def _auto_post_credit_notes(self):
        self.ensure_one()
        policies = self.line_ids.policy_id
        return bool(policies) and all(policies.mapped("auto_post_credit_note"))

    def _auto_credit(self, trigger):
        """Credit (and post, by policy) the returns refunded at this step.

        A return that cannot be credited does not stop the step that
        triggered it (the receipt, the inspection): the reason is noted on
        the return, for someone to credit it by hand.
        """
        orders = self.filtered(
            lambda o: (
                o.state == "received"
                and o._refund_trigger() == trigger
                and any(line._qty_to_credit() for line in o.line_ids)
            )
        )
        if not orders:
            return
        existing = orders.credit_note_ids
        failed = run_isolating_failures(
            orders, lambda batch: batch._credit(), isolate_single=True
        )
        for order, error in failed.items():
            order._auto_credit_failed(
                self.env._(
                    "The credit note could not be created automatically: %(error)s",
                    error=error,
                )
            )
        orders.invalidate_recordset(["credit_note_ids"])
        new_credit_notes = orders.credit_note_ids - existing
        new_credit_notes.filtered(
            lambda m: m.state == "draft" and m.return_order_id._auto_post_credit_notes()
        )._return_auto_post()


class ReturnOrderLine(models.Model):
    _inherit = "return.order.line"
    _protected_fields = ("refund_trigger",)

    # stored: read with the line when a receipt or a credit note asks
    # whether the return is refunded now
    refund_trigger = fields.Selection(related="policy_id.refund_trigger", store=True)
