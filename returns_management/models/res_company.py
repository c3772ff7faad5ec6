from odoo import api, models


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # policies are company-bound: create them as the system does for
        # the company's other defaults, whoever creates the company
        self.env["return.policy"].sudo()._create_default_policies(companies)
        return companies
