from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):  # pylint: disable=missing-return
        super()._post_load_data(template_code, company, template_data)
        (company or self.env.company)._return_give_fee_product_default_tax()
