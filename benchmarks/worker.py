"""Odoo side of the returns benchmark: seeding, the measured paths, checks.

Runs inside a subprocess started by ``benchmarks/run.py`` (one process per
database, so every path starts with a fresh registry and fresh caches):

    worker.py seed --db DB --addons-path P --data-dir D --n N --out F
    worker.py measure --db DB --addons-path P --data-dir D --path PATH --n N
              --warmup W [--step-end precommit] [--profile] --out F

Only public APIs are called (ORM methods, wizards as the UI would create
them); nothing of the OCA addon is copied here, it is only called.
"""

import argparse
import collections
import json
import os
import sys
import threading
import time
import traceback

# the click paths (clicks.py, webclient.py) live next to this file
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# --- query-site profiler --------------------------------------------

# Frames in these files are "plumbing": a query is attributed to the first frame
# outside them (walking from the query outwards).
_PLUMBING_SUFFIXES = (
    os.path.join("odoo", "sql_db.py"),
    os.path.join("odoo", "models.py"),
    os.path.join("odoo", "fields.py"),
    os.path.join("odoo", "api.py"),
    os.path.join("odoo", "tools", "query.py"),
    os.path.join("odoo", "tools", "cache.py"),
    os.path.join("odoo", "tools", "misc.py"),
    os.path.join("odoo", "tools", "func.py"),
    os.path.join("odoo", "tools", "sql.py"),
    os.path.join("odoo", "osv", "expression.py"),
    os.path.join("odoo", "modules", "registry.py"),
    "psycopg2",
    "contextlib.py",
    "functools.py",
)
_BENCH_DIR = os.path.dirname(os.path.abspath(__file__))


def _short(filename):
    """'/opt/odoo18/odoo/addons/stock/models/x.py' -> 'stock/models/x.py'."""
    for marker in (
        os.sep + "odoo" + os.sep + "addons" + os.sep,
        os.sep + "returns_management" + os.sep,
    ):
        idx = filename.rfind(marker)
        if idx >= 0:
            rest = filename[idx + len(marker) :]
            return (
                ("returns_management/" + rest)
                if "returns_management" in marker
                else rest
            )
    idx = filename.rfind(os.sep + "odoo" + os.sep)
    if idx >= 0:
        return "odoo/" + filename[idx + 6 :]
    return filename


def _statement(query):
    """('SELECT', 'stock_move') style summary of a query."""
    if isinstance(query, bytes):
        query = query.decode(errors="replace")
    text = " ".join(str(query).split())
    words = text.split(" ", 1)
    verb = words[0].upper() if words else "?"
    low = text.lower()
    marker = {
        "SELECT": " from ",
        "INSERT": "insert into ",
        "UPDATE": "update ",
        "DELETE": "delete from ",
    }.get(verb)
    table = "?"
    pos = low.find(marker) if marker else -1
    if pos >= 0:
        rest = text[pos + len(marker) :].split(" ", 1)
        if rest and rest[0]:
            table = rest[0].strip('"(').split('"')[0] or "?"
    return verb, table


class QueryProfiler:
    """Groups executed SQL per step by the file:line that issued it."""

    def __init__(self, rm_marker=os.sep + "returns_management" + os.sep):
        self.rm_marker = rm_marker
        self.step = None
        self.sites = collections.defaultdict(collections.Counter)
        self.rm_sites = collections.defaultdict(collections.Counter)
        self.tables = collections.defaultdict(collections.Counter)

    def hook(self, cr, query, params, start, delay):
        if self.step is None:
            return
        frame = sys._getframe(1)
        site = None
        rm_site = None
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(_BENCH_DIR):
                break
            if (
                site is None
                and not filename.endswith(_PLUMBING_SUFFIXES)
                and not filename.startswith("<")  # decorator-generated wrappers
                and "psycopg2" not in filename
            ):
                site = f"{_short(filename)}:{frame.f_lineno} ({frame.f_code.co_name})"
            if self.rm_marker in filename:
                rm_site = (
                    f"{_short(filename)}:{frame.f_lineno} ({frame.f_code.co_name})"
                )
                break
            frame = frame.f_back
        verb, table = _statement(query)
        # no caller outside the ORM: a flush/recompute run by the step's end
        self.sites[self.step][
            site or f"(ORM flush/recompute at step end: {verb} {table})"
        ] += 1
        if rm_site:
            self.rm_sites[self.step][rm_site] += 1
        self.tables[self.step][f"{verb} {table}"] += 1

    def report(self, top=15):
        out = {}
        for step in self.sites:
            out[step] = {
                "by_site": self.sites[step].most_common(top),
                "by_returns_management_frame": self.rm_sites[step].most_common(top),
                "by_statement": self.tables[step].most_common(top),
                "queries": sum(self.tables[step].values()),
            }
        return out


