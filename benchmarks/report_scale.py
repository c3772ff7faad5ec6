#!/usr/bin/env python3
"""Return analytics on a large database: the screens of issue 19, timed.

    python3 benchmarks/report_scale.py DB [--repeat 5]

DB is a database with returns_management installed, e.g. a clone of the
100,000-returns template that benchmarks/scale.py builds (``createdb -T``).
Each operation runs in its own transaction with an empty record cache, as a
click does (registry caches warm), as the admin user; one warm-up run, then
the median of ``--repeat`` runs:

- pivot product x month: the read_group calls the pivot makes (rows x
  columns, rows, columns, total) on return.report;
- graph by reason: one read_group;
- dashboard: return.report.get_dashboard_data();
- workbook for a year: return.report.xlsx action_export() (built and stored).
"""

import argparse
import datetime
import json
import statistics
import sys
import time

MEASURES = ["qty_delivered:sum", "qty_returned:sum", "amount_refunded:sum"]


def pivot_product_month(env):
    report = env["return.report"]
    for groupby in (["product_id", "date:month"], ["product_id"], ["date:month"], []):
        report.read_group([], MEASURES, groupby, lazy=False)


def graph_by_reason(env):
    env["return.report"].read_group(
        [("reason_id", "!=", False)], MEASURES, ["reason_id"], lazy=False
    )


def dashboard(env):
    env["return.report"].get_dashboard_data()


def workbook_year(env):
    today = datetime.date.today()
    wizard = env["return.report.xlsx"].create(
        {"date_from": today - datetime.timedelta(days=365), "date_to": today}
    )
    wizard.action_export()


OPERATIONS = {
    "pivot product x month": pivot_product_month,
    "graph by reason": graph_by_reason,
    "dashboard": dashboard,
    "workbook for a year": workbook_year,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--addons-path", default=".")
    args = parser.parse_args()

    import odoo
    from odoo import api

    odoo.tools.config.parse_config(
        ["--config=/dev/null", f"--addons-path={args.addons_path}", "-d", args.db]
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        counts = {
            "returns": env["return.order"].search_count([]),
            "report rows": env["return.report"].search_count([]),
        }
        admin = env.ref("base.user_admin").id
    results = {"database": args.db, **counts}
    for name, operation in OPERATIONS.items():
        timings = []
        for run in range(args.repeat + 1):
            with registry.cursor() as cr:
                env = api.Environment(cr, admin, {})
                start = time.perf_counter()
                operation(env)
                env.flush_all()
                elapsed = time.perf_counter() - start
                cr.rollback()  # the workbook's attachment is not kept
            if run:  # the first run warms the registry caches
                timings.append(elapsed)
        results[name] = round(statistics.median(timings), 3)
        print(f"{name}: median {results[name]:.3f} s over {args.repeat}", flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
