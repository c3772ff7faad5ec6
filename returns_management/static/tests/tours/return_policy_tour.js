/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * Return policies in the back office (see tests/test_policy_tour.py): a return
 * that approves itself on submission, and one outside the return window that a
 * manager approves with an override reason. Each tour starts on the draft
 * return's form.
 */

// Anchored on the record title, which does not change while the form is busy.
const statusIs = (value) =>
    `.o_form_view:has(.o_statusbar_status button[data-value='${value}'][aria-checked=true]) .oe_title`;

registry.category("web_tour.tours").add("returns_management_policy_auto_tour", {
    steps: () => [
        {
            content: "Submit the return",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_submit]",
            run: "click",
        },
        {
            content: "The policy approved it at once",
            trigger: statusIs("approved"),
        },
        {
            content: "The verdict badge says so",
            trigger: ".oe_title .o_field_widget[name=policy_verdict]:contains('Approved automatically')",
        },
        {
            content: "The customer-readable note is shown",
            trigger: ".alert-success .o_field_widget[name=policy_verdict_note]:contains('meets our return policy')",
        },
        {
            content: "The receipt exists",
            trigger: ".o-form-buttonbox button.oe_stat_button[name=action_view_return_pickings]",
        },
    ],
});

registry.category("web_tour.tours").add("returns_management_policy_override_tour", {
    steps: () => [
        {
            content: "Submit the late return",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_submit]",
            run: "click",
        },
        {
            content: "It waits for a manager",
            trigger: statusIs("to_approve"),
        },
        {
            content: "The note explains the window",
            trigger: ".alert-warning .o_field_widget[name=policy_verdict_note]:contains('within 30 days of delivery')",
        },
        {
            content: "The verdict shows it went to a manager",
            trigger: ".oe_title .o_field_widget[name=policy_verdict]:contains('Escalated to a manager')",
        },
        {
            content: "Approve",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_approve]",
            run: "click",
        },
        {
            content: "The override wizard asks for a reason",
            trigger: ".modal .o_field_widget[name=override_reason] textarea",
            run: "edit The customer was abroad",
        },
        {
            content: "Approve despite the policy",
            trigger: ".modal footer button[name=action_approve]",
            run: "click",
        },
        {
            content: "The return is approved",
            trigger: `body:not(:has(.modal)) ${statusIs("approved")}`,
        },
        {
            content: "The override reason is shown",
            trigger: ".alert-info .o_field_widget[name=override_reason]:contains('The customer was abroad')",
        },
    ],
});
