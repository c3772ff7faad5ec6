from odoo import Command
from odoo.tests import HttpCase, tagged

TOUR_CUSTOMER = "Tour Returns Customer"


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
        self.sale = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 5.0}
                    )
                ],
            }
        )
        self.sale.action_confirm()
        delivery = self.sale.picking_ids
        for move in delivery.move_ids:
            move.quantity = move.product_uom_qty
            move.picked = True
        delivery.button_validate()
        self.invoice = self.sale._create_invoices()
        self.invoice.action_post()

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
        self.assertEqual(credit_note.invoice_line_ids.quantity, 2.0)
        self.assertEqual(credit_note.invoice_line_ids.sale_line_ids, sale_line)
        self.assertEqual(sale_line.qty_invoiced, 3.0)
