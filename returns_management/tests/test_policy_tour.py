from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestPolicyTour(HttpCase):
    """Return policies clicked through in a real browser."""

    def setUp(self):
        super().setUp()
        self.warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )
        self.product = self.env["product.product"].create(
            {
                "name": "Policy Tour Kettle",
                "is_storable": True,
                "invoice_policy": "delivery",
                "list_price": 100.0,
            }
        )
        self.env["stock.quant"].with_context(inventory_mode=True).create(
            {
                "product_id": self.product.id,
                "location_id": self.warehouse.lot_stock_id.id,
                "inventory_quantity": 20.0,
            }
        ).action_apply_inventory()
        self.customer = self.env["res.partner"].create({"name": "Policy Tour Customer"})
        self.env["return.policy"].create(
            {
                "name": "Tour customers: 30 days, automatic",
                "sequence": 1,
                "partner_ids": [Command.set(self.customer.ids)],
                "return_window_days": 30,
                "auto_approve": True,
            }
        )

    def _draft_return(self, delivered_days_ago):
        sale = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 2.0}
                    )
                ],
            }
        )
        sale.action_confirm()
        for move in sale.picking_ids.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        sale.picking_ids.button_validate()
        sale.picking_ids.move_ids.date = fields.Datetime.now() - timedelta(
            days=delivered_days_ago
        )
        return self.env["return.order"].create(
            {
                "sale_order_id": sale.id,
                "line_ids": [
                    Command.create(
                        {
                            "sale_line_id": sale.order_line.id,
                            "quantity": 1.0,
                            "reason_id": self.env.ref(
                                "returns_management.return_reason_defective"
                            ).id,
                        }
                    )
                ],
            }
        )

    def test_return_approves_itself_on_submit(self):
        order = self._draft_return(delivered_days_ago=3)
        self.start_tour(
            f"/odoo/returns/{order.id}",
            "returns_management_policy_auto_tour",
            login="admin",
        )
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.policy_verdict, "auto_approve")
        self.assertTrue(order.return_picking_ids)

    def test_late_return_is_approved_with_an_override_reason(self):
        order = self._draft_return(delivered_days_ago=60)
        self.start_tour(
            f"/odoo/returns/{order.id}",
            "returns_management_policy_override_tour",
            login="admin",
        )
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.policy_verdict, "escalate")
        self.assertEqual(order.override_reason, "The customer was abroad")
        self.assertFalse(order.policy_activity_id)
        self.assertTrue(order.return_picking_ids)
