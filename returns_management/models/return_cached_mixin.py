from odoo import api, models


class ReturnCachedMixin(models.AbstractModel):
    """Records read through ormcached lookups (policies per company, grade
    codes): any change to them clears Odoo's caches, in every worker."""

    _name = "return.cached.mixin"
    _description = "Returns: Records Behind a Cached Lookup"

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
