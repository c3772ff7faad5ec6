from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models

from odoo.addons.account.models.account_move import TYPE_REVERSE_MAP

from .isolating import run_isolating_failures


class AccountMove(models.Model):
    """Credit notes of returns, derived from the invoices they reverse."""

    _inherit = "account.move"

    def _return_reverse(self, default_values_list):
        """What ``_reverse_moves`` does for invoices, for all at once.

        Core copies the invoices one by one; here every credit note is
        copied from its invoice with the same values (``copy_data``, so its
        date logic applies, plus the reversal's type, link and partner and
        the marketing fields sale's override adds) and created in one batch.
        """
        vals_list = []
        for invoice, default in zip(self, default_values_list, strict=True):
            default = {
                **default,
                "move_type": TYPE_REVERSE_MAP[invoice.move_type],
                "reversed_entry_id": invoice.id,
                "partner_id": invoice.partner_id.id,
            }
            if default.get("invoice_payment_term_id"):
                # core's reversal rewrites the lines once more after copying,
                # so the kept (early-payment "mixed") term sets the due date
                default.pop("invoice_date_due", None)
            for fname in ("campaign_id", "medium_id", "source_id"):
                if fname in invoice._fields:  # as sale's _reverse_moves
                    default[fname] = invoice[fname].id
            vals_list += invoice.with_context(include_business_fields=True).copy_data(
                default
            )
        return self.create(vals_list)

    def _return_reversal_defaults(self, reasons):
        """Default values of the credit note wizard, one dict per invoice
        (duplicates included) with its reason: its date, due date, payment
        term, journal and the customer's bank account."""
        today = fields.Date.context_today(self)
        partners = self.commercial_partner_id
        banks = self.env["res.partner.bank"].search(
            [
                ("partner_id", "in", partners.ids),
                ("company_id", "in", [*self.company_id.ids, False]),
            ],
            order="sequence DESC",
        )
        bank_of = {bank.partner_id: bank for bank in banks}
        defaults = []
        for invoice, reason in zip(self, reasons, strict=True):
            wizard = self.env["account.move.reversal"].new(
                {
                    "move_ids": [Command.set(invoice.ids)],
                    "journal_id": invoice.journal_id.id,
                    "date": today,
                    "reason": reason,
                    "company_id": invoice.company_id.id,
                }
            )
            defaults.append(
                {
                    **wizard._prepare_default_reversal(invoice),
                    "partner_bank_id": bank_of.get(
                        invoice.commercial_partner_id, banks.browse()
                    ).id,
                }
            )
        return defaults

    def _return_credit_line_commands(self, items, first_units=None):
        """The lines of this invoice's credit note for (return line, invoice
        line, quantity, unit) items: the returned lines, each discount line
        for its share, and the invoice's receivable lines. Odoo recomputes
        taxes, due dates and cash rounding from them, as when it reverses;
        the receivable lines are copied because a new due-date line takes
        the account of the move's earlier one: the invoice's, not the
        customer's current account.

        ``first_units`` maps (return line, invoice line) to how much of the
        return line was credited before this item (in its unit), for the
        grade of each credited unit; by default what its credit notes hold.
        """
        self.ensure_one()
        commands = [
            invoice_line._return_prepare_credit_line(line, qty, uom)
            for line, invoice_line, qty, uom in items
        ]
        credited = self._return_credited_amounts(items)
        commands += self._return_prorated_discount_commands(credited)
        commands += self._return_restocking_fee_commands(credited)
        commands += self._return_grade_deduction_commands(items, first_units or {})
        commands += self._return_shipping_refund_commands(credited)
        commands += [
            Command.create(line.copy_data()[0])
            for line in self.line_ids
            if line.display_type == "payment_term"
        ]
        return commands

    def _return_prorated_discount_commands(self, credited_amounts):
        """Each negative line of the invoice (a global discount, not a down
        payment) for the share of the goods credited, per set of taxes."""
        discounts = self.invoice_line_ids.filtered(
            lambda l: (
                l.display_type == "product"
                and l.price_subtotal < 0
                and not any(l.sale_line_ids.mapped("is_downpayment"))
            )
        )
        if not discounts:
            return []
        goods = self._return_goods_lines()
        credited = defaultdict(float)
        for _line, invoice_line, amount in credited_amounts:
            credited[invoice_line.tax_ids] += amount
        commands = []
        for discount in discounts:
            base = sum(
                goods.filtered(lambda l: l.tax_ids == discount.tax_ids).mapped(
                    "price_subtotal"
                )
            )
            share = credited[discount.tax_ids] / base if base else 0.0
            if share:
                price = self.currency_id.round(discount.price_unit * share)
                commands.append(discount._return_prepare_unlinked_line(price))
        return commands

    def _return_auto_post(self):
        """Post credit notes a return policy posts automatically; one that
        cannot be posted stays a draft, with the reason on its return."""
        # sudo is safe: the policy (set by return managers) posts the credit
        # notes its return just created, for a user who may lack billing rights
        moves = self.sudo()  # see above
        failed = run_isolating_failures(
            moves, lambda batch: batch.action_post(), isolate_single=True
        )
        for move, error in failed.items():
            move.return_order_id._auto_credit_failed(
                self.env._(
                    "Credit note %(move)s could not be posted automatically: %(error)s",
                    move=move.display_name,
                    error=error,
                )
            )

    def _return_log_reversal(self):
        """Log the credit notes on their invoices, as the wizard does, and on
        their returns, one batch each."""
        invoice_bodies = {
            invoice.id: self.env._(
                "This entry has been reversed by %(moves)s.",
                moves=Markup(", ").join(m._get_html_link() for m in moves),
            )
            for invoice, moves in self.grouped("reversed_entry_id").items()
        }
        reversal_bodies = {
            move.id: self.env._(
                "This entry has been reversed from %(invoice)s.",
                invoice=move.reversed_entry_id._get_html_link(),
            )
            for move in self
        }
        return_bodies = {
            order.id: self.env._(
                "Credit notes created: %(moves)s",
                moves=Markup(", ").join(m._get_html_link() for m in moves),
            )
            for order, moves in self.grouped("return_order_id").items()
        }
        # sudo is safe: notes only, logged as the wizard does, for a returns
        # user who may lack billing rights; write access to the returns was
        # checked by the caller
        moves = self.env["account.move"].sudo()  # see above
        moves.browse(list(invoice_bodies))._message_log_batch(invoice_bodies)
        moves.browse(self.ids)._message_log_batch(reversal_bodies)
        orders = self.return_order_id.sudo()  # see above
        orders._message_log_batch(return_bodies)

    def _return_goods_lines(self):
        """The invoice's lines of goods: positive, not shipping."""
        return self.invoice_line_ids.filtered(
            lambda l: (
                l.display_type == "product"
                and l.price_subtotal > 0
                and not l._return_is_shipping()
            )
        )

    def _return_credited_amounts(self, items):
        """(return line, invoice line, untaxed amount credited) per item."""
        return [
            (
                line,
                invoice_line,
                invoice_line.price_subtotal
                * uom._compute_quantity(qty, invoice_line.product_uom_id, round=False)
                / invoice_line.quantity,
            )
            for line, invoice_line, qty, uom in items
        ]

    def _return_restocking_fee_commands(self, credited_amounts):
        """A fee line per returned line whose reason is the customer's fault,
        at its policy's percentage of the untaxed value of the goods that
        line credits (whether or not the fee product's taxes are included
        in its price)."""
        commands = []
        for line, _invoice_line, amount in credited_amounts:
            terms = line._policy_terms()
            if not (line.reason_id.customer_fault and terms.fee_percent):
                continue
            fee = self.currency_id.round(amount * terms.fee_percent / 100)
            if fee:
                commands.append(
                    self._return_prepare_charge_line(
                        terms.fee_product,
                        -fee,
                        self.env._(
                            "Restocking fee (%(percent)s %%): %(product)s",
                            percent=terms.fee_percent,
                            product=line.product_id.display_name,
                        ),
                    )
                )
        return commands

    def _return_grade_deduction_commands(self, items, first_units):
        """A deduction line per grade of damaged goods whose reason is the
        customer's fault, at the policy's percentage for that grade, for the
        credited units inspected with it (units are credited in the order
        they were inspected); never more than what the item credits after
        its restocking fee. The deduction gives back less of the goods: it
        carries their taxes and income account."""
        commands = []
        for line, invoice_line, amount in self._return_credited_amounts(items):
            terms = line._policy_terms()
            if not (line.reason_id.customer_fault and terms.deductions):
                continue
            qty = self._return_item_line_qty(line, invoice_line, items)
            if not qty:
                continue
            first = first_units.get(
                (line, invoice_line), line.qty_refunded + line.qty_credit_draft
            )
            left = amount - amount * terms.fee_percent / 100
            for grade, graded in line._qc_graded_units(first, qty).items():
                percent = terms.deductions.get(grade.id, 0.0)
                deduction = self.currency_id.round(
                    min(amount * graded / qty * percent / 100, left)
                )
                if self.currency_id.is_zero(deduction):
                    continue
                left -= deduction
                commands.append(
                    self._return_prepare_charge_line(
                        self.env["product.product"],
                        -deduction,
                        self.env._(
                            "Deduction for %(grade)s (%(percent)s %%): %(product)s",
                            grade=grade.name,
                            percent=percent,
                            product=line.product_id.display_name,
                        ),
                        taxes=invoice_line.tax_ids,
                        account=invoice_line.account_id,
                    )
                )
        return commands

    @api.model
    def _return_item_line_qty(self, line, invoice_line, items):
        """The quantity of ``line`` credited on ``invoice_line``, in the
        return line's unit."""
        return sum(
            uom._compute_quantity(qty, line.product_uom_id, round=False)
            for item_line, item_invoice_line, qty, uom in items
            if item_line == line and item_invoice_line == invoice_line
        )

    def _return_prepare_charge_line(
        self, product, untaxed, name, taxes=None, account=None
    ):
        """A line of this credit note worth ``untaxed`` before taxes: a fee
        (a product of ours, with its taxes and income account in the credit
        note's company, mapped by the invoice's fiscal position) or, given
        taxes and account, a deduction. Where taxes are included in the
        price, the price is set so that the line's untaxed amount is
        ``untaxed``."""
        self.ensure_one()
        company = self.company_id
        product = product.with_company(company)
        fiscal_position = self.fiscal_position_id
        if taxes is None:
            taxes = fiscal_position.map_tax(
                product.taxes_id._filter_taxes_by_company(company)
            )
        if account is None:
            account = product.product_tmpl_id.get_product_accounts(fiscal_position)[
                "income"
            ]
        return Command.create(
            {
                "display_type": "product",
                "product_id": product.id,
                "name": name,
                "quantity": 1.0,
                "product_uom_id": product.uom_id.id,
                "price_unit": self._return_price_of_untaxed(untaxed, taxes, product),
                "tax_ids": [Command.set(taxes.ids)],
                "account_id": account.id,
            }
        )

    @api.model
    def _return_price_of_untaxed(self, untaxed, taxes, product):
        """The unit price whose untaxed amount is ``untaxed`` under these
        taxes: the taxes included in the price added (as Odoo adapts a price
        from one set of taxes to another)."""
        if not any(taxes.mapped("price_include")):
            return untaxed
        details = taxes._get_tax_details(
            untaxed,
            1.0,
            rounding_method="round_globally",
            product=product or None,
            special_mode="total_excluded",
        )
        return untaxed + sum(
            tax_data["tax_amount"]
            for tax_data in details["taxes_data"]
            if tax_data["tax"].price_include
        )

    def _return_shipping_refund_commands(self, credited_amounts):
        """The invoice's shipping lines, for the share of the goods that come
        back under a policy that refunds shipping, or what is left of them
        when everything has come back under such policies."""
        refunding = [
            (line, amount)
            for line, _invoice_line, amount in credited_amounts
            if line._policy_terms().refund_shipping
        ]
        if not refunding:
            return []
        shipping = self.invoice_line_ids.filtered(lambda l: l._return_is_shipping())
        if not shipping:
            return []
        goods_total = sum(self._return_goods_lines().mapped("price_subtotal"))
        credited = sum(amount for _line, amount in refunding)
        orders = refunding[0][0].order_id.sale_order_id
        everything_back = (
            orders._return_all_goods_back()
            and orders._return_lines_all_refund_shipping()
        )
        commands = []
        for shipping_line in shipping:
            left = shipping_line._return_uncredited_amount()
            if everything_back:
                price = left
            else:
                share = credited / goods_total if goods_total else 0.0
                price = min(
                    self.currency_id.round(shipping_line.price_subtotal * share), left
                )
            if not self.currency_id.is_zero(price):
                commands.append(shipping_line._return_prepare_unlinked_line(price))
        return commands

    def _return_rebuild_lines(self, items, first_units=None):
        """This draft credit note's lines replaced by those its invoice gives
        for items, its receivable lines kept (Odoo updates their amounts)."""
        self.ensure_one()
        old_lines = self.invoice_line_ids.filtered(
            lambda l: l.display_type == "product"
        )
        commands = self.reversed_entry_id._return_credit_line_commands(
            items, first_units
        )
        self.write(
            {
                "line_ids": [Command.delete(line.id) for line in old_lines]
                + [
                    command
                    for command in commands
                    if command[2].get("display_type") != "payment_term"
                ]
            }
        )