# --- Odoo bootstrap -------------------------------------------------


def _boot(args):
    import odoo  # noqa: F401  (imported here so `--help` works without Odoo)
    from odoo.tools import config

    config.parse_config(
        [
            "--config=/dev/null",
            f"--addons-path={args.addons_path}",
            f"--data-dir={args.data_dir}",
            "--log-level=warn",
            "--without-demo=all",
        ]
    )
    import odoo.modules.registry

    return odoo.modules.registry.Registry(args.db)


# --- seeding --------------------------------------------------------

PRICE = 100.0
COST = 40.0
QTY_SOLD = 5.0
QTY_RETURNED = 2.0


def seed(env, n_orders):
    """N confirmed, delivered, invoiced and posted sale orders of 1 line, qty 5.

    Everything is created through the ORM in batch (seeding is not measured);
    the same data for every path: same product, price, cost, taxes, customer.
    """
    from odoo import Command

    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading(
            "generic_coa", company, install_demo=False
        )
    warehouse = env["stock.warehouse"].search(
        [("company_id", "=", company.id)], limit=1
    )
    category = env["product.category"].create(
        {
            "name": "Benchmark FIFO real-time",
            "property_cost_method": "fifo",
            "property_valuation": "real_time",
        }
    )
    product = env["product.product"].create(
        {
            "name": "Benchmark Kettle",
            "type": "consu",
            "is_storable": True,
            "list_price": PRICE,
            "standard_price": COST,
            "invoice_policy": "delivery",
            "categ_id": category.id,
        }
    )
    customer = env["res.partner"].create({"name": "Benchmark Customer"})
    env["stock.quant"].with_context(inventory_mode=True).create(
        {
            "product_id": product.id,
            "location_id": warehouse.lot_stock_id.id,
            "inventory_quantity": QTY_SOLD * n_orders + 10,
        }
    ).action_apply_inventory()
    env.flush_all()

    orders = env["sale.order"]
    chunk = 100
    for start in range(0, n_orders, chunk):
        batch = env["sale.order"].create(
            [
                {
                    "partner_id": customer.id,
                    "warehouse_id": warehouse.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": QTY_SOLD,
                                "price_unit": PRICE,
                            }
                        )
                    ],
                }
                for _ in range(min(chunk, n_orders - start))
            ]
        )
        batch.action_confirm()
        pickings = batch.picking_ids
        for move in pickings.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        res = pickings.with_context(skip_backorder=True).button_validate()
        if res is not True:
            raise RuntimeError(f"delivery validation returned {res!r}")
        invoices = batch._create_invoices(grouped=True)
        invoices.action_post()
        env.cr.commit()
        orders |= batch
    assert all(p.state == "done" for p in orders.picking_ids)
    assert len(orders.invoice_ids) == n_orders
    assert all(
        m.state == "posted" and m.move_type == "out_invoice" for m in orders.invoice_ids
    )
    assert all(
        l.qty_delivered == QTY_SOLD and l.qty_invoiced == QTY_SOLD
        for l in orders.order_line
    )
    env["ir.config_parameter"].set_param(
        "rm_bench.seed",
        json.dumps(
            {
                "order_ids": orders.ids,
                "product_id": product.id,
                "customer_id": customer.id,
                "warehouse_id": warehouse.id,
                "last_move_id": max(env["account.move"].search([]).ids),
                "last_stock_move_id": max(env["stock.move"].search([]).ids),
            }
        ),
    )
    env.cr.commit()
    return {"orders": len(orders), "invoices": len(orders.invoice_ids)}


