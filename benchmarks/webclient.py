"""What Odoo 18's web client asks the server for one click, replayed through the ORM.

Used by the click paths of ``worker.py``. Each request the browser would send
(``/web/dataset/call_button``, ``web_read``, ``onchange``, ``web_save``,
``/mail/thread/data``, ``/mail/thread/messages``) runs in its own transaction:
a new cursor, a new ``Environment`` (empty record cache), the call, COMMIT, as
Odoo's HTTP layer does per request. Registry-level caches (``ormcache``: views,
access rights, rules, xml ids) stay warm from one request to the next, as in a
running server. What is *not* replayed: the HTTP layer itself (routing, session
check, JSON encoding) and what the browser caches after first use (``get_views``;
``/web/action/load`` is replayed for buttons of type "action": the browser's
cache key holds the record's id).

Field specifications are built from ``get_views`` as the web client builds them
(``web/static/src/views/fields/field.js`` ``parseFieldNode``,
``web/static/src/model/relational_model/utils.js`` ``extractFieldsFromArchInfo``
and ``getFieldsSpec``, ``form_controller.js``): every ``<field>`` of the arch
(including those the server adds for modifiers), many2one/reference fields with
their ``display_name``, x2many fields with the fields of their inline list (or
kanban) view, limit 40 and its ``default_order``, plus the fields of an inline
form as invisible; x2many widgets with fixed related fields (``many2many_tags``
...); widget field dependencies; ``display_name`` for a form with a control
panel (not for dialogs).
"""

import ast
import time

from lxml import etree

X2MANY = ("one2many", "many2many")
SUBVIEW_TAGS = ("list", "kanban", "form", "graph", "calendar", "pivot")


def _tags_related(options):
    names = ["display_name"]
    if options.get("color_field"):
        names.append(options["color_field"])
    return names


# x2many widgets that read a fixed list of fields of the related records
# (``relatedFields`` in the web client) instead of an inline view
WIDGET_RELATED_FIELDS = {
    "many2many_tags": _tags_related,
    "many2many_tags_avatar": _tags_related,
    "many2many_avatar_user": _tags_related,
    "many2many_avatar_employee": _tags_related,
    "many2many_tags_email": lambda options: [*_tags_related(options), "email"],
    "many2many_binary": lambda options: ["name", "mimetype"],
    "x2many_buttons": lambda options: ["display_name"],
}
# widgets that read other fields of the record (``fieldDependencies``)
WIDGET_DEPENDENCIES = {
    "image": ["write_date"],
    "signature": ["write_date"],
    "statusbar_duration": ["duration_tracking"],
    "analytic_distribution": ["analytic_precision"],
    "activity_exception": ["activity_exception_icon"],
    "list_activity": [
        "activity_exception_decoration",
        "activity_exception_icon",
        "activity_state",
        "activity_summary",
        "activity_type_icon",
        "activity_type_id",
    ],
    "kanban_activity": ["activity_exception_decoration", "activity_exception_icon"],
}
ALWAYS = ("True", "1")
# how a click's requests are reported: the action itself, the form reload,
# the chatter
PART_OF_REQUEST = {
    "call_button": "action",
    "action_load": "action",
    "onchange": "action",
    "web_save": "action",
    "web_read": "form",
    "thread_data": "chatter",
    "thread_messages": "chatter",
}
# what the chatter of a form asks on every (re)load (mail/static/src/chatter/
# web/chatter_patch.js requestList); messages come from /mail/thread/messages
CHATTER_REQUEST_LIST = [
    "activities",
    "attachments",
    "followers",
    "scheduledMessages",
    "suggestedRecipients",
]


def _combine_or(a, b):
    if a in ALWAYS or b in ALWAYS:
        return "True"
    if not a or a in ("False", "0"):
        return b or "False"
    if not b or b in ("False", "0"):
        return a
    return f"({a}) or ({b})"


class _Active:
    """One active field: what the spec builder needs (a subset of the web
    client's activeField)."""

    __slots__ = ("always_invisible", "context", "limit", "on_change", "order", "sub")

    def __init__(self):
        self.always_invisible = True
        self.on_change = False
        self.context = None
        self.sub = None  # (model, {name: _Active}) for x2many
        self.limit = None
        self.order = None


def _options(node):
    try:
        return ast.literal_eval(node.get("options") or "{}")
    except (ValueError, SyntaxError):
        return {}


