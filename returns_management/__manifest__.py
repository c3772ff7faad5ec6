{
    "name": "Returns Management",
    "summary": "Customer returns end to end: requests, approval, return receipts, "
    "credit notes",
    "version": "18.0.1.0.0",
    "category": "Inventory/Inventory",
    "license": "LGPL-3",
    "author": "returns_management developers",
    "website": "https://github.com/returns-management/returns_management",
    "depends": ["sale_stock", "stock_account", "portal"],
    "data": [
        "security/res_groups.xml",
        "security/ir.model.access.csv",
        "security/ir_rules.xml",
        "data/ir_sequence_data.xml",
        "data/return_reason_data.xml",
        "wizards/return_order_create_wizard_views.xml",
        "wizards/return_order_reject_wizard_views.xml",
        "views/return_order_views.xml",
        "views/return_order_receipt_views.xml",
        "views/return_reason_views.xml",
        "views/sale_order_views.xml",
        "views/stock_picking_views.xml",
        "views/account_move_views.xml",
        "views/stock_warehouse_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/return_order_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "returns_management/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "_post_init_create_return_locations",
    "application": True,
}
