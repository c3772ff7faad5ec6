"""PEP 517 build backend: whool, run from the addon linked under odoo/addons/.

whool builds the addon found in the current directory and expects its
pyproject.toml next to ``__manifest__.py``. This thin wrapper keeps the
packaging files under ``setup/`` (the layout the project uses) and runs whool's
own hooks from the addon folder. Only wheels are supported: an sdist built
from the addon folder would not contain this setup directory.
"""

import contextlib
import os
from pathlib import Path

from whool import buildapi

ADDON_NAME = "returns_management"
ADDON_DIR = Path(__file__).resolve().parent / "odoo" / "addons" / ADDON_NAME


@contextlib.contextmanager
def _in_addon_dir():
    previous = os.getcwd()
    os.chdir(ADDON_DIR.resolve())
    try:
        yield
    finally:
        os.chdir(previous)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    wheel_directory = os.path.abspath(wheel_directory)
    with _in_addon_dir():
        return buildapi.build_wheel(
            wheel_directory, config_settings, metadata_directory
        )


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    metadata_directory = os.path.abspath(metadata_directory)
    with _in_addon_dir():
        return buildapi.prepare_metadata_for_build_wheel(
            metadata_directory, config_settings
        )


def build_sdist(sdist_directory, config_settings=None):
    raise buildapi.UnsupportedOperation(
        "only wheels are built from setup/; "
        "use `pip wheel` or `python -m build --wheel`"
    )
