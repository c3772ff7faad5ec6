/** @odoo-module **/

import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { ViewButton } from "@web/views/view_button/view_button";

/**
 * One big button per active inspection grade (the records of
 * return.qc.grade, so that a grade a manager adds shows up), on a return
 * line of the inspection screen. A button calls the line's
 * action_qc_grade with the grade's code, like a button of the view would:
 * the form is saved first and reloaded after, and the line asks for a
 * confirmation when the grade would replace grades given already or send
 * back goods already refunded.
 */

// The look of a grade's button, from where its goods go by default.
const LOOKS = {
    restock: { rank: "btn-success", icon: "fa-check" },
    refurbish: { rank: "btn-warning", icon: "fa-wrench" },
    quarantine: { rank: "btn-info", icon: "fa-eye" },
    scrap: { rank: "btn-danger", icon: "fa-trash" },
    return_to_customer: { rank: "btn-secondary", icon: "fa-undo" },
};

export class QcGradeButtonsField extends Component {
    static template = "returns_management.QcGradeButtonsField";
    static components = { ViewButton };
    static props = { ...standardFieldProps };

    get buttons() {
        return this.props.record.data[this.props.name].records.map((grade) => {
            const look = LOOKS[grade.data.default_disposition] || LOOKS.return_to_customer;
            return {
                id: grade.resId,
                string: grade.data.name,
                className: `btn-lg ${look.rank} flex-grow-1 text-nowrap`,
                icon: look.icon,
                clickParams: {
                    type: "object",
                    name: "action_qc_grade",
                    context: { qc_grade: grade.data.code },
                },
            };
        });
    }
}

export const qcGradeButtonsField = {
    component: QcGradeButtonsField,
    supportedTypes: ["many2many"],
    relatedFields: [
        { name: "name", type: "char" },
        { name: "code", type: "char" },
        { name: "default_disposition", type: "char" },
    ],
};

registry.category("fields").add("return_qc_grade_buttons", qcGradeButtonsField);
