"""Race two real transactions on the same returns (RELIABILITY.md, section D).

Odoo's test classes share one cursor, so these checks run outside them: on a
database where returns_management is installed, each scenario commits its
data, then two threads with their own cursors act at the same moment, each
through Odoo's own retry loop (``odoo.service.model.retrying``), as two RPC
calls would. Prints one ``CONCURRENCY PASS|FAIL <scenario>`` line per check.

    python3 tools/concurrency_check.py --db DB --addons-path REPO_ROOT
"""

import argparse
import logging
import sys
import threading

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError, ValidationError
from odoo.modules.registry import Registry
from odoo.service.model import retrying


def run_pair(registry, first, second):
    """Run two callables(env) at once in their own transactions.

    Returns their outcomes: "ok", or the class name of the refusal.
    """
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def worker(index, action):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            barrier.wait()
            try:
                retrying(lambda: action(env), env)
                outcomes[index] = "ok"
            except (UserError, ValidationError) as error:
                cr.rollback()  # as Odoo's RPC layer does after a refusal
                outcomes[index] = type(error).__name__

    threads = [
        threading.Thread(target=worker, args=(index, action))
        for index, action in enumerate((first, second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


class Scenarios:
    def __init__(self, registry):
        self.registry = registry
        self.results = []

    def seed(self, returned_qty=None, state="draft"):
        """A delivered, invoiced order of 5 units and, optionally, a return."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            warehouse = env["stock.warehouse"].search(
                [("company_id", "=", env.company.id)], limit=1
            )
            product = env["product.product"].create(
                {
                    "name": "Concurrency check product",
                    "is_storable": True,
                    "invoice_policy": "delivery",
                    "list_price": 100.0,
                }
            )
            env["stock.quant"].with_context(inventory_mode=True).create(
                {
                    "product_id": product.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "inventory_quantity": 5.0,
                }
            ).action_apply_inventory()
            partner = env["res.partner"].create({"name": "Concurrency check"})
            sale = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "warehouse_id": warehouse.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": 5})
                    ],
                }
            )
            sale.action_confirm()
            validate(sale.picking_ids)
            sale._create_invoices().action_post()
            order = env["return.order"]
            if returned_qty:
                order = create_return(env, sale, returned_qty)
                advance(order, state)
            return sale.id, order.id

    def check(self, name, condition, detail):
        self.results.append(condition)
        verdict = "PASS" if condition else "FAIL"
        print(f"CONCURRENCY {verdict} {name}: {detail}", flush=True)

    def read(self, model, record_id, func):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return func(env[model].browse(record_id))

    def credit_race(self):
        _sale_id, order_id = self.seed(returned_qty=2.0, state="received")

        def credit(env):
            env["return.order"].browse(order_id).action_create_credit_notes()

        outcomes = run_pair(self.registry, credit, credit)
        count = self.read("return.order", order_id, lambda o: len(o.credit_note_ids))
        self.check(
            "D1 two users credit the same return",
            count == 1 and sorted(outcomes) == ["UserError", "ok"],
            f"credit notes={count}, outcomes={outcomes}",
        )

    def approve_race(self):
        _sale_id, order_id = self.seed(returned_qty=2.0, state="to_approve")

        def approve(env):
            env["return.order"].browse(order_id).action_approve()

        outcomes = run_pair(self.registry, approve, approve)
        count = self.read("return.order", order_id, lambda o: len(o.return_picking_ids))
        self.check(
            "D3 two managers approve the same return",
            count == 1 and sorted(outcomes) == ["UserError", "ok"],
            f"receipts={count}, outcomes={outcomes}",
        )

    def last_units_race(self):
        sale_id, _order_id = self.seed()

        def request_three(env):
            create_return(env, env["sale.order"].browse(sale_id), 3.0)

        outcomes = run_pair(self.registry, request_three, request_three)
        requested = self.read(
            "sale.order",
            sale_id,
            lambda s: sum(s.return_order_ids.line_ids.mapped("quantity")),
        )
        self.check(
            "D4 two requests race for the last units",
            requested == 3.0 and sorted(outcomes) == ["ValidationError", "ok"],
            f"requested={requested} of 5 delivered, outcomes={outcomes}",
        )

    def approve_cancel_race(self):
        _sale_id, order_id = self.seed(returned_qty=2.0, state="to_approve")
        outcomes = run_pair(
            self.registry,
            lambda env: env["return.order"].browse(order_id).action_approve(),
            lambda env: env["return.order"].browse(order_id).action_cancel(),
        )

        def summary(order):
            live = order.return_picking_ids.filtered(lambda p: p.state != "cancel")
            return order.state, len(live)

        state, live_receipts = self.read("return.order", order_id, summary)
        consistent = (state, live_receipts) in (("cancel", 0), ("approved", 1))
        self.check(
            "D5 approve races cancel",
            consistent,
            f"state={state}, live receipts={live_receipts}, outcomes={outcomes}",
        )

    def qc_race(self):
        _sale_id, order_id = self.seed(returned_qty=2.0, state="received")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["return.order"].browse(order_id).line_ids.qc_grade = "as_new"

        def validate_qc(env):
            env["return.order"].browse(order_id).action_validate_qc()

        outcomes = run_pair(self.registry, validate_qc, validate_qc)
        count = self.read("return.order", order_id, lambda o: len(o.qc_picking_ids))
        moved = self.read(
            "return.order",
            order_id,
            lambda o: sum(o.qc_picking_ids.move_ids.mapped("quantity")),
        )
        state = self.read("return.order", order_id, lambda o: o.qc_picking_ids.state)
        self.check(
            "D6 two inspectors validate the same inspection",
            count == 1
            and moved == 2.0
            and state == "done"
            and sorted(outcomes) == ["UserError", "ok"],
            f"transfers={count}, moved={moved}, state={state}, outcomes={outcomes}",
        )


def validate(pickings):
    for move in pickings.move_ids:
        move.quantity = move.product_uom_qty
        move.picked = True
    pickings.button_validate()


def create_return(env, sale, quantity):
    reason = env.ref("returns_management.return_reason_defective")
    return env["return.order"].create(
        {
            "sale_order_id": sale.id,
            "line_ids": [
                Command.create(
                    {
                        "sale_line_id": sale.order_line.id,
                        "quantity": quantity,
                        "reason_id": reason.id,
                    }
                )
            ],
        }
    )


def advance(order, state):
    if state in ("to_approve", "approved", "received"):
        order.action_submit()
    if state in ("approved", "received"):
        order.action_approve()
    if state == "received":
        validate(order.return_picking_ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    args = parser.parse_args()
    odoo.tools.config.parse_config(
        ["--config=/dev/null", f"--addons-path={args.addons_path}", "--log-level=warn"]
    )
    # The losers' lock and serialization errors are expected: Odoo retries them.
    logging.getLogger("odoo.sql_db").setLevel(logging.CRITICAL)
    scenarios = Scenarios(Registry(args.db))
    for scenario in (
        scenarios.credit_race,
        scenarios.approve_race,
        scenarios.last_units_race,
        scenarios.approve_cancel_race,
        scenarios.qc_race,
    ):
        try:
            scenario()
        except Exception as error:  # a crash is a failed check, not a silent one
            scenarios.check(scenario.__name__, False, repr(error))
    return 0 if all(scenarios.results) else 1


if __name__ == "__main__":
    sys.exit(main())
