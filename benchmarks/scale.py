#!/usr/bin/env python3
"""Scale benchmark: what the back office costs with 1,000 and 100,000 returns.

    python3 benchmarks/scale.py                  # build (cached) + measure 1k, 100k
    python3 benchmarks/scale.py --setup-only     # build/refresh the templates only
    python3 benchmarks/scale.py --candidates     # also measure with the
                                                 # candidate indexes (CANDIDATE_INDEXES)

Builds, once, template databases with N returns (cached; rebuilt when the
returns_management source tree, the Odoo version or this file's data
generation changes), then measures the screens a returns user meets, as the
web client calls them, on a clone of each template, in one run. See
benchmarks/SCALE.md for what is built, what is measured and the results.

The same file is the Odoo side (``scale.py worker ...``), run in its own
process per database.
"""

import argparse
import ast
import collections
import datetime
import hashlib
import json
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# the database and report helpers of the per-return benchmark (same folder)
from run import (
    _fmt,
    _hash,
    _tree_hash,
    clone_db,
    db_exists,
    drop_db,
    loadavg,
    log,
    psql,
    rename_db,
)

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
THIS = os.path.abspath(__file__)
DB_PREFIX = "rm_scale_"
MODULES = ["sale_stock", "stock_account", "returns_management"]
# Bump to invalidate every cached template (change of setup semantics).
SETUP_VERSION = "1"
DEFAULT_SIZES = (1000, 100000)


# --- databases (no Odoo import) -------------------------------------


def _section_hash(start, end):
    """Hash of a section of this file, insensitive to comments and format."""
    with open(THIS) as fh:
        text = fh.read()
    section = text[text.index("\n" + start) : text.index("\n" + end)]
    return _hash(ast.dump(ast.parse(section)))


def odoo_version():
    out = subprocess.run(
        [sys.executable, "-c", "import odoo.release as r; print(r.version)"],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    return out.stdout.strip() or "?"


def addon_source(args):
    """(addons path, source key) of the returns_management to measure.

    By default the committed tree (HEAD), exported to a folder of its own:
    others may be editing the work tree while this runs, and a half-edited
    addon neither installs nor measures anything meaningful. --worktree
    measures the work tree as it is.
    """
    if args.worktree:
        return REPO_DIR, _tree_hash(os.path.join(REPO_DIR, "returns_management"))
    tree = subprocess.run(
        ["git", "-C", REPO_DIR, "rev-parse", f"{args.rev}:returns_management"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    path = os.path.join(args.data_dir, "src", tree[:12])
    if not os.path.isdir(os.path.join(path, "returns_management")):
        os.makedirs(path, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", REPO_DIR, "archive", tree, "--prefix=returns_management/"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", path], input=archive, check=True)
    return path, tree[:12]


class Templates:
    """rm (modules installed) -> proto (ORM prototypes) -> N (SQL copies)."""

    def __init__(self, args):
        self.args = args
        self.data_dir = args.data_dir
        self.timings = {}
        self.addons_path, source_key = addon_source(args)
        self.source = (
            "work tree" if args.worktree else f"{args.rev} (tree {source_key})"
        )
        self.rm_key = _hash(SETUP_VERSION, odoo_version(), MODULES, source_key)
        self.proto_key = _hash(
            self.rm_key, _section_hash("# --- prototypes", "# --- replication")
        )
        self.copy_key = _section_hash("# --- replication", "# --- measurement")

    def _cached(self, kind, key, build):
        name = f"{DB_PREFIX}tpl_{kind}_{key}"
        if self.args.rebuild and db_exists(name):
            drop_db(name, self.data_dir)
        if db_exists(name):
            return name
        stale = psql(
            "SELECT datname FROM pg_database "
            f"WHERE datname LIKE '{DB_PREFIX}tpl_{kind}_%'"
        ).split()
        for old in stale:
            drop_db(old, self.data_dir)
        tmp = f"{DB_PREFIX}building_{kind}_{key}"
        drop_db(tmp, self.data_dir)
        t0 = time.perf_counter()
        try:
            build(tmp)
        except BaseException:
            if not self.args.keep_failed:
                drop_db(tmp, self.data_dir)
            raise
        rename_db(tmp, name, self.data_dir)
        self.timings[f"template {kind}"] = round(time.perf_counter() - t0, 1)
        log(f"template {name} built in {self.timings[f'template {kind}']:.0f} s")
        return name

    def rm(self):
        def build(db):
            log(f"building {db}: installing {', '.join(MODULES)} (no demo data)")
            cmd = [
                sys.executable,
                "-m",
                "odoo",
                "--config=/dev/null",
                f"--addons-path={self.addons_path}",
                f"--data-dir={self.data_dir}",
                "-d",
                db,
                "-i",
                ",".join(MODULES),
                "--without-demo=all",
                "--stop-after-init",
                "--log-level=warn",
            ]
            res = subprocess.run(
                cmd, capture_output=True, text=True, cwd=tempfile.gettempdir()
            )
            out = res.stderr + res.stdout
            if res.returncode or " ERROR " in out or " CRITICAL " in out:
                raise SystemExit(f"installing on {db} failed:\n{out[-4000:]}")

        return self._cached("rm", self.rm_key, build)

    def proto(self):
        rm = self.rm()

        def build(db):
            clone_db(rm, db, self.data_dir)
            log(f"building {db}: prototypes through the ORM")
            run_worker(["proto", "--db", db], self.data_dir, self.addons_path)

        return self._cached("proto", self.proto_key, build)

    def scaled(self, n):
        proto = self.proto()
        key = _hash(self.proto_key, self.copy_key, n)

        def build(db):
            clone_db(proto, db, self.data_dir)
            log(f"building {db}: {n:,} returns by SQL copies of the prototypes")
            run_worker(
                ["replicate", "--db", db, "--n", str(n)],
                self.data_dir,
                self.addons_path,
            )
            subprocess.run(
                ["vacuumdb", "--analyze", "--quiet", db],
                check=True,
                capture_output=True,
            )

        return self._cached(f"n{n}", key, build)


def run_worker(extra, data_dir, addons_path, out=None):
    cmd = [
        sys.executable,
        THIS,
        "worker",
        *extra,
        "--data-dir",
        data_dir,
        "--addons-path",
        addons_path,
    ]
    if out:
        cmd += ["--out", out]
    res = subprocess.run(cmd, text=True, cwd=tempfile.gettempdir())
    if res.returncode:
        raise SystemExit(f"worker {' '.join(extra)} exited {res.returncode}")


# --- Odoo bootstrap (worker side) -----------------------------------


def _boot(db, data_dir, addons_path):
    import odoo  # noqa: F401  (imported here: the orchestrator needs no Odoo)
    from odoo.tools import config

    config.parse_config(
        [
            "--config=/dev/null",
            f"--addons-path={addons_path}",
            f"--data-dir={data_dir}",
            "--log-level=warn",
            "--without-demo=all",
        ]
    )
    import odoo.modules.registry

    return odoo.modules.registry.Registry(db)


# --- prototypes -----------------------------------------------------
#
# Built once through the ORM, so every stored value is what Odoo computes:
# a 200-line sale order with 50 returns on it (the order the form, the
# wizard and the returnable quantities are measured on), then two "kits" of
# 50 one-return sale orders each, every return driven to its state by its
# own buttons. Kit A is recent (open returns), kit B is old (mostly closed,
# a few stuck ones that the overdue sweep flags). The SQL replication below
# copies the kits as many times as a size needs.

N_PRODUCTS = 200
BIG_ORDER_LINES = 200
BIG_ORDER_QTY = 10.0
BIG_ORDER_RETURNS = {
    "done": 30,
    "received": 5,
    "approved": 4,
    "to_approve": 4,
    "draft": 3,
    "rejected": 2,
    "cancel": 2,
}
KIT_SIZE = 50
KITS = {
    # recent: what is being worked on
    "A": {
        "draft": 6,
        "to_approve": 10,
        "approved": 9,
        "received": 7,
        "done": 12,
        "rejected": 3,
        "cancel": 3,
    },
    # old: closed, but for three stuck ones (flagged overdue)
    "B": {
        "done": 40,
        "rejected": 4,
        "cancel": 3,
        "to_approve": 1,
        "approved": 1,
        "received": 1,
    },
}
KIT_CUSTOMERS = 10
KIT_PRODUCTS = 50
KIT_B_AGE_DAYS = 60
MANAGER_LOGIN = "scale_manager"
RETURN_USERS = ["scale_user_alice", "scale_user_bob", "scale_user_carol"]


def _make_users(env):
    from odoo import Command

    groups = [
        env.ref("base.group_user"),
        env.ref("sales_team.group_sale_salesman_all_leads"),
        env.ref("stock.group_stock_user"),
        env.ref("account.group_account_invoice"),
    ]
    users = env["res.users"].create(
        [
            {
                "name": login.replace("scale_", "").replace("_", " ").title(),
                "login": login,
                "email": f"{login}@example.com",
                "groups_id": [Command.set([g.id for g in groups])],
            }
            for login in [MANAGER_LOGIN, *RETURN_USERS]
        ]
    )
    manager, others = users[0], users[1:]
    env.ref("returns_management.group_return_manager").users = [
        Command.link(manager.id)
    ]
    env.ref("returns_management.group_return_user").users = [
        Command.link(u.id) for u in others
    ]
    return manager, users


def _make_products(env, warehouse):
    products = env["product.product"].create(
        [
            {
                "name": f"Scale Product {i:03d}",
                "default_code": f"SP{i:03d}",
                "type": "consu",
                "is_storable": True,
                "list_price": 10.0 + (i * 7) % 90,
                "standard_price": 5.0 + (i * 3) % 40,
                "invoice_policy": "delivery",
            }
            for i in range(N_PRODUCTS)
        ]
    )
    env["stock.quant"].with_context(inventory_mode=True).create(
        [
            {
                "product_id": product.id,
                "location_id": warehouse.lot_stock_id.id,
                "inventory_quantity": 100000,
            }
            for product in products
        ]
    ).action_apply_inventory()
    return products


def _make_orders(env, warehouse, specs):
    """Confirmed, delivered, invoiced (posted) sale orders.

    specs: [(customer, user, [(product, qty), ...]), ...]
    """
    from odoo import Command

    orders = env["sale.order"].create(
        [
            {
                "partner_id": customer.id,
                "user_id": user.id,
                "warehouse_id": warehouse.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": p.id,
                            "product_uom_qty": qty,
                            "price_unit": p.list_price,
                        }
                    )
                    for p, qty in lines
                ],
            }
            for customer, user, lines in specs
        ]
    )
    orders.action_confirm()
    pickings = orders.picking_ids
    for move in pickings.move_ids:
        move.quantity = move.product_uom_qty
        move.picked = True
    res = pickings.with_context(skip_backorder=True).button_validate()
    if res is not True:
        raise RuntimeError(f"delivery validation returned {res!r}")
    orders._create_invoices(grouped=True).action_post()
    return orders


