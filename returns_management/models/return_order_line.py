import math

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_round

PENDING_STATES = ("draft", "to_approve")
# what was requested: fixed once the return left the pending states
FROZEN_FIELDS = ("order_id", "sale_line_id", "quantity", "product_uom_id")
# computed from the sale line, the delivery and the documents of the return:
# what the policies judge and the credit notes refund (return.protected.mixin)
PROTECTED_LINE_FIELDS = (
    "state",
    "company_id",
    "partner_id",
    "product_id",
    "move_id",
    "price_unit",
    "discount",
    "tax_ids",
    "refund_amount",
    "goods_amount",
    "qty_received",
    "qty_refunded",
    "qty_credit_draft",
)


class ReturnOrderLine(models.Model):
    _name = "return.order.line"
    _inherit = ["return.protected.mixin"]
    _description = "Return Order Line"
    _protected_fields = PROTECTED_LINE_FIELDS
    _order = "order_id, sequence, id"
    _check_company_auto = True

    order_id = fields.Many2one(
        "return.order", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="order_id.company_id", store=True, index=True)
    state = fields.Selection(related="order_id.state", store=True)
    partner_id = fields.Many2one(related="order_id.partner_id", store=True)
    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Sale Order Line",
        required=True,
        index=True,
        check_company=True,
        domain="[('order_id', '=', parent.sale_order_id)]",
    )
    product_id = fields.Many2one(
        "product.product",
        compute="_compute_from_sale_line",
        store=True,
        precompute=True,
        index=True,
    )
    product_uom_id = fields.Many2one(
        "uom.uom",
        string="Unit of Measure",
        compute="_compute_from_sale_line",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    move_id = fields.Many2one(
        "stock.move",
        string="Original Delivery Move",
        compute="_compute_move_id",
        store=True,
        precompute=True,
    )
    quantity = fields.Float(
        digits="Product Unit of Measure", required=True, default=1.0
    )
    reason_id = fields.Many2one("return.reason", required=True, check_company=True)
    note = fields.Text()
    resolution = fields.Selection(
        [("refund", "Refund")],
        compute="_compute_resolution",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    currency_id = fields.Many2one(related="order_id.currency_id")
    price_unit = fields.Float(
        digits="Product Price",
        compute="_compute_price_unit",
        store=True,
        precompute=True,
    )
    discount = fields.Float(
        digits="Discount",
        compute="_compute_from_sale_line",
        store=True,
        precompute=True,
    )
    tax_ids = fields.Many2many(
        "account.tax",
        string="Taxes",
        compute="_compute_from_sale_line",
        store=True,
        precompute=True,
    )
    goods_amount = fields.Monetary(
        string="Goods Value",
        compute="_compute_goods_amount",
        store=True,
        help="Untaxed value of the returned goods at their sale price, before "
        "fees: what a policy's amount limit looks at.",
    )
    refund_amount = fields.Monetary(
        compute="_compute_refund_amount",
        store=True,
        help="Untaxed amount to refund: the goods' value minus, when the reason "
        "is the customer's fault, the policy's restocking fee and the "
        "deductions for the grades of inspected goods.",
    )
    return_move_ids = fields.One2many(
        "stock.move", "return_order_line_id", string="Return Moves"
    )
    credit_line_ids = fields.One2many(
        "account.move.line", "return_order_line_id", string="Credit Note Lines"
    )
    qty_received = fields.Float(
        digits="Product Unit of Measure", compute="_compute_qty_received", store=True
    )
    qty_refunded = fields.Float(
        digits="Product Unit of Measure",
        compute="_compute_qty_refunded",
        store=True,
        help="Quantity credited by posted credit notes.",
    )
    qty_credit_draft = fields.Float(
        string="To Be Credited",
        digits="Product Unit of Measure",
        compute="_compute_qty_refunded",
        store=True,
        help="Quantity on draft credit notes, not credited until they are posted.",
    )

    @api.depends("order_id.name", "product_id")
    def _compute_display_name(self):
        for line in self:
            line.display_name = (
                f"{line.order_id.name} - {line.product_id.display_name}"
                if line.order_id.name
                else line.product_id.display_name
            )

    @api.depends("sale_line_id")
    def _compute_from_sale_line(self):
        for line in self:
            sale_line = line.sale_line_id
            line.product_id = sale_line.product_id
            line.product_uom_id = sale_line.product_uom or line.product_uom_id
            line.discount = sale_line.discount
            line.tax_ids = sale_line.tax_id

    @api.depends("sale_line_id", "product_uom_id")
    def _compute_price_unit(self):
        """The sale line's price, per unit of the return line."""
        for line in self:
            sale_line = line.sale_line_id
            uom = line.product_uom_id or sale_line.product_uom
            line.price_unit = (
                sale_line.product_uom._compute_price(sale_line.price_unit, uom)
                if sale_line
                else 0.0
            )

    @api.depends("sale_line_id")
    def _compute_move_id(self):
        for line in self:
            moves = line.sale_line_id._return_delivered_moves()
            line.move_id = moves.sorted("date")[-1:] if moves else False

    @api.depends("reason_id")
    def _compute_resolution(self):
        for line in self:
            line.resolution = line.reason_id.default_resolution or "refund"

    @api.depends(
        "quantity",
        "product_uom_id",
        "sale_line_id.price_unit",
        "sale_line_id.discount",
        "sale_line_id.tax_id",
    )
    def _compute_goods_amount(self):
        """Priced in the sale line's unit, rounded once: 1 unit of a line
        sold at 1,200 per dozen is 100, whatever the unit's rounding; taxes
        included in the price are taken out."""
        for line in self:
            sale_line = line.sale_line_id
            qty = line.product_uom_id._compute_quantity(
                line.quantity, sale_line.product_uom or line.product_uom_id, round=False
            )
            net_price = sale_line.price_unit * (1 - sale_line.discount / 100.0)
            taxes = sale_line.tax_id
            if any(taxes.mapped("price_include")):
                amount = taxes.compute_all(
                    net_price,
                    currency=line.currency_id,
                    quantity=qty,
                    product=line.product_id,
                    partner=sale_line.order_id.partner_id,
                )["total_excluded"]
            else:
                amount = net_price * qty
            line.goods_amount = line.currency_id.round(amount)

    @api.depends("goods_amount")
    def _compute_refund_amount(self):
        """The goods' value; the policies take their fees off (see
        return_order_policy.py)."""
        for line in self:
            line.refund_amount = line.goods_amount

    @api.depends(
        "return_move_ids.state",
        "return_move_ids.quantity",
        "return_move_ids.location_id",
        "product_uom_id",
    )
    def _compute_qty_received(self):
        """What came from the customer, even beyond the approved quantity;
        goods sent back later are counted in qty_sent_back."""
        for line in self:
            line.qty_received = line._sum_move_quantities(line._done_receipt_moves())

    def _done_receipt_moves(self):
        """Done moves of the receipts that brought these lines' goods back."""
        return self.return_move_ids._return_customer_receipt_moves().filtered(
            lambda m: m.state == "done"
        )

    def _allocate_on_done_receipts(self, to_send, lot=None):
        """(receipt move, quantity in the product's unit) pairs that hold
        to_send (in the product's unit) of this line's goods (of lot, if
        given), newest receipt first, never more per move than received
        minus sent back."""
        self.ensure_one()
        rounding = self.product_id.uom_id.rounding
        done = self._done_receipt_moves()
        if lot:
            done = done.filtered(lambda m: lot in m.move_line_ids.lot_id)
        allocations = []
        for move in done.sorted("date", reverse=True):
            qty = min(move._return_remaining_product_qty(), to_send)
            if lot:
                qty = min(qty, move._return_remaining_lot_qty(lot))
            if float_compare(qty, 0, precision_rounding=rounding) <= 0:
                continue
            allocations.append((move, qty))
            to_send -= qty
        return allocations

    @api.depends(
        "credit_line_ids.parent_state", "credit_line_ids.quantity", "product_uom_id"
    )
    def _compute_qty_refunded(self):
        for line in self:
            line.qty_refunded = line._credited_qty("posted")
            line.qty_credit_draft = line._credited_qty("draft")

    def _credited_qty(self, move_state):
        """Quantity on this line's credit note lines in that state, in its unit."""
        self.ensure_one()
        return sum(
            aml.product_uom_id._compute_quantity(
                aml.quantity, self.product_uom_id, round=False
            )
            for aml in self.credit_line_ids
            if aml.parent_state == move_state
        )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_quantity_input(vals)
        lines = super().create(vals_list)
        lines.order_id._ensure_lines_editable()
        return lines

    def write(self, vals):
        self._check_quantity_input(vals)
        if any(field in vals for field in FROZEN_FIELDS):
            self.order_id._ensure_lines_editable()
        res = super().write(vals)
        if "order_id" in vals:
            self.order_id._ensure_lines_editable()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_processed_order(self):
        self.order_id.filtered(lambda o: o.state != "cancel")._ensure_lines_editable()

    @api.model
    def _check_quantity_input(self, vals):
        """Refuse a quantity the ORM would crash on or silently round."""
        if "quantity" not in vals:
            return
        quantity = vals["quantity"]
        digits = self._fields["quantity"].get_digits(self.env)[1]
        try:
            number = float(quantity)
        except (TypeError, ValueError):
            number = math.nan
        valid = not isinstance(quantity, bool) and math.isfinite(number)
        if valid:
            rounded = float_round(number, precision_digits=digits)
            valid = not float_compare(number, rounded, precision_digits=10)
        if not valid:
            raise UserError(
                self.env._(
                    "%(quantity)s is not a valid quantity to return: use a number "
                    "with at most %(digits)s decimals.",
                    quantity=quantity,
                    digits=digits,
                )
            )

    @api.model
    def _check_quantity_commands(self, commands):
        """Check the quantities of x2many commands before the ORM converts them."""
        for command in commands or ():
            if (
                isinstance(command, (list, tuple))
                and len(command) == 3
                and command[0] in (Command.CREATE, Command.UPDATE)
                and isinstance(command[2], dict)
            ):
                self._check_quantity_input(command[2])

    @api.constrains("quantity", "product_uom_id")
    def _check_quantity_valid(self):
        for line in self:
            rounding = line.product_uom_id.rounding
            if not math.isfinite(line.quantity) or line.quantity <= 0:
                raise ValidationError(
                    self.env._(
                        "The quantity to return of %(product)s must be a positive "
                        "number.",
                        product=line.product_id.display_name,
                    )
                )
            rounded = float_round(line.quantity, precision_rounding=rounding)
            if float_compare(rounded, line.quantity, precision_digits=10):
                raise ValidationError(
                    self.env._(
                        "The quantity to return of %(product)s has more decimals than "
                        "its unit of measure allows (%(rounding)s).",
                        product=line.product_id.display_name,
                        rounding=rounding,
                    )
                )
            if line.product_uom_id.category_id != line.product_id.uom_id.category_id:
                raise ValidationError(
                    self.env._(
                        "Unit of measure %(uom)s cannot be used for %(product)s.",
                        uom=line.product_uom_id.name,
                        product=line.product_id.display_name,
                    )
                )

    @api.constrains("sale_line_id", "order_id")
    def _check_sale_line_belongs_to_order(self):
        for line in self:
            if line.sale_line_id.order_id != line.order_id.sale_order_id:
                raise ValidationError(
                    self.env._(
                        "The line %(line)s does not belong to sale order %(sale)s.",
                        line=line.sale_line_id.display_name,
                        sale=line.order_id.sale_order_id.name,
                    )
                )
            if line.product_id.type != "consu":
                raise ValidationError(
                    self.env._(
                        "%(product)s is not a physical product and cannot be returned.",
                        product=line.product_id.display_name,
                    )
                )

    @api.constrains("quantity", "product_uom_id", "sale_line_id")
    def _check_returnable_quantity(self):
        pending = self.filtered(lambda line: line.state in PENDING_STATES)
        sale_lines = pending.sale_line_id
        if not sale_lines:
            return
        sale_lines._return_lock_for_update()
        remaining = sale_lines._return_remaining_product_qty()
        for sale_line in sale_lines:
            rounding = sale_line.product_id.uom_id.rounding
            if (
                float_compare(remaining[sale_line.id], 0, precision_rounding=rounding)
                < 0
            ):
                requested = pending.filtered(lambda l: l.sale_line_id == sale_line)
                raise ValidationError(
                    self.env._(
                        "You cannot return more %(product)s than was delivered and "
                        "not yet returned: at most %(qty)s %(uom)s.",
                        product=sale_line.product_id.display_name,
                        qty=remaining[sale_line.id] + requested._product_qty(),
                        uom=sale_line.product_id.uom_id.name,
                    )
                )

    def _product_qty(self):
        """Sum of the quantities of these lines, in the product's unit."""
        return sum(
            line.product_uom_id._compute_quantity(line.quantity, line.product_id.uom_id)
            for line in self
        )
