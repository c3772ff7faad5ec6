from collections import defaultdict

from markupsafe import Markup

from odoo import Command, fields, models

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

    def _return_credit_line_commands(self, items):
        """The lines of this invoice's credit note for (return line, invoice
        line, quantity, unit) items: the returned lines, each discount line
        for its share, and the invoice's receivable lines. Odoo recomputes
        taxes, due dates and cash rounding from them, as when it reverses;
        the receivable lines are copied because a new due-date line takes
        the account of the move's earlier one: the invoice's, not the
        customer's current account."""
        self.ensure_one()
        commands = [
            invoice_line._return_prepare_credit_line(line, qty, uom)
            for line, invoice_line, qty, uom in items
        ]
        credited = self._return_credited_amounts(items)
        commands += self._return_prorated_discount_commands(credited)
        commands += self._return_restocking_fee_commands(credited)
        commands += self._return_grade_deduction_commands(credited)
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
        at its policy's percentage of what that line credits."""
        commands = []
        for line, _invoice_line, amount in credited_amounts:
            policy = line.policy_id
            if not (line.reason_id.customer_fault and policy.restocking_fee_percent):
                continue
            fee = self.currency_id.round(amount * policy.restocking_fee_percent / 100)
            if fee:
                commands.append(
                    self._return_prepare_charge_line(
                        policy.restocking_fee_product_id,
                        -fee,
                        self.env._(
                            "Restocking fee (%(percent)s %%): %(product)s",
                            percent=policy.restocking_fee_percent,
                            product=line.product_id.display_name,
                        ),
                    )
                )
        return commands

    def _return_grade_deduction_commands(self, credited_amounts):
        """A deduction line per grade of damaged goods whose reason is the
        customer's fault, at the policy's percentage for that grade, for the
        share of the line's goods inspected with it; never more than what
        the line credits after its restocking fee."""
        commands = []
        for line, _invoice_line, amount in credited_amounts:
            policy = line.policy_id
            if not (line.reason_id.customer_fault and policy.deduction_ids):
                continue
            percents = {d.grade_id: d.deduction_percent for d in policy.deduction_ids}
            left = amount - amount * policy.restocking_fee_percent / 100
            for grade, share in line._qc_grade_shares().items():
                percent = percents.get(grade, 0.0)
                deduction = self.currency_id.round(
                    min(amount * share * percent / 100, left)
                )
                if self.currency_id.is_zero(deduction):
                    continue
                left -= deduction
                commands.append(
                    self._return_prepare_charge_line(
                        policy.restocking_fee_product_id,
                        -deduction,
                        self.env._(
                            "Deduction for %(grade)s (%(percent)s %%): %(product)s",
                            grade=grade.name,
                            percent=percent,
                            product=line.product_id.display_name,
                        ),
                    )
                )
        return commands

    def _return_prepare_charge_line(self, product, price_unit, name):
        """A line of this credit note for a product of ours (a fee), with
        that product's taxes and income account, mapped by the invoice's
        fiscal position: taxes follow the product."""
        self.ensure_one()
        fiscal_position = self.fiscal_position_id
        taxes = product.taxes_id._filter_taxes_by_company(self.company_id)
        accounts = product.product_tmpl_id.get_product_accounts(fiscal_position)
        return Command.create(
            {
                "display_type": "product",
                "product_id": product.id,
                "name": name,
                "quantity": 1.0,
                "product_uom_id": product.uom_id.id,
                "price_unit": price_unit,
                "tax_ids": [Command.set(fiscal_position.map_tax(taxes).ids)],
                "account_id": accounts["income"].id,
            }
        )

    def _return_shipping_refund_commands(self, credited_amounts):
        """The invoice's shipping lines, for the share of the goods that come
        back, or what is left of them when everything has come back, when a
        returned line's policy refunds shipping."""
        if not any(line.policy_id.refund_shipping for line, *_r in credited_amounts):
            return []
        shipping = self.invoice_line_ids.filtered(lambda l: l._return_is_shipping())
        if not shipping:
            return []
        goods_total = sum(self._return_goods_lines().mapped("price_subtotal"))
        credited = sum(amount for *_l, amount in credited_amounts)
        orders = credited_amounts[0][0].order_id.sale_order_id
        everything_back = orders._return_all_goods_back()
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

    def _return_rebuild_lines(self, items):
        """This draft credit note's lines replaced by those its invoice gives
        for items, its receivable lines kept (Odoo updates their amounts)."""
        self.ensure_one()
        old_lines = self.invoice_line_ids.filtered(
            lambda l: l.display_type == "product"
        )
        commands = self.reversed_entry_id._return_credit_line_commands(items)
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