def _drive_returns(env, returns, states):
    """Take each new return to its state through its own buttons."""
    by_state = collections.defaultdict(lambda: env["return.order"])
    for ret, state in zip(returns, states, strict=True):
        by_state[state] |= ret
    (returns - by_state["draft"]).action_submit()
    approve = by_state["approved"] | by_state["received"] | by_state["done"]
    approve.action_approve()
    receive = by_state["received"] | by_state["done"]
    pickings = receive.return_picking_ids
    for move in pickings.move_ids:
        move.quantity = move.product_uom_qty
        move.picked = True
    res = pickings.button_validate()
    if res is not True and not isinstance(res, dict):
        raise RuntimeError(f"receipt validation returned {res!r}")
    if by_state["done"]:
        by_state["done"].action_create_credit_notes()
        drafts = by_state["done"].credit_note_ids.filtered(lambda m: m.state == "draft")
        drafts.action_post()
    if by_state["rejected"]:
        by_state["rejected"].action_reject(reason="Not in a resellable condition.")
    if by_state["cancel"]:
        by_state["cancel"].action_cancel()
    env.invalidate_all()
    wrong = [
        (r.name, r.state, s)
        for r, s in zip(returns, states, strict=True)
        if r.state != s
    ]
    if wrong:
        raise RuntimeError(f"returns not in their intended state: {wrong[:5]}")


def _expand(counts, seed):
    states = [state for state, count in counts.items() for _ in range(count)]
    random.Random(seed).shuffle(states)
    return states


def _make_big_order(env, warehouse, products, users, reasons):
    customer = env["res.partner"].create(
        {"name": "Scale Wholesale Customer", "is_company": True}
    )
    [order] = _make_orders(
        env,
        warehouse,
        [
            (
                customer,
                users[1],
                [
                    (products[i % N_PRODUCTS], BIG_ORDER_QTY)
                    for i in range(BIG_ORDER_LINES)
                ],
            )
        ],
    )
    from odoo import Command

    states = _expand(BIG_ORDER_RETURNS, 200)
    lines = order.order_line
    returns = env["return.order"].create(
        [
            {
                "sale_order_id": order.id,
                "user_id": users[k % len(users)].id,
                "line_ids": [
                    Command.create(
                        {
                            "sale_line_id": lines[(k * 4 + j) % len(lines)].id,
                            "quantity": 1.0 + (k + j) % 2,
                            "reason_id": reasons[(k + j) % len(reasons)].id,
                        }
                    )
                    for j in range(4)
                ],
            }
            for k in range(len(states))
        ]
    )
    _drive_returns(env, returns, states)
    return order, returns


def _make_kit(env, kit, warehouse, products, users, reasons):
    from odoo import Command

    customers = env["res.partner"].create(
        [
            {"name": f"Kit {kit} Customer {i:02d}", "email": f"kit{kit}{i}@example.com"}
            for i in range(KIT_CUSTOMERS)
        ]
    )
    specs = []
    for u in range(KIT_SIZE):
        n_lines = 1 + u % 3
        specs.append(
            (
                customers[u % KIT_CUSTOMERS],
                users[u % len(users)],
                [
                    (products[(u * 7 + j * 13) % KIT_PRODUCTS], 4.0)
                    for j in range(n_lines)
                ],
            )
        )
    orders = _make_orders(env, warehouse, specs)
    states = _expand(KITS[kit], ord(kit))
    returns = env["return.order"].create(
        [
            {
                "sale_order_id": order.id,
                "user_id": users[u % len(users)].id,
                "line_ids": [
                    Command.create(
                        {
                            "sale_line_id": line.id,
                            "quantity": 1.0 + u % 2,
                            "reason_id": reasons[(u + j) % len(reasons)].id,
                        }
                    )
                    for j, line in enumerate(order.order_line[: 1 + u % 2])
                ],
            }
            for u, order in enumerate(orders)
        ]
    )
    _drive_returns(env, returns, states)
    return returns


def _id_snapshot(cr):
    """{table: max(id)} of every table with an integer id."""
    cr.execute(
        """SELECT c.table_name FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_name = c.table_name AND t.table_schema = c.table_schema
            WHERE c.table_schema = 'public' AND c.column_name = 'id'
              AND c.data_type = 'integer' AND t.table_type = 'BASE TABLE'"""
    )
    tables = sorted(r[0] for r in cr.fetchall())
    snapshot = {}
    for table in tables:
        cr.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        snapshot[table] = cr.fetchone()[0]
    return snapshot


