/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * Rejecting two returns at once from the list's Action menu, with one reason
 * for both. Starts on the Returns app; the two submitted returns belong to
 * "Tour Reject Customer" (see tests/test_tour.py).
 */

const customerRows =
    ".o_list_view .o_data_row:has(.o_data_cell[name=partner_id]:contains('Tour Reject Customer'))";
const rejectRow = (index) => `${customerRows}:eq(${index})`;

registry.category("web_tour.tours").add("returns_management_batch_reject_tour", {
    steps: () => [
        {
            content: "Switch to the list of returns",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        {
            content: "Select the first return of the customer",
            trigger: `${rejectRow(0)} .o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Select the second return of the customer",
            trigger: `${rejectRow(1)} .o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Open the Action menu",
            trigger: ".o_control_panel .o_cp_action_menus button",
            run: "click",
        },
        {
            content: "Reject the selection",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(/^Reject$/)",
            run: "click",
        },
        {
            content: "The wizard names both returns",
            trigger: ".modal .o_field_widget[name=return_order_ids] .o_tag:eq(1)",
        },
        {
            content: "Give one reason for both",
            trigger: ".modal .o_field_widget[name=reason] textarea",
            run: "edit The goods were used.",
        },
        {
            content: "Confirm the rejection",
            trigger: ".modal footer button[name=action_reject]",
            run: "click",
        },
        {
            content: "The list, reloaded, shows the first return rejected",
            trigger: `${rejectRow(0)} .o_data_cell[name=state]:contains('Rejected')`,
        },
        {
            content: "and the second one too",
            trigger: `${rejectRow(1)} .o_data_cell[name=state]:contains('Rejected')`,
        },
    ],
});
