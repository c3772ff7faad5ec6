from odoo import api, models
from odoo.exceptions import UserError


class ReturnProtectedMixin(models.AbstractModel):
    """Fields that only the actions set: computed from other fields,
    recorded by an action, or deciding what a return gets (its approval,
    its refund, where its goods go), and the links to the return.

    create() and write() refuse them to every user, managers included, and
    so do import (load) and copy, which go through create(); the context
    cannot lift this, since RPC clients send any context. The actions write
    them through _set_protected once they have checked their own rules.

    Each class extending a model lists the protected fields it adds in
    ``_protected_fields``; the model protects the union of them.
    """

    _name = "return.protected.mixin"
    _description = "Fields Set by the Actions Only"

    _protected_fields = ()

    @api.model
    def _protected_field_names(self):
        """The protected fields of this model, read once per registry."""
        cls = type(self)
        names = cls.__dict__.get("_protected_field_set")
        if names is None:
            names = frozenset(
                name
                for klass in cls.__mro__
                for name in klass.__dict__.get("_protected_fields", ())
            )
            cls._protected_field_set = names
        return names

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                self._check_protected_create_vals(vals)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._check_protected_write_vals(vals)
        return super().write(vals)

    def copy_data(self, default=None):
        """A copy starts without what the actions recorded on the original;
        protected values given in default are refused by create()."""
        vals_list = super().copy_data(default=default)
        dropped = self._protected_field_names() - set(default or ())
        for vals in vals_list:
            for name in dropped.intersection(vals):
                del vals[name]
        return vals_list

    @api.model
    def _check_protected_create_vals(self, vals):
        """A new record starts without decision: a protected field may only
        be given its empty or default value, and a computed one nothing."""
        protected = self._protected_field_names()
        forced = [
            name
            for name in vals
            if name in protected
            and not self._is_initial_value(name, vals[name])
            and not self._is_consistent_link(name, vals[name], vals)
        ]
        if forced:
            self._raise_protected_fields(forced)

    @api.model
    def _is_consistent_link(self, name, value, vals):
        """Whether a new record may carry this link to a return because the
        rest of vals already ties it to that return (e.g. a move of a
        receipt of the return); models with such links override it."""
        return False

    @api.model
    def _is_initial_value(self, name, value):
        field = self._fields[name]
        if field.compute:
            return False
        if not value:
            return True
        return callable(field.default) and value == field.default(self)

    def _check_protected_write_vals(self, vals):
        protected = self._protected_field_names()
        forced = [name for name in vals if name in protected]
        if forced:
            self._raise_protected_fields(forced)

    @api.model
    def _raise_protected_fields(self, names):
        labels = ", ".join(
            self._fields[name]._description_string(self.env) for name in names
        )
        raise UserError(
            self.env._(
                "%(fields)s of %(model)s cannot be set directly: they follow from "
                "its other fields and its actions (the buttons, such as Submit, "
                "Approve, Validate or Validate Inspection), which check the rules "
                "and keep its history.",
                fields=labels,
                model=self._description,
            )
        )

    def _set_protected(self, vals):
        """Write protected fields once the caller has checked the rules of
        its action (state, rights, policy).

        The write runs as superuser because write() refuses these fields to
        every user; the record rules are checked first, and sudo keeps the
        user (env.uid), so tracking and write_uid name the real author.
        """
        self.check_access("write")
        return self.sudo().write(vals)  # protected fields, checked by the caller

    def _set_protected_each(self, vals_by_record):
        """_set_protected with values of their own per record, the record
        rules checked once for all of them."""
        records = self.union(*vals_by_record)
        records.check_access("write")
        for record, vals in vals_by_record.items():
            record.sudo().write(vals)  # protected fields, checked by the caller