def build_prototypes(env):
    """Everything the scale templates copy, through the ORM (not measured)."""
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading(
            "generic_coa", company, install_demo=False
        )
    warehouse = env["stock.warehouse"].search(
        [("company_id", "=", company.id)], limit=1
    )
    manager, users = _make_users(env)
    products = _make_products(env, warehouse)
    reasons = env["return.reason"].search([])
    if not reasons:
        raise RuntimeError("no return reason")
    t0 = time.perf_counter()
    big_order, big_returns = _make_big_order(env, warehouse, products, users, reasons)
    log(f"200-line order and its 50 returns: {time.perf_counter() - t0:.0f} s")
    env.cr.commit()
    ranges = {}
    before = _id_snapshot(env.cr)
    for kit in KITS:
        t0 = time.perf_counter()
        returns = _make_kit(env, kit, warehouse, products, users, reasons)
        env.cr.commit()
        if kit == "B":
            # old: backdate the kit, then let the overdue sweep flag its
            # stuck returns (and give each its activity)
            after = _id_snapshot(env.cr)
            kit_ranges = _ranges(before, after)
            shift_in_place(env.cr, kit_ranges, -KIT_B_AGE_DAYS * 86400)
            env.invalidate_all()
            flagged = env["return.order"]._flag_overdue_returns()
            if not flagged or not set(flagged.ids) <= set(returns.ids):
                raise RuntimeError(f"overdue sweep flagged {flagged.ids}")
            env.cr.commit()
        after = _id_snapshot(env.cr)
        ranges[kit] = _ranges(before, after)
        before = after
        log(f"kit {kit} ({len(returns)} returns): {time.perf_counter() - t0:.0f} s")
    form_return = big_returns.filtered(lambda r: r.state == "done").sorted("id")[-1]
    env["ir.config_parameter"].set_param(
        "rm_scale.proto",
        json.dumps(
            {
                "ranges": ranges,
                "big_order_id": big_order.id,
                "big_return_ids": big_returns.ids,
                "form_return_id": form_return.id,
                "manager_id": manager.id,
                "kit_size": KIT_SIZE,
                "fixed_returns": len(big_returns),
            }
        ),
    )
    env.cr.commit()


def _ranges(before, after):
    """{table: [lo, hi]}: ids in (lo, hi] were created in between."""
    return {
        table: [before.get(table, 0), hi]
        for table, hi in after.items()
        if hi > before.get(table, 0)
    }


# --- replication ----------------------------------------------------
#
# Copies the kits' rows table by table in SQL (INSERT ... SELECT over
# generate_series): every id of a copied table is shifted by a per-copy
# offset, and so is every column that points into a copied row (foreign
# keys, and res_id of mail.message/followers/activities); dates move back
# per copy; names that a unique index covers get a suffix. The copies are
# consistent by construction: they are the ORM's own rows, moved.

# never copied: stock levels (per location/product, not per document),
# queues, logs and configuration
NOT_COPIED = (
    "stock_quant",
    "bus_bus",
    "mail_mail",
    "mail_mail_res_partner_rel",
    "ir_attachment",
    "ir_config_parameter",
    "ir_sequence",
    "ir_sequence_date_range",
    "ir_cron_trigger",
    "ir_cron_progress",
    "res_users_log",
    "ir_logging",
    "mail_message_schedule",
)
NOT_COPIED_PREFIXES = ("ir_", "res_users", "res_groups", "base_", "bus_")
# span of the copies' dates: kit A over the last days, kit B back from
# KIT_B_AGE_DAYS to two years
KIT_A_SPAN_DAYS = 14
KIT_B_SPAN_DAYS = 730 - KIT_B_AGE_DAYS


def copies_for(n, kit_size=KIT_SIZE, fixed=50):
    """Copies of each kit (besides the prototype itself) for n returns:
    one kit instance in ten is recent (A), the others old (B)."""
    instances = max(2, round((n - fixed) / kit_size))
    a = max(1, round(n / (10 * kit_size)))
    return {"A": a - 1, "B": instances - a - 1}


def _schema(cr):
    """Columns, foreign keys, unique text columns of the public tables."""
    cr.execute(
        """SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"""
    )
    columns = collections.defaultdict(list)
    for table, column, dtype in cr.fetchall():
        columns[table].append((column, dtype))
    cr.execute(
        """SELECT cl.relname, a.attname, ref.relname
             FROM pg_constraint co
             JOIN pg_class cl ON cl.oid = co.conrelid
             JOIN pg_class ref ON ref.oid = co.confrelid
             JOIN pg_attribute a ON a.attrelid = co.conrelid
                                AND a.attnum = co.conkey[1]
            WHERE co.contype = 'f' AND array_length(co.conkey, 1) = 1"""
    )
    fkeys = collections.defaultdict(dict)
    for table, column, ref in cr.fetchall():
        fkeys[table][column] = ref
    cr.execute(
        """SELECT t.relname, a.attname
             FROM pg_index i
             JOIN pg_class t ON t.oid = i.indrelid
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)
            WHERE i.indisunique AND NOT i.indisprimary
              AND a.atttypid IN ('varchar'::regtype, 'text'::regtype)"""
    )
    unique_text = collections.defaultdict(set)
    for table, column in cr.fetchall():
        unique_text[table].add(column)
    cr.execute("SELECT model FROM ir_model WHERE transient")
    transient = {m.replace(".", "_") for (m,) in cr.fetchall()}
    return columns, fkeys, unique_text, transient


def _copied_tables(ranges, columns, transient):
    tables = set()
    for kit_ranges in ranges.values():
        tables |= set(kit_ranges)
    return {
        t
        for t in tables
        if t in columns
        and t not in transient
        and t not in NOT_COPIED
        and not t.startswith(NOT_COPIED_PREFIXES)
    }


def _shift_expr(col, ref, kit_ranges, offsets):
    lo, hi = kit_ranges[ref]
    return (
        f'CASE WHEN "{col}" > {lo} AND "{col}" <= {hi} '
        f'THEN "{col}" + {offsets[ref]} ELSE "{col}" END'
    )


def _ref_model_column(cols):
    names = {c for c, _t in cols}
    for candidate in ("res_model", "model"):
        if candidate in names:
            return candidate
    return None


def _column_expr(table, col, dtype, ctx):
    """The value of one column in a copy (SQL over the source row and g.c)."""
    kit_ranges, offsets, fkeys, copied = (
        ctx["ranges"],
        ctx["offsets"],
        ctx["fkeys"],
        ctx["copied"],
    )
    if col == "id":
        return f'"id" + {offsets[table]}'
    ref = fkeys.get(table, {}).get(col)
    if ref in copied and ref in kit_ranges:
        return _shift_expr(col, ref, kit_ranges, offsets)
    if col == "res_id" and ctx["model_col"].get(table):
        model_col = ctx["model_col"][table]
        cases = " ".join(
            f'WHEN "{model_col}" = \'{model}\' AND "res_id" > {kit_ranges[t][0]} '
            f'AND "res_id" <= {kit_ranges[t][1]} THEN "res_id" + {offsets[t]}'
            for model, t in ctx["models"].items()
            if t in copied and t in kit_ranges
        )
        return f'CASE {cases} ELSE "res_id" END' if cases else '"res_id"'
    if dtype.startswith("timestamp"):
        return f'"{col}" + {ctx["delta"]}'
    if dtype == "date":
        return f'("{col}" + {ctx["delta"]})::date'
    if (col == "name" and col in ctx["unique_text"].get(table, ())) or (
        table == "res_partner" and col in ("name", "complete_name")
    ):
        return f"\"{col}\" || '-' || lpad({ctx['copy_no']}::text, 4, '0')"
    return f'"{col}"'