def _static_context(text):
    """The keys of a field's context that need no record value, as the web
    client's evalPartialContext keeps them (the others are left out)."""
    if not text:
        return None
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(tree, ast.Dict):
        return None
    context = {}
    for key, value in zip(tree.keys, tree.values, strict=True):
        try:
            context[ast.literal_eval(key)] = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError):
            continue  # depends on the record or the context: left out
    return context or None


def _field_nodes(node):
    """<field> nodes of this view level (not inside a field's subview)."""
    for child in node:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "field":
            yield child
        else:
            yield from _field_nodes(child)


def _merge(active, name, invisible, on_change):
    entry = active.get(name)
    if entry is None:
        entry = active[name] = _Active()
    # a field is always invisible only if every occurrence is
    entry.always_invisible = entry.always_invisible and invisible in ALWAYS
    entry.on_change = entry.on_change or on_change
    return entry


def extract_active_fields(view_node, model, models):
    """{field name: _Active} for one view level, as extractFieldsFromArchInfo."""
    fields = models[model]["fields"]
    active = {}
    for node in _field_nodes(view_node):
        name = node.get("name")
        if name not in fields:
            continue
        invisible = _combine_or(
            node.get("invisible", "False"), node.get("column_invisible", "False")
        )
        entry = _merge(active, name, invisible, node.get("on_change") in ALWAYS)
        entry.context = entry.context or _static_context(node.get("context"))
        info = fields[name]
        widget = node.get("widget")
        if info["type"] in X2MANY:
            _x2many_subview(entry, node, info, widget, models)
        for dep in WIDGET_DEPENDENCIES.get(widget, ()):
            if dep in fields:
                _merge(active, dep, "False", False)
    return active


def _x2many_subview(entry, node, info, widget, models):
    relation = info["relation"]
    subviews = {
        child.tag: child
        for child in node
        if isinstance(child.tag, str) and child.tag in SUBVIEW_TAGS
    }
    related = WIDGET_RELATED_FIELDS.get(widget)
    if related is None and widget and "tags" in widget:
        related = _tags_related  # e.g. account's many2many_tax_tags
    mode = node.get("mode") or ""
    mode = "list" if "," in mode else mode
    if not mode:
        mode = (
            "list" if "list" in subviews else ("kanban" if "kanban" in subviews else "")
        )
    if mode in subviews and relation in models:
        sub = extract_active_fields(subviews[mode], relation, models)
        if "form" in subviews:
            # the inline form's fields are added as invisible (completeActiveFields)
            for name, extra in extract_active_fields(
                subviews["form"], relation, models
            ).items():
                if name not in sub:
                    extra.always_invisible = True
                    sub[name] = extra
        entry.sub = (relation, sub)
        entry.limit = int(subviews[mode].get("limit") or 40)
        entry.order = subviews[mode].get("default_order") or _handle_order(
            subviews[mode]
        )
    elif related:
        sub = {}
        for name in related(_options(node)):
            _merge(sub, name, "False", False)
        entry.sub = (relation, sub)
    elif entry.sub is None:
        entry.sub = (relation, {})


def _handle_order(view_node):
    """A list with a handle widget is sorted by it (list_arch_parser.js)."""
    for node in _field_nodes(view_node):
        if node.get("widget") == "handle":
            return f"{node.get('name')} ASC, id ASC"
    return None


def fields_spec(active, model, models, with_invisible=False):
    """The specification getFieldsSpec builds from active fields."""
    fields = models.get(model, {}).get("fields", {})
    spec = {}
    for name, entry in active.items():
        ftype = fields[name]["type"] if name in fields else "char"
        spec[name] = {}
        if ftype in X2MANY:
            if entry.sub is not None and (with_invisible or not entry.always_invisible):
                relation, sub = entry.sub
                spec[name]["fields"] = fields_spec(
                    sub, relation, models, with_invisible=with_invisible
                )
                if entry.context:
                    spec[name]["context"] = entry.context
                if entry.limit:
                    spec[name]["limit"] = entry.limit
                if entry.order:
                    spec[name]["order"] = entry.order
        elif ftype in ("many2one", "reference"):
            spec[name]["fields"] = {}
            if not entry.always_invisible:
                spec[name]["fields"]["display_name"] = {}
                if entry.context:
                    spec[name]["context"] = entry.context
    return spec


