import random
from datetime import timedelta

from odoo import Command, api, fields, models

# Returns per month of the year: more after the holidays and the sales.
SEASON = (1.8, 1.2, 0.9, 0.8, 0.8, 0.9, 1.1, 0.9, 1.0, 1.0, 1.3, 1.6)
GRADES = (("as_new", 5), ("minor_defect", 3), ("major_defect", 1), ("wrong_item", 1))
# the stage each return is left at, and its weight
STAGES = (
    ("draft", 2),
    ("to_approve", 5),
    ("rejected", 4),
    ("approved", 6),
    ("received", 10),
    ("done", 73),
)
PRODUCTS = (
    ("Kitchen", "Blender", 79.0, 31.0),
    ("Kitchen", "Toaster", 45.0, 17.0),
    ("Kitchen", "Chef Knife", 59.0, 20.0),
    ("Textiles", "Linen Tablecloth", 39.0, 12.0),
    ("Textiles", "Bath Towel Set", 29.0, 9.0),
    ("Lighting", "Desk Lamp", 65.0, 26.0),
    ("Lighting", "LED Bulb Pack", 15.0, 4.0),
)
CUSTOMERS = (
    ("Delta Home Stores", "base.be"),
    ("Evergreen Living", "base.nl"),
    ("Fjord Interiors", "base.dk"),
    ("Gamma Kitchens", "base.de"),
    ("Helios Lighting", "base.fr"),
    ("Iberia Casa", "base.es"),
    ("Jura Haushalt", "base.ch"),
    ("Kestrel Supplies", "base.uk"),
    ("Lumen Boutique", "base.it"),
    ("Maple Retail", "base.ca"),
)


