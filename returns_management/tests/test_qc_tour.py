import unittest

from odoo.tests import HttpCase, tagged

from .common import ReturnsCommon

CUSTOMER = "QC Tour Customer"
OTHER_CUSTOMER = "QC Tour Other Customer"


@tagged("post_install", "-at_install")
class TestQcTour(ReturnsCommon, HttpCase):
    """An inspector grades a received return in a real browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kettle = cls._create_returnable_product(
            "QC Tour Kettle", price=100.0, cost=40.0
        )
        cls.toaster = cls._create_returnable_product(
            "QC Tour Toaster", price=60.0, cost=25.0
        )
        # a grade added by a manager: the screen offers it as a button
        cls.dented = cls.env["return.qc.grade"].create(
            {
                "name": "QC Tour Dented",
                "code": "qc_tour_dented",
                "default_disposition": "quarantine",
            }
        )
        cls.inspector = cls._new_user(
            "qc_inspector",
            "returns_management.group_return_user,stock.group_stock_user",
        )

    def _received_two_line_return(self, customer_name):
        """2 kettles and 1 toaster of a delivered, invoiced sale, returned,
        approved and received in the warehouse's returns location."""
        customer = self.env["res.partner"].create({"name": customer_name})
        sale = self._create_sale(
            [
                (self.kettle, 5.0, 100.0, 0.0, self.tax_sale_a),
                (self.toaster, 3.0, 60.0, 0.0, self.tax_sale_a),
            ],
            partner=customer,
        )
        kettle_line, toaster_line = sale.order_line
        return self._approve_and_receive(
            self._create_return(sale, [(kettle_line, 2.0), (toaster_line, 1.0)])
        )

    def _start_tour(self, url_path, tour_name, login):
        # HttpCase skips a browser test it cannot run (no Chromium, no
        # websocket-client): here that is a failure, not a silent pass.
        try:
            self.start_tour(url_path, tour_name, login=login)
        except unittest.SkipTest as skipped:
            self.fail(f"The {tour_name} tour could not run in a browser: {skipped}")

    def test_inspector_restocks_one_line_and_quarantines_the_other(self):
        order = self._received_two_line_return(CUSTOMER)
        other = self._received_two_line_return(OTHER_CUSTOMER)
        receipt = order.return_picking_ids
        self.assertEqual(receipt.state, "done")
        self.assertEqual(order.qc_state, "pending")
        self.assertEqual(other.qc_state, "pending")
        kettles_in_stock = self._quant_qty(self.kettle, self.stock_location)
        # both returns' goods wait in the returns location
        kettles_back = self._quant_qty(self.kettle, self.returns_location)
        toasters_back = self._quant_qty(self.toaster, self.returns_location)

        self._start_tour(
            f"/odoo/action-stock.action_picking_tree_all/{receipt.id}",
            "returns_management_qc_tour",
            login=self.inspector.login,
        )

        self.assertEqual(order.qc_state, "done")
        kettle_line, toaster_line = order.line_ids
        self.assertEqual(kettle_line.qc_grade, "as_new")
        self.assertEqual(toaster_line.qc_grade, "qc_tour_dented")
        self.assertEqual(order.qc_line_ids.mapped("state"), ["done", "done"])
        self.assertEqual(order.qc_line_ids.mapped("quantity"), [2.0, 1.0])

        quarantine = self.warehouse.quarantine_location_id
        transfers = order.qc_picking_ids
        self.assertEqual(len(transfers), 2)
        # the internal type, or the returns inspection type when the internal
        # one is archived (no Storage Locations, as on the test database)
        self.assertEqual(
            transfers.picking_type_id,
            self.warehouse._qc_active_type(self.warehouse.int_type_id),
        )
        self.assertTrue(transfers.picking_type_id.active)
        self.assertEqual(set(transfers.mapped("state")), {"done"})
        self.assertEqual(transfers.location_id, self.returns_location)
        to_stock = transfers.filtered(
            lambda p: p.location_dest_id == self.stock_location
        )
        self.assertEqual(to_stock.move_ids.product_id, self.kettle)
        self.assertEqual(to_stock.move_ids.quantity, 2.0)
        to_quarantine = transfers - to_stock
        self.assertEqual(to_quarantine.location_dest_id, quarantine)
        self.assertEqual(to_quarantine.move_ids.product_id, self.toaster)
        self.assertEqual(to_quarantine.move_ids.quantity, 1.0)
        self.assertFalse(order.qc_scrap_ids)
        self.assertEqual(
            self._quant_qty(self.kettle, self.stock_location), kettles_in_stock + 2.0
        )
        self.assertEqual(self._quant_qty(self.toaster, quarantine), 1.0)

        self.assertEqual(
            self._quant_qty(self.kettle, self.returns_location), kettles_back - 2.0
        )
        self.assertEqual(
            self._quant_qty(self.toaster, self.returns_location), toasters_back - 1.0
        )
        self.assertEqual(other.qc_state, "pending")
        self.assertFalse(other.qc_line_ids)
