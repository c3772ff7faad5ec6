from . import (
    return_order_create_wizard,
    return_order_create_wizard_line,
    return_order_reject_wizard,
)
