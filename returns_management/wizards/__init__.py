from . import return_order_create_wizard
from . import return_order_create_wizard_line
from . import return_order_reject_wizard
from . import stock_return_picking
from . import stock_return_picking_line
from . import return_order_approve_wizard
from . import return_qc_grade_wizard
from . import return_report_xlsx