def _row_filter(table, cols, ctx):
    """Rows of the kit: by id, or for a relation table by its first column
    that points into a copied table."""
    names = [c for c, _t in cols]
    if "id" in names:
        lo, hi = ctx["ranges"][table]
        return f'"id" > {lo} AND "id" <= {hi}'
    for col in names:
        ref = ctx["fkeys"].get(table, {}).get(col)
        if ref in ctx["copied"] and ref in ctx["ranges"]:
            lo, hi = ctx["ranges"][ref]
            return f'"{col}" > {lo} AND "{col}" <= {hi}'
    return None


def _relation_tables(columns, fkeys, copied, transient):
    """Tables without id whose rows hang on copied rows (many2many)."""
    return sorted(
        t
        for t, cols in columns.items()
        if "id" not in {c for c, _t in cols}
        and t not in transient
        and t not in NOT_COPIED
        and any(fkeys.get(t, {}).get(c) in copied for c, _t in cols)
    )


def replicate(cr, n):
    """Add copies of the prototype kits until the database has n returns."""
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'rm_scale.proto'")
    proto = json.loads(cr.fetchone()[0])
    columns, fkeys, unique_text, transient = _schema(cr)
    ranges = proto["ranges"]
    copied = _copied_tables(ranges, columns, transient)
    relations = _relation_tables(columns, fkeys, copied, transient)
    cr.execute("SELECT model FROM ir_model")
    models = {
        m: m.replace(".", "_")
        for (m,) in cr.fetchall()
        if m.replace(".", "_") in copied
    }
    model_col = {t: _ref_model_column(columns[t]) for t in copied}
    copies = copies_for(n, proto["kit_size"], proto["fixed_returns"])
    cr.execute("SET session_replication_role = replica")  # consistent by design
    top = {t: _max_id(cr, t) for t in copied}
    copy_base = 0
    stats = collections.Counter()
    for kit, count in copies.items():
        if count <= 0:
            continue
        kit_ranges = ranges[kit]
        span = KIT_A_SPAN_DAYS if kit == "A" else KIT_B_SPAN_DAYS
        step = span * 86400 // max(count, 1)
        width = {t: hi - lo for t, (lo, hi) in kit_ranges.items()}
        # copy c (1..count) of table t: ids in (top + (c-1)*width, top + c*width]
        offsets = {
            t: f"({top[t] - kit_ranges[t][0]} + (g.c - 1) * {width[t]})"
            for t in kit_ranges
            if t in copied
        }
        ctx = {
            "ranges": kit_ranges,
            "offsets": offsets,
            "fkeys": fkeys,
            "copied": copied,
            "models": models,
            "model_col": model_col,
            "unique_text": unique_text,
            "delta": f"(g.c * {-step}) * interval '1 second'",
            "copy_no": f"({copy_base} + g.c)",
        }
        for table in sorted(copied & set(kit_ranges)) + relations:
            cols = columns[table]
            where = _row_filter(table, cols, ctx)
            if where is None:
                continue
            names = ", ".join(f'"{c}"' for c, _t in cols)
            exprs = ", ".join(_column_expr(table, c, t, ctx) for c, t in cols)
            cr.execute(
                f'INSERT INTO "{table}" ({names}) SELECT {exprs} FROM "{table}", '
                f"generate_series(1, {count}) AS g(c) WHERE {where}"
            )
            stats[table] += cr.rowcount
        for t in kit_ranges:
            if t in copied:
                top[t] += count * width[t]
        copy_base += count
    cr.execute("SET session_replication_role = DEFAULT")
    for table in copied:
        cr.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f'(SELECT MAX(id) FROM "{table}"))',
            [table],
        )
    return copies, dict(stats)


def _max_id(cr, table):
    cr.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
    return cr.fetchone()[0]


def shift_in_place(cr, ranges, seconds):
    """Move every date of the rows in ranges by seconds (backdating a kit)."""
    columns, _fkeys, _unique, transient = _schema(cr)
    for table, (lo, hi) in ranges.items():
        if (
            table not in columns
            or table in transient
            or table in NOT_COPIED
            or table.startswith(NOT_COPIED_PREFIXES)
        ):
            continue
        sets = [
            f'"{c}" = "{c}" + {seconds} * interval \'1 second\''
            if t.startswith("timestamp")
            else f'"{c}" = ("{c}" + {seconds} * interval \'1 second\')::date'
            for c, t in columns[table]
            if t.startswith("timestamp") or t == "date"
        ]
        if sets:
            cr.execute(
                f'UPDATE "{table}" SET {", ".join(sets)} WHERE id > {lo} AND id <= {hi}'
            )


# --- measurement ----------------------------------------------------

# What the web client sends (Odoo 18 relational model): a many2one is read
# with its display_name; countLimit 10,000 (+1); kanban columns of 40 cards,
# at most 10 columns opened; lists of 80 rows.
COUNT_LIMIT = 10001
KANBAN_LIMIT = 40
LIST_LIMIT = 80
MAX_OPEN_GROUPS = 10
GROUPS_LIMIT = 9007199254740991  # kanban: "no limit" (Number.MAX_SAFE_INTEGER)
RETURNED_LINES = 20  # lines given a quantity in the create wizard
M2O = {"fields": {"display_name": {}}}
ACTIVITY_DEPENDENCIES = {
    "activity_exception_decoration": {},
    "activity_exception_icon": {},
    "activity_state": {},
    "activity_summary": {},
    "activity_type_icon": {},
    "activity_type_id": M2O,
}
# Field dependencies of widgets (their fieldDependencies in the web client)
WIDGET_DEPENDENCIES = {
    "kanban_activity": ACTIVITY_DEPENDENCIES,
    "list_activity": ACTIVITY_DEPENDENCIES,
}
X2MANY_LIMIT = 40  # a one2many/many2many list or kanban inside a form


def _always_invisible(node):
    # as the web client: invisible="True", not column_invisible (still read)
    return node.get("invisible") in ("True", "1", "true")


def _handle_order(subview):
    """A subview's default order: default_order, else its handle field."""
    if subview.get("default_order"):
        return subview.get("default_order")
    for node in subview.iter("field"):
        if node.get("widget") == "handle":
            return f"{node.get('name')} ASC"
    return None


def _field_nodes(node):
    """The <field> nodes of a view, not those of its x2many subviews."""
    for child in node:
        if child.tag == "field":
            yield child
        else:
            yield from _field_nodes(child)


def spec_from_arch(env, model, arch):
    """The field specification the web client builds from a view arch (as
    get_views returns it for the user: groups applied, modifier fields
    added): display_name for many2one, subview specs for x2many."""
    spec = {}
    fields = env[model]._fields
    for node in _field_nodes(arch):
        name = node.get("name")
        field = fields.get(name)
        if field is None:
            continue
        entry = spec.setdefault(name, {})
        if field.type in ("many2one", "reference"):
            entry["fields"] = {} if _always_invisible(node) else {"display_name": {}}
        elif field.type in ("one2many", "many2many"):
            subview = next((c for c in node if c.tag in ("list", "kanban")), None)
            if subview is not None:
                entry["fields"] = spec_from_arch(env, field.comodel_name, subview)
                entry["limit"] = int(subview.get("limit") or X2MANY_LIMIT)
                entry["context"] = {}
                order = _handle_order(subview)
                if order:
                    entry["order"] = order
            elif node.get("widget") in ("many2many_tags", "many2many_avatar_user"):
                entry["fields"] = {"display_name": {}}
                entry["context"] = {}
        for dep, dep_spec in WIDGET_DEPENDENCIES.get(node.get("widget"), {}).items():
            spec.setdefault(dep, dict(dep_spec))
        currency = getattr(field, "currency_field", None)
        if field.type == "monetary" and currency in fields:
            spec.setdefault(currency, {"fields": {"display_name": {}}})
    return spec


