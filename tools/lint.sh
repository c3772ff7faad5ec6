#!/usr/bin/env bash
# Lint the addon: ruff (lint + format check) and pylint with pylint_odoo.
# OCA-only rules (author list, OCA readme, license list) do not apply here;
# return.order is split into one file per capability on purpose (STYLE.md
# rule 1), which consider-merging-classes-inherited would undo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"
"$PYTHON" -m pip install --quiet --disable-pip-version-check ruff pylint-odoo
"$PYTHON" -m ruff check returns_management benchmarks tools
"$PYTHON" -m ruff format --check returns_management benchmarks tools
"$PYTHON" -m pylint --load-plugins=pylint_odoo --valid-odoo-versions=18.0 \
    --disable=all --enable=odoolint \
    --disable=manifest-required-author,missing-readme,license-allowed,consider-merging-classes-inherited \
    --score=n returns_management
