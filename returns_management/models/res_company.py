from odoo import api, models


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # sudo is safe: it only creates the catch-all policy of these new
        # companies, a default any company needs whoever creates it
        policies = self.env["return.policy"].sudo()  # see above
        policies._create_default_policies(companies)
        return companies

    def _return_give_fee_product_default_tax(self):
        """The restocking fee product gets the default sale tax of these
        companies, as a product created by hand in them would, when it has
        no tax of theirs: it is created before any chart of accounts on a
        fresh install, and Odoo's charts only add their tax to products
        taxed in another company."""
        product = self.env.ref(
            "returns_management.product_restocking_fee", raise_if_not_found=False
        )
        if not product:
            return
        # sudo is safe: only our fee product is given the companies' default
        # sale tax, at install or when a company's chart of accounts is loaded
        template = product.product_tmpl_id.sudo()  # see above
        for company in self.sudo():  # see above
            tax = company.account_sale_tax_id
            if tax and not template.taxes_id.filtered(
                lambda t, company=company: t.company_id == company
            ):
                template.taxes_id += tax