def view_specs(env):
    """{view: spec} of the views the measured screens load, as the user."""
    from lxml import etree

    orders = env["return.order"].get_views(
        [(False, "kanban"), (False, "list"), (False, "form")]
    )["views"]
    specs = {
        kind: spec_from_arch(env, "return.order", etree.fromstring(view["arch"]))
        for kind, view in orders.items()
    }
    group_by = etree.fromstring(orders["kanban"]["arch"]).get("default_group_by")
    if group_by:
        specs["kanban"].setdefault(group_by, {})
    specs["kanban"].setdefault("display_name", {})
    specs["form"].setdefault("display_name", {})
    wizard = env["return.order.create.wizard"].get_views([(False, "form")])
    specs["wizard"] = spec_from_arch(
        env,
        "return.order.create.wizard",
        etree.fromstring(wizard["views"]["form"]["arch"]),
    )
    return specs


CHATTER_REQUESTS = [
    "activities",
    "attachments",
    "followers",
    "scheduledMessages",
    "suggestedRecipients",
]
SIZE_TABLES = [
    "return_order",
    "return_order_line",
    "sale_order",
    "sale_order_line",
    "res_partner",
    "stock_picking",
    "stock_move",
    "stock_move_line",
    "stock_valuation_layer",
    "account_move",
    "account_move_line",
    "mail_message",
    "mail_tracking_value",
    "mail_followers",
    "mail_activity",
]
# The indexes measured with --candidates, created by SQL on the measured
# clones (in this order), each named as the addon would create it; see
# SCALE.md for the field attribute or init() that gives each one.
CANDIDATE_INDEXES = {
    # index=True on return.order's date_request: the default order
    # (date_request desc, id desc) of the list and of every kanban column
    "return_order__date_request_index": (
        "CREATE INDEX return_order__date_request_index ON return_order (date_request)"
    ),
    # replaces index=True on state: the kanban's read_group (count and sum
    # per state) and the count of each column become index-only scans; the
    # multi-company rule adds company_id to every search
    "return_order_state_company_id_index": (
        "CREATE INDEX return_order_state_company_id_index "
        "ON return_order (state, company_id, amount_untaxed)"
    ),
    "drop return_order__state_index": "DROP INDEX return_order__state_index",
    # the Overdue filter: its kanban columns (state + order), then its list
    "return_order_overdue_state_date_request_index": (
        "CREATE INDEX return_order_overdue_state_date_request_index "
        "ON return_order (state, date_request DESC, id DESC) "
        "WHERE overdue_kind IS NOT NULL"
    ),
    "return_order_overdue_date_request_index": (
        "CREATE INDEX return_order_overdue_date_request_index "
        "ON return_order (date_request DESC, id DESC) "
        "WHERE overdue_kind IS NOT NULL"
    ),
}


def _search_view_domains(env):
    """Default domain of the menu's action, and the search filters' domains."""
    from lxml import etree

    from odoo.tools.safe_eval import safe_eval

    # the web client loads actions and views through sudo'ed routes
    action = env.ref("returns_management.return_order_action").sudo()
    eval_ctx = {"uid": env.uid, "context_today": datetime.date.today}
    view = action.search_view_id
    arch = etree.fromstring(view.arch)
    filters = {
        node.get("name"): safe_eval(node.get("domain"), eval_ctx)
        for node in arch.iter("filter")
        if node.get("domain")
    }
    default = list(safe_eval(action.domain or "[]", eval_ctx))
    context = safe_eval(action.context or "{}", eval_ctx)
    for key, value in context.items():
        if key.startswith("search_default_") and value:
            default += filters[key[len("search_default_") :]]
    kanban = etree.fromstring(env["return.order"].get_view(view_type="kanban")["arch"])
    group_by = kanban.get("default_group_by")
    return default, filters, group_by


def op_kanban(env, specs, domain, group_by, limit=KANBAN_LIMIT):
    """Kanban grouped by state: web_read_group, then each open column."""
    orders = env["return.order"]
    res = orders.web_read_group(
        domain,
        ["amount_untaxed:sum"],
        [group_by],
        limit=GROUPS_LIMIT,
        offset=0,
        orderby="",
        lazy=True,
    )
    opened = shown = 0
    for group in res["groups"]:
        # as the client: folded columns (__fold) load no card
        if not group[f"{group_by}_count"] or group.get("__fold"):
            continue
        opened += 1
        if opened > MAX_OPEN_GROUPS:
            break
        column = orders.with_context(**{f"default_{group_by}": group[group_by]})
        shown += len(
            column.web_search_read(
                group["__domain"],
                specs["kanban"],
                offset=0,
                limit=limit,
                order="",
                count_limit=COUNT_LIMIT,
            )["records"]
        )
    return shown


def op_list(env, specs, domain, limit=LIST_LIMIT):
    res = env["return.order"].web_search_read(
        domain,
        specs["list"],
        offset=0,
        limit=limit,
        order="",
        count_limit=COUNT_LIMIT,
    )
    return len(res["records"])


def op_form(env, specs, return_id):
    """The form (web_read) and its chatter (/mail/thread/data, /messages)."""
    from odoo.addons.mail.tools.discuss import Store

    [values] = env["return.order"].browse(return_id).web_read(specs["form"])
    thread = env["return.order"]._get_thread_with_access(return_id)
    Store(thread, as_thread=True, request_list=CHATTER_REQUESTS).get_result()
    res = env["mail.message"]._message_fetch(
        [
            ("res_id", "=", return_id),
            ("model", "=", "return.order"),
            ("message_type", "!=", "user_notification"),
        ],
        limit=30,
    )
    messages = res.pop("messages")
    messages.set_message_done()
    Store(messages, for_current_user=True).get_result()
    return len(values["line_ids"]) + len(messages)


def _wizard(env, sale_order_id):
    action = env["sale.order"].browse(sale_order_id).action_open_return_wizard()
    return env["return.order.create.wizard"].with_context(**action["context"])


def op_wizard_open(env, specs, sale_order_id):
    """The sale order's Return button: the wizard's onchange (defaults and
    the returnable quantity of every line)."""
    return _wizard(env, sale_order_id).onchange({}, [], specs["wizard"])


def op_create_return(env, specs, sale_order_id, wizard_lines):
    """Save the wizard (all its lines, RETURNED_LINES with a quantity),
    Create Return, the new return's form, Submit, the form again."""
    from odoo import Command

    wizards = _wizard(env, sale_order_id)
    vals = {
        "sale_order_id": sale_order_id,
        "note": False,
        "line_ids": [Command.create(line) for line in wizard_lines],
    }
    [saved] = wizards.web_save(vals, specs["wizard"])
    action = wizards.browse(saved["id"]).action_create_return()
    order = env["return.order"].browse(action["res_id"])
    order.web_read(specs["form"])
    order.action_submit()
    order.web_read(specs["form"])
    if order.state == "draft":
        raise RuntimeError("the new return was not submitted")
    return len(order.line_ids)


def op_returnable_qty(env, sale_order_id):
    lines = env["sale.order"].browse(sale_order_id).order_line
    return len(lines.mapped("return_qty_returnable"))


class Capture:
    """Every query of the running operation: (sql, params, seconds)."""

    def __init__(self):
        self.queries = None

    def hook(self, cr, query, params, start, delay):
        if self.queries is not None:
            self.queries.append((query, params, delay))


def _backend_cpu_ms(pid):
    """CPU time of a (local) PostgreSQL backend so far, in ms: first field
    of /proc/<pid>/schedstat (ns on a CPU). None if not readable."""
    try:
        with open(f"/proc/{pid}/schedstat") as fh:
            return int(fh.read().split()[0]) / 1e6
    except (OSError, ValueError, IndexError):
        return None


