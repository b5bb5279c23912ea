"""Import a function's module as Lambda does: from its asset root, ``lambdas/`` (``/var/task``).

A package of ``lambdas/`` imports the shared modules beside it (``cfn_response``) by name, which
works because Lambda puts the asset root on ``sys.path``; the tests do the same, only while
importing, so nothing else in the session sees ``lambdas/`` as a top-level path.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from workshop_spec.config import PROJECT_ROOT

ASSET_ROOT = str(PROJECT_ROOT / "lambdas")


def import_packaged(module: str) -> ModuleType:
    """``import_packaged("glue_run.handler")``: the module as Lambda imports it."""
    sys.path.insert(0, ASSET_ROOT)
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(ASSET_ROOT)
