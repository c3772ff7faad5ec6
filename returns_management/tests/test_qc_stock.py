from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import ReturnsCommon


@tagged("post_install", "-at_install")
class TestQcStock(ReturnsCommon):
    """Inspected goods move as an expert would move them by hand with Odoo's
    own tools: the return of each receipt, internal transfers that follow
    putaway rules and the warehouse the goods are in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lot_group = cls.env.ref("stock.group_production_lot")
        cls.env.user.groups_id += lot_group
        cls.return_user.groups_id += lot_group
        cls.paint = cls._create_tracked_product("Paint", "lot", 10.0, 4.0)
        cls.drone = cls._create_tracked_product("Drone", "serial", 500.0, 200.0)
        cls.lot1, cls.lot2 = cls._create_lots(cls.paint, ["SL1", "SL2"])
        (cls.sn1,) = cls._create_lots(cls.drone, ["SSN1"])
        for lot, qty in ((cls.lot1, 5.0), (cls.lot2, 5.0), (cls.sn1, 1.0)):
            cls._add_lot_stock(lot, qty)

    # helpers ------------------------------------------------------------

    def _lot_sale(self, lot, quantity=5.0):
        sale = self._create_sale(
            [(self.paint, quantity, 10.0, 0.0, self.tax_sale_a)],
            deliver=False,
            invoice=False,
        )
        delivery = sale.picking_ids
        delivery.move_ids._do_unreserve()
        delivery.move_ids.move_line_ids = [
            Command.create(
                {
                    **delivery.move_ids._prepare_move_line_vals(quantity=quantity),
                    "lot_id": lot.id,
                }
            )
        ]
        self._validate(delivery)
        sale._create_invoices().action_post()
        return sale

    def _hand_return(self, picking, quantities, lot=None, location=None):
        """Odoo's return wizard on picking for quantities {product: qty},
        validated with the lot; location: where the goods come back to."""
        form = Form(
            self.env["stock.return.picking"].with_context(
                active_id=picking.id,
                active_ids=picking.ids,
                active_model="stock.picking",
            )
        )
        for index in range(len(form.product_return_moves)):
            with form.product_return_moves.edit(index) as line:
                line.quantity = quantities.get(line.product_id, 0.0)
        action = form.save().action_create_returns()
        returned = self.env["stock.picking"].browse(action["res_id"])
        if location:
            returned.location_dest_id = location
            returned.move_ids.location_dest_id = location
        returned.move_ids._do_unreserve()
        for move in returned.move_ids:
            move.move_line_ids = [
                Command.create(
                    {
                        **move._prepare_move_line_vals(quantity=move.product_qty),
                        "lot_id": lot.id if lot else False,
                    }
                )
            ]
            move.picked = True
        returned.with_context(skip_backorder=True).button_validate()
        return returned

    def _hand_transfer(self, product, quantity, source, destination, picking_type):
        """An internal transfer made by hand: Odoo reserves and puts away."""
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.display_name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        picking.move_ids.picked = True
        picking.button_validate()
        return picking

    def _layers_value(self, moves):
        return sum(moves.stock_valuation_layer_ids.mapped("value"))

    # a lot received on two receipts ------------------------------------

    def test_wrong_lot_received_on_two_receipts_goes_back_once(self):
        sale = self._lot_sale(self.lot1)
        sale_line = sale.order_line
        order = self._lot_return(sale, 4.0, self.lot1)
        order.action_submit()
        order.with_user(self.manager).action_approve()
        self._validate(order.return_picking_ids, {self.paint: 2.0})
        self._validate(order.return_picking_ids.filtered(lambda p: p.state != "done"))
        receipts = order.return_picking_ids
        self.assertEqual(len(receipts), 2)
        self.assertEqual(self._lot_quant_qty(self.lot1, self.returns_location), 4.0)
        self.assertEqual(sale_line.qty_delivered, 1.0)

        order.line_ids.with_user(self.return_user).qc_grade = "wrong_item"
        order.with_user(self.return_user).action_validate_qc()

        send_backs = order.qc_picking_ids
        self.assertEqual(len(send_backs), 2)
        self.assertEqual(send_backs.return_id, receipts)
        self.assertEqual(send_backs.move_line_ids.mapped("quantity"), [2.0, 2.0])
        self.assertEqual(send_backs.move_line_ids.lot_id, self.lot1)
        self._validate(send_backs)
        self.assertEqual(self._lot_quant_qty(self.lot1, self.returns_location), 0.0)
        self.assertEqual(sale_line.qty_delivered, 5.0)
        self.assertEqual(order.line_ids.qty_sent_back, 4.0)

        # the twin by hand: the same lot back on two receipts, each returned
        # to the customer with Odoo's return wizard
        twin = self._lot_sale(self.lot2)
        twin_delivery = twin.picking_ids
        hand_receipts = [
            self._hand_return(
                twin_delivery, {self.paint: 2.0}, self.lot2, self.returns_location
            )
            for _i in range(2)
        ]
        hand_backs = [
            self._hand_return(receipt, {self.paint: 2.0}, self.lot2)
            for receipt in hand_receipts
        ]
        self.assertEqual(twin.order_line.qty_delivered, sale_line.qty_delivered)
        for location in (self.returns_location, self.customer_location):
            self.assertEqual(
                self._lot_quant_qty(self.lot2, location),
                self._lot_quant_qty(self.lot1, location),
            )
        hand_back_moves = self.env["stock.picking"].union(*hand_backs).move_ids
        self.assertEqual(
            self._layers_value(send_backs.move_ids),
            self._layers_value(hand_back_moves),
        )
        self.assertEqual(self._layers_value(send_backs.move_ids), -16.0)

    # serials -------------------------------------------------------------

    def test_serial_is_graded_whole(self):
        sale = self._create_sale([(self.drone, 1.0, 500.0, 0.0, self.tax_sale_a)])
        order = self._approve_and_receive(self._lot_return(sale, 1.0, self.sn1))
        qc_lines = self.env["return.qc.line"].with_user(self.return_user)
        with self.assertRaisesRegex(UserError, "grade it whole"), self.cr.savepoint():
            qc_lines.create(
                [
                    {
                        "line_id": order.line_ids.id,
                        "qc_grade": grade,
                        "quantity": 0.5,
                        "lot_id": self.sn1.id,
                    }
                    for grade in ("as_new", "major_defect")
                ]
            )
        self.assertFalse(order.qc_line_ids)
        self.assertEqual(order.qc_state, "pending")
        self.assertEqual(self._lot_quant_qty(self.sn1, self.returns_location), 1.0)
        # graded whole, it moves whole
        order.line_ids.with_user(self.return_user).qc_grade = "as_new"
        order.with_user(self.return_user).action_validate_qc()
        self.assertEqual(self._lot_quant_qty(self.sn1, self.stock_location), 1.0)
        self.assertFalse(order.qc_scrap_ids)

    # putaway rules ------------------------------------------------------

    def _shelf_with_putaway(self, product):
        self.env.user.groups_id += self.env.ref("stock.group_stock_multi_locations")
        shelf = self.env["stock.location"].create(
            {"name": "Shelf A", "location_id": self.stock_location.id}
        )
        self.env["stock.putaway.rule"].create(
            {
                "product_id": product.id,
                "location_in_id": self.stock_location.id,
                "location_out_id": shelf.id,
            }
        )
        return shelf

    def test_restock_follows_putaway_rules(self):
        shelf = self._shelf_with_putaway(self.product)
        sale = self._taxed_sale()
        order = self._received_return(sale, 2.0)
        order.line_ids.with_user(self.return_user).qc_grade = "as_new"
        order.with_user(self.return_user).action_validate_qc()
        transfer = order.qc_picking_ids
        self.assertEqual(transfer.state, "done")
        self.assertEqual(transfer.move_line_ids.location_dest_id, shelf)
        self.assertEqual(self._quant_qty(self.product, shelf), 2.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)

        # the twin by hand: an internal transfer of the same goods
        twin = self._received_return(self._taxed_sale(), 2.0)
        hand = self._hand_transfer(
            self.product,
            2.0,
            self.returns_location,
            self.stock_location,
            transfer.picking_type_id,
        )
        self.assertEqual(
            hand.move_line_ids.location_dest_id, transfer.move_line_ids.location_dest_id
        )
        self.assertEqual(self._quant_qty(self.product, shelf), 4.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)
        self.assertFalse(transfer.move_ids.stock_valuation_layer_ids)
        self.assertFalse(hand.move_ids.stock_valuation_layer_ids)
        self.assertEqual(
            twin.line_ids.sale_line_id.qty_delivered,
            order.line_ids.sale_line_id.qty_delivered,
        )

    def test_restock_left_for_the_warehouse_follows_putaway_with_its_lot(self):
        shelf = self._shelf_with_putaway(self.paint)
        self.warehouse.qc_validate_transfers = False
        sale = self._lot_sale(self.lot1)
        order = self._approve_and_receive(self._lot_return(sale, 2.0, self.lot1))
        order.line_ids.with_user(self.return_user).qc_grade = "as_new"
        order.with_user(self.return_user).action_validate_qc()
        transfer = order.qc_picking_ids
        self.assertEqual(transfer.state, "assigned")
        self.assertEqual(transfer.move_line_ids.lot_id, self.lot1)
        self.assertEqual(transfer.move_line_ids.location_dest_id, shelf)
        self._validate(transfer)
        self.assertEqual(self._lot_quant_qty(self.lot1, shelf), 2.0)
        self.assertEqual(self._lot_quant_qty(self.lot1, self.returns_location), 0.0)

    # several warehouses ---------------------------------------------------

    def _second_warehouse_route(self):
        """Warehouse B, stocked, and a sale route delivering from it."""
        warehouse_b = self.env["stock.warehouse"].create(
            {"name": "Warehouse B", "code": "WHB", "company_id": self.company.id}
        )
        self.env["stock.quant"].with_context(inventory_mode=True).create(
            {
                "product_id": self.product.id,
                "location_id": warehouse_b.lot_stock_id.id,
                "inventory_quantity": 20.0,
            }
        ).action_apply_inventory()
        route = self.env["stock.route"].create(
            {
                "name": "Ship from B",
                "sale_selectable": True,
                "rule_ids": [
                    Command.create(
                        {
                            "name": "B: Stock → Customers",
                            "action": "pull",
                            "procure_method": "make_to_stock",
                            "picking_type_id": warehouse_b.out_type_id.id,
                            "location_src_id": warehouse_b.lot_stock_id.id,
                            "location_dest_id": self.customer_location.id,
                        }
                    )
                ],
            }
        )
        return warehouse_b, route

    def _sale_from_two_warehouses(self, route):
        """2 kettles from the order's warehouse, 3 from warehouse B."""
        sale = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 2}
                    ),
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": 3,
                            "route_id": route.id,
                        }
                    ),
                ],
            }
        )
        sale.action_confirm()
        self._validate(sale.picking_ids)
        sale._create_invoices().action_post()
        return sale

    def test_goods_back_into_a_second_warehouse_are_restocked_there(self):
        warehouse_b, route = self._second_warehouse_route()
        sale = self._sale_from_two_warehouses(route)
        line_a, line_b = sale.order_line
        self.assertEqual(len(sale.picking_ids.picking_type_id.warehouse_id), 2)
        order = self._approve_and_receive(
            self._create_return(sale, [(line_a, 1.0), (line_b, 2.0)])
        )
        self.assertEqual(order.warehouse_id, self.warehouse)
        self.assertEqual(
            self._quant_qty(self.product, warehouse_b.return_location_id), 2.0
        )
        b_stock_before = self._quant_qty(self.product, warehouse_b.lot_stock_id)
        a_stock_before = self._quant_qty(self.product, self.stock_location)

        order.line_ids.with_user(self.return_user).qc_grade = "as_new"
        qc_b = order.qc_line_ids.filtered(lambda q: q.line_id.sale_line_id == line_b)
        self.assertEqual(qc_b.location_dest_id, warehouse_b.lot_stock_id)
        order.with_user(self.return_user).action_validate_qc()

        transfer_b = qc_b.move_id.picking_id
        self.assertEqual(transfer_b.location_id, warehouse_b.return_location_id)
        self.assertEqual(transfer_b.picking_type_id.warehouse_id, warehouse_b)
        self.assertEqual(
            self._quant_qty(self.product, warehouse_b.lot_stock_id),
            b_stock_before + 2.0,
        )
        self.assertEqual(
            self._quant_qty(self.product, self.stock_location), a_stock_before + 1.0
        )
        self.assertEqual(
            self._quant_qty(self.product, warehouse_b.return_location_id), 0.0
        )

        # the twin by hand: Odoo's return of B's delivery into B's returns
        # location, then B's internal transfer to B's stock
        twin = self._sale_from_two_warehouses(route)
        delivery_b = twin.picking_ids.filtered(
            lambda p: p.picking_type_id.warehouse_id == warehouse_b
        )
        self._hand_return(
            delivery_b, {self.product: 2.0}, location=warehouse_b.return_location_id
        )
        hand = self._hand_transfer(
            self.product,
            2.0,
            warehouse_b.return_location_id,
            warehouse_b.lot_stock_id,
            warehouse_b.int_type_id,
        )
        self.assertEqual(
            hand.move_line_ids.location_dest_id,
            transfer_b.move_line_ids.location_dest_id,
        )
        # 3 more delivered from B, 2 of them back in B's stock
        self.assertEqual(
            self._quant_qty(self.product, warehouse_b.lot_stock_id),
            b_stock_before + 2.0 - 3.0 + 2.0,
        )
        self.assertEqual(twin.order_line[1].qty_delivered, line_b.qty_delivered)
        self.assertFalse(transfer_b.move_ids.stock_valuation_layer_ids)

    # operation type ------------------------------------------------------

    def test_transfers_use_an_active_type_without_storage_locations(self):
        # what Odoo does to the internal type without Storage Locations
        self.warehouse.int_type_id.active = False
        self.warehouse.qc_validate_transfers = False
        order = self._received_return(self._taxed_sale(), 2.0)
        order.line_ids.with_user(self.return_user).qc_grade = "minor_defect"
        order.with_user(self.return_user).action_validate_qc()
        transfer = order.qc_picking_ids
        picking_type = transfer.picking_type_id
        self.assertTrue(picking_type.active)
        self.assertEqual(picking_type, self.warehouse.return_qc_type_id)
        self.assertEqual(picking_type.code, "internal")
        self.assertEqual(picking_type.warehouse_id, self.warehouse)
        self.assertEqual(order.qc_line_ids.picking_type_id, picking_type)
        # ready in the Inventory Overview
        self.assertEqual(transfer.state, "assigned")
        overview = self.env["stock.picking.type"].search([("id", "=", picking_type.id)])
        self.assertEqual(overview.count_picking_ready, 1)
        self._validate(transfer)
        refurbish = self.warehouse.refurbish_location_id
        self.assertEqual(self._quant_qty(self.product, refurbish), 2.0)
        # a second inspection reuses it
        other = self._received_return(self._taxed_sale(), 1.0)
        other.line_ids.qc_grade = "minor_defect"
        other.action_validate_qc()
        self.assertEqual(other.qc_picking_ids.picking_type_id, picking_type)

    def test_update_gives_an_active_type_where_the_internal_one_is_archived(self):
        warehouse = self.env["stock.warehouse"].create(
            {"name": "Small", "code": "SML", "company_id": self.company.id}
        )
        self.assertFalse(warehouse.return_qc_type_id)  # its internal type is active
        warehouse.int_type_id.active = False
        self.env["stock.warehouse"]._qc_install_defaults()
        picking_type = warehouse.return_qc_type_id
        self.assertTrue(picking_type.active)
        self.assertEqual(
            picking_type.default_location_src_id, warehouse.return_location_id
        )
        route = warehouse._qc_route(self.env.ref("returns_management.qc_grade_as_new"))
        self.assertEqual(warehouse._qc_active_type(route.picking_type_id), picking_type)
        self.env["stock.warehouse"]._qc_install_defaults()
        self.assertEqual(warehouse.return_qc_type_id, picking_type)