def _run_once(registry, uid, context, fn, capture):
    """One operation in its own transaction: wall time, CPU time of the Odoo
    process and of its PostgreSQL backend, queries; rolled back."""
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, uid, context)
        pid = cr._cnx.get_backend_pid()
        capture.queries = []
        q0 = cr.sql_log_count
        pg0 = _backend_cpu_ms(pid)
        c0 = time.process_time()
        t0 = time.perf_counter()
        shown = fn(env)
        cr.flush()  # pending writes and precommit hooks (tracking) count too
        t1 = time.perf_counter()
        c1 = time.process_time()
        pg1 = _backend_cpu_ms(pid)
        queries = cr.sql_log_count - q0
        captured, capture.queries = capture.queries, None
        cr.rollback()
    pg_cpu = pg1 - pg0 if pg0 is not None and pg1 is not None else None
    return {
        "ms": 1000 * (t1 - t0),
        "cpu_ms": 1000 * (c1 - c0),
        "pg_cpu_ms": pg_cpu,
        "total_cpu_ms": 1000 * (c1 - c0) + (pg_cpu or 0.0),
        "queries": queries,
        "sql_ms": 1000 * sum(d for _q, _p, d in captured),
        "captured": captured,
        "records": shown if isinstance(shown, int) else None,
    }


def _normalize(query):
    if isinstance(query, bytes):
        query = query.decode(errors="replace")
    text = " ".join(str(query).split())
    return re.sub(r"\b\d+\b", "?", text)


def _explain(registry, query, params):
    with registry.cursor() as cr:
        cr.execute(
            "SET LOCAL max_parallel_workers_per_gather = 0"
        )  # as Odoo's own queries run on this machine: 2 cores shared
        cr.execute(
            "EXPLAIN (ANALYZE, BUFFERS) "
            + (query.decode() if isinstance(query, bytes) else query),
            params,
        )
        plan = "\n".join(r[0] for r in cr.fetchall())
        cr.rollback()
    return plan


def _query_key(key, nth):
    return f"{hashlib.sha1(key.encode()).hexdigest()[:12]}#{nth}"


def _query_medians(runs):
    """{query key: [seconds per run]}: the nth run of the same statement
    (numbers normalized) in an operation is one query."""
    durations = collections.defaultdict(list)
    first = {}
    for run in runs:
        seen = collections.Counter()
        for query, params, delay in run["captured"]:
            key = _normalize(query)
            seen[key] += 1
            durations[key, seen[key]].append(delay)
            first.setdefault((key, seen[key]), (query, params))
    return durations, first


def _top_queries(runs, registry, explain, top=6):
    """The slowest queries of an operation (median over the runs), with
    their plans; and the median ms of every query, to compare sizes."""
    durations, first = _query_medians(runs)
    medians = {
        _query_key(key, nth): round(1000 * statistics.median(delays), 3)
        for (key, nth), delays in durations.items()
    }
    ranked = sorted(durations.items(), key=lambda kv: -statistics.median(kv[1]))
    out = []
    for (key, nth), delays in ranked[:top]:
        query, params = first[key, nth]
        entry = {
            "query": key[:600],
            "nth": nth,
            "key": _query_key(key, nth),
            "ms": round(1000 * statistics.median(delays), 3),
        }
        if explain and key.lstrip("( ").upper().startswith(("SELECT", "WITH")):
            try:
                entry["plan"] = _explain(registry, query, params)
            except Exception as exc:  # noqa: BLE001 - reported, not fatal
                entry["plan"] = f"EXPLAIN failed: {exc}"
            found = re.search(r"Execution Time: ([\d.]+)", entry["plan"])
            entry["exec_ms"] = float(found.group(1)) if found else None
            entry["scans"] = sorted(
                set(
                    re.findall(
                        r"((?:Seq|Index Only|Bitmap Index|Index) Scan"
                        r"(?: Backward)?(?: using \w+)? on \w+)",
                        entry["plan"],
                    )
                )
            )
        out.append(entry)
    return out, medians


def _table_sizes(cr):
    sizes = {}
    for table in SIZE_TABLES:
        cr.execute(
            f'SELECT COUNT(*), pg_total_relation_size(%s) FROM "{table}"', [table]
        )
        rows, size = cr.fetchone()
        sizes[table] = {"rows": rows, "mb": round(size / 1024 / 1024, 1)}
    cr.execute("SELECT state, COUNT(*) FROM return_order GROUP BY state")
    states = dict(cr.fetchall())
    cr.execute("SELECT COUNT(*) FROM return_order WHERE overdue_kind IS NOT NULL")
    overdue = cr.fetchone()[0]
    return sizes, states, overdue


def _operations(proto, specs, default, filters, group_by, wizard_lines):
    so = proto["big_order_id"]
    to_approve = default + filters["to_approve"]
    overdue = default + filters["overdue"]
    return {
        "kanban": lambda e: op_kanban(e, specs, default, group_by),
        "list": lambda e: op_list(e, specs, default),
        "kanban_to_approve": lambda e: op_kanban(e, specs, to_approve, group_by),
        "list_to_approve": lambda e: op_list(e, specs, to_approve),
        "kanban_overdue": lambda e: op_kanban(e, specs, overdue, group_by),
        "list_overdue": lambda e: op_list(e, specs, overdue),
        # controls: pages as full at 1,000 as at 100,000 (41 returns to
        # approve and 51 overdue, 17 per column, at 1,000)
        "list_to_approve_40": lambda e: op_list(e, specs, to_approve, limit=40),
        "list_overdue_40": lambda e: op_list(e, specs, overdue, limit=40),
        "kanban_overdue_15": lambda e: op_kanban(e, specs, overdue, group_by, limit=15),
        "form": lambda e: op_form(e, specs, proto["form_return_id"]),
        "wizard_open": lambda e: len(op_wizard_open(e, specs, so)["value"]["line_ids"]),
        "create_return": lambda e: op_create_return(e, specs, so, wizard_lines),
        "returnable_qty": lambda e: op_returnable_qty(e, so),
    }


def _summary(runs, registry, explain):
    top, medians = _top_queries(runs, registry, explain)
    return {
        "top_queries": top,
        "query_ms": medians,
        "ms": round(statistics.median(r["ms"] for r in runs), 2),
        "ms_min": round(min(r["ms"] for r in runs), 2),
        "cpu_ms": round(statistics.median(r["cpu_ms"] for r in runs), 2),
        "pg_cpu_ms": round(statistics.median(r["pg_cpu_ms"] or 0 for r in runs), 2),
        "total_cpu_ms": round(statistics.median(r["total_cpu_ms"] for r in runs), 2),
        "sql_ms": round(statistics.median(r["sql_ms"] for r in runs), 2),
        "queries": runs[-1]["queries"],
        "queries_range": [
            min(r["queries"] for r in runs),
            max(r["queries"] for r in runs),
        ],
        "ms_runs": [round(r["ms"], 1) for r in runs],
        "records": runs[-1]["records"],
    }


def _measure_phase(targets, args, capture):
    """Each operation on every database in turn, run after run, so that the
    load of the (shared) machine hits both sizes alike; the ratio of each
    pair of runs is kept."""
    results = {n: {} for n in targets}
    ratios = {}
    for name in OP_LABELS:
        runs = {n: [] for n in targets}
        for t in targets.values():  # warm-up, not counted
            _run_once(t["registry"], t["uid"], t["context"], t["ops"][name], capture)
        for _ in range(args.repeat):
            for n, t in targets.items():
                runs[n].append(
                    _run_once(
                        t["registry"], t["uid"], t["context"], t["ops"][name], capture
                    )
                )
        for n, t in targets.items():
            results[n][name] = _summary(runs[n], t["registry"], args.explain)
        small, large = min(targets), max(targets)
        pairs = [
            b["ms"] / a["ms"] for a, b in zip(runs[small], runs[large], strict=True)
        ]
        cpu_pairs = [
            b["total_cpu_ms"] / a["total_cpu_ms"]
            for a, b in zip(runs[small], runs[large], strict=True)
        ]
        ratios[name] = {
            "wall": round(statistics.median(pairs), 3),
            "cpu": round(statistics.median(cpu_pairs), 3),
        }
        log(
            f"  {name}: "
            + ", ".join(
                f"{n:,}: {results[n][name]['ms']:.0f} ms "
                f"(cpu {results[n][name]['cpu_ms']:.0f}"
                f"+{results[n][name]['pg_cpu_ms']:.0f}, "
                f"{results[n][name]['queries']} q)"
                for n in targets
            )
            + f"; ratio wall {ratios[name]['wall']:.2f}, "
            f"cpu {ratios[name]['cpu']:.2f}"
        )
    return results, ratios


