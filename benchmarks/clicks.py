"""One return, click by click, as a user does it in the web client.

Each function drives one return of one sale order through a product's screens
with a ``webclient.WebClient``: every ``wc.click(stage, label)`` block is one
click of the user (the button's request, then the reload of the form it lands
on, with its chatter). Moving between documents (a smart button, a
breadcrumb) is not a step of the return and is not measured
(``wc.displayed``); neither is finding the ids the user sees on screen
(``wc.unmeasured``).

Stages group the clicks like the warm-cache table: create (the request
exists), approve (the receipt exists), receive (goods in), credit (credit note
posted).
"""

from webclient import Shown


def _lines_set(commands, **changes):
    """Change every line of a new record's x2many (create commands)."""
    out = []
    for command in commands:
        command = list(command)
        command[2] = {**command[2], **changes}
        out.append(command)
    return out


def _ids(wc, fn):
    return wc.unmeasured(fn)


# --- Odoo core, by hand ---------------------------------------------


def _core_ids(wc, so_id):
    def read(env):
        so = env["sale.order"].browse(so_id)
        delivery = so.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        invoice = so.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        return delivery.id, invoice.id

    return _ids(wc, read)


def _core_return_receipt(wc, so_id, qty):
    """Delivery → Return → quantity → Return → Validate. Returns the delivery id."""
    delivery_id, invoice_id = _core_ids(wc, so_id)
    delivery = wc.displayed("stock.picking", delivery_id)
    with wc.click("create", "delivery: Return (opens the wizard)"):
        wizard = wc.action_button(delivery, "stock.act_stock_return_picking")
    with wc.click("approve", "wizard: quantity 2, Return"):
        values = wizard.view.save_values(wizard.values)
        values["product_return_moves"] = _lines_set(
            values["product_return_moves"], quantity=qty, to_refund=True
        )
        receipt = wc.save_and_button(wizard, values, "action_create_returns")
    with wc.click("receive", "return receipt: Validate"):
        wc.button(receipt, "button_validate")
    return invoice_id


def core_reversal(wc, so_id, seed):
    invoice_id = _core_return_receipt(wc, so_id, seed["qty"])
    invoice = wc.displayed("account.move", invoice_id)
    with wc.click("credit", "invoice: Credit Note (opens the wizard)"):
        wizard = wc.button(invoice, "action_reverse")
    with wc.click("credit", "wizard: Reverse"):
        values = wizard.view.save_values(wizard.values)
        values["reason"] = "Customer return"
        refund = wc.save_and_button(wizard, values, "refund_moves")
    with wc.click("credit", "credit note: quantity 5 → 2, Save"):
        _edit_line_quantity(wc, refund, seed["product_id"], seed["qty"])
    with wc.click("credit", "credit note: Confirm"):
        wc.button(refund, "action_post")


def core_so(wc, so_id, seed):
    _core_return_receipt(wc, so_id, seed["qty"])
    order = wc.displayed("sale.order", so_id)
    with wc.click("credit", "sale order: Create Invoice (opens the wizard)"):
        wizard = wc.action_button(order, "sale.action_view_sale_advance_payment_inv")
    with wc.click("credit", "wizard: Create Draft"):
        values = wizard.view.save_values(wizard.values)
        values["advance_payment_method"] = "delivered"
        refund = wc.save_and_button(wizard, values, "create_invoices")
    with wc.click("credit", "credit note: Confirm"):
        wc.button(refund, "action_post")


def _edit_line_quantity(wc, move, product_id, qty):
    """Type the returned quantity on the product's line of a draft credit
    note, then Save: the line's onchange, the move's onchange (the line list
    changed), web_save, as the form does."""
    view = move.view
    lines = move.values["invoice_line_ids"]
    line = next(
        line for line in lines if (line.get("product_id") or {}).get("id") == product_id
    )
    line_changes = {"quantity": qty}
    if "quantity" in view.on_change.get("invoice_line_ids", ()):
        result = wc.onchange(
            "account.move.line",
            [line["id"]],
            {**line_changes, "move_id": {"id": move.res_id}},
            ["quantity"],
            view.line_specs["invoice_line_ids"],
            move.context,
        )
        line_changes.update(
            {k: v for k, v in result.get("value", {}).items() if k != "move_id"}
        )
    commands = [[1, line["id"], line_changes]]
    changes = {}
    if "invoice_line_ids" in view.on_change[""]:
        result = wc.onchange(
            "account.move",
            [move.res_id],
            {"invoice_line_ids": commands},
            ["invoice_line_ids"],
            view.onchange_spec,
            move.context,
        )
        changes = view.save_values(result.get("value", {}))
    changes.pop("invoice_line_ids", None)
    changes.update(view.save_values({"invoice_line_ids": commands}))
    saved = wc.web_save("account.move", [move.res_id], changes, view.read_spec)
    return Shown(move.model, move.res_id, saved, move.context, view)