# --- measurement ----------------------------------------------------

STEPS = ("create", "approve", "receive", "credit")


class Meter:
    """Accumulates wall time and SQL queries per step.

    Every step ends like an HTTP request: flush, precommit hooks (mail tracking),
    COMMIT. The commit also clears the transaction's caches, so the next step
    starts cold, as the next click of a user would. Both are inside the
    measurement.
    """

    def __init__(self, env, profiler=None, step_end="commit"):
        self.step_end = step_end
        self.env = env
        self.cr = env.cr
        self.profiler = profiler
        self.time = collections.Counter()
        self.cpu = collections.Counter()
        self.sql = collections.Counter()
        self._sql_time = 0.0
        self.queries = collections.Counter()
        self.calls = collections.Counter()
        self.enabled = True

    def sql_hook(self, cr, query, params, start, delay):
        """Client-side duration of every query (Cursor.execute's query_hooks)."""
        self._sql_time += delay

    def run(self, step, fn, *args):
        cr = self.cr
        if self.profiler and self.enabled:
            self.profiler.step = step
        q0 = cr.sql_log_count
        s0 = self._sql_time
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = fn(*args)
        if self.step_end == "commit":
            cr.flush()
            cr.commit()
        elif self.step_end == "precommit":
            cr.flush()
        else:
            self.env.flush_all()
        t1 = time.perf_counter()
        c1 = time.process_time()
        q1 = cr.sql_log_count
        if self.profiler:
            self.profiler.step = None
        if self.enabled:
            self.time[step] += t1 - t0
            self.cpu[step] += c1 - c0
            self.sql[step] += self._sql_time - s0
            self.queries[step] += q1 - q0
            self.calls[step] += 1
        return result


def _validate(pickings):
    res = pickings.button_validate()
    if res is not True and not (
        isinstance(res, dict) and res.get("tag") == "do_multi_print"
    ):
        raise RuntimeError(f"receipt validation opened a wizard: {res!r}")
    return res


# (a) Odoo core, by hand ---------------------------------------------


def _core_create(env, so):
    delivery = so.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
    wizard = (
        env["stock.return.picking"]
        .with_context(
            active_id=delivery.id, active_ids=delivery.ids, active_model="stock.picking"
        )
        .create({})
    )
    # the user types the quantity to return; "Update quantities on SO/PO" stays on
    wizard.product_return_moves.write({"quantity": QTY_RETURNED, "to_refund": True})
    return wizard


def _core_approve(env, wizard):
    action = wizard.action_create_returns()
    return env["stock.picking"].browse(action["res_id"])


def _core_credit_so(env, so):
    wizard = (
        env["sale.advance.payment.inv"]
        .with_context(active_model="sale.order", active_ids=so.ids, active_id=so.id)
        .create({"advance_payment_method": "delivered"})
    )
    wizard.create_invoices()
    refund = so.invoice_ids.filtered(lambda m: m.state == "draft")
    if len(refund) != 1 or refund.move_type != "out_refund":
        raise RuntimeError(f"{so.name}: expected one draft credit note, got {refund}")
    refund.action_post()
    return refund


def _core_credit_reversal(env, so, product):
    from odoo import Command

    invoice = so.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
    wizard = (
        env["account.move.reversal"]
        .with_context(active_model="account.move", active_ids=invoice.ids)
        .create({"reason": "Customer return", "journal_id": invoice.journal_id.id})
    )
    action = wizard.refund_moves()
    refund = env["account.move"].browse(action["res_id"])
    # partial return: the user edits the quantity of the product line
    refund.write(
        {
            "invoice_line_ids": [
                Command.update(line.id, {"quantity": QTY_RETURNED})
                for line in refund.invoice_line_ids
                if line.product_id == product
            ]
        }
    )
    refund.action_post()
    return refund


def _one_by_one(orders):
    """Each return on its own, as separate user requests would handle them: a
    fresh browse per order, so the ORM cannot prefetch the other orders."""
    for order_id in orders.ids:
        yield orders.browse(order_id).with_prefetch()


