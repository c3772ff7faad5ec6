/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * An inspector grades a received return: one line "As new", the other with
 * "QC Tour Dented", a grade the test adds as a record (the buttons are the
 * grade records, none is written in the view); a grade button pressed on a
 * line graded in full asks before replacing its grade. Then the inspector
 * validates the inspection. Starts on the return's validated receipt
 * (`/odoo/action-stock.action_picking_tree_all/<id>`), opens the screen from
 * Inventory > Operations, and types the receipt's reference in its search
 * bar; the customer is "QC Tour Customer", the products "QC Tour Kettle" and
 * "QC Tour Toaster", and "QC Tour Other Customer" has another return to
 * inspect (see tests/test_qc_tour.py).
 */

// Anchored on the record title, which does not change while the form is busy.
const statusIs = (value) =>
    `.o_form_view:has(.o_statusbar_status button[data-value='${value}'][aria-checked=true]) .oe_title`;

// The inspection form shows one card per return line: its product, its grade
// badge, where the grade sends the goods ("Goes to") and the grade buttons.
const lineCard = (product) =>
    `.o_field_widget[name=line_ids] .o_kanban_record:contains('${product}')`;

const gradeButton = (product, label) =>
    `${lineCard(product)} button[name=action_qc_grade]:contains('${label}')`;

// the card shows the grade, and where it sends the goods: the disposition
// and the destination location
const gradedAs = (product, grade, disposition) =>
    `${lineCard(product)}:has(.o_field_widget[name=qc_grade]:contains('${grade}')) ` +
    `div:has(i[title='Goes to']):contains('${disposition}')` +
    ":has(.o_field_widget[name=qc_location_dest_ids] .o_tag)";

const CUSTOM_GRADE = "QC Tour Dented";

const CUSTOMER = "QC Tour Customer";
const OTHER_CUSTOMER = "QC Tour Other Customer";
const cards = ".o_kanban_view .o_kanban_record:not(.o_kanban_ghost)";

registry.category("web_tour.tours").add("returns_management_qc_tour", {
    steps: () => {
        let receiptName = "";
        return [
            {
                content: "Read the reference of the validated receipt",
                trigger: `${statusIs("done")} .o_field_widget[name=name]:contains('/')`,
                run() {
                    receiptName = this.anchor.textContent.trim();
                },
            },
            stepUtils.showAppsMenuItem(),
            {
                content: "Open the Inventory app",
                trigger: ".o_app[data-menu-xmlid='stock.menu_stock_root']",
                run: "click",
            },
            {
                content: "Open its Operations menu",
                trigger: ".o_main_navbar button[data-menu-xmlid='stock.menu_stock_warehouse_mgmt']",
                run: "click",
            },
            {
                content: "Open the inspection screen from Inventory",
                trigger:
                    ".dropdown-menu [data-menu-xmlid='returns_management.return_order_menu_qc_stock']",
                run: "click",
            },
            {
                content: "The inspection screen lists the returns to inspect",
                trigger: ".o_control_panel .o_facet_values:contains('To Inspect')",
            },
            {
                content: "Type the receipt's reference in the search bar",
                trigger: ".o_control_panel .o_searchview_input",
                async run(actions) {
                    await actions.edit(receiptName);
                    await actions.press("Enter");
                },
            },
            {
                // The other customer's return, also to inspect, is gone once
                // the kanban reloaded with the search.
                content: "The search keeps the return of that receipt only",
                trigger:
                    "body:has(.o_searchview_facet:contains('Return or Receipt')) " +
                    `.o_kanban_view:not(:has(.o_kanban_record:contains('${OTHER_CUSTOMER}'))) ` +
                    `.o_kanban_record:contains('${CUSTOMER}')`,
                run() {
                    const found = [...document.querySelectorAll(cards)];
                    if (found.length !== 1 || !found[0].textContent.includes(receiptName)) {
                        throw new Error(
                            `Searching "${receiptName}" should show its return alone, ` +
                                `found ${found.length} card(s).`
                        );
                    }
                },
            },
            {
                content: "Open the return",
                trigger: `${cards}:contains('${CUSTOMER}')`,
                run: "click",
            },
            {
                content: "The inspection form shows the return to inspect",
                trigger: statusIs("pending"),
            },
            {
                content: "Grade the kettle as new",
                trigger: gradeButton("QC Tour Kettle", "As new"),
                run: "click",
            },
            {
                content: "The kettle is graded as new, to be restocked",
                trigger: gradedAs("QC Tour Kettle", "As new", "Restock"),
            },
            {
                content: "Press another grade on the kettle, graded in full already",
                trigger: gradeButton("QC Tour Kettle", "Minor defect"),
                run: "click",
            },
            {
                content: "The screen asks before replacing the kettle's grade",
                trigger: ".modal .o_field_widget[name=warning]:contains('replaces')",
            },
            {
                content: "Keep the grade given",
                trigger: ".modal .modal-footer button:contains('Cancel')",
                run: "click",
            },
            {
                content: "The kettle is still graded as new",
                trigger: `body:not(:has(.modal)) ${gradedAs("QC Tour Kettle", "As new", "Restock")}`,
            },
            {
                content: "Grade the toaster with the grade added as a record",
                trigger: gradeButton("QC Tour Toaster", CUSTOM_GRADE),
                run: "click",
            },
            {
                content: "The toaster is graded with it, to be quarantined",
                trigger: gradedAs("QC Tour Toaster", CUSTOM_GRADE, "Quarantine"),
            },
            {
                content: "Both grades are listed in the graded goods",
                trigger: ".o_field_widget[name=qc_line_ids] .o_data_row:eq(1)",
            },
            {
                content: "Validate the inspection",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_validate_qc]",
                run: "click",
            },
            {
                content: "The return is inspected",
                trigger: statusIs("done"),
            },
            {
                content: "The transfers to stock and to quarantine are linked",
                trigger: ".o-form-buttonbox button[name=action_view_qc_pickings]:contains('2')",
            },
        ];
    },
});