class FormView:
    """A form view as the web client loads it once (``get_views``, not measured).

    ``read_spec`` is what ``web_read``/``web_save`` send, ``onchange_spec``
    what ``onchange`` sends (invisible x2many content included), ``line_specs``
    the onchange spec of each x2many's records, ``on_change`` the field names
    whose edition triggers an onchange (per level: '' for the record itself,
    the x2many's name for its records).
    """

    def __init__(self, env, model, view_id=False, dialog=False):
        result = env[model].get_views([(view_id, "form")])
        arch = etree.fromstring(result["views"]["form"]["arch"])
        models = result["models"]
        self.model = model
        self.view_id = view_id
        self.models = models
        self.has_chatter = bool(
            arch.xpath(
                "//chatter | //div[contains(concat(' ', @class, ' '), ' oe_chatter ')]"
            )
        )
        active = extract_active_fields(arch, model, models)
        if not dialog:
            _merge(active, "display_name", "False", False)
        self.fields = models[model]["fields"]
        self.read_spec = fields_spec(active, model, models)
        self.onchange_spec = fields_spec(active, model, models, with_invisible=True)
        self.on_change = {"": {n for n, e in active.items() if e.on_change}}
        self.line_specs = {}
        for name, entry in active.items():
            if entry.sub is not None and self.fields[name]["type"] in X2MANY:
                relation, sub = entry.sub
                self.on_change[name] = {n for n, e in sub.items() if e.on_change}
                self.line_specs[name] = fields_spec(
                    sub, relation, models, with_invisible=True
                )

    def save_values(self, values):
        return to_write_values(values, self.model, self.models)

    def spec_size(self):
        def count(spec):
            return sum(1 + count(v.get("fields", {})) for v in spec.values())

        return count(self.read_spec)


def to_write_values(values, model, models):
    """Values returned by onchange()/web_read (read format) -> what web_save
    sends for them: readonly fields left out, many2one as ids, x2many commands
    with their records' values converted the same way."""
    fields = models.get(model, {}).get("fields", {})
    out = {}
    for name, value in values.items():
        info = fields.get(name)
        if info is None or name == "id" or info.get("readonly"):
            continue
        if info["type"] in ("many2one", "reference") and isinstance(value, dict):
            value = value.get("id") or False
        elif info["type"] in X2MANY and isinstance(value, list):
            value = [_command(c, info["relation"], models) for c in value]
        out[name] = value
    return out


def _command(command, relation, models):
    if not isinstance(command, (list, tuple)):
        return command
    command = list(command)
    if len(command) == 3 and isinstance(command[2], dict):
        if relation in models:
            command[2] = to_write_values(command[2], relation, models)
        else:
            command[2] = {
                k: (v.get("id") if isinstance(v, dict) else v)
                for k, v in command[2].items()
            }
    return command


class Shown:
    """A form displayed in the browser."""

    __slots__ = ("context", "model", "res_id", "values", "view")

    def __init__(self, model, res_id, values, context, view):
        self.model = model
        self.res_id = res_id
        self.values = values
        self.context = context
        self.view = view

    @property
    def view_id(self):
        return self.view.view_id


def _active(shown):
    """The context the web client adds to the action a button returns."""
    ctx = {"active_model": shown.model}
    if shown.res_id:
        ctx.update(active_id=shown.res_id, active_ids=[shown.res_id])
    return ctx


class Click:
    """Accumulated cost of the requests of one click."""

    __slots__ = ("cpu", "queries", "requests", "sql", "wall")

    def __init__(self):
        self.wall = self.cpu = self.sql = 0.0
        self.queries = self.requests = 0