def run_core(env, meter, orders, credit_mode, product):
    for so in _one_by_one(orders):
        wizard = meter.run("create", _core_create, env, so)
        picking = meter.run("approve", _core_approve, env, wizard)
        meter.run("receive", _validate, picking)
        if credit_mode == "so":
            meter.run("credit", _core_credit_so, env, so)
        else:
            meter.run("credit", _core_credit_reversal, env, so, product)


# (a3) Odoo core in batch: the floor ----------------------------------


def _core_batch_create(env, orders):
    """One return wizard per delivery, all created in one call, quantities
    set in one write (what core's own API allows at the cheapest)."""
    deliveries = orders.picking_ids.filtered(
        lambda p: p.picking_type_code == "outgoing"
    )
    wizards = env["stock.return.picking"].create(
        [{"picking_id": delivery.id} for delivery in deliveries]
    )
    wizards.product_return_moves.write({"quantity": QTY_RETURNED, "to_refund": True})
    return wizards


def _core_batch_approve(env, wizards):
    # core has no batch return: _create_return() per wizard (it copies the
    # delivery, creates the moves, confirms and reserves that one picking)
    return env["stock.picking"].union(*(wizard._create_return() for wizard in wizards))


def _core_batch_credit(env, orders, product):
    """One reversal wizard on all invoices (one credit note each), the
    returned quantity written on all their product lines at once, one post."""
    invoices = orders.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
    wizard = (
        env["account.move.reversal"]
        .with_context(active_model="account.move", active_ids=invoices.ids)
        .create({"reason": "Customer return", "journal_id": invoices[0].journal_id.id})
    )
    wizard.refund_moves()
    refunds = wizard.new_move_ids
    if len(refunds) != len(invoices):
        raise RuntimeError(f"{len(refunds)} credit notes for {len(invoices)} invoices")
    refunds.invoice_line_ids.filtered(lambda l: l.product_id == product).write(
        {"quantity": QTY_RETURNED}
    )
    refunds.action_post()
    return refunds


def run_core_batch(env, meter, orders, product):
    wizards = meter.run("create", _core_batch_create, env, orders)
    pickings = meter.run("approve", _core_batch_approve, env, wizards)
    meter.run("receive", _validate, pickings)
    meter.run("credit", _core_batch_credit, env, orders, product)


# (b) OCA rma + rma_sale ---------------------------------------------


def _oca_operation(env):
    return env.ref("rma.rma_operation_refund")


def _oca_create_single(env, so, operation):
    action = so.action_create_rma()
    wizard = env["sale.order.rma.wizard"].browse(action["res_id"])
    wizard.line_ids.write({"quantity": QTY_RETURNED, "operation_id": operation.id})
    rma = wizard.create_rma()
    if len(rma) != 1:
        raise RuntimeError(f"{so.name}: the RMA wizard created {len(rma)} RMAs")
    return rma


def _oca_receive(rmas):
    return _validate(rmas.reception_move_id.picking_id)


def _oca_credit(rmas):
    rmas.action_refund()
    refunds = rmas.refund_id
    if not refunds:
        raise RuntimeError("action_refund created no credit note")
    refunds.action_post()
    return refunds


def run_oca_single(env, meter, orders):
    operation = _oca_operation(env)
    for so in _one_by_one(orders):
        rma = meter.run("create", _oca_create_single, env, so, operation)
        meter.run("approve", rma.action_confirm)
        meter.run("receive", _oca_receive, rma)
        meter.run("credit", _oca_credit, rma)


def _oca_create_batch(env, orders, operation):
    """One create call for all RMAs, with the values its sale-order wizard fills
    (the wizard itself works on one sale order at a time)."""
    vals_list = []
    for so in orders:
        move = so.order_line.move_ids.filtered(
            lambda m: m.state == "done" and m.location_dest_id.usage == "customer"
        )
        vals_list.append(
            {
                "partner_id": so.partner_id.id,
                "partner_invoice_id": so.partner_invoice_id.id,
                "partner_shipping_id": so.partner_shipping_id.id,
                "origin": so.name,
                "company_id": so.company_id.id,
                "location_id": so.warehouse_id.rma_loc_id.id,
                "order_id": so.id,
                "picking_id": move.picking_id.id,
                "move_id": move.id,
                "product_id": move.product_id.id,
                "product_uom_qty": QTY_RETURNED,
                "product_uom": move.product_uom.id,
                "operation_id": operation.id,
            }
        )
    return env["rma"].create(vals_list)


