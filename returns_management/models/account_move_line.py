from odoo import Command, fields, models
from odoo.tools import float_compare, float_round


class AccountMoveLine(models.Model):
    _name = "account.move.line"
    _inherit = ["account.move.line", "return.protected.mixin"]
    # the return line a credit note line refunds: its refunded quantity
    _protected_fields = ("return_order_line_id",)

    return_order_line_id = fields.Many2one(
        "return.order.line", index="btree_not_null", readonly=True, copy=False
    )

    def _return_remaining_credit_qty(self):
        """Quantity of this invoice line not yet credited by its credit notes."""
        self.ensure_one()
        credits = self.sale_line_ids.invoice_lines.filtered(
            lambda l: (
                l.move_id.move_type == "out_refund"
                and l.move_id.reversed_entry_id == self.move_id
                and l.parent_state != "cancel"
                and l.product_id == self.product_id
            )
        )
        credited = sum(
            l.product_uom_id._compute_quantity(
                l.quantity, self.product_uom_id, round=False
            )
            for l in credits
        )
        return self.quantity - credited

    def _return_credit_qty_uom(self, quantity, uom):
        """The quantity and unit to credit ``quantity`` ``uom`` of this line in.

        The invoice line's own unit when the quantity is exact in it (12
        units of a line in dozens: 1 dozen), else the given unit, so that 1
        unit of a line in dozens is credited as 1 unit, not 0.09 dozen.
        """
        self.ensure_one()
        invoice_qty = uom._compute_quantity(quantity, self.product_uom_id, round=False)
        digits = self._fields["quantity"].get_digits(self.env)[1]
        exact = float_round(invoice_qty, precision_digits=digits)
        if not float_compare(exact, invoice_qty, precision_digits=10):
            return exact, self.product_uom_id
        return quantity, uom

    def _return_prepare_credit_line(self, return_line, quantity, uom):
        """This invoice line as its credit note copies it, for that quantity."""
        self.ensure_one()
        vals = self.with_context(include_business_fields=True).copy_data(
            {
                "quantity": quantity,
                "product_uom_id": uom.id,
                "price_unit": self.product_uom_id._compute_price(self.price_unit, uom),
                "return_order_line_id": return_line.id,
            }
        )[0]
        return Command.create(vals)

    def _return_prepare_unlinked_line(self, price_unit):
        """This line (a discount, shipping) once, at that price, for the
        share of it that a return gives back.

        Not linked to its sale line: the order keeps it invoiced once; only
        the returned share is given back.
        """
        self.ensure_one()
        vals = self.copy_data(
            {
                "quantity": 1.0,
                "price_unit": price_unit,
                "sale_line_ids": [Command.clear()],
            }
        )[0]
        return Command.create(vals)

    def _return_uncredited_amount(self):
        """Untaxed amount of this line not yet given back by the credit notes
        of its invoice (lines of the same product)."""
        self.ensure_one()
        credited = self.search(
            [
                ("move_id.reversed_entry_id", "=", self.move_id.id),
                ("move_id.move_type", "=", "out_refund"),
                ("parent_state", "!=", "cancel"),
                ("product_id", "=", self.product_id.id),
                ("display_type", "=", "product"),
            ]
        )
        return self.price_subtotal - sum(credited.mapped("price_subtotal"))

    def _return_is_shipping(self):
        """Whether this invoice line bills the order's shipping."""
        self.ensure_one()
        return any(sale_line._is_delivery() for sale_line in self.sale_line_ids)
