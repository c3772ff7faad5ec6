from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import ReturnsCommon, return_by_hand


@tagged("post_install", "-at_install")
class TestLots(ReturnsCommon):
    """Tracked products come back only with lots/serials delivered on the sale
    line and not yet returned; the receipt carries them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lot_group = cls.env.ref("stock.group_production_lot")
        cls.env.user.groups_id += lot_group
        cls.manager.groups_id += lot_group
        cls.serial_product = cls._create_tracked_product("Drone", "serial", 500, 200)
        cls.lot_product = cls._create_tracked_product("Paint", "lot", 10, 4)
        cls.sn1, cls.sn2, cls.sn3, cls.sn4, cls.sn5 = cls._create_lots(
            cls.serial_product, ["SN1", "SN2", "SN3", "SN4", "SN5"]
        )
        cls.lot1, cls.lot2 = cls._create_lots(cls.lot_product, ["L1", "L2"])

    def _serial_sale(self, partner=None):
        """SN1..SN3 delivered to the customer (only they are in stock)."""
        for serial in self.sn1 | self.sn2 | self.sn3:
            self._add_lot_stock(serial, 1.0)
        sale = self._create_sale(
            [(self.serial_product, 3.0, 500.0, 0.0, self.tax_sale_a)], partner=partner
        )
        self.assertEqual(
            sale.picking_ids.move_line_ids.lot_id, self.sn1 | self.sn2 | self.sn3
        )
        return sale

    def _lot_sale(self):
        """L1 delivered 3, L2 delivered 2."""
        self._add_lot_stock(self.lot1, 3.0)
        self._add_lot_stock(self.lot2, 2.0)
        sale = self._create_sale([(self.lot_product, 5.0, 10.0, 0.0, self.tax_sale_a)])
        delivered = {ml.lot_id: ml.quantity for ml in sale.picking_ids.move_line_ids}
        self.assertEqual(delivered, {self.lot1: 3.0, self.lot2: 2.0})
        return sale

    def test_serial_return_carries_serial_into_returns_location(self):
        sale = self._serial_sale()
        sale_line = sale.order_line
        order = self._lot_return(sale, 1.0, self.sn2)
        # the line's own serial stays selectable; another request sees the rest
        self.assertEqual(
            order.line_ids.returnable_lot_ids, self.sn1 | self.sn2 | self.sn3
        )
        other = self._lot_return(sale, 1.0, self.sn1)
        self.assertEqual(other.line_ids.returnable_lot_ids, self.sn1 | self.sn3)
        other.action_cancel()
        order.action_submit()
        order.with_user(self.manager).action_approve()
        receipt = order.return_picking_ids
        self.assertEqual(receipt.move_line_ids.lot_id, self.sn2)
        self.assertEqual(receipt.move_line_ids.quantity, 1.0)
        with self.assertRaises(UserError), self.cr.savepoint():
            order.line_ids.lot_ids = self.sn1

        self._validate(receipt)

        self.assertEqual(receipt.state, "done")
        self.assertEqual(self._lot_quant_qty(self.sn2, self.returns_location), 1.0)
        self.assertEqual(self._lot_quant_qty(self.sn2, self.customer_location), 0.0)
        self.assertEqual(self._lot_quant_qty(self.sn1, self.returns_location), 0.0)
        self.assertEqual(self.sn2.location_id, self.returns_location)
        self.assertEqual(sale_line.qty_delivered, 2.0)
        self.assertEqual(order.line_ids.qty_received, 1.0)

    def test_form_offers_only_returnable_serials(self):
        sale = self._serial_sale()
        self._lot_return(sale, 1.0, self.sn1)
        form = Form(self.env["return.order"])
        form.sale_order_id = sale
        with form.line_ids.new() as line:
            line.sale_line_id = sale.order_line
            line.reason_id = self.reason
            self.assertEqual(line.tracking, "serial")
            self.assertEqual(line.returnable_lot_ids[:], self.sn2 | self.sn3)
            line.lot_ids.add(self.sn3)
        order = form.save()
        self.assertEqual(order.line_ids.lot_ids, self.sn3)

    def test_create_wizard_passes_chosen_serials(self):
        sale = self._serial_sale()
        form = self._open_wizard_form(sale)
        with form.line_ids.edit(0) as line:
            self.assertEqual(line.returnable_lot_ids[:], self.sn1 | self.sn2 | self.sn3)
            line.quantity = 1.0
            line.lot_ids.add(self.sn2)
        action = form.save().action_create_return()
        order = self.env["return.order"].browse(action["res_id"])
        self.assertEqual(order.line_ids.lot_ids, self.sn2)

    def test_serial_returns_through_the_delivery_that_brought_it(self):
        self._add_lot_stock(self.sn1, 1.0)
        sale = self._create_sale(
            [(self.serial_product, 3.0, 500.0, 0.0, self.tax_sale_a)],
            deliver=False,
            invoice=False,
        )
        first = sale.picking_ids
        self._validate(first, {self.serial_product: 1.0})
        self._add_lot_stock(self.sn2, 1.0)
        self._add_lot_stock(self.sn3, 1.0)
        backorder = sale.picking_ids - first
        backorder.action_assign()
        self._validate(backorder)
        self.assertEqual(first.move_line_ids.lot_id, self.sn1)
        self.assertEqual(backorder.move_line_ids.lot_id, self.sn2 | self.sn3)

        order = self._lot_return(sale, 2.0, self.sn1 | self.sn3)
        self._approve_and_receive(order)

        per_origin = {
            move.origin_returned_move_id: move.move_line_ids.lot_id
            for move in order.return_picking_ids.move_ids
        }
        self.assertEqual(
            per_origin, {first.move_ids: self.sn1, backorder.move_ids: self.sn3}
        )
        self.assertEqual(self._lot_quant_qty(self.sn1, self.returns_location), 1.0)
        self.assertEqual(self._lot_quant_qty(self.sn3, self.returns_location), 1.0)
        self.assertEqual(sale.order_line.qty_delivered, 1.0)

    def test_serial_of_another_customer_refused(self):
        self._serial_sale()
        self._add_lot_stock(self.sn4, 1.0)
        other_sale = self._create_sale(
            [(self.serial_product, 1.0, 500.0, 0.0, self.tax_sale_a)],
            partner=self.other_customer,
        )
        self.assertEqual(other_sale.picking_ids.move_line_ids.lot_id, self.sn4)
        sale = self.env["sale.order"].search(
            [("partner_id", "=", self.customer.id)], order="id desc", limit=1
        )
        count = self.env["return.order"].search_count([])
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._lot_return(sale, 1.0, self.sn4)
        self.assertEqual(self.env["return.order"].search_count([]), count)

    def test_same_serial_twice_refused(self):
        sale = self._serial_sale()
        first = self._lot_return(sale, 1.0, self.sn2)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._lot_return(sale, 1.0, self.sn2)
        # nor twice on one return, on two lines
        with self.assertRaises(ValidationError), self.cr.savepoint():
            first.write(
                {
                    "line_ids": [
                        Command.create(
                            {
                                "sale_line_id": sale.order_line.id,
                                "quantity": 1.0,
                                "reason_id": self.reason.id,
                                "lot_ids": [Command.set(self.sn2.ids)],
                            }
                        )
                    ]
                }
            )
        self.assertEqual(len(first.line_ids), 1)

    def test_received_serial_cannot_come_back_again(self):
        sale = self._serial_sale()
        self._approve_and_receive(self._lot_return(sale, 1.0, self.sn2))
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._lot_return(sale, 1.0, self.sn2)
        # SN1 is still at the customer
        self.assertTrue(self._lot_return(sale, 1.0, self.sn1))

    def test_serial_returned_with_odoo_return_refused(self):
        sale = self._serial_sale()
        action = return_by_hand(sale, 1.0)
        core_return = self.env["stock.picking"].browse(action["res_id"])
        returned = core_return.move_line_ids.lot_id
        self.assertEqual(len(returned), 1)
        self._validate(core_return)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._lot_return(sale, 1.0, returned)
        left = (self.sn1 | self.sn2 | self.sn3) - returned
        order = self._lot_return(sale, 1.0, left[:1])
        self.assertEqual(order.line_ids.returnable_lot_ids, left)

    def test_serial_taken_by_odoo_return_refused_at_submit(self):
        sale = self._serial_sale()
        order = self._lot_return(sale, 1.0, self.sn2)
        action = return_by_hand(sale, 1.0)
        core_return = self.env["stock.picking"].browse(action["res_id"])
        core_return.move_line_ids.lot_id = self.sn2
        with self.assertRaises(ValidationError), self.cr.savepoint():
            order.action_submit()
        self.assertEqual(order.state, "draft")

    def test_scanned_returned_serial_refused_at_receipt(self):
        sale = self._serial_sale()
        self._approve_and_receive(self._lot_return(sale, 1.0, self.sn2))
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        order.action_submit()
        order.with_user(self.manager).action_approve()
        receipt = order.return_picking_ids
        self.assertNotEqual(receipt.move_line_ids.lot_id, self.sn2)
        receipt.move_line_ids.lot_id = self.sn2
        with self.assertRaises(UserError), self.cr.savepoint():
            self._validate(receipt)
        self.assertNotEqual(receipt.state, "done")
        self.assertEqual(self._lot_quant_qty(self.sn2, self.returns_location), 1.0)

    def test_lot_of_another_company_refused(self):
        sale = self._serial_sale()
        other_company = self.env["res.company"].create({"name": "Other Co"})
        foreign = self.env["stock.lot"].create(
            {
                "name": "SN-FOREIGN",
                "product_id": self.serial_product.id,
                "company_id": other_company.id,
            }
        )
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._lot_return(sale, 1.0, foreign)

    def test_serial_count_must_match_quantity(self):
        sale = self._serial_sale()
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._lot_return(sale, 2.0, self.sn2)

    def test_lot_of_another_product_refused(self):
        sale = self._serial_sale()
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._lot_return(sale, 1.0, self.lot1)

    def test_lot_quantity_above_delivered_refused(self):
        sale = self._lot_sale()
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._lot_return(sale, 4.0, self.lot1)
        order = self._lot_return(sale, 2.0, self.lot1)
        # only 1 of L1 left for another request
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self._lot_return(sale, 2.0, self.lot1)
        self._approve_and_receive(order)
        receipt = order.return_picking_ids
        self.assertEqual(receipt.move_line_ids.lot_id, self.lot1)
        self.assertEqual(receipt.move_line_ids.quantity, 2.0)
        self.assertEqual(self._lot_quant_qty(self.lot1, self.returns_location), 2.0)
        self.assertEqual(self._lot_quant_qty(self.lot2, self.returns_location), 0.0)
        self.assertEqual(sale.order_line.qty_delivered, 3.0)

    def test_quantity_raised_above_lot_refused_on_write(self):
        sale = self._lot_sale()
        order = self._lot_return(sale, 2.0, self.lot2)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            order.line_ids.quantity = 3.0
        self.assertEqual(order.line_ids.quantity, 2.0)

    def test_two_lots_split_on_receipt(self):
        sale = self._lot_sale()
        order = self._lot_return(sale, 4.0, self.lot1 | self.lot2)
        order.action_submit()
        order.with_user(self.manager).action_approve()
        per_lot = {
            ml.lot_id: ml.quantity for ml in order.return_picking_ids.move_line_ids
        }
        self.assertEqual(per_lot, {self.lot1: 3.0, self.lot2: 1.0})

    def test_scanned_undelivered_serial_refused_at_receipt(self):
        sale = self._serial_sale()
        self._add_lot_stock(self.sn5, 1.0)
        order = self._create_return(sale, [(sale.order_line, 1.0)])
        order.action_submit()
        order.with_user(self.manager).action_approve()
        receipt = order.return_picking_ids
        receipt.move_line_ids.lot_id = self.sn5
        with self.assertRaises(UserError), self.cr.savepoint():
            self._validate(receipt)
        self.assertNotEqual(receipt.state, "done")
        self.assertEqual(self._lot_quant_qty(self.sn5, self.returns_location), 0.0)
        self.assertEqual(self._lot_quant_qty(self.sn5, self.stock_location), 1.0)
        self.assertEqual(sale.order_line.qty_delivered, 3.0)
        # a delivered serial scanned instead is accepted
        receipt.move_line_ids.lot_id = self.sn3
        self._validate(receipt)
        self.assertEqual(self._lot_quant_qty(self.sn3, self.returns_location), 1.0)

    def test_lots_chosen_at_intake_are_credited(self):
        sale = self._lot_sale()
        order = self._approve_and_receive(self._lot_return(sale, 2.0, self.lot2))
        self.assertEqual(order.state, "received")
        order.action_create_credit_notes()
        credit_note = order.credit_note_ids
        self.assertEqual(credit_note.invoice_line_ids.quantity, 2.0)
        self.assertAlmostEqual(credit_note.amount_untaxed, 20.0)
        order.credit_note_ids.action_post()
        self.assertEqual(order.line_ids.qty_refunded, 2.0)
        self.assertEqual(order.state, "done")
        self.assertEqual(sale.order_line.qty_delivered, 3.0)
        self.assertEqual(sale.order_line.qty_invoiced, 3.0)
        self.assertEqual(self._lot_quant_qty(self.lot2, self.returns_location), 2.0)