def run_oca_batch(env, meter, orders):
    operation = _oca_operation(env)
    rmas = meter.run("create", _oca_create_batch, env, orders, operation)
    meter.run("approve", rmas.action_confirm)
    meter.run("receive", _oca_receive, rmas)
    meter.run("credit", _oca_credit, rmas)


# (c)/(d) returns_management -----------------------------------------


def _rm_vals(so, reason):
    from odoo import Command

    return {
        "sale_order_id": so.id,
        "line_ids": [
            Command.create(
                {
                    "sale_line_id": line.id,
                    "quantity": QTY_RETURNED,
                    "reason_id": reason.id,
                }
            )
            for line in so.order_line
        ],
    }


def _rm_create(env, orders, reason):
    returns = env["return.order"].create([_rm_vals(so, reason) for so in orders])
    returns.action_submit()
    return returns


def _rm_receive(returns):
    return _validate(returns.return_picking_ids)


def _rm_credit(returns):
    returns.action_create_credit_notes()
    drafts = returns.credit_note_ids.filtered(lambda m: m.state == "draft")
    if not drafts:
        raise RuntimeError("action_create_credit_notes created no credit note")
    drafts.action_post()
    return drafts


def run_rm(env, meter, orders, batch):
    reason = env.ref("returns_management.return_reason_defective")
    groups = [orders] if batch else list(_one_by_one(orders))
    for group in groups:
        returns = meter.run("create", _rm_create, env, group, reason)
        meter.run("approve", returns.action_approve)
        meter.run("receive", _rm_receive, returns)
        meter.run("credit", _rm_credit, returns)


def _rm_auto_approve_policy(env):
    """A company-wide policy that approves every request itself (not measured)."""
    if not env["return.policy"].search_count([("auto_approve", "=", True)]):
        env["return.policy"].create(
            {"name": "Approve everything", "sequence": 1, "auto_approve": True}
        )


def _rm_automatic_policy(env):
    """A company-wide policy that approves every request, and credits and
    posts when the goods are received (not measured)."""
    env["return.policy"].create(
        {
            "name": "Approve and refund on receipt",
            "sequence": 1,
            "auto_approve": True,
            "refund_trigger": "on_receipt",
            "auto_post_credit_note": True,
        }
    )


def run_rm_auto(env, meter, orders, batch):
    """Submitting approves through the policy: no manager step."""
    _rm_auto_approve_policy(env)
    reason = env.ref("returns_management.return_reason_defective")
    groups = [orders] if batch else list(_one_by_one(orders))
    for group in groups:
        returns = meter.run("create", _rm_create, env, group, reason)
        if set(returns.mapped("state")) != {"approved"}:
            raise RuntimeError("the policy did not approve the returns on submit")
        meter.run("receive", _rm_receive, returns)
        meter.run("credit", _rm_credit, returns)


CLICK_PATH_NAMES = (
    "click_core_so",
    "click_core_reversal",
    "click_oca",
    "click_rm",
    "click_rm_auto",
    "click_rm_flow",
)

PATHS = {
    "core_so": lambda env, meter, orders, seed: run_core(
        env, meter, orders, "so", seed["product"]
    ),
    "core_reversal": lambda env, meter, orders, seed: run_core(
        env, meter, orders, "reversal", seed["product"]
    ),
    "core_batch": lambda env, meter, orders, seed: run_core_batch(
        env, meter, orders, seed["product"]
    ),
    "oca_single": lambda env, meter, orders, seed: run_oca_single(env, meter, orders),
    "oca_batch": lambda env, meter, orders, seed: run_oca_batch(env, meter, orders),
    "rm_single": lambda env, meter, orders, seed: run_rm(
        env, meter, orders, batch=False
    ),
    "rm_batch": lambda env, meter, orders, seed: run_rm(env, meter, orders, batch=True),
    "rm_auto_single": lambda env, meter, orders, seed: run_rm_auto(
        env, meter, orders, batch=False
    ),
    "rm_auto_batch": lambda env, meter, orders, seed: run_rm_auto(
        env, meter, orders, batch=True
    ),
}


