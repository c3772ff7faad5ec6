from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import ReturnsCommon


def return_receipt_by_hand(picking, quantity):
    """Odoo's own return wizard on one picking, as a warehouse user would."""
    wizard = Form(
        picking.env["stock.return.picking"].with_context(
            active_id=picking.id, active_ids=picking.ids, active_model="stock.picking"
        )
    )
    with wizard.product_return_moves.edit(0) as line:
        line.quantity = quantity
    action = wizard.save().action_create_returns()
    return picking.browse(action["res_id"])


@tagged("post_install", "-at_install")
class TestReceipts(ReturnsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager_group = cls.env.ref("returns_management.group_return_manager")
        cls.other_reason = cls.env.ref("returns_management.return_reason_wrong_item")

    def _approved_return(self, sale, lines):
        order = self._create_return(sale, lines)
        order.action_submit()
        order.with_user(self.manager).action_approve()
        return order

    def _receive(self, order, quantity, backorder=True):
        """Validate the open receipt of a one-product return with quantity."""
        receipt = order.return_picking_ids.filtered(lambda p: p.state != "done")
        return self._validate(receipt, {self.product: quantity}, backorder)

    def _over_received_return(self):
        """5 delivered, 2 approved, 3 received."""
        sale = self._taxed_sale()
        order = self._approved_return(sale, [(sale.order_line, 2.0)])
        self._receive(order, 3.0)
        return sale, order

    # Over-receipt (issue case 3)

    def test_over_receipt_keeps_real_quantity_and_caps_the_creditable_one(self):
        sale, order = self._over_received_return()
        line = order.line_ids

        self.assertEqual(line.qty_received, 3.0)
        self.assertEqual(line.qty_over_received, 1.0)
        self.assertEqual(line._qty_received_approved(), 2.0)
        self.assertTrue(order.has_over_receipt)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 3.0)
        self.assertEqual(sale.order_line.qty_delivered, 2.0)

    def test_over_receipt_credits_only_the_approved_quantity(self):
        _sale, order = self._over_received_return()
        order.action_create_credit_notes()

        credit_lines = order.credit_note_ids.invoice_line_ids
        self.assertEqual(sum(credit_lines.mapped("quantity")), 2.0)
        self.assertEqual(order.credit_note_ids.amount_untaxed, 200.0)
        order.credit_note_ids.action_post()
        self.assertEqual(order.state, "received", "the extra unit awaits a decision")
        order.with_user(self.manager).action_send_back_extra_receipt()
        self.assertEqual(order.state, "done")

    def test_over_receipt_schedules_one_activity_for_a_return_manager(self):
        _sale, order = self._over_received_return()

        activities = order.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertIn(self.manager_group, activities.user_id.groups_id)

    def test_second_over_receipt_on_one_return_adds_no_second_activity(self):
        second = self._create_returnable_product("Toaster", price=50.0, cost=20.0)
        sale = self._create_sale(
            [
                (self.product, 5.0, 100.0, 0.0, self.tax_sale_a),
                (second, 5.0, 50.0, 0.0, self.tax_sale_a),
            ]
        )
        kettle_line, toaster_line = sale.order_line
        order = self._approved_return(sale, [(kettle_line, 1.0), (toaster_line, 1.0)])
        self._validate(order.return_picking_ids, {self.product: 2.0, second: 0.0})
        backorder = order.return_picking_ids.filtered(lambda p: p.state != "done")
        self._validate(backorder, {second: 2.0})

        self.assertEqual(order.line_ids.mapped("qty_over_received"), [1.0, 1.0])
        self.assertEqual(len(order.activity_ids), 1)

    def test_receipt_of_the_approved_quantity_is_not_flagged(self):
        sale = self._taxed_sale()
        order = self._received_return(sale, 2.0)

        self.assertEqual(order.line_ids.qty_over_received, 0.0)
        self.assertFalse(order.has_over_receipt)
        self.assertFalse(order.activity_ids)

    def test_accept_extra_raises_the_approved_quantity(self):
        sale, order = self._over_received_return()
        order.with_user(self.manager).action_accept_extra_receipt()
        line = order.line_ids

        self.assertEqual(line.quantity, 3.0)
        self.assertEqual(line._qty_received_approved(), 3.0)
        self.assertEqual(line.qty_over_received, 0.0)
        self.assertFalse(order.has_over_receipt)
        self.assertFalse(order.activity_ids)
        self.assertEqual(sale.order_line.qty_delivered, 2.0)

    def test_accept_extra_is_refused_when_another_request_claims_the_rest(self):
        sale = self._taxed_sale()
        order = self._approved_return(sale, [(sale.order_line, 2.0)])
        # 5 delivered: 2 approved here, 3 requested on another return
        self._create_return(sale, [(sale.order_line, 3.0)])
        self._receive(order, 3.0)

        # accepting the extra unit would return 6 of the 5 delivered
        with self.assertRaises(UserError):
            order.with_user(self.manager).action_accept_extra_receipt()
        self.assertEqual(order.line_ids.quantity, 2.0)
        self.assertEqual(order.line_ids.qty_over_received, 1.0)
        self.assertTrue(order.has_over_receipt)
        self.assertEqual(len(order.activity_ids), 1)

    def test_accept_extra_is_for_managers_only(self):
        _sale, order = self._over_received_return()
        with self.assertRaises(AccessError):
            order.with_user(self.return_user).action_accept_extra_receipt()
        self.assertEqual(order.line_ids.quantity, 2.0)
        self.assertTrue(order.has_over_receipt)

    def test_deciding_on_extra_goods_of_a_draft_return_is_refused(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        with self.assertRaises(UserError):
            order.with_user(self.manager).action_accept_extra_receipt()
        with self.assertRaises(UserError):
            order.with_user(self.manager).action_send_back_extra_receipt()
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.line_ids.quantity, 2.0)

    def test_send_back_returns_the_extra_with_odoos_return_of_the_receipt(self):
        sale, order = self._over_received_return()
        receipt = order.return_picking_ids
        order.with_user(self.manager).action_send_back_extra_receipt()

        send_back = receipt.return_ids
        self.assertEqual(len(send_back), 1)
        self.assertEqual(send_back.location_id, self.returns_location)
        self.assertEqual(send_back.location_dest_id, self.customer_location)
        self.assertEqual(send_back.move_ids.product_uom_qty, 1.0)
        self.assertEqual(send_back.move_ids.origin_returned_move_id, receipt.move_ids)
        self.assertEqual(order.return_picking_ids, receipt, "not a receipt")
        self.assertFalse(order.has_over_receipt, "the decision is taken")
        self.assertFalse(order.activity_ids)

        self._validate(send_back)
        line = order.line_ids
        self.assertEqual(line.qty_received, 3.0)
        self.assertEqual(line.qty_sent_back, 1.0)
        self.assertEqual(line._qty_received_approved(), 2.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 2.0)
        self.assertEqual(sale.order_line.qty_delivered, 3.0)
        self.assertEqual(len(sale.order_line), 1, "no extra sale line may appear")

    def test_receipt_beyond_delivered_is_refused_and_changes_nothing(self):
        sale = self._taxed_sale()
        order = self._approved_return(sale, [(sale.order_line, 2.0)])
        receipt = order.return_picking_ids

        with self.assertRaises(UserError):
            self._receive(order, 7.0)

        self.assertEqual(receipt.state, "assigned")
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.line_ids.qty_received, 0.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)
        self.assertEqual(sale.order_line.qty_delivered, 5.0)

    def test_goods_never_requested_on_the_receipt_are_refused(self):
        sale = self._taxed_sale()
        order = self._approved_return(sale, [(sale.order_line, 2.0)])
        receipt = order.return_picking_ids
        other = self._create_returnable_product("Toaster", price=50.0, cost=20.0)
        self.env["stock.move"].create(
            {
                "name": other.name,
                "product_id": other.id,
                "product_uom_qty": 1.0,
                "product_uom": other.uom_id.id,
                "picking_id": receipt.id,
                "location_id": receipt.location_id.id,
                "location_dest_id": receipt.location_dest_id.id,
            }
        )

        with self.assertRaisesRegex(UserError, "was not requested"):
            self._validate(receipt)

        self.assertNotEqual(receipt.state, "done")
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.line_ids.qty_received, 0.0)
        self.assertEqual(self._quant_qty(other, self.returns_location), 0.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 0.0)
        self.assertEqual(len(sale.order_line), 1, "no sale line is added")

    def test_receipt_beyond_what_the_customer_still_has_is_refused(self):
        sale = self._taxed_sale()
        first = self._received_return(sale, 2.0)
        second = self._approved_return(sale, [(sale.order_line, 2.0)])

        # 5 delivered, 2 already back: 4 more cannot come from this customer
        with self.assertRaises(UserError):
            self._receive(second, 4.0)

        self.assertEqual(second.return_picking_ids.state, "assigned")
        self.assertEqual(second.line_ids.qty_received, 0.0)
        self.assertEqual(first.line_ids.qty_received, 2.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 2.0)
        self.assertEqual(sale.order_line.qty_delivered, 3.0)

    # One receipt move per return line (issue case 3b)

    def test_two_lines_on_one_sale_line_keep_their_own_receipt_moves(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        order.line_ids = [
            Command.create(
                {
                    "sale_line_id": sale.order_line.id,
                    "quantity": 1.0,
                    "reason_id": self.other_reason.id,
                }
            )
        ]
        order.action_submit()
        order.with_user(self.manager).action_approve()
        self._validate(order.return_picking_ids)

        first, second = order.line_ids
        self.assertEqual(len(order.return_picking_ids.move_ids), 2)
        self.assertEqual(first.qty_received, 2.0)
        self.assertEqual(second.qty_received, 1.0)
        self.assertEqual(first.return_move_ids.product_uom_qty, 2.0)
        self.assertEqual(second.return_move_ids.product_uom_qty, 1.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 3.0)
        self.assertEqual(sale.order_line.qty_delivered, 2.0)

    # Goods sent back by hand (issue case 4)

    def test_goods_sent_back_by_hand_are_not_received(self):
        sale = self._taxed_sale()
        order = self._received_return(sale, 2.0)
        receipt = order.return_picking_ids

        send_back = return_receipt_by_hand(receipt, 1.0)
        self._validate(send_back)

        line = order.line_ids
        self.assertEqual(order.return_picking_ids, receipt)
        self.assertFalse(send_back.return_order_id)
        self.assertFalse(send_back.move_ids.return_order_line_id)
        self.assertEqual(line.return_move_ids, receipt.move_ids)
        self.assertEqual(line.qty_received, 2.0)
        self.assertEqual(line.qty_sent_back, 1.0)
        self.assertEqual(line._qty_received_approved(), 1.0)
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 1.0)
        self.assertEqual(sale.order_line.qty_delivered, 4.0)

    def test_backorder_of_a_receipt_stays_linked_to_the_return(self):
        sale = self._taxed_sale()
        order = self._approved_return(sale, [(sale.order_line, 3.0)])
        self._receive(order, 1.0)
        self._receive(order, 2.0)

        self.assertEqual(len(order.return_picking_ids), 2)
        self.assertEqual(order.line_ids.qty_received, 3.0)
        self.assertEqual(
            order.return_picking_ids.move_ids.return_order_line_id, order.line_ids
        )
        self.assertEqual(self._quant_qty(self.product, self.returns_location), 3.0)

    # Core's return path (issue case 7)

    def test_receipt_drops_the_delivery_carrier_and_links_the_delivery(self):
        if "carrier_id" not in self.env["stock.picking"]._fields:
            self.skipTest("stock_delivery is not installed")
        carrier_product = self._create_product(name="Express", type="service")
        carrier = self.env["delivery.carrier"].create(
            {"name": "Express", "product_id": carrier_product.id, "fixed_price": 12.0}
        )
        sale = self._create_sale(
            [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)],
            deliver=False,
            invoice=False,
        )
        delivery = sale.picking_ids
        delivery.write({"carrier_id": carrier.id, "carrier_price": 12.0})
        self._validate(delivery)
        order = self._approved_return(sale, [(sale.order_line, 2.0)])
        receipt = order.return_picking_ids

        self.assertFalse(receipt.carrier_id)
        self.assertEqual(receipt.carrier_price, 0.0)
        self.assertEqual(receipt.return_id, delivery)
        origin_links = receipt.message_ids.filtered(
            lambda m: (
                f'data-oe-id="{delivery.id}"' in m.body
                and 'data-oe-model="stock.picking"' in m.body
            )
        )
        self.assertEqual(len(origin_links), 1)

    # Kits (issue case 8)

    def _kit(self):
        if "mrp.bom" not in self.env:
            self.skipTest("mrp is not installed")
        kit = self._create_product(
            name="Kettle set", type="consu", lst_price=300.0, categ_id=self.category.id
        )
        self.env["mrp.bom"].create(
            {
                "product_tmpl_id": kit.product_tmpl_id.id,
                "type": "phantom",
                "bom_line_ids": [
                    Command.create({"product_id": self.product.id, "product_qty": 4.0})
                ],
            }
        )
        return kit

    def test_kit_line_has_nothing_returnable_and_is_refused(self):
        kit = self._kit()
        sale = self._create_sale([(kit, 5.0, 300.0, 0.0, self.tax_sale_a)])
        self.assertEqual(sale.order_line.qty_delivered, 5.0)
        self.assertEqual(self._quant_qty(self.product, self.stock_location), 80.0)

        self.assertEqual(sale.order_line.return_qty_returnable, 0.0)
        with self.assertRaises(ValidationError):
            self._create_return(sale, [(sale.order_line, 2.0)])
        self.assertFalse(
            self.env["return.order"].search([("sale_order_id", "=", sale.id)])
        )

    def test_product_made_a_kit_after_the_request_is_refused_at_submit(self):
        sale = self._taxed_sale()
        order = self._create_return(sale, [(sale.order_line, 2.0)])
        if "mrp.bom" not in self.env:
            self.skipTest("mrp is not installed")
        component = self._create_returnable_product("Lid", price=5.0, cost=1.0)
        self.env["mrp.bom"].create(
            {
                "product_tmpl_id": self.product.product_tmpl_id.id,
                "type": "phantom",
                "bom_line_ids": [
                    Command.create({"product_id": component.id, "product_qty": 1.0})
                ],
            }
        )

        with self.assertRaises(ValidationError):
            order.action_submit()
        self.assertEqual(order.state, "draft")
        with self.assertRaises(ValidationError):
            order.with_user(self.manager).action_approve()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.return_picking_ids)
