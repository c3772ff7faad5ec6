#!/usr/bin/env python3
"""Inspection (QC) validated in batch: cost per return from N=20 to N=400.

    python3 benchmarks/qc_batch.py                 # N = 20, 100, 400
    python3 benchmarks/qc_batch.py --sizes 20,100 --db my_bench_db

On a database with returns_management installed (created once, without demo
data, if missing), for each N: N sale orders of 2 products, delivered and
invoiced, N returns approved and received (not measured); then, measured, on
cold record caches, each its own transaction as one click is:

- grade: one write of ``qc_grade`` on all lines (RPC's way),
- validate: ``action_validate_qc()`` on the N returns at once.

Two mixes: every line "as new" (everything restocked: one internal transfer
for all N returns), and a realistic mix (per return: one line as new, the
other minor defect, major defect or wrong item in turn: two internal
transfers for all N, one Odoo scrap per scrapped line, one return of the
receipt per wrong item). Each N runs in a transaction rolled back at the end,
so every N starts from the same database.
"""

import argparse
import os
import subprocess
import sys
import time

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIXES = ("as_new", "mixed")
OTHER_GRADES = ("minor_defect", "major_defect", "wrong_item")


def ensure_database(db):
    """The benchmark database, created once (no demo data), and updated to
    the addon's current code on every run."""
    exists = subprocess.run(
        [
            "psql",
            "-XtAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{db}'",
            "postgres",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    mode = "-u" if exists == "1" else "-i"
    print(f"{'updating' if exists == '1' else 'creating'} {db}...", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "--config=/dev/null",
            f"--addons-path={REPO_DIR}",
            "-d",
            db,
            mode,
            "returns_management",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
            "--http-port=0",
        ],
        check=True,
    )


def seed(env, n):
    """N received returns of 1 kettle + 1 toaster each (of 3 sold)."""
    from odoo import Command

    warehouse = env["stock.warehouse"].search(
        [("company_id", "=", env.company.id)], limit=1
    )
    products = env["product.product"].create(
        [
            {
                "name": name,
                "is_storable": True,
                "list_price": 100.0,
                "standard_price": 40.0,
                "invoice_policy": "delivery",
            }
            for name in ("Bench kettle", "Bench toaster")
        ]
    )
    env["stock.quant"].with_context(inventory_mode=True).create(
        [
            {
                "product_id": p.id,
                "location_id": warehouse.lot_stock_id.id,
                "inventory_quantity": 3.0 * n,
            }
            for p in products
        ]
    ).action_apply_inventory()
    partner = env["res.partner"].create({"name": "Bench customer"})
    sales = env["sale.order"].create(
        [
            {
                "partner_id": partner.id,
                "warehouse_id": warehouse.id,
                "order_line": [
                    Command.create({"product_id": p.id, "product_uom_qty": 3.0})
                    for p in products
                ],
            }
            for _i in range(n)
        ]
    )
    sales.action_confirm()
    _validate(sales.picking_ids)
    sales._create_invoices().action_post()
    reason = env.ref("returns_management.return_reason_defective")
    orders = env["return.order"].create(
        [
            {
                "sale_order_id": sale.id,
                "line_ids": [
                    Command.create(
                        {
                            "sale_line_id": line.id,
                            "quantity": 1.0,
                            "reason_id": reason.id,
                        }
                    )
                    for line in sale.order_line
                ],
            }
            for sale in sales
        ]
    )
    orders.action_submit()
    orders.action_approve()
    _validate(orders.return_picking_ids)
    assert set(orders.mapped("state")) == {"received"}, set(orders.mapped("state"))
    return orders


def _validate(pickings):
    for move in pickings.move_ids:
        move.quantity = move.product_uom_qty
        move.picked = True
    pickings.with_context(skip_backorder=True).button_validate()


def measured(env, label, func, results):
    """Run func as one click: cold record cache, then flush (the commit's
    work); record queries and wall/cpu ms."""
    env.invalidate_all()
    env.registry.clear_cache()
    cr = env.cr
    count = cr.sql_log_count
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    env.flush_all()
    results[label] = {
        "queries": cr.sql_log_count - count,
        "ms": (time.perf_counter() - wall) * 1000,
        "cpu_ms": (time.process_time() - cpu) * 1000,
    }


def run_size(registry, n, mix):
    from odoo import SUPERUSER_ID, api

    results = {}
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        orders = seed(env, n)
        cr.flush()
        lines = orders.line_ids
        first = lines.filtered(lambda l: l.product_id.name == "Bench kettle")
        second = lines - first

        def grade():
            if mix == "as_new":
                lines.write({"qc_grade": "as_new"})
                return
            first.write({"qc_grade": "as_new"})
            for index, grade_code in enumerate(OTHER_GRADES):
                second.filtered(lambda l, i=index: l.order_id.id % 3 == i).write(
                    {"qc_grade": grade_code}
                )

        measured(env, "grade", grade, results)
        measured(env, "validate", orders.action_validate_qc, results)
        env.invalidate_all()
        results["documents"] = {
            "transfers": len(
                orders.qc_picking_ids.filtered(
                    lambda p: p.picking_type_id.code == "internal"
                )
            ),
            "send_backs": len(
                orders.qc_picking_ids.filtered(
                    lambda p: p.picking_type_id.code != "internal"
                )
            ),
            "scraps": len(orders.qc_scrap_ids),
        }
        assert set(orders.mapped("qc_state")) == {"done"}
        cr.rollback()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,100,400")
    parser.add_argument("--db", default="rm_bench_qc")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ensure_database(args.db)
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(
        ["--config=/dev/null", f"--addons-path={REPO_DIR}", "--log-level=warn"]
    )
    registry = Registry(args.db)
    table = []
    for mix in MIXES:
        for n in sizes:
            res = run_size(registry, n, mix)
            table.append((mix, n, res))
            print(mix, n, res, flush=True)
    print()
    header = (
        "mix",
        "N",
        "grade q/return",
        "validate q/return",
        "validate ms/return",
        "cpu ms/return",
        "transfers",
        "send-backs",
        "scraps",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for mix, n, res in table:
        g, v, d = res["grade"], res["validate"], res["documents"]
        cells = (
            mix,
            n,
            f"{g['queries'] / n:.1f}",
            f"{v['queries'] / n:.1f}",
            f"{v['ms'] / n:.1f}",
            f"{v['cpu_ms'] / n:.1f}",
            d["transfers"],
            d["send_backs"],
            d["scraps"],
        )
        print("| " + " | ".join(str(c) for c in cells) + " |")
    for mix in MIXES:
        rows = {n: res for m, n, res in table if m == mix}
        if len(rows) > 1:
            small, large = min(rows), max(rows)
            ratio_q = (rows[large]["validate"]["queries"] / large) / (
                rows[small]["validate"]["queries"] / small
            )
            ratio_ms = (rows[large]["validate"]["cpu_ms"] / large) / (
                rows[small]["validate"]["cpu_ms"] / small
            )
            print(
                f"{mix}: per-return cost N={large} / N={small}: "
                f"queries {ratio_q:.2f}x, cpu {ratio_ms:.2f}x"
            )


if __name__ == "__main__":
    main()