# --- correctness checks ---------------------------------------------


def _quants_by_location(env, product):
    totals = collections.Counter()
    for quant in env["stock.quant"].search([("product_id", "=", product.id)]):
        totals[quant.location_id.id] += quant.quantity
    return totals


def check(env, path, orders, seed_info, quants_before):
    """Return a list of (name, ok, detail). A fast wrong path never wins."""
    env.invalidate_all()
    product = env["product.product"].browse(seed_info["product_id"])
    n = len(orders)
    results = []

    def add(name, ok, detail):
        results.append({"check": name, "ok": bool(ok), "detail": detail})

    lines = orders.order_line
    bad = [
        (l.order_id.name, l.qty_delivered, l.qty_invoiced)
        for l in lines
        if abs(l.qty_delivered - (QTY_SOLD - QTY_RETURNED)) > 1e-6
        or abs(l.qty_invoiced - (QTY_SOLD - QTY_RETURNED)) > 1e-6
    ]
    add(
        "sale lines delivered = invoiced = 3",
        not bad,
        f"{len(lines) - len(bad)}/{len(lines)} ok"
        + (f"; first bad: {bad[:3]}" if bad else ""),
    )

    return_moves = env["stock.move"].search(
        [
            ("id", ">", seed_info["last_stock_move_id"]),
            ("product_id", "=", product.id),
            ("location_id.usage", "=", "customer"),
        ]
    )
    done = return_moves.filtered(lambda m: m.state == "done")
    received = sum(done.mapped("quantity"))
    add(
        "return moves done, linked to the delivery, 2 units each",
        len(done) == len(return_moves)
        and abs(received - QTY_RETURNED * n) < 1e-6
        and all(m.origin_returned_move_id for m in done),
        f"{len(done)}/{len(return_moves)} done, {received} units received, "
        f"expected {QTY_RETURNED * n}",
    )
    quants_after = _quants_by_location(env, product)
    dest_locations = done.location_dest_id
    delta_dest = sum(
        quants_after[loc.id] - quants_before.get(loc.id, 0.0) for loc in dest_locations
    )
    customer_ids = env["stock.location"].search([("usage", "=", "customer")]).ids
    delta_customer = sum(
        quants_after[i] - quants_before.get(i, 0.0) for i in customer_ids
    )
    add(
        "stock quants: +2/return in the destination, -2/return at the customer",
        all(loc.usage == "internal" for loc in dest_locations)
        and abs(delta_dest - QTY_RETURNED * n) < 1e-6
        and abs(delta_customer + QTY_RETURNED * n) < 1e-6,
        f"destination {', '.join(dest_locations.mapped('complete_name'))}: "
        f"{delta_dest:+g}; "
        f"customers: {delta_customer:+g}; expected ±{QTY_RETURNED * n:g}",
    )
    layers = env["stock.valuation.layer"].search([("stock_move_id", "in", done.ids)])
    value = sum(layers.mapped("value"))
    add(
        "stock valuation: returns valued at the original cost",
        abs(value - QTY_RETURNED * COST * n) < 0.01
        and abs(sum(layers.mapped("quantity")) - QTY_RETURNED * n) < 1e-6,
        f"{sum(layers.mapped('quantity')):g} units, {value:.2f} valued, "
        f"expected {QTY_RETURNED * COST * n:.2f}",
    )

    refunds = env["account.move"].search(
        [("id", ">", seed_info["last_move_id"]), ("move_type", "=", "out_refund")]
    )
    posted = refunds.filtered(lambda m: m.state == "posted")
    invoices = orders.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
    ratio = QTY_RETURNED / QTY_SOLD
    expected_untaxed = round(sum(invoices.mapped("amount_untaxed")) * ratio, 2)
    expected_total = round(sum(invoices.mapped("amount_total")) * ratio, 2)
    credited_qty = sum(
        posted.invoice_line_ids.filtered(lambda l: l.product_id == product).mapped(
            "quantity"
        )
    )
    untaxed = round(sum(posted.mapped("amount_untaxed")), 2)
    total = round(sum(posted.mapped("amount_total")), 2)
    add(
        "credit notes posted; totals = 2/5 of the invoices",
        len(posted) == len(refunds)
        and abs(untaxed - expected_untaxed) < 0.01
        and abs(total - expected_total) < 0.01
        and abs(credited_qty - QTY_RETURNED * n) < 1e-6,
        f"{len(posted)} posted of {len(refunds)}; untaxed {untaxed:.2f} "
        f"(expected {expected_untaxed:.2f}), "
        f"total {total:.2f} (expected {expected_total:.2f}), {credited_qty:g} units",
    )
    open_residual = round(sum(posted.mapped("amount_residual")), 2)
    add(
        "credit notes carry the invoice's taxes and accounts",
        all(
            l.tax_ids == invoices[:1].invoice_line_ids[:1].tax_ids
            and l.account_id == invoices[:1].invoice_line_ids[:1].account_id
            for l in posted.invoice_line_ids.filtered(lambda l: l.product_id == product)
        ),
        f"residual still open on credit notes: {open_residual:.2f}",
    )

    if path.startswith("rm_"):
        returns = env["return.order"].search([])
        states = collections.Counter(returns.mapped("state"))
        add("return orders done", states == {"done": n}, dict(states))
    elif path.startswith("oca_"):
        rmas = env["rma"].search([])
        states = collections.Counter(rmas.mapped("state"))
        add("RMAs refunded", states == {"refunded": n}, dict(states))
    return results


