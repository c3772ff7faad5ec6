/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * Approve and Re-check Policy from the Action menu, in the list and in the
 * form (see tests/test_tour.py). Starts on the Returns app; each submitted
 * return belongs to its own customer. The web client must get an action or
 * nothing back from each server action, and show the new state.
 */

const rowOf = (customer) =>
    `.o_list_view .o_data_row:has(.o_data_cell[name=partner_id]:contains('${customer}'))`;
const formStatusIs = (value) =>
    `.o_form_view:has(.o_statusbar_status button[data-value='${value}'][aria-checked=true]) .oe_title`;

const runFromActionMenu = (scope, item) => [
    {
        content: `Open the Action menu (${scope})`,
        trigger: ".o_control_panel .o_cp_action_menus button",
        run: "click",
    },
    {
        content: `Run ${item} (${scope})`,
        trigger: `.o-dropdown--menu .o-dropdown-item:contains(/^${item}$/)`,
        run: "click",
    },
];

const inList = (customer, item) => [
    {
        content: `Select the return of ${customer}`,
        trigger: `${rowOf(customer)} .o_list_record_selector input`,
        run: "click",
    },
    ...runFromActionMenu("list", item),
    {
        content: `The list shows the return of ${customer} approved`,
        trigger: `body:not(:has(.o_notification_manager .o_notification.bg-danger)) ${rowOf(customer)} .o_data_cell[name=state]:contains('Approved')`,
    },
];

const inForm = (customer, item) => [
    {
        content: `Open the return of ${customer}`,
        trigger: `${rowOf(customer)} .o_data_cell[name=partner_id]`,
        run: "click",
    },
    {
        content: "The form waits for a decision",
        trigger: formStatusIs("to_approve"),
    },
    ...runFromActionMenu("form", item),
    {
        content: `The form shows the return of ${customer} approved`,
        trigger: formStatusIs("approved"),
    },
    {
        content: "Back to the list",
        trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb .breadcrumb-item:first a",
        run: "click",
    },
    {
        content: "The list is back",
        trigger: `${rowOf(customer)} .o_data_cell[name=state]:contains('Approved')`,
    },
];

registry.category("web_tour.tours").add("returns_management_action_menu_tour", {
    steps: () => [
        {
            content: "Switch to the list of returns",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        ...inList("Menu Approve List Customer", "Approve"),
        ...inList("Menu Recheck List Customer", "Re-check Policy"),
        ...inForm("Menu Approve Form Customer", "Approve"),
        ...inForm("Menu Recheck Form Customer", "Re-check Policy"),
    ],
});
