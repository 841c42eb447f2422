"""Load each lifecycle handler from its runtime folder, as Lambda would (handler.py at the root)."""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from rehearsal.clock import CLOCK
from rehearsal.services import install

REPO = Path(__file__).resolve().parents[2]
LAYER_DIR = REPO / "cmk_constructs" / "lifecycle_runtime" / "python"

LIFECYCLE_RESOURCES = ("first_hsm", "cluster_initialisation", "cluster_activation", "hsm_fleet",
                       "custom_key_store", "hsm_backed_key")


def install_source_layer() -> None:
    """The model, and the shared layer from the source tree on sys.path, on the model's clock."""
    install()
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))
    from lifecycle_runtime import time_budget
    time_budget.now = CLOCK.now


@lru_cache(maxsize=None)
def load_handler(resource: str) -> ModuleType:
    """`cmk_constructs/<resource>/runtime/handler.py` as module `<resource>_handler`."""
    install_source_layer()
    if resource == "hsm_backed_key":  # the function's environment, as the construct sets it
        from cmk_constructs.hsm_backed_key.infrastructure import REQUEST_TAG, REQUEST_TAG_VARIABLE
        os.environ[REQUEST_TAG_VARIABLE] = REQUEST_TAG
    runtime = REPO / "cmk_constructs" / resource / "runtime"
    sys.path.insert(0, str(runtime))  # sibling modules (e.g. certificates.py), like Lambda's task root
    try:
        spec = importlib.util.spec_from_file_location(f"{resource}_handler", runtime / "handler.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(runtime))
    return module
