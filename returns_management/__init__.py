from . import models, wizards


def _post_init_create_return_locations(env):
    env["stock.warehouse"].with_context(active_test=False).search(
        []
    )._create_missing_return_locations()
