"""Install the offline model of CloudHSM, KMS custom key stores and the SSM activation boundary.

Import this module and call `install()` before starting moto (tests and the
simulator do it through `tests.support.world`). Installation is idempotent.
"""

from __future__ import annotations

import sys
from pathlib import Path

from moto.core.responses import BaseResponse

from tests.support import activation_model, cloudhsm_model, kms_model
from tests.support.clock import CLOCK
from tests.support.faults import FAULTS

REPO = Path(__file__).resolve().parents[2]
LAYER_DIR = REPO / "cmk_constructs" / "lifecycle_runtime" / "python"
_installed = False
_original_call_action = BaseResponse.call_action


def _call_action_with_faults(self):
    """Every mocked request first meets the fault injector (throttling and one-off errors)."""
    fault = FAULTS.take(self.service_name, self._get_action())
    if fault is None:
        return _original_call_action(self)
    response, action_runs = fault
    if action_runs:
        _original_call_action(self)
    return response


def install() -> None:
    global _installed
    if _installed:
        return
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))
    cloudhsm_model.install()
    kms_model.install()
    activation_model.install()
    BaseResponse.call_action = _call_action_with_faults
    # Handlers read the time through lifecycle_runtime.time_budget.now: run them on the model's clock.
    from lifecycle_runtime import time_budget
    time_budget.now = CLOCK.now
    _installed = True
