from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import ReturnsCommon


@tagged("post_install", "-at_install")
class TestQcLots(ReturnsCommon):
    """Inspection keeps lots and serials: graded per lot, moved with it, and
    only what came back on the line can be graded."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.drone = cls._create_tracked_product("Drone", "serial", 500, 200)
        cls.paint = cls._create_tracked_product("Paint", "lot", 10, 4)
        cls.sn1, cls.sn2, cls.sn3, cls.sn4 = cls._create_lots(
            cls.drone, [f"QSN{i}" for i in range(1, 5)]
        )
        cls.lot1, cls.lot2 = cls._create_lots(cls.paint, ["QL1", "QL2"])
        for lot, qty in ((cls.sn1, 1), (cls.sn2, 1), (cls.sn3, 1), (cls.lot1, 3)):
            cls._add_lot_stock(lot, qty)

    def _received(self, product, quantity, lots, sold=3.0):
        sale = self._create_sale([(product, sold, 100.0, 0.0, self.tax_sale_a)])
        return self._approve_and_receive(self._lot_return(sale, quantity, lots))

    def test_serials_graded_one_by_one_keep_their_serial(self):
        order = self._received(self.drone, 2.0, self.sn1 | self.sn2)
        line = order.line_ids
        qc = self.env["return.qc.line"]
        qc.create(
            {
                "line_id": line.id,
                "qc_grade": "as_new",
                "quantity": 1.0,
                "lot_id": self.sn1.id,
            }
        )
        qc.create(
            {
                "line_id": line.id,
                "qc_grade": "major_defect",
                "quantity": 1.0,
                "lot_id": self.sn2.id,
            }
        )
        self.assertEqual(line.qc_grade, "mixed")
        order.action_validate_qc()
        transfer = order.qc_picking_ids
        self.assertEqual(transfer.move_line_ids.lot_id, self.sn1)
        self.assertEqual(self._lot_quant_qty(self.sn1, self.stock_location), 1.0)
        self.assertEqual(order.qc_scrap_ids.lot_id, self.sn2)
        self.assertEqual(
            self._lot_quant_qty(self.sn2, self.warehouse._qc_scrap_location()), 1.0
        )
        self.assertEqual(self._lot_quant_qty(self.sn2, self.returns_location), 0.0)

    def test_whole_line_grade_splits_per_serial(self):
        order = self._received(self.drone, 2.0, self.sn1 | self.sn3)
        order.line_ids.qc_grade = "minor_defect"
        self.assertEqual(order.qc_line_ids.lot_id, self.sn1 | self.sn3)
        self.assertEqual(order.qc_line_ids.mapped("quantity"), [1.0, 1.0])
        order.action_validate_qc()
        refurbish = self.warehouse.refurbish_location_id
        self.assertEqual(self._lot_quant_qty(self.sn1, refurbish), 1.0)
        self.assertEqual(self._lot_quant_qty(self.sn3, refurbish), 1.0)

    def test_only_serials_that_came_back_can_be_graded(self):
        order = self._received(self.drone, 1.0, self.sn2)
        qc = self.env["return.qc.line"]
        for serial in (self.sn1, self.sn4):  # delivered not returned / never sold
            with (
                self.assertRaisesRegex(UserError, "did not come back"),
                self.cr.savepoint(),
            ):
                qc.create(
                    {
                        "line_id": order.line_ids.id,
                        "qc_grade": "as_new",
                        "quantity": 1.0,
                        "lot_id": serial.id,
                    }
                )
        with (
            self.assertRaisesRegex(UserError, "per lot or serial"),
            self.cr.savepoint(),
        ):
            qc.create(
                {"line_id": order.line_ids.id, "qc_grade": "as_new", "quantity": 1.0}
            )
        with self.assertRaisesRegex(UserError, "came back"), self.cr.savepoint():
            qc.create(
                {
                    "line_id": order.line_ids.id,
                    "qc_grade": "as_new",
                    "quantity": 2.0,
                    "lot_id": self.sn2.id,
                }
            )
        self.assertFalse(order.qc_line_ids)

    def test_serial_picker_offers_only_serials_that_came_back(self):
        order = self._received(self.drone, 2.0, self.sn1 | self.sn3)
        qc = self.env["return.qc.line"]
        # a line added on the inspection screen, as the web client sees it
        qc_line = qc.new({"line_id": order.line_ids.id, "qc_grade": "as_new"})
        received = qc_line.received_lot_ids._origin
        self.assertEqual(received, self.sn1 | self.sn3)
        domain = safe_eval(
            qc._fields["lot_id"].domain, {"received_lot_ids": received.ids}
        )
        offered = self.env["stock.lot"].search(domain)
        self.assertEqual(offered, self.sn1 | self.sn3)
        names = [name for _id, name in self.env["stock.lot"].name_search("QSN", domain)]
        self.assertEqual(sorted(names), ["QSN1", "QSN3"])

    def test_restocked_serial_cannot_come_back_twice(self):
        order = self._received(self.drone, 1.0, self.sn2)
        order.line_ids.qc_grade = "as_new"
        order.action_validate_qc()
        sale = order.sale_order_id
        returnable = (
            self.env["return.order.line"]
            .new({"order_id": order.id, "sale_line_id": sale.order_line.id})
            .returnable_lot_ids._origin
        )
        self.assertNotIn(self.sn2, returnable)
        self.assertIn(self.sn1, returnable)
        with (
            self.assertRaisesRegex(UserError, "cannot be returned"),
            self.cr.savepoint(),
        ):
            self._lot_return(sale, 1.0, self.sn2)

    def test_lot_quantities_enforced_and_moved(self):
        order = self._received(self.paint, 2.0, self.lot1, sold=3.0)
        qc = self.env["return.qc.line"]
        with self.assertRaisesRegex(UserError, "came back"), self.cr.savepoint():
            qc.create(
                {
                    "line_id": order.line_ids.id,
                    "qc_grade": "as_new",
                    "quantity": 3.0,
                    "lot_id": self.lot1.id,
                }
            )
        qc.create(
            {
                "line_id": order.line_ids.id,
                "qc_grade": "as_new",
                "quantity": 1.5,
                "lot_id": self.lot1.id,
            }
        )
        qc.create(
            {
                "line_id": order.line_ids.id,
                "qc_grade": "minor_defect",
                "quantity": 0.5,
                "lot_id": self.lot1.id,
            }
        )
        order.action_validate_qc()
        self.assertEqual(self._lot_quant_qty(self.lot1, self.returns_location), 0.0)
        self.assertEqual(
            self._lot_quant_qty(self.lot1, self.warehouse.refurbish_location_id), 0.5
        )
        self.assertEqual(self._lot_quant_qty(self.lot1, self.stock_location), 1.5)
        self.assertEqual(order.qc_state, "done")

    def test_wrong_serial_goes_back_to_the_customer_with_its_serial(self):
        order = self._received(self.drone, 1.0, self.sn3)
        sale_line = order.line_ids.sale_line_id
        order.line_ids.qc_grade = "wrong_item"
        order.action_validate_qc()
        send_back = order.qc_picking_ids
        self.assertEqual(send_back.location_dest_id, self.customer_location)
        self.assertEqual(send_back.move_line_ids.lot_id, self.sn3)
        self._validate(send_back)
        self.assertEqual(self._lot_quant_qty(self.sn3, self.customer_location), 1.0)
        self.assertEqual(sale_line.qty_delivered, 3.0)
