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
