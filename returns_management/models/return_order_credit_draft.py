from markupsafe import Markup

from odoo import models


class ReturnOrder(models.Model):
    """Draft credit notes follow the inspection, as an accountant edits a
    draft down when goods turn out to be wrong items or damaged."""

    _inherit = "return.order"

    def _credit_drafts_follow_grades(self, qc_lines):
        """Rebuild the draft credit notes crediting the lines just inspected
        from their invoices, for what the grades leave creditable (goods sent
        back, deductions by grade); delete a draft left with nothing to
        credit. Posted credit notes are left alone."""
        orders = qc_lines.line_id.filtered("qty_credit_draft").order_id
        drafts = orders.credit_note_ids.filtered(
            lambda m: m.state == "draft" and m.reversed_entry_id
        )
        if not drafts:
            return
        # sudo is safe: only the drafts these returns created, rebuilt from
        # their invoices for an inspector who may lack billing rights; write
        # access to the returns was checked by the caller
        drafts = drafts.sudo()  # see above
        # what the drafts credit is free again while they are rebuilt
        drafts.invoice_line_ids.filtered(
            lambda l: l.display_type == "product"
        ).quantity = 0.0
        per_invoice, first_units = orders._credit_items_per_invoice()
        emptied = drafts.browse()
        for draft in drafts:
            items = per_invoice.pop(
                (draft.return_order_id, draft.reversed_entry_id), []
            )
            if items:
                draft._return_rebuild_lines(items, first_units)
            else:
                emptied |= draft
        orders._log_drafts_following_grades(drafts - emptied, emptied)
        emptied.unlink()
        if per_invoice:
            orders._create_credit_notes()

    def _log_drafts_following_grades(self, updated, deleted):
        bodies = {}
        for order in self:
            links = [
                self.env._("%(move)s updated", move=move._get_html_link())
                for move in updated.filtered(lambda m, o=order: m.return_order_id == o)
            ] + [
                self.env._("%(move)s deleted", move=move.display_name)
                for move in deleted.filtered(lambda m, o=order: m.return_order_id == o)
            ]
            if links:
                bodies[order.id] = self.env._(
                    "Draft credit notes follow the inspection: %(moves)s",
                    moves=Markup(", ").join(links),
                )
        self.browse(list(bodies))._message_log_batch(bodies)