class WebClient:
    """Sends the requests of a click, each in its own transaction, and meters them.

    ``label`` is set by ``click()``; every request made inside is added to it.
    ``seen`` plays the browser's message store: a thread already displayed is
    reloaded with ``after=<newest message id>``, a new one from the start.
    """

    def __init__(self, registry, uid, context, profiler=None):
        self.registry = registry
        self.uid = uid
        self.context = dict(context)
        self.profiler = profiler
        self.enabled = True
        self.current = None
        self.costs = {}  # (stage, click label) -> Click, in order of first use
        self.by_part = {}  # (stage, label) -> {part: [queries, seconds, requests]}
        self.seen = {}
        self.views = {}
        self._sql_time = 0.0

    # --- metering ---------------------------------------------------

    def sql_hook(self, cr, query, params, start, delay):
        self._sql_time += delay

    def click(self, stage, label):
        self.current = (stage, label)
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.current = None
        return False

    def request(self, kind, fn, *args):
        """Run fn(env, *args) in a transaction of its own, as one HTTP request."""
        measured = self.enabled and self.current is not None
        if self.profiler is not None and measured:
            stage, label = self.current
            self.profiler.step = f"{label} ({stage}) [{PART_OF_REQUEST[kind]}]"
        cr = self.registry.cursor()
        try:
            q0, s0 = cr.sql_log_count, self._sql_time
            c0, t0 = time.process_time(), time.perf_counter()
            env = self._env(cr)
            result = fn(env, *args)
            cr.commit()  # flush, precommit hooks (mail tracking), COMMIT
            t1, c1 = time.perf_counter(), time.process_time()
            queries = cr.sql_log_count - q0
        finally:
            cr.close()
            if self.profiler is not None:
                self.profiler.step = None
        if measured:
            cost = self.costs.setdefault(self.current, Click())
            cost.wall += t1 - t0
            cost.cpu += c1 - c0
            cost.sql += self._sql_time - s0
            cost.queries += queries
            cost.requests += 1
            part = self.by_part.setdefault(self.current, {})
            queries_ms = part.setdefault(PART_OF_REQUEST[kind], [0, 0.0, 0])
            queries_ms[0] += queries
            queries_ms[1] += t1 - t0
            queries_ms[2] += 1
        return result

    def _env(self, cr):
        from odoo import api

        return api.Environment(cr, self.uid, self.context)

    def unmeasured(self, fn, *args):
        """Something outside the clicks (reading ids to drive the next click)."""
        current, self.current = self.current, None
        try:
            return self.request("setup", fn, *args)
        finally:
            self.current = current

    # --- views (get_views: loaded once by the browser, not measured) -----

    def form(self, model, view_id=False, dialog=False):
        key = (model, view_id, dialog)
        if key not in self.views:
            self.views[key] = self.unmeasured(
                lambda env: FormView(env, model, view_id, dialog=dialog)
            )
        return self.views[key]

    # --- requests ---------------------------------------------------

    def _ctx(self, extra=None):
        ctx = dict(self.context)
        if extra:
            ctx.update(extra)
        return ctx

    def call_button(self, model, method, res_id, context=None):
        """/web/dataset/call_button"""

        def call(env):
            from odoo.api import call_kw

            from odoo.addons.web.controllers.utils import clean_action

            action = call_kw(
                env[model], method, [[res_id]], {"context": self._ctx(context)}
            )
            if isinstance(action, dict) and action.get("type") != "":
                return clean_action(action, env=env)
            return False

        return self.request("call_button", call)

    def load_action(self, xmlid, context):
        """/web/action/load, for a button of type "action" (the browser caches
        actions per context, and the context holds the record's id)."""

        def load(env):
            from odoo.addons.web.controllers.utils import clean_action

            env = env(context=self._ctx(context))
            action_id = env.ref(xmlid).id
            actions = env["ir.actions.actions"].browse([action_id]).sudo()
            action_type = actions.read(["type"])[0]["type"]
            action = env[action_type].sudo().browse([action_id])._get_action_dict()
            return clean_action(action, env=env)

        return self.request("action_load", load)

    def web_read(self, model, res_id, spec, context=None):
        def read(env):
            ctx = self._ctx(context)
            ctx["bin_size"] = True
            return env[model].with_context(ctx).browse(res_id).web_read(spec)[0]

        return self.request("web_read", read)

    def onchange(self, model, res_ids, values, field_names, spec, context=None):
        def onchange(env):
            records = env[model].with_context(self._ctx(context)).browse(res_ids)
            return records.onchange(values, field_names, spec)

        return self.request("onchange", onchange)

    def web_save(self, model, res_ids, values, spec, context=None):
        def save(env):
            records = env[model].with_context(self._ctx(context)).browse(res_ids)
            return records.web_save(values, spec)[0]

        return self.request("web_save", save)

    def chatter(self, model, res_id):
        """What the chatter of a form asks on every load: /mail/thread/data
        (activities, attachments, followers, ...) and /mail/thread/messages
        (newer messages only if the browser has shown this thread already)."""

        def thread_data(env):
            from odoo.addons.mail.tools.discuss import Store

            thread = env[model]._get_thread_with_access(res_id)
            return Store(
                thread, as_thread=True, request_list=CHATTER_REQUEST_LIST
            ).get_result()

        def thread_messages(env, after):
            from odoo.addons.mail.tools.discuss import Store

            domain = [
                ("res_id", "=", int(res_id)),
                ("model", "=", model),
                ("message_type", "!=", "user_notification"),
            ]
            res = env["mail.message"]._message_fetch(domain, after=after, limit=30)
            messages = res.pop("messages")
            messages.set_message_done()
            Store(messages, for_current_user=True).get_result()
            return max(messages.ids, default=after)

        self.request("thread_data", thread_data)
        after = self.seen.get((model, res_id))
        self.seen[model, res_id] = self.request(
            "thread_messages", thread_messages, after
        )

    def load_form(self, model, res_id, view_id=False, context=None):
        """Display (or reload) a record's form: web_read + its chatter."""
        view = self.form(model, view_id)
        values = self.web_read(model, res_id, view.read_spec, context)
        if view.has_chatter:
            self.chatter(model, res_id)
        return Shown(model, res_id, values, context or {}, view)

    def mark_seen(self, model, res_id):
        """The user navigated to this record (not measured): its thread is in
        the browser, so its next reload only asks for newer messages."""

        def newest(env):
            message = env["mail.message"].search(
                [("model", "=", model), ("res_id", "=", res_id)],
                order="id desc",
                limit=1,
            )
            return message.id or None

        self.seen[model, res_id] = self.unmeasured(newest)

    def open_action(self, action, origin, active_context):
        """What the web client does with a button's result.

        An act_window on one record opens its form (a dialog for a wizard,
        loaded with web_read if it exists, onchange if new); anything else
        (False, True, a client action such as do_multi_print) reloads the
        form the button was on. Returns the Shown form.
        """
        if isinstance(action, dict) and action.get("type") == "ir.actions.act_window":
            model = action["res_model"]
            res_id = action.get("res_id") or False
            context = action.get("context") or {}
            if isinstance(context, str):
                context = ast.literal_eval(context)
            context = {**active_context, **context}
            view_id = next(
                (vid for vid, vtype in action.get("views") or () if vtype == "form"),
                False,
            )
            if action.get("target") == "new":
                view = self.form(model, view_id, dialog=True)
                if res_id:
                    values = self.web_read(model, res_id, view.read_spec, context)
                else:
                    values = self.onchange(
                        model, [], {}, [], view.onchange_spec, context
                    )["value"]
                return Shown(model, res_id, values, context, view)
            if res_id:
                return self.load_form(model, res_id, view_id, context)
        return self.load_form(origin.model, origin.res_id, origin.view_id)

    def button(self, shown, method):
        """Click an object button of a displayed, saved record."""
        action = self.call_button(shown.model, method, shown.res_id, shown.context)
        return self.open_action(action, shown, _active(shown))

    def action_button(self, shown, xmlid):
        """Click a button of type "action" (`%(xmlid)d`) of a displayed record."""
        action = self.load_action(xmlid, {**shown.context, **_active(shown)})
        return self.open_action(action, shown, _active(shown))

    def save_and_button(self, shown, values, method):
        """Click a button of a dialog's new record: web_save, then the button."""
        view = shown.view
        saved = self.web_save(shown.model, [], values, view.read_spec, shown.context)
        created = Shown(shown.model, saved["id"], saved, shown.context, view)
        return self.button(created, method)

    def displayed(self, model, res_id, view_id=False):
        """A record the user navigated to (not measured)."""
        self.mark_seen(model, res_id)
        return Shown(model, res_id, {}, {}, self.form(model, view_id))

    # --- report -----------------------------------------------------

    def report(self, n):
        """Per click, per return: its cost and how it splits between the
        button (call_button, web_save, onchange, action load), the form's
        web_read and the chatter."""
        clicks = []
        for (stage, label), cost in self.costs.items():
            parts = {
                part: {
                    "queries_per_return": round(queries / n, 2),
                    "ms_per_return": round(1000 * seconds / n, 2),
                    "requests_per_return": round(requests / n, 2),
                }
                for part, (queries, seconds, requests) in self.by_part[
                    stage, label
                ].items()
            }
            clicks.append(
                {
                    "stage": stage,
                    "click": label,
                    "requests_per_return": round(cost.requests / n, 2),
                    "parts": parts,
                    "queries_per_return": round(cost.queries / n, 2),
                    "ms_per_return": round(1000 * cost.wall / n, 2),
                    "cpu_ms_per_return": round(1000 * cost.cpu / n, 2),
                    "sql_ms_per_return": round(1000 * cost.sql / n, 2),
                }
            )
        return clicks
