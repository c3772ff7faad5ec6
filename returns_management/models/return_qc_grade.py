from odoo import api, fields, models, tools
from odoo.exceptions import UserError

DISPOSITIONS = [
    ("restock", "Restock"),
    ("refurbish", "Refurbish"),
    ("quarantine", "Quarantine"),
    ("scrap", "Scrap"),
    ("return_to_customer", "Return to Customer"),
]


class ReturnQcGrade(models.Model):
    """A grade an inspector gives returned goods (as new, minor defect...).

    Its code is the value of ``qc_grade`` on return lines and inspection
    lines, so that RPC clients write ``qc_grade: 'as_new'``; new grades are
    new records.
    """

    _name = "return.qc.grade"
    _inherit = ["return.cached.mixin"]
    _description = "Inspection Grade"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Technical key, written in qc_grade by scripts and integrations.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    default_disposition = fields.Selection(
        DISPOSITIONS,
        required=True,
        default="restock",
        help="Where goods of this grade go in a warehouse with no route of its "
        "own for the grade.",
    )
    refund = fields.Boolean(
        string="Refund the Customer",
        default=True,
        help="Off: goods of this grade are credited nothing (e.g. a wrong item, "
        "sent back to the customer).",
    )

    _sql_constraints = [
        ("code_uniq", "unique(code)", "An inspection grade code must be unique."),
        (
            "code_not_reserved",
            "CHECK(code NOT IN ('pending', 'mixed'))",
            "'pending' and 'mixed' are not grades: they describe lines not or "
            "differently graded.",
        ),
    ]

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        # sudo is safe: only counts, over every company, whether it is used
        lines = self.env["return.qc.line"].sudo()  # see above
        used = lines.search_count([("grade_id", "in", self.ids)], limit=1)
        if used:
            raise UserError(
                self.env._(
                    "Returned goods were graded with this grade: archive it instead."
                )
            )

    @api.model
    @tools.ormcache()
    def _grade_selection(self):
        """(code, name id) of every grade, archived ones too: lines graded
        before a grade was archived keep a valid value."""
        # sudo is safe: grade codes and ids only, the same for every user
        # a handful of grades, cached
        grades = self.sudo().with_context(active_test=False).search([])  # pylint: disable=no-search-all
        return tuple((grade.code, grade.id) for grade in grades)

    @api.model
    def _selection_values(self):
        """Selection of qc_grade, in the user's language."""
        # sudo is safe: grade names only, the labels of a selection
        grades = self.sudo().browse(  # see above
            [gid for _code, gid in self._grade_selection()]
        )
        names = {grade.id: grade.name for grade in grades}
        return [(code, names[grade_id]) for code, grade_id in self._grade_selection()]

    @api.model
    def _check_code(self, code, also=()):
        """Refuse an unknown grade with the list of known ones, rather than
        the ORM's bare ValueError."""
        codes = [c for c, _id in self._grade_selection()]
        if code not in codes and code not in also:
            raise UserError(
                self.env._(
                    "%(code)s is not an inspection grade. Grades: %(codes)s.",
                    code=code,
                    codes=", ".join([*also, *codes]),
                )
            )

    @api.model
    def _by_code(self, code):
        grade_id = dict(self._grade_selection()).get(code)
        return self.browse(grade_id)