# --- OCA rma_sale, one by one -----------------------------------------


def oca(wc, so_id, seed):
    order = wc.displayed("sale.order", so_id)
    with wc.click("create", "sale order: Create RMA (opens the wizard)"):
        wizard = wc.button(order, "action_create_rma")
    with wc.click("create", "wizard: operation Refund, quantity 2, Accept"):
        # the operation chosen on the wizard is copied to its lines (onchange)
        view = wizard.view
        result = wc.onchange(
            wizard.model,
            [wizard.res_id],
            {"operation_id": seed["oca_operation_id"]},
            ["operation_id"],
            view.onchange_spec,
            wizard.context,
        )
        values = view.save_values(result.get("value", {}))
        values["operation_id"] = seed["oca_operation_id"]
        values["line_ids"] = [
            [
                1,
                line["id"],
                {"quantity": seed["qty"], "operation_id": seed["oca_operation_id"]},
            ]
            for line in wizard.values["line_ids"]
        ]
        wc.web_save(
            wizard.model, [wizard.res_id], values, view.read_spec, wizard.context
        )
        rma = wc.button(wizard, "create_and_open_rma")

    def receipt_and_refund(env):
        record = env["rma"].browse(rma.res_id)
        return record.reception_move_id.picking_id.id

    receipt = wc.displayed("stock.picking", _ids(wc, receipt_and_refund))
    with wc.click("receive", "reception: Validate"):
        wc.button(receipt, "button_validate")
    rma = wc.displayed("rma", rma.res_id)
    with wc.click("credit", "RMA: To Refund"):
        wc.button(rma, "action_refund")
    refund_id = _ids(wc, lambda env: env["rma"].browse(rma.res_id).refund_id.id)
    refund = wc.displayed("account.move", refund_id)
    with wc.click("credit", "credit note: Confirm"):
        wc.button(refund, "action_post")


# --- returns_management, one by one ----------------------------------


def _rm_create_and_submit(wc, so_id, seed):
    order = wc.displayed("sale.order", so_id)
    with wc.click("create", "sale order: Return (opens the wizard)"):
        wizard = wc.button(order, "action_open_return_wizard")
    with wc.click("create", "wizard: quantity 2, reason, Submit Return"):
        values = wizard.view.save_values(wizard.values)
        values["line_ids"] = _lines_set(
            values["line_ids"], quantity=seed["qty"], reason_id=seed["rm_reason_id"]
        )
        return wc.save_and_button(wizard, values, "action_create_and_submit")


def _rm_receive(wc, ret):
    def receipt_id(env):
        return env["return.order"].browse(ret.res_id).return_picking_ids.id

    receipt = wc.displayed("stock.picking", _ids(wc, receipt_id))
    with wc.click("receive", "receipt: Validate"):
        wc.button(receipt, "button_validate")


def rm(wc, so_id, seed, approve=True):
    ret = _rm_create_and_submit(wc, so_id, seed)
    if approve:
        with wc.click("approve", "return: Approve"):
            ret = wc.button(ret, "action_approve")
    _rm_receive(wc, ret)
    ret = wc.displayed("return.order", ret.res_id)
    with wc.click("credit", "return: Create Credit Notes"):
        refund = wc.button(ret, "action_create_credit_notes")
    if refund.model != "account.move":
        raise RuntimeError(f"Create Credit Notes landed on {refund.model}")
    with wc.click("credit", "credit note: Confirm"):
        wc.button(refund, "action_post")


def rm_auto(wc, so_id, seed):
    rm(wc, so_id, seed, approve=False)


def rm_flow(wc, so_id, seed):
    """The policy approves on submit, and credits and posts on receipt:
    the credit note is done when the receipt is validated."""
    ret = _rm_create_and_submit(wc, so_id, seed)
    _rm_receive(wc, ret)

    def credit_note_states(env):
        return env["return.order"].browse(ret.res_id).credit_note_ids.mapped("state")

    if _ids(wc, credit_note_states) != ["posted"]:
        raise RuntimeError("the policy did not credit and post on receipt")


CLICK_PATHS = {
    "click_core_so": core_so,
    "click_core_reversal": core_reversal,
    "click_oca": oca,
    "click_rm": rm,
    "click_rm_auto": rm_auto,
    "click_rm_flow": rm_flow,
}
