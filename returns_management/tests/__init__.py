from . import test_return_flow
