from odoo import Command, api, fields, models


class ReturnQcGradeWizard(models.TransientModel):
    """Asks before a grade button of the inspection screen replaces grades
    given already or sends back goods a posted credit note refunded."""

    _name = "return.qc.grade.wizard"
    _description = "Confirm an Inspection Grade"

    line_ids = fields.Many2many("return.order.line", required=True, readonly=True)
    grade_id = fields.Many2one("return.qc.grade", required=True, readonly=True)
    warning = fields.Text(readonly=True)

    @api.model
    def _action_open(self, lines, grade, warnings):
        wizard = self.create(
            {
                "line_ids": [Command.set(lines.ids)],
                "grade_id": grade.id,
                "warning": "\n\n".join(warnings),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": wizard.id,
            "views": [(False, "form")],
            "target": "new",
            "name": self.env._("Grade %(grade)s?", grade=grade.name),
        }

    def action_confirm(self):
        self.ensure_one()
        self.line_ids.with_context(
            qc_grade=self.grade_id.code, qc_grade_confirmed=True
        ).action_qc_grade()
        return {"type": "ir.actions.act_window_close"}
