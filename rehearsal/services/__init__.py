"""The offline model of what moto lacks: CloudHSM HSMs and initialisation, KMS custom key stores,
and the SSM activation boundary, grafted onto moto's backends, where moto differs from AWS
(S3 access logging, a VPC's default security group), plus fault injection at dispatch.

Call `install()` before starting moto. Installation is idempotent.
"""

from __future__ import annotations

from moto.core.responses import BaseResponse

from rehearsal.services import activation, cloudhsm, ec2, kms, s3
from rehearsal.faults import FAULTS

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
    cloudhsm.install()
    kms.install()
    activation.install()
    s3.install()
    ec2.install()
    BaseResponse.call_action = _call_action_with_faults
    _installed = True
