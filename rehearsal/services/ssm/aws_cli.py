"""The AWS CLI calls of the host scripts, answered from the offline account: `aws ssm get-parameter`
and `aws secretsmanager get-secret-value` with --region, --query and --output text, nothing else.

Each call is made as the role of the host's instance profile and authorised as IAM would decide it,
when the deployment's code sent the command (the host has an instance id then). Errors and exit
statuses are the AWS CLI's: 252 for a command it cannot parse, 253 for missing credentials, 254 for
an error the service returned (AWS CLI User Guide, "Command line return codes in the AWS CLI").
"""

from __future__ import annotations

import json
from typing import Callable

from moto.ec2.models import ec2_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.ssm import models as ssm_models


class CliError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _options(args: list[str]) -> dict[str, str]:
    options, index = {}, 0
    while index < len(args):
        name = args[index]
        if not name.startswith("--"):
            raise CliError(f"aws: error: unexpected argument {name!r}", 252)
        if index + 1 < len(args) and not args[index + 1].startswith("--"):
            options[name[2:]], index = args[index + 1], index + 2
        else:
            options[name[2:]], index = "true", index + 1
    return options


def _host_role(account: str, region: str, instance_id: str) -> str | None:
    """The role of the instance profile the host runs with."""
    association = ec2_backends[account][region].iam_instance_profile_associations.get(instance_id)
    roles = getattr(getattr(association, "iam_instance_profile", None), "roles", None) or []
    return roles[0].arn if roles else None


def _authorise(account: str, region: str, instance_id: str | None, service: str, operation: str, params: dict) -> None:
    if instance_id is None:
        return
    from rehearsal.authorization import check
    from rehearsal.caller import Caller

    role = _host_role(account, region, instance_id)
    if role is None:
        raise CliError("Unable to locate credentials. You can configure credentials by running \"aws configure\".", 253)
    denied = check(service, operation, params, Caller(role, instance_id), account, region)
    if denied is not None:
        raise CliError(f"An error occurred ({denied.code}) when calling the {operation} operation: {denied.message}", 254)


def _get_parameter(account: str, region: str, options: dict) -> dict:
    name = options.get("name") or ""
    parameter = ssm_models.ssm_backends[account][region].get_parameter(name)
    if parameter is None:
        raise CliError("An error occurred (ParameterNotFound) when calling the GetParameter operation: ", 254)
    return {"Parameter": {"Name": parameter.name, "Type": parameter.parameter_type, "Value": parameter.value,
                          "Version": parameter.version}}


def _get_secret_value(account: str, region: str, options: dict) -> dict:
    secret_id = options.get("secret-id") or ""
    try:
        value = secretsmanager_backends[account][region].get_secret_value(secret_id, None, None)
    except Exception:
        raise CliError("An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: "
                       "Secrets Manager can't find the specified secret.", 254) from None
    return {"ARN": value["ARN"], "Name": value["Name"], "VersionId": value["VersionId"],
            "SecretString": value["SecretString"]}


# (service, command) -> (IAM operation, its request parameters from the options, the call)
COMMANDS: dict[tuple[str, str], tuple[str, Callable[[dict], dict], Callable[[str, str, dict], dict]]] = {
    ("ssm", "get-parameter"): ("GetParameter", lambda o: {"Name": o.get("name")}, _get_parameter),
    ("secretsmanager", "get-secret-value"): ("GetSecretValue", lambda o: {"SecretId": o.get("secret-id")},
                                             _get_secret_value),
}


def _output(response: dict, options: dict) -> str:
    value = response
    for key in filter(None, (options.get("query") or "").split(".")):
        value = value.get(key) if isinstance(value, dict) else None
    if options.get("output") == "text" and not isinstance(value, (dict, list)):
        return ("None" if value is None else str(value)) + "\n"
    return json.dumps(value, indent=4) + "\n"


def answer(account: str, region: str, instance_id: str | None, argv: list[str]) -> tuple[str, str, int, str | None]:
    """(stdout, stderr, exit status, the secret value it printed, if any)."""
    try:
        if len(argv) < 3 or (argv[1], argv[2]) not in COMMANDS:
            raise CliError("aws: error: the stand-in host's aws knows `aws ssm get-parameter` and "
                           "`aws secretsmanager get-secret-value` only", 252)
        service, command = argv[1], argv[2]
        operation, params, call = COMMANDS[(service, command)]
        options = _options(argv[3:])
        call_region = options.get("region") or region
        _authorise(account, call_region, instance_id, service, operation, params(options))
        response = call(account, call_region, options)
    except CliError as error:
        return "", f"\n{error}\n", error.status, None
    return _output(response, options), "", 0, response.get("SecretString")
