from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

PENDING_STATES = ("draft", "to_approve")


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    return_line_ids = fields.One2many("return.order.line", "sale_line_id")
    return_qty_returnable = fields.Float(
        string="Returnable Quantity",
        digits="Product Unit of Measure",
        compute="_compute_return_qty_returnable",
        help="Delivered quantity not yet returned nor requested in an open return, "
        "in the unit of measure of the sale line.",
    )

    @api.depends(
        "move_ids.state",
        "move_ids.quantity",
        "move_ids.product_uom_qty",
        "return_line_ids.state",
        "return_line_ids.quantity",
        "return_line_ids.product_uom_id",
    )
    def _compute_return_qty_returnable(self):
        remaining = self._return_remaining_product_qty()
        kits = self._return_kit_lines()
        for line in self:
            if line in kits:
                line.return_qty_returnable = 0.0
                continue
            line.return_qty_returnable = line.product_id.uom_id._compute_quantity(
                max(remaining[line.id], 0.0), line.product_uom
            )

    def _return_ordered_amounts(self):
        """{sale line: untaxed amount as ordered}, adding back what returns
        took off the ordered quantity (products invoiced on ordered
        quantities)."""
        amounts = {}
        for line in self:
            lowered = sum(
                return_line.product_uom_id._compute_quantity(
                    return_line.qty_unordered, line.product_uom, round=False
                )
                for return_line in line.return_line_ids
            )
            amounts[line] = line.price_subtotal + line.price_reduce_taxexcl * lowered
        return amounts

    @api.depends("invoice_lines.move_id.state", "invoice_lines.quantity")
    def _compute_qty_invoiced(self):  # pylint: disable=missing-return
        """Count return credit notes in another unit as delivered quantities
        count their return moves: rounded half-up, not up.

        1 unit credited on a line of 2 dozens would otherwise read 0.09 dozen
        invoiced back against 0.08 delivered back, leaving 0.01 dozen "to
        invoice" that the next invoicing would bill.
        """
        super()._compute_qty_invoiced()
        for line in self:
            for credit_line in line._get_invoice_lines():
                if (
                    credit_line.return_order_line_id
                    and credit_line.parent_state != "cancel"
                    and credit_line.product_uom_id != line.product_uom
                ):
                    uom, qty = credit_line.product_uom_id, credit_line.quantity
                    rounded_up = uom._compute_quantity(qty, line.product_uom)
                    half_up = uom._compute_quantity(
                        qty, line.product_uom, rounding_method="HALF-UP"
                    )
                    line.qty_invoiced += rounded_up - half_up

    def _return_kit_lines(self):
        """Lines selling a kit (a phantom bill of materials, with mrp).

        Their moves carry the components, not the kit, so the kit's delivered
        quantity cannot be read from them: kits are not returnable until they
        are supported per component.
        """
        kits = self.browse()
        if "mrp.bom" not in self.env:
            return kits
        # only tells whether a product is a kit: returns users need no
        # manufacturing rights to read that
        # sudo is safe: a read-only lookup of whether the product is a kit
        boms = self.env["mrp.bom"].sudo()  # see above
        for company, lines in self.grouped("company_id").items():
            kit_boms = boms._bom_find(
                lines.product_id, company_id=company.id, bom_type="phantom"
            )
            kits |= lines.filtered(lambda line: kit_boms.get(line.product_id))
        return kits

    def _return_delivered_moves(self):
        """Done moves that brought these lines' goods to the customer."""
        return self.move_ids.filtered(
            lambda m: (
                m.state == "done"
                and m.location_dest_id.usage == "customer"
                and m.location_id.usage != "customer"
                and not m.scrapped
                # as sale_stock: goods sent back after a return count only
                # when they update the sale order
                and (not m.origin_returned_move_id or m.to_refund)
            )
        )

    def _return_incoming_moves(self):
        """Moves bringing these lines' goods back, done or still expected."""
        return self.move_ids.filtered(
            lambda m: (
                m.state != "cancel"
                and m.location_id.usage == "customer"
                and m.origin_returned_move_id
            )
        )

    def _return_qty_at_customer(self):
        """Delivered minus what came back (done), in the product's unit."""
        self.ensure_one()
        uom = self.product_id.uom_id
        delivered = sum(
            move.product_uom._compute_quantity(move.quantity, uom)
            for move in self._return_delivered_moves()
        )
        returned = sum(
            move.product_uom._compute_quantity(move.quantity, uom)
            for move in self._return_incoming_moves()
            if move.state == "done"
        )
        return delivered - returned

    def _return_remaining_product_qty(self):
        """Delivered minus returned, open returns and pending return requests.

        Core's own return pickings count too, whether they update the sale
        order or not. Quantities are in the product's unit of measure.
        """
        remaining = self._return_unclaimed_product_qty()
        for return_line in self._return_pending_lines():
            remaining[return_line.sale_line_id.id] -= return_line._product_qty()
        return remaining

    def _return_pending_lines(self):
        """Return requests on these lines not decided yet (draft or submitted)."""
        return self.env["return.order.line"].search(
            [("sale_line_id", "in", self.ids), ("state", "in", PENDING_STATES)]
        )

    def _return_unclaimed_product_qty(self):
        """{sale line id: delivered minus returned and open returns}, in the
        product's unit: what no return receipt claims yet."""
        remaining = defaultdict(float)
        for line in self:
            uom = line.product_id.uom_id
            for move in line._return_delivered_moves():
                remaining[line.id] += move.product_uom._compute_quantity(
                    move.quantity, uom
                )
            for move in line._return_incoming_moves():
                qty = move.quantity if move.state == "done" else move.product_uom_qty
                remaining[line.id] -= move.product_uom._compute_quantity(qty, uom)
        return remaining

    def _return_lock_for_update(self):
        """Make concurrent return requests on the same lines conflict.

        A no-op UPDATE makes the second of two racing transactions fail with a
        serialization error; Odoo retries it and it then sees the first one's
        return lines, so both together can never exceed the returnable quantity.
        """
        self.flush_recordset()
        self.env.cr.execute(
            "UPDATE sale_order_line SET write_date = write_date WHERE id IN %s",
            [tuple(self.ids)],
        )

    def _return_posted_invoice_lines(self):
        """Posted customer invoice lines of this sale line, refused while a
        draft invoice would make the invoiced quantity uncertain."""
        self.ensure_one()
        invoice_lines = self.invoice_lines.filtered(
            lambda l: l.move_id.move_type == "out_invoice"
        )
        drafts = invoice_lines.filtered(lambda l: l.parent_state == "draft")
        if drafts:
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s of %(product)s is still a draft: post or "
                    "delete it before crediting the return.",
                    invoice=drafts.move_id[:1].display_name,
                    product=self.product_id.display_name,
                )
            )
        return invoice_lines.filtered(lambda l: l.parent_state == "posted")
