"""The offline model of what moto lacks: CloudHSM HSMs and initialisation, KMS custom key stores,
the SSM activation boundary and CloudWatch Logs' key association, grafted onto moto's backends, where moto differs from AWS
(S3 access logging, a VPC's default security group), plus fault injection and authorisation at
dispatch. Each service's model is laid out as moto lays out its own: state, wire format, errors.

Call `install()` before starting moto. Installation is idempotent.
"""

from __future__ import annotations

import json

from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.ec2.exceptions import EC2ClientError

from rehearsal.faults import FAULTS
from rehearsal.services import cloudhsm, ec2, kms, logs, redshift, s3, ssm
from rehearsal.services.errors import Refused

_installed = False
_original_call_action = BaseResponse.call_action


def _call_action_with_faults(self):
    """Every mocked request first meets the fault injector (throttling and one-off errors), then, when
    code of the deployment makes it, authorisation as AWS decides it (rehearsal/authorization)."""
    fault = FAULTS.take(self.service_name, self._get_action())
    if fault is None:
        _authorise(self)
        return _original_call_action(self)
    response, action_runs = fault
    if action_runs:
        _original_call_action(self)
    return response


def _authorise(response) -> None:
    """A refused call answers with AWS's error, serialised by moto for the service's protocol."""
    from rehearsal import caller
    from rehearsal.authorization import check

    who = caller.current()
    if who is None:
        return  # CloudFormation itself, or a test's own client
    action = response._get_action()
    denied = check(response.service_name, action, _parameters(response), who, response.current_account,
                   response.region)
    if denied is None:
        return

    def refuse():
        if getattr(response, "automated_parameter_parsing", False):
            raise Refused(denied.code, denied.message)  # moto serialises it from the service model
        if response.service_name == "ec2":
            raise EC2ClientError(denied.code, denied.message)
        raise JsonRESTError(denied.code, denied.message)

    setattr(response, camelcase_to_underscores(action), refuse)


def _parameters(response) -> dict:
    """The request's parameters, as moto parsed them for the service's protocol (JSON, CBOR or query)."""
    if getattr(response, "automated_parameter_parsing", False):
        return dict(response.params)
    body = response.body
    if isinstance(body, str) and body.strip().startswith("{"):
        return json.loads(body)
    return response._get_params()


def install() -> None:
    global _installed
    if _installed:
        return
    cloudhsm.install()
    kms.install()
    ssm.install()
    s3.install()
    ec2.install()
    logs.install()
    redshift.install()
    BaseResponse.call_action = _call_action_with_faults
    _installed = True
