from . import (
    test_access,
    test_bad_input,
    test_multi_company,
    test_return_flow,
    test_tour,
)
