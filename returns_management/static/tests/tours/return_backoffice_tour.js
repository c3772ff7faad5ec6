/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * Back-office return, from a delivered and invoiced sale order to the credit
 * note. Starts on the sale order form (`/odoo/orders/<id>`); the customer of
 * that order must be "Tour Returns Customer" (see tests/test_tour.py).
 */

// Anchored on the record title, which does not change while the form is busy.
const statusIs = (value) =>
    `.o_form_view:has(.o_statusbar_status button[data-value='${value}'][aria-checked=true]) .oe_title`;

registry.category("web_tour.tours").add("returns_management_backoffice_tour", {
    steps: () => {
        let returnName = "";
        return [
            {
                content: "Open the return wizard from the delivered sale order",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_open_return_wizard]",
                run: "click",
            },
            {
                content: "Select the quantity of the first product to return",
                trigger:
                    ".modal .o_field_widget[name=line_ids] .o_data_row:first .o_data_cell[name=quantity]",
                run: "click",
            },
            {
                content: "Return 2 units",
                trigger: ".modal .o_data_row.o_selected_row .o_field_widget[name=quantity] input",
                run: "edit 2",
            },
            {
                content: "Search the return reason",
                trigger: ".modal .o_data_row.o_selected_row .o_field_widget[name=reason_id] input",
                run: "edit Wrong item",
            },
            {
                // Clicking the input first lists every reason; wait for the
                // filtered list (without the current "Defective" reason), or a
                // late search result would reopen the dropdown after the click.
                content: "Pick the reason",
                trigger:
                    ".o-autocomplete--dropdown-menu:not(:has(a:contains('Defective'))) .o-autocomplete--dropdown-item a:contains('Wrong item shipped')",
                run: "click",
            },
            {
                content: "The reason is set",
                trigger:
                    ".modal .o_field_widget[name=reason_id] input:value('Wrong item shipped')",
            },
            {
                content: "Create and submit the return in one click",
                trigger: ".modal footer button[name=action_create_and_submit]",
                run: "click",
            },
            {
                content: "The return waits for approval",
                trigger: `body:not(:has(.modal)) ${statusIs("to_approve")}`,
            },
            {
                content: "Remember its reference",
                trigger: ".o_form_view .o_field_widget[name=name]:contains('RET/')",
                run() {
                    returnName = this.anchor.textContent.trim();
                },
            },
            {
                content: "The line holds 2 units",
                trigger:
                    ".o_field_widget[name=line_ids] .o_data_row .o_data_cell[name=quantity]:contains('2.00')",
            },
            {
                content: "Approve the return",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_approve]",
                run: "click",
            },
            {
                content: "The return is approved",
                trigger: statusIs("approved"),
            },
            {
                content: "Open the return receipt",
                trigger: ".o-form-buttonbox button.oe_stat_button[name=action_view_return_pickings]",
                run: "click",
            },
            {
                content: "Validate the receipt",
                trigger: ".o_form_view .o_statusbar_buttons button[name=button_validate]",
                run: "click",
            },
            {
                content: "The receipt is done",
                trigger: statusIs("done"),
            },
            {
                content: "Go back to the return",
                trigger: ".o_breadcrumb .breadcrumb-item.o_back_button a:contains('RET/')",
                run: "click",
            },
            {
                content: "The goods are received",
                trigger: statusIs("received"),
            },
            {
                content: "Credit the received goods",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_create_credit_notes]",
                run: "click",
            },
            {
                content: "The credit note opens",
                trigger: ".o_form_view .o_field_widget[name=invoice_line_ids] .o_data_row",
            },
            {
                content: "Post the credit note",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_post]",
                run: "click",
            },
            {
                content: "The credit note is posted",
                trigger: statusIs("posted"),
            },
            stepUtils.showAppsMenuItem(),
            {
                content: "Open the Returns app",
                trigger: ".o_app[data-menu-xmlid='returns_management.return_order_menu_root']",
                run: "click",
            },
            {
                content: "The app opens on the dashboard",
                trigger: ".o_return_dashboard [data-loaded]",
            },
            {
                content: "Open the returns",
                trigger:
                    ".o_main_navbar [data-menu-xmlid='returns_management.return_order_menu']",
                run: "click",
            },
            {
                content: "The return is in the Done column",
                trigger:
                    ".o_kanban_view .o_kanban_group:has(.o_column_title:contains('Done')) .o_kanban_record:contains('Tour Returns Customer')",
                run() {
                    const cards = [
                        ...document.querySelectorAll(
                            ".o_kanban_group:has(.o_column_title) .o_kanban_record"
                        ),
                    ].filter((card) => card.textContent.includes(returnName));
                    const column = cards[0]?.closest(".o_kanban_group");
                    const title = column?.querySelector(".o_column_title")?.textContent;
                    if (!returnName || cards.length !== 1 || !title?.includes("Done")) {
                        throw new Error(
                            `Return "${returnName}" expected once in the Done column, ` +
                                `found ${cards.length} card(s) in "${title}".`
                        );
                    }
                },
            },
        ];
    },
});
