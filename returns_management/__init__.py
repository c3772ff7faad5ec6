from . import models, wizards


def _post_init_create_return_locations(env):
    env["stock.warehouse"]._qc_install_defaults()