# --- entry points ---------------------------------------------------


def cmd_seed(args):
    from odoo import SUPERUSER_ID, api

    registry = _boot(args)
    t0 = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        info = seed(env, args.n)
    info["seconds"] = round(time.perf_counter() - t0, 2)
    return info


def _totals(steps, n, source):
    """Per-return figures of each step and of the whole return."""
    keys = {
        "ms_per_return": "wall",
        "queries_per_return": "queries",
        "cpu_ms_per_return": "cpu",
        "sql_ms_per_return": "sql",
    }
    out_steps = {
        step: {
            key: round(source[attr].get(step, 0) * (1000 if "ms" in key else 1) / n, 2)
            for key, attr in keys.items()
        }
        for step in steps
    }
    total = {
        key: round(
            sum(source[attr].get(s, 0) for s in steps)
            * (1000 if "ms" in key else 1)
            / n,
            2,
        )
        for key, attr in keys.items()
    }
    return out_steps, total


def _measure_warm(env, args, profiler, orders, seed_info):
    """The warm-cache paths: one cursor, superuser, steps end per --step-end
    (nothing committed unless --step-end commit: the checks read this cursor)."""
    meter = Meter(env, profiler, args.step_end)
    hooks = [meter.sql_hook] + ([profiler.hook] if profiler else [])
    threading.current_thread().query_hooks = hooks
    run = PATHS[args.path]
    if args.warmup:
        # warm the ORM caches and lazy imports the same way for every path;
        # these returns go through the same path but are not timed
        meter.enabled = False
        run(env, meter, orders[: args.warmup], seed_info)
        meter.enabled = True
    measured = orders[args.warmup :]
    t0 = time.perf_counter()
    run(env, meter, measured, seed_info)
    wall_s = time.perf_counter() - t0
    source = {
        "wall": meter.time,
        "queries": meter.queries,
        "cpu": meter.cpu,
        "sql": meter.sql,
    }
    steps, total = _totals(STEPS, len(measured), source)
    for step in STEPS:
        steps[step]["calls"] = meter.calls[step]
    return {"wall_s": round(wall_s, 3), "steps": steps, "total": total}


