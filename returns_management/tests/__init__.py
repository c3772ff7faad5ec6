from . import test_access
from . import test_bad_input
from . import test_batch_credit
from . import test_batch_failures
from . import test_multi_company
from . import test_receipts
from . import test_return_flow
from . import test_tour