class ReturnOrder(models.Model):
    _inherit = "return.order"

    @api.model
    def _demo_create_history(self, count=200):
        """Demo: ``count`` returns of the last 12 months (and their sales,
        deliveries, invoices, receipts, inspections, credit notes), made in
        batches through the ORM, then back-dated with a seasonality."""
        rng = random.Random(19)
        # demo data runs as the superuser; elevated to create the products,
        # customers, stock and the whole flow of a year in one go
        env = (
            self.sudo()  # demo data: the whole flow, see above
            .with_context(
                tracking_disable=True, mail_create_nolog=True, mail_notrack=True
            )
            .env
        )
        products = self._demo_products(env)
        customers = self._demo_customers(env)
        # half as many sales again that nobody returns, for a realistic rate
        sales = self._demo_sales(env, rng, products, customers, count + count // 2)
        orders = self._demo_returns(env, rng, sales[:count])
        self._demo_back_date(env, rng, orders, sales[count:])
        return True

    def _demo_products(self, env):
        categories = {}
        products = env["product.product"]
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", env.company.id)], limit=1
        )
        for categ_name, name, price, cost in PRODUCTS:
            if categ_name not in categories:
                categories[categ_name] = env["product.category"].create(
                    {"name": categ_name}
                )
            products |= env["product.product"].create(
                {
                    "name": name,
                    "is_storable": True,
                    "list_price": price,
                    "standard_price": cost,
                    "invoice_policy": "delivery",
                    "categ_id": categories[categ_name].id,
                }
            )
        env["stock.quant"].with_context(inventory_mode=True).create(
            [
                {
                    "product_id": product.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "inventory_quantity": 10000.0,
                }
                for product in products
            ]
        ).action_apply_inventory()
        return products

    def _demo_customers(self, env):
        return env["res.partner"].create(
            [
                {
                    "name": name,
                    "is_company": True,
                    "country_id": env.ref(country).id,
                }
                for name, country in CUSTOMERS
            ]
        )

    def _demo_sales(self, env, rng, products, customers, count):
        sellers = env.ref("base.user_admin")
        sellers |= env.ref("base.user_demo", raise_if_not_found=False) or sellers
        sales = env["sale.order"].create(
            [
                {
                    "partner_id": rng.choice(customers).id,
                    "user_id": rng.choice(sellers).id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": rng.randint(10, 60),
                            }
                        )
                        for product in rng.sample(list(products), rng.randint(1, 2))
                    ],
                }
                for _i in range(count)
            ]
        )
        sales.action_confirm()
        pickings = sales.picking_ids
        pickings.action_assign()
        pickings.move_ids.picked = True
        pickings.with_context(skip_backorder=True, skip_sms=True).button_validate()
        sales._create_invoices().action_post()
        return sales

    def _demo_returns(self, env, rng, sales):
        reasons = env["return.reason"].search([], limit=20)
        stages = [stage for stage, _w in STAGES]
        weights = [weight for _s, weight in STAGES]
        vals_list = []
        for sale in sales:
            line = rng.choice(sale.order_line)
            vals_list.append(
                {
                    "sale_order_id": sale.id,
                    "line_ids": [
                        Command.create(
                            {
                                "sale_line_id": line.id,
                                "quantity": rng.randint(1, 3),
                                "reason_id": rng.choices(
                                    reasons, range(len(reasons), 0, -1)
                                )[0].id,
                            }
                        )
                    ],
                }
            )
        orders = env["return.order"].create(vals_list)
        target = {order: rng.choices(stages, weights)[0] for order in orders}

        def at(*names):
            return orders.filtered(lambda o: target[o] in names)

        at("to_approve", "rejected", "approved", "received", "done").action_submit()
        waiting = orders.filtered(lambda o: o.state == "to_approve")
        (at("rejected") & waiting).action_reject(reason="Outside the return window.")
        (at("approved", "received", "done") & waiting).action_approve()
        received = at("received", "done").filtered(lambda o: o.state == "approved")
        receipts = received.return_picking_ids
        receipts.move_ids.picked = True
        receipts.with_context(skip_backorder=True, skip_sms=True).button_validate()
        grades = [grade for grade, _w in GRADES]
        grade_weights = [weight for _g, weight in GRADES]
        for line in received.line_ids:
            line.qc_grade = rng.choices(grades, grade_weights)[0]
        received.filtered(lambda o: o.state == "received").action_validate_qc()
        to_credit = at("done").filtered(lambda o: o.state == "received")
        to_credit.action_create_credit_notes()
        to_credit.credit_note_ids.filtered(lambda m: m.state == "draft").action_post()
        return orders

    def _demo_back_date(self, env, rng, orders, kept_sales):
        """Spread the year over the returns: sale, delivery and each step
        of the return, at realistic delays; and over the kept sales."""
        now = fields.Datetime.now()
        months = [(now.month - offset - 1) % 12 for offset in range(12)]
        weights = [SEASON[month] for month in months]
        env.flush_all()
        cr = env.cr
        for order in orders:
            offset = rng.choices(range(12), weights)[0]
            # the last step this return took falls in the chosen month; the
            # steps before it at realistic delays (the later ones are not
            # written: they did not happen)
            elapsed = [timedelta(0)]
            for low, high in ((0.05, 3), (2, 10), (0.1, 2), (0.1, 3)):
                elapsed.append(elapsed[-1] + timedelta(days=rng.uniform(low, high)))
            last = {"approved": 1, "received": 3, "done": 4}.get(order.state, 0)
            anchor = now - timedelta(days=30 * offset + rng.uniform(0, 30))
            request, approved, received, inspected, credited = (
                anchor - elapsed[last] + step for step in elapsed
            )
            delivered = request - timedelta(days=rng.uniform(3, 20))
            sold = delivered - timedelta(days=rng.uniform(0.5, 3))
            self._demo_write_sale_dates(cr, order.sale_order_id, sold, delivered)
            cr.execute(
                "UPDATE return_order SET date_request = %s,"
                " date_approved = CASE WHEN date_approved IS NOT NULL THEN %s END,"
                " date_received = CASE WHEN date_received IS NOT NULL THEN %s END,"
                " date_done = CASE WHEN date_done IS NOT NULL THEN %s END"
                " WHERE id = %s",
                (request, approved, received, credited, order.id),
            )
            cr.execute(
                "UPDATE stock_move SET date = %s WHERE return_order_line_id = ANY(%s)"
                " AND state = 'done'",
                (received, order.line_ids.ids),
            )
            cr.execute(
                "UPDATE return_qc_line SET write_date = %s WHERE order_id = %s",
                (inspected, order.id),
            )
            cr.execute(
                "UPDATE account_move SET create_date = %s WHERE return_order_id = %s",
                (credited, order.id),
            )
        for sale in kept_sales:
            offset = rng.choices(range(12), weights)[0]
            delivered = now - timedelta(days=30 * offset + rng.uniform(0, 30))
            sold = delivered - timedelta(days=rng.uniform(0.5, 3))
            self._demo_write_sale_dates(cr, sale, sold, delivered)
        env.invalidate_all()

    def _demo_write_sale_dates(self, cr, sale, sold, delivered):
        cr.execute(
            "UPDATE sale_order SET date_order = %s WHERE id = %s", (sold, sale.id)
        )
        cr.execute(
            "UPDATE stock_move SET date = %s WHERE sale_line_id = ANY(%s)"
            " AND state = 'done' AND return_order_line_id IS NULL",
            (delivered, sale.order_line.ids),
        )
        cr.execute(
            "UPDATE stock_picking SET date_done = %s WHERE sale_id = %s"
            " AND return_order_id IS NULL",
            (delivered, sale.id),
        )
