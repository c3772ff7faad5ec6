/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { formatFloat, formatMonetary } from "@web/views/fields/formatters";
import { Layout } from "@web/search/layout";

/**
 * The return manager's dashboard: every figure comes from one call to
 * return.report.get_dashboard_data (the user's rights and companies), and
 * every tile opens the action that lists or analyses what it counts.
 * The bars are plain elements sized in CSS: no chart library.
 */
export class ReturnDashboard extends Component {
    static template = "returns_management.ReturnDashboard";
    static components = { Layout };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({ data: null });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.data = await this.orm.call("return.report", "get_dashboard_data", []);
    }

    open(action) {
        return this.actionService.doAction(action);
    }

    openXmlid(xmlid) {
        return this.actionService.doAction(xmlid);
    }

    percent(value) {
        return value === null || value === undefined || value === false
            ? "–"
            : `${formatFloat(value * 100, { digits: [false, 1] })} %`;
    }

    number(value, digits = 0) {
        return formatFloat(value || 0, { digits: [false, digits] });
    }

    money(value) {
        return formatMonetary(value || 0, { currencyId: this.state.data.currency_id });
    }

    days(value) {
        return value === null || value === undefined || value === false
            ? "–"
            : _t("%s d", formatFloat(value, { digits: [false, 1] }));
    }

    get rateTrend() {
        const { rate_this_month: now, rate_last_month: before } = this.state.data;
        if (now.rate === null || before.rate === null || now.rate === undefined) {
            return { icon: "", css: "text-muted", label: _t("no comparison") };
        }
        const diff = (now.rate - before.rate) * 100;
        // more returns is worse: up is red
        return {
            icon: diff > 0 ? "fa-arrow-up" : diff < 0 ? "fa-arrow-down" : "fa-minus",
            css: diff > 0 ? "text-danger" : diff < 0 ? "text-success" : "text-muted",
            label: _t("%s pts vs last month", formatFloat(diff, { digits: [false, 1] })),
        };
    }

    barWidth(items, item) {
        const max = Math.max(...items.map((i) => i.qty_returned), 0);
        return `width: ${max ? (100 * item.qty_returned) / max : 0}%;`;
    }

    get trendMax() {
        return Math.max(...this.state.data.cycle_trend.map((m) => m.days_to_done || 0), 0);
    }

    trendHeight(month) {
        const max = this.trendMax;
        return `height: ${max ? (100 * (month.days_to_done || 0)) / max : 0}%;`;
    }

    monthLabel(month) {
        return luxon.DateTime.fromISO(month).toFormat("MMM yy");
    }
}

registry.category("actions").add("returns_management.dashboard", ReturnDashboard);
