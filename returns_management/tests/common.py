from odoo import Command
from odoo.tests import Form, new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


def return_by_hand(sale, quantity):
    """Odoo's own return wizard on the sale's delivery, used beside the addon."""
    picking = sale.picking_ids
    wizard = Form(
        sale.env["stock.return.picking"].with_context(
            active_id=picking.id, active_ids=picking.ids, active_model="stock.picking"
        )
    )
    with wizard.product_return_moves.edit(0) as line:
        line.quantity = quantity
    return wizard.save().action_create_returns()


class ReturnsCommon(AccountTestInvoicingCommon):
    """A company with real-time FIFO valuation, a stocked product, a customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.returns_location = cls.warehouse.return_location_id
        cls.customer_location = cls.env.ref("stock.stock_location_customers")
        cls.category = cls.env["product.category"].create(
            {
                "name": "Returnable goods",
                "property_cost_method": "fifo",
                "property_valuation": "real_time",
            }
        )
        cls.product = cls._create_returnable_product("Kettle", price=100.0, cost=40.0)
        cls.customer = cls.env["res.partner"].create({"name": "Anna Customer"})
        cls.other_customer = cls.env["res.partner"].create({"name": "Bob Other"})
        cls.reason = cls.env.ref("returns_management.return_reason_defective")
        cls.manager = cls._new_user(
            "return_manager",
            "returns_management.group_return_manager,account.group_account_invoice,"
            "sales_team.group_sale_salesman_all_leads,stock.group_stock_user",
        )
        cls.return_user = cls._new_user(
            "return_user",
            "returns_management.group_return_user,"
            "sales_team.group_sale_salesman_all_leads,stock.group_stock_user",
        )
        cls.env.user.groups_id += cls.env.ref("returns_management.group_return_manager")

    @classmethod
    def _new_user(cls, login, groups):
        return new_test_user(
            cls.env,
            login=login,
            groups=groups,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _create_returnable_product(cls, name, price, cost, **values):
        product = cls._create_product(
            name=name,
            is_storable=True,
            lst_price=price,
            standard_price=cost,
            invoice_policy="delivery",
            categ_id=cls.category.id,
            **values,
        )
        cls._add_stock(product, 100.0)
        return product

    @classmethod
    def _create_tracked_product(cls, name, tracking, price, cost):
        """A storable product tracked by lot or serial, and its lot rights."""
        cls.env.user.groups_id += cls.env.ref("stock.group_production_lot")
        return cls._create_product(
            name=name,
            is_storable=True,
            tracking=tracking,
            lst_price=price,
            standard_price=cost,
            invoice_policy="delivery",
            categ_id=cls.category.id,
        )

    @classmethod
    def _add_stock(cls, product, quantity):
        cls.env["stock.quant"].with_context(inventory_mode=True).create(
            {
                "product_id": product.id,
                "location_id": cls.stock_location.id,
                "inventory_quantity": quantity,
            }
        ).action_apply_inventory()

    def _create_sale(
        self, lines, partner=None, deliver=True, invoice=True, uom=None, before=None
    ):
        """lines: list of (product, quantity, price_unit, discount, taxes),
        sold in ``uom`` (else the product's unit); ``before(sale)`` runs
        before the order is confirmed (e.g. to add shipping)."""
        sale = self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "price_unit": price,
                            "discount": discount,
                            "tax_id": [Command.set(taxes.ids)],
                            **({"product_uom": uom.id} if uom else {}),
                        }
                    )
                    for product, qty, price, discount, taxes in lines
                ],
            }
        )
        if before:
            before(sale)
        sale.action_confirm()
        if deliver:
            self._validate(sale.picking_ids)
        if invoice:
            sale._create_invoices().action_post()
        return sale

    def _partly_invoiced_sale(self, first_delivery=2.0):
        """5 units at 100 with the 15 % tax: ``first_delivery`` delivered and
        invoiced, then the rest delivered, not invoiced."""
        sale = self._create_sale(
            [(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)],
            deliver=False,
            invoice=False,
        )
        self._validate(sale.picking_ids, {self.product: first_delivery})
        sale._create_invoices().action_post()
        self._validate(sale.picking_ids.filtered(lambda p: p.state != "done"))
        return sale

    def _validate(self, pickings, quantities=None, backorder=True):
        """Validate pickings; quantities maps product -> done quantity."""
        for move in pickings.move_ids:
            move.quantity = (quantities or {}).get(
                move.product_id, move.product_uom_qty
            )
            move.picked = True
        context = {"skip_backorder": True}
        if not backorder:
            context["picking_ids_not_to_backorder"] = pickings.ids
        return pickings.with_context(**context).button_validate()

    def _create_return(self, sale, lines, user=None, **values):
        """lines: list of (sale_line, quantity)."""
        return_orders = self.env["return.order"]
        if user:
            return_orders = return_orders.with_user(user)
        return return_orders.create(
            {
                "sale_order_id": sale.id,
                "line_ids": [
                    Command.create(
                        {
                            "sale_line_id": sale_line.id,
                            "quantity": qty,
                            "reason_id": self.reason.id,
                        }
                    )
                    for sale_line, qty in lines
                ],
                **values,
            }
        )

    def _taxed_sale(self):
        """5 units at 100 with the 15 % sale tax, delivered and invoiced."""
        return self._create_sale([(self.product, 5.0, 100.0, 0.0, self.tax_sale_a)])

    def _received_return(self, sale, quantity):
        """A return of the sale's only line, approved and received."""
        return self._approve_and_receive(
            self._create_return(sale, [(sale.order_line, quantity)])
        )

    def _approve_and_receive(self, order, quantities=None, backorder=True):
        order.action_submit()
        order.with_user(self.manager).action_approve()
        self._validate(order.return_picking_ids, quantities, backorder)
        return order

    def _quant_qty(self, product, location):
        return sum(
            self.env["stock.quant"]
            .search(
                [("product_id", "=", product.id), ("location_id", "=", location.id)]
            )
            .mapped("quantity")
        )

    def _open_wizard_form(self, sale, user=None):
        env = self.env(user=user) if user else self.env
        action = sale.with_env(env).action_open_return_wizard()
        return Form(env[action["res_model"]].with_context(**action["context"]))

    def _filled_wizard(self, sale, quantity, reason=None, user=None):
        """The sale's return wizard, saved, with quantity (and reason) on its
        first line."""
        form = self._open_wizard_form(sale, user=user)
        with form.line_ids.edit(0) as line:
            line.quantity = quantity
            if reason:
                line.reason_id = reason
        return form.save()

    @classmethod
    def _create_lots(cls, product, names):
        return cls.env["stock.lot"].create(
            [{"name": name, "product_id": product.id} for name in names]
        )

    @classmethod
    def _add_lot_stock(cls, lot, quantity):
        cls.env["stock.quant"].with_context(inventory_mode=True).create(
            {
                "product_id": lot.product_id.id,
                "location_id": cls.stock_location.id,
                "lot_id": lot.id,
                "inventory_quantity": quantity,
            }
        ).action_apply_inventory()

    def _lot_quant_qty(self, lot, location):
        return sum(
            self.env["stock.quant"]
            .search([("lot_id", "=", lot.id), ("location_id", "=", location.id)])
            .mapped("quantity")
        )

    def _lot_return(self, sale, quantity, lots):
        return self.env["return.order"].create(
            {
                "sale_order_id": sale.id,
                "line_ids": [
                    Command.create(
                        {
                            "sale_line_id": sale.order_line.id,
                            "quantity": quantity,
                            "reason_id": self.reason.id,
                            "lot_ids": [Command.set(lots.ids)],
                        }
                    )
                ],
            }
        )
