from odoo import Command
from odoo.tests import HttpCase, tagged

from .common import return_by_hand

TOUR_CUSTOMER = "Tour Returns Customer"
BATCH_CUSTOMER = "Tour Batch Customer"
REJECT_CUSTOMER = "Tour Reject Customer"
MENU_CUSTOMERS = {
    "approve_list": "Menu Approve List Customer",
    "recheck_list": "Menu Recheck List Customer",
    "approve_form": "Menu Approve Form Customer",
    "recheck_form": "Menu Recheck Form Customer",
}


@tagged("post_install", "-at_install")
class TestReturnTour(HttpCase):
    """The back-office return flow clicked through in a real browser."""

    def setUp(self):
        super().setUp()
        self.warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )
        self.product = self.env["product.product"].create(
            {
                "name": "Tour Kettle",
                "is_storable": True,
                "invoice_policy": "delivery",
                "list_price": 100.0,
                "standard_price": 40.0,
            }
        )
        self.env["stock.quant"].with_context(inventory_mode=True).create(
            {
                "product_id": self.product.id,
                "location_id": self.warehouse.lot_stock_id.id,
                "inventory_quantity": 20.0,
            }
        ).action_apply_inventory()
        self.customer = self.env["res.partner"].create({"name": TOUR_CUSTOMER})
        self.sale = self._delivered_and_invoiced_sale(self.customer)
        self.invoice = self.sale.invoice_ids

    def _delivered_and_invoiced_sale(self, customer):
        sale = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 5.0}
                    )
                ],
            }
        )
        sale.action_confirm()
        delivery = sale.picking_ids
        for move in delivery.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        delivery.button_validate()
        sale._create_invoices().action_post()
        return sale

    def _submitted_return(self, sale):
        order = self.env["return.order"].create(
            {
                "sale_order_id": sale.id,
                "line_ids": [
                    Command.create(
                        {
                            "sale_line_id": sale.order_line.id,
                            "quantity": 2.0,
                            "reason_id": self.env.ref(
                                "returns_management.return_reason_defective"
                            ).id,
                        }
                    )
                ],
            }
        )
        order.action_submit()
        return order

    def test_backoffice_return_flow(self):
        sale_line = self.sale.order_line
        self.assertEqual(self.sale.picking_ids.state, "done")
        self.assertEqual(sale_line.qty_delivered, 5.0)
        self.assertEqual(sale_line.qty_invoiced, 5.0)

        self.start_tour(
            f"/odoo/orders/{self.sale.id}",
            "returns_management_backoffice_tour",
            login="admin",
        )

        order = self.env["return.order"].search([("sale_order_id", "=", self.sale.id)])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "done")
        self.assertEqual(order.line_ids.quantity, 2.0)
        self.assertEqual(
            order.line_ids.reason_id,
            self.env.ref("returns_management.return_reason_wrong_item"),
        )

        receipt = order.return_picking_ids
        self.assertEqual(len(receipt), 1)
        self.assertEqual(receipt.state, "done")
        returns_location = self.warehouse.return_location_id
        self.assertEqual(receipt.move_ids.location_dest_id, returns_location)
        self.assertEqual(receipt.move_ids.quantity, 2.0)
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "=", self.product.id),
                ("location_id", "=", returns_location.id),
            ]
        )
        self.assertEqual(sum(quants.mapped("quantity")), 2.0)

        self.assertEqual(sale_line.qty_delivered, 3.0)

        credit_note = order.credit_note_ids
        self.assertEqual(len(credit_note), 1)
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.reversed_entry_id, self.invoice)
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.invoice_line_ids.quantity, 2.0)
        self.assertEqual(credit_note.invoice_line_ids.sale_line_ids, sale_line)
        self.assertEqual(sale_line.qty_invoiced, 3.0)

    def test_batch_approval_from_the_list(self):
        batch_customer = self.env["res.partner"].create({"name": BATCH_CUSTOMER})
        good_sale = self._delivered_and_invoiced_sale(batch_customer)
        broken_sale = self._delivered_and_invoiced_sale(batch_customer)
        good = self._submitted_return(good_sale)
        broken = self._submitted_return(broken_sale)
        # meanwhile, someone takes every unit back with Odoo's own return
        return_by_hand(broken_sale, 5.0)

        self.start_tour("/odoo/returns", "returns_management_batch_tour", login="admin")

        self.assertEqual(good.state, "approved")
        self.assertEqual(good.return_picking_ids.move_ids.product_uom_qty, 2.0)
        self.assertEqual(broken.state, "to_approve")
        self.assertFalse(broken.return_picking_ids)
        note = broken.message_ids.filtered(lambda m: "Could not" in (m.body or ""))
        self.assertIn("cannot return more", note.body)

    def test_batch_rejection_from_the_action_menu(self):
        reject_customer = self.env["res.partner"].create({"name": REJECT_CUSTOMER})
        sales = [self._delivered_and_invoiced_sale(reject_customer) for _i in range(2)]
        orders = self._submitted_return(sales[0]) | self._submitted_return(sales[1])

        self.start_tour(
            "/odoo/returns", "returns_management_batch_reject_tour", login="admin"
        )

        self.assertEqual(orders.mapped("state"), ["rejected", "rejected"])
        self.assertEqual(orders.mapped("reject_reason"), ["The goods were used."] * 2)

    def test_approve_and_recheck_from_the_action_menu(self):
        """Action > Approve and Action > Re-check Policy, in the list and in
        the form: each approves its return once (no "Oops!")."""
        orders = {}
        for key, name in MENU_CUSTOMERS.items():
            customer = self.env["res.partner"].create({"name": name})
            orders[key] = self._submitted_return(
                self._delivered_and_invoiced_sale(customer)
            )
        self.assertEqual({o.state for o in orders.values()}, {"to_approve"})
        # the re-checked ones now meet a policy that approves them
        recheck_customers = (orders["recheck_list"] | orders["recheck_form"]).partner_id
        self.env["return.policy"].create(
            {
                "name": "Menu tour customers: automatic",
                "sequence": 1,
                "partner_ids": [Command.set(recheck_customers.ids)],
                "auto_approve": True,
            }
        )

        self.start_tour(
            "/odoo/returns", "returns_management_action_menu_tour", login="admin"
        )

        for key, order in orders.items():
            with self.subTest(order=key):
                self.assertEqual(order.state, "approved")
                self.assertEqual(len(order.return_picking_ids), 1)
                self.assertEqual(order.return_picking_ids.move_ids.product_uom_qty, 2.0)
                self.assertFalse(order.activity_ids)
        self.assertEqual(orders["recheck_list"].policy_verdict, "auto_approve")

    def test_bound_actions_answer_web_action_run_with_an_action_or_nothing(self):
        """What the web client's /web/action/run returns for each bound
        action, on a selection (list) and on one return (form)."""
        customer = self.env["res.partner"].create({"name": "Menu RPC Customer"})
        selection = self._submitted_return(
            self._delivered_and_invoiced_sale(customer)
        ) | self._submitted_return(self._delivered_and_invoiced_sale(customer))
        single = self._submitted_return(self._delivered_and_invoiced_sale(customer))
        self.authenticate("admin", "admin")

        def run(xmlid, orders):
            action = self.env.ref(f"returns_management.{xmlid}")
            return self.make_jsonrpc_request(
                "/web/action/run",
                {
                    "action_id": action.id,
                    "context": {
                        "active_model": "return.order",
                        "active_ids": orders.ids,
                        "active_id": orders[0].id,
                    },
                },
            )

        for xmlid, orders in (
            ("return_order_action_recheck_policy", selection),
            ("return_order_action_reject", single),
            ("return_order_action_approve", selection),
            ("return_order_action_approve", single),
        ):
            with self.subTest(action=xmlid, count=len(orders)):
                result = run(xmlid, orders)
                self.assertTrue(result is False or isinstance(result, dict), result)
                if result:
                    self.assertIn(
                        result["type"], ("ir.actions.client", "ir.actions.act_window")
                    )
        self.assertEqual((selection | single).mapped("state"), ["approved"] * 3)
        self.assertEqual(len((selection | single).return_picking_ids), 3)