def _prepare(registry):
    """Ids, the manager's context, the view's domains, the wizard's lines."""
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        proto = json.loads(env["ir.config_parameter"].get_param("rm_scale.proto"))
        sizes, states, overdue = _table_sizes(cr)
        manager = env["res.users"].browse(proto["manager_id"])
        context = {
            "lang": "en_US",
            "tz": "Europe/Brussels",
            "uid": manager.id,
            "allowed_company_ids": manager.company_ids.ids,
            "bin_size": True,
        }
        manager_env = env(user=manager, context=context)
        default, filters, group_by = _search_view_domains(manager_env)
        specs = view_specs(manager_env)
        onchange = op_wizard_open(manager_env, specs, proto["big_order_id"])
        wizard_lines = []
        for i, line in enumerate(onchange["value"]["line_ids"]):
            values = line[2] if isinstance(line, (list, tuple)) else line
            wizard_lines.append(
                {
                    "sale_line_id": values["sale_line_id"]["id"],
                    "quantity": 1.0 if i < RETURNED_LINES else 0.0,
                    "reason_id": values["reason_id"]["id"],
                    "note": False,
                }
            )
        cr.rollback()
    target = {
        "registry": registry,
        "uid": manager.id,
        "context": context,
        "ops": _operations(proto, specs, default, filters, group_by, wizard_lines),
    }
    info = {
        "tables": sizes,
        "states": states,
        "overdue": overdue,
        "domains": {
            "default": default,
            "to_approve": filters["to_approve"],
            "overdue": filters["overdue"],
        },
        "group_by": group_by,
        "specs": specs,
        "wizard_lines": len(wizard_lines),
        "phases": {},
        "ratios": {},
    }
    return target, info


def measure(registries, args):
    """Every operation, --repeat times on each database after a warm-up,
    each run in its own transaction (new cursor, cold record cache, rolled
    back); then the same with CANDIDATE_INDEXES if asked."""
    targets, out = {}, {}
    for n, registry in registries.items():
        targets[n], out[n] = _prepare(registry)
    capture = Capture()
    threading.current_thread().query_hooks = [capture.hook]
    phases = ["baseline"] + (["indexed"] if args.candidates else [])
    ratios = {}
    for phase in phases:
        if phase == "indexed":
            for registry in registries.values():
                with registry.cursor() as cr:
                    for sql in CANDIDATE_INDEXES.values():
                        cr.execute(sql)
                    cr.execute("ANALYZE return_order")
            log("candidate indexes created")
        log(f"measuring ({phase}): {', '.join(f'{n:,}' for n in registries)}")
        load = loadavg()
        results, ratios[phase] = _measure_phase(targets, args, capture)
        for n in registries:
            out[n]["phases"][phase] = results[n]
            out[n].setdefault("loadavg", {})[phase] = [load, loadavg()]
    return {"results": out, "ratios": ratios}


# --- report ---------------------------------------------------------

OP_LABELS = {
    "kanban": "Returns menu: kanban by state (web_read_group + each column)",
    "list": "List view, first page of 80 + count",
    "kanban_to_approve": "Filter To Approve, kanban",
    "list_to_approve": "Filter To Approve, list",
    "kanban_overdue": "Filter Overdue, kanban",
    "list_overdue": "Filter Overdue, list",
    "list_to_approve_40": "control: To Approve, list of 40 (full at both sizes)",
    "list_overdue_40": "control: Overdue, list of 40 (full at both sizes)",
    "kanban_overdue_15": "control: Overdue, kanban of 15 a column (full at both)",
    "form": "Form of a return on the 200-line order + chatter",
    "wizard_open": "Return wizard on the 200-line order (onchange)",
    "create_return": "Create a 20-line return + Submit (+ its form twice)",
    "returnable_qty": "Returnable quantities of the 200 lines",
}
TARGET = 1.2