def _measure_clicks(registry, env, args, profiler, orders, seed_info):
    """The click paths: one return after the other, each click's requests
    in transactions of their own, as the admin user (not superuser)."""
    import clicks
    import webclient

    user = env.ref("base.user_admin")
    context = {
        "lang": user.lang or "en_US",
        "tz": user.tz or "UTC",
        "uid": user.id,
        "allowed_company_ids": [user.company_id.id],
    }
    seed = {
        "qty": QTY_RETURNED,
        "product_id": seed_info["product_id"],
    }
    if "rma" in env:
        seed["oca_operation_id"] = env.ref("rma.rma_operation_refund").id
    if "return.order" in env:
        seed["rm_reason_id"] = env.ref("returns_management.return_reason_defective").id
        if args.path == "click_rm_auto":
            _rm_auto_approve_policy(env)
        if args.path == "click_rm_flow":
            _rm_automatic_policy(env)
    env.cr.commit()
    wc = webclient.WebClient(registry, user.id, context, profiler)
    hooks = [wc.sql_hook] + ([profiler.hook] if profiler else [])
    threading.current_thread().query_hooks = hooks
    run = clicks.CLICK_PATHS[args.path]
    wc.enabled = False
    for order_id in orders.ids[: args.warmup]:
        run(wc, order_id, seed)
    wc.enabled = True
    measured = orders.ids[args.warmup :]
    t0 = time.perf_counter()
    for order_id in measured:
        run(wc, order_id, seed)
    wall_s = time.perf_counter() - t0
    n = len(measured)
    click_rows = wc.report(n)
    source = {attr: collections.Counter() for attr in ("wall", "queries", "cpu", "sql")}
    for (stage, _label), cost in wc.costs.items():
        source["wall"][stage] += cost.wall
        source["queries"][stage] += cost.queries
        source["cpu"][stage] += cost.cpu
        source["sql"][stage] += cost.sql
    steps, total = _totals(STEPS, n, source)
    total["clicks"] = len(click_rows)
    total["requests_per_return"] = round(
        sum(c["requests_per_return"] for c in click_rows), 2
    )
    return {
        "wall_s": round(wall_s, 3),
        "steps": steps,
        "total": total,
        "clicks": click_rows,
        "user": user.login,
        "forms": {
            f"{model}{' (dialog)' if dialog else ''}": view.spec_size()
            for (model, _view_id, dialog), view in wc.views.items()
        },
    }


def cmd_measure(args):
    from odoo import SUPERUSER_ID, api

    t_boot = time.perf_counter()
    registry = _boot(args)
    boot_seconds = time.perf_counter() - t_boot
    profiler = QueryProfiler() if args.profile else None
    out = {
        "path": args.path,
        "n": args.n,
        "warmup": args.warmup,
        "registry_load_s": round(boot_seconds, 2),
    }
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        seed_info = json.loads(env["ir.config_parameter"].get_param("rm_bench.seed"))
        seed_info["product"] = env["product.product"].browse(seed_info["product_id"])
        orders = env["sale.order"].browse(seed_info["order_ids"])
        if len(orders) != args.n + args.warmup:
            raise RuntimeError(
                f"database has {len(orders)} seeded orders, "
                f"expected {args.n + args.warmup}"
            )
        product = seed_info["product"]
        quants_before = _quants_by_location(env, product)
        cr.commit()
        if args.path.startswith("click_"):
            out.update(
                _measure_clicks(registry, env, args, profiler, orders, seed_info)
            )
        else:
            out.update(_measure_warm(env, args, profiler, orders, seed_info))
        threading.current_thread().query_hooks = []
        out["checks"] = check(env, args.path, orders, seed_info, quants_before)
        out["ok"] = all(c["ok"] for c in out["checks"])
        if profiler:
            out["profile"] = profiler.report(top=args.top)
        cr.rollback()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["seed", "measure"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--path", choices=sorted(PATHS) + sorted(CLICK_PATH_NAMES))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--step-end", choices=["commit", "precommit", "flush"], default="precommit"
    )
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        if args.command == "seed":
            result = cmd_seed(args)
        else:
            result = cmd_measure(args)
        result["error"] = None
    except Exception as exc:  # reported to run.py, which fails the path
        result = {
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1, default=str)
    sys.exit(0 if result.get("error") is None else 1)


if __name__ == "__main__":
    main()
