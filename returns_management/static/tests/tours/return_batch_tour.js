/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * Approving two returns at once from the list, one of which can no longer be
 * approved. Starts on the Returns app; the two submitted returns belong to
 * "Tour Batch Customer" (see tests/test_tour.py).
 */

const customerRows =
    ".o_list_view .o_data_row:has(.o_data_cell[name=partner_id]:contains('Tour Batch Customer'))";
const batchRow = (index) => `${customerRows}:eq(${index})`;

registry.category("web_tour.tours").add("returns_management_batch_tour", {
    steps: () => [
        {
            content: "Switch to the list of returns",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        {
            content: "Select the first return of the customer",
            trigger: `${batchRow(0)} .o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Select the second return of the customer",
            trigger: `${batchRow(1)} .o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Approve both at once",
            trigger: ".o_list_selection_container button[name=action_approve]",
            run: "click",
        },
        {
            content: "The user is told which return could not be approved",
            trigger: ".o_notification:contains('1 of 2 returns processed')",
        },
        {
            content: "The list, reloaded, shows the customer's approved return",
            trigger: `${customerRows} .o_data_cell[name=state]:contains('Approved')`,
        },
    ],
});