def _md_sizes(results, sizes):
    small, large = results[sizes[0]], results[sizes[-1]]
    lines = [
        "",
        f"## Table sizes ({sizes[0]:,} and {sizes[-1]:,} returns)",
        "",
        f"| table | rows {sizes[0]:,} | MB | rows {sizes[-1]:,} | MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for table in SIZE_TABLES:
        a, b = small["tables"][table], large["tables"][table]
        lines.append(
            f"| {table} | {a['rows']:,} | {a['mb']:,.1f} | {b['rows']:,} "
            f"| {b['mb']:,.1f} |"
        )
    for label, res in ((sizes[0], small), (sizes[-1], large)):
        states = ", ".join(
            f"{state} {count:,}" for state, count in sorted(res["states"].items())
        )
        lines.append("")
        lines.append(
            f"States at {label:,}: {states}; overdue {res['overdue']:,} "
            f"({100 * res['overdue'] / sum(res['states'].values()):.1f} %)."
        )
    return lines


def _cpu(r):
    return f"{_fmt(r['total_cpu_ms'])} ({_fmt(r['cpu_ms'])}+{_fmt(r['pg_cpu_ms'])})"


def _md_phase(results, ratios, sizes, phase):
    small, large = results[sizes[0]], results[sizes[-1]]
    a_n, b_n = f"{sizes[0] // 1000}k", f"{sizes[-1] // 1000}k"
    lines = [
        "",
        f"| operation | wall ms {a_n} | wall ms {b_n} | wall ratio "
        f"| cpu ms {a_n} (Odoo+PG) | cpu ms {b_n} (Odoo+PG) | cpu ratio "
        f"| queries {a_n} / {b_n} | records {a_n} / {b_n} | ≤ {TARGET}× |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for op in OP_LABELS:
        a = small["phases"].get(phase, {}).get(op)
        b = large["phases"].get(phase, {}).get(op)
        if not a or not b:
            continue
        # medians of the ratios of runs made one after the other (same load)
        wall = ratios[phase][op]["wall"]
        cpu = ratios[phase][op]["cpu"]
        ok = "✓" if wall <= TARGET and cpu <= TARGET else "✗"
        if ok == "✗" and min(wall, cpu) <= TARGET:
            ok = "~"
        lines.append(
            f"| {OP_LABELS[op]} | {_fmt(a['ms'])} | {_fmt(b['ms'])} "
            f"| **{_fmt(wall, 2)}** | {_cpu(a)} | {_cpu(b)} | **{_fmt(cpu, 2)}** "
            f"| {a['queries']} / {b['queries']} "
            f"| {a.get('records')} / {b.get('records')} | {ok} |"
        )
    return lines


def _md_top_queries(results, sizes, phase, ops=None):
    large, small = results[sizes[-1]], results[sizes[0]]
    lines = [
        "",
        f"### Slowest queries at {sizes[-1]:,} ({phase}), the same at {sizes[0]:,}",
        "",
        "Median client-side ms of the query in the operation; EXPLAIN (ANALYZE, "
        "BUFFERS) execution ms and the scans of its plan at the large size.",
    ]
    for op in ops or OP_LABELS:
        b = large["phases"].get(phase, {}).get(op)
        a = small["phases"].get(phase, {}).get(op)
        if not b:
            continue
        at_small = (a or {}).get("query_ms", {})
        lines += [
            "",
            f"**{op}**",
            "",
            "| ms large | ms small | EXPLAIN ms | scans (large) | query |",
            "|---:|---:|---:|---|---|",
        ]
        for q in b["top_queries"][:4]:
            text = q["query"][:160].replace("|", "\\|")
            lines.append(
                f"| {q['ms']:.2f} | {_fmt(at_small.get(q.get('key')), 2)} "
                f"| {_fmt(q.get('exec_ms'), 2)} | {'; '.join(q.get('scans', []))} "
                f"| `{text}` |"
            )
    return lines


def build_markdown(report):
    meta, results = report["meta"], report["results"]
    sizes = sorted(results)
    lines = [
        "# Scale benchmark: returns_management at "
        + " and ".join(f"{n:,}" for n in sizes)
        + " returns",
        "",
        f"Run {meta['date']} on {meta['nproc']} cores ({meta.get('cpu', '?')}), "
        f"Odoo {meta['odoo']}, PostgreSQL {meta['postgresql']}, returns_management "
        f"{meta['returns_management']} (repository HEAD {meta['commit']}). "
        f"Command: `{meta['command']}`; {meta['repeat']} runs "
        f"per operation after a warm-up, median. Total {meta['wall_s']:.0f} s "
        f"(templates {meta['setup_s']:.0f} s); peak memory of the measuring "
        f"process {meta.get('max_rss_mb')} MB. Load average "
        f"{meta['loadavg_start']} → {meta['loadavg_end']}.",
    ]
    lines += _md_sizes(results, sizes)
    lines += ["", "## Operations (baseline: the addon as it is)"]
    lines += _md_phase(results, report["ratios"], sizes, "baseline")
    if all("indexed" in results[n]["phases"] for n in sizes):
        lines += [
            "",
            "## Operations with the candidate indexes",
            "",
            ", ".join(f"`{sql}`" for sql in CANDIDATE_INDEXES.values()),
        ]
        lines += _md_phase(results, report["ratios"], sizes, "indexed")
    lines += _md_top_queries(results, sizes, "baseline")
    if all("indexed" in results[n]["phases"] for n in sizes):
        lines += _md_top_queries(
            results, sizes, "indexed", ["kanban", "kanban_overdue", "list_overdue"]
        )
    lines.append("")
    return "\n".join(lines)


def _machine():
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "odoo": odoo_version(),
        "postgresql": psql("SHOW server_version"),
    }
    try:
        with open("/proc/cpuinfo") as fh:
            m = re.search(r"model name\s*:\s*(.+)", fh.read())
        info["cpu"] = m.group(1).strip() if m else "?"
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "-C", REPO_DIR, "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", REPO_DIR, "status", "--porcelain", "--", "returns_management"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    info["commit"] = commit + ("+uncommitted changes" if dirty else "")
    return info


def run_measurements(args, templates, dbs, setup_s, t_start):
    meta = _machine()
    meta["loadavg_start"] = loadavg()
    clones = {n: f"{DB_PREFIX}measure_{n}" for n in dbs}
    out = os.path.join(tempfile.gettempdir(), f"{DB_PREFIX}measure.json")
    try:
        for n, template in dbs.items():
            clone_db(template, clones[n], args.data_dir)
        extra = [
            "measure",
            "--db",
            ",".join(f"{n}={db}" for n, db in clones.items()),
            "--repeat",
            str(args.repeat),
        ]
        if args.candidates:
            extra.append("--candidates")
        if not args.no_explain:
            extra.append("--explain")
        run_worker(extra, args.data_dir, templates.addons_path, out=out)
        with open(out) as fh:
            measured = json.load(fh)
    finally:
        if not args.keep_dbs:
            for db in clones.values():
                drop_db(db, args.data_dir)
    meta.update(
        {
            "command": "python3 benchmarks/scale.py " + " ".join(sys.argv[1:]),
            "repeat": args.repeat,
            "returns_management": templates.source,
            "setup_s": round(setup_s, 1),
            "setup_timings_s": templates.timings,
            "wall_s": round(time.perf_counter() - t_start, 1),
            "loadavg_end": loadavg(),
            "templates": dbs,
        }
    )
    report = {
        "meta": meta,
        "results": {int(n): r for n, r in measured["results"].items()},
        "ratios": measured["ratios"],
    }
    meta["max_rss_mb"] = measured.get("max_rss_mb")
    with open(os.path.join(args.out, "scale_latest.json"), "w") as fh:
        json.dump(report, fh, indent=1, default=str)
    if len(report["results"]) >= 2:
        markdown = build_markdown(report)
        with open(os.path.join(args.out, "scale_latest.md"), "w") as fh:
            fh.write(markdown)
        print(markdown)
    log(f"wrote {args.out}/scale_latest.md and .json")
    return 0


# --- entry points ---------------------------------------------------


def worker_main(argv):
    parser = argparse.ArgumentParser(prog="scale.py worker")
    parser.add_argument("command", choices=["proto", "replicate", "measure"])
    parser.add_argument(
        "--db", required=True, help="database; for measure: N=DB,N=DB (each size)"
    )
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--n", type=int)
    parser.add_argument("--out")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--candidates", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "measure":
        dbs = dict(item.split("=") for item in args.db.split(","))
        registry = _boot(next(iter(dbs.values())), args.data_dir, args.addons_path)
        from odoo.modules.registry import Registry

        registries = {int(n): Registry(db) for n, db in dbs.items()}
        result = measure(registries, args)
        # peak memory of the measuring process (both registries loaded)
        result["max_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1, default=str)
        return 0
    registry = _boot(args.db, args.data_dir, args.addons_path)
    from odoo import SUPERUSER_ID, api

    if args.command == "proto":
        with registry.cursor() as cr:
            build_prototypes(api.Environment(cr, SUPERUSER_ID, {}))
        return 0
    if args.command == "replicate":
        t0 = time.perf_counter()
        with registry.cursor() as cr:
            copies, stats = replicate(cr, args.n)
            cr.execute("SELECT COUNT(*) FROM return_order")
            total = cr.fetchone()[0]
        rows = sum(stats.values())
        log(
            f"copies {copies}: {rows:,} rows in {len(stats)} tables, "
            f"{total:,} returns, {time.perf_counter() - t0:.0f} s"
        )
        return 0
    raise SystemExit(f"unknown command {args.command}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        return worker_main(sys.argv[2:])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default=",".join(str(n) for n in DEFAULT_SIZES),
        help="comma-separated numbers of returns (default 1000,100000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="measured runs of each operation (median reported; 1 warm-up before)",
    )
    parser.add_argument(
        "--candidates",
        action="store_true",
        help="measure again after creating CANDIDATE_INDEXES on the clone",
    )
    parser.add_argument(
        "--no-explain",
        action="store_true",
        help="skip EXPLAIN (ANALYZE, BUFFERS) of the slowest queries",
    )
    parser.add_argument(
        "--rev",
        default="HEAD",
        help="git revision of returns_management to measure (default HEAD)",
    )
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="measure the work tree's returns_management instead of --rev",
    )
    parser.add_argument("--setup-only", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--keep-dbs", action="store_true")
    parser.add_argument("--keep-failed", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(BENCH_DIR, "results"), help="output folder"
    )
    parser.add_argument(
        "--data-dir", default=os.path.join(tempfile.gettempdir(), "rm_scale_data")
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    os.makedirs(args.data_dir, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    t_start = time.perf_counter()
    templates = Templates(args)
    dbs = {n: templates.scaled(n) for n in sizes}
    setup_s = time.perf_counter() - t_start
    log(f"templates ready in {setup_s:.0f} s: {', '.join(dbs.values())}")
    if args.setup_only:
        return 0
    return run_measurements(args, templates, dbs, setup_s, t_start)


if __name__ == "__main__":
    sys.exit(main())
