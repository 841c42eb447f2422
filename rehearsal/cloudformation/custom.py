"""Custom resources, run through the template's own wiring.

ServiceToken names a Lambda function. When that function is the CDK Provider framework's onEvent
(its environment names the user's on_event and is_complete functions and the waiter state
machine), the rehearsal plays the framework's part as aws-cdk-lib's framework.ts does and runs
the user's functions from their assets: on_event once, then is_complete at once and again after
each retry interval of the waiter state machine's definition (IntervalSeconds, BackoffRate,
MaxAttempts, read from the deployed state machine), until it answers IsComplete or the attempts
run out ("Operation timed out"). The framework's own functions are Node.js; their behaviour is
the documented contract, not their code.

CDK's built-in providers whose handlers ship as Node.js inside aws-cdk-lib have a model of what
they do here, run as the handler's own role, by resource type.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from typing import Generator

from rehearsal import caller
from rehearsal.clock import CLOCK
from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceFailed
from rehearsal.lambda_runtime import FunctionError, LambdaFunction

# aws-cdk-lib's markers for "the Create failed before a physical id existed": its Delete is a no-op.
MISSING_PHYSICAL_ID = "AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID"   # Provider framework
CREATE_FAILED_PHYSICAL_ID = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"   # built-in providers
# CloudFormation waits at most this long for a custom resource's response (ServiceTimeout default).
CLOUDFORMATION_TIMEOUT = 3600.0
# Polls that cannot observe a change are skipped, but never more than this many seconds of them,
# so a handler's own time budget (a few minutes under the Provider's timeout) still fires first.
MAX_SKIPPED_SECONDS = 150.0
MAX_RESPONSE_BYTES = 4096


@dataclass
class Waiter:
    """The Provider's waiter state machine: when is_complete runs, and how often, and through which
    framework function (the retried task's Resource)."""
    interval: float
    max_attempts: int
    backoff_rate: float
    task_function_arn: str = ""
    arn: str = ""

    @classmethod
    def from_definition(cls, definition: str, arn: str = "") -> "Waiter":
        states = json.loads(definition)["States"]
        task = next(state for state in states.values() if state.get("Retry"))
        retry = task["Retry"][0]
        return cls(float(retry.get("IntervalSeconds", 1)), int(retry.get("MaxAttempts", 3)),
                   float(retry.get("BackoffRate", 2.0)), str(task.get("Resource", "")), arn)

    @property
    def total_timeout(self) -> float:
        return sum(self.interval * self.backoff_rate ** attempt for attempt in range(self.max_attempts))


@dataclass
class ProviderFramework:
    entry: LambdaFunction                 # the framework's onEvent function (the ServiceToken)
    on_event: LambdaFunction
    is_complete: LambdaFunction | None
    waiter: Waiter | None
    waiter_task: LambdaFunction | None    # the framework's isComplete function the waiter runs

    def permitted(self, ctx: ResourceContext) -> str | None:
        """The framework's own calls, as its functions' roles: invoke the user's functions, start the waiter."""
        from rehearsal.authorization import check
        from rehearsal.caller import Caller

        calls = [(self.entry, "lambda", "Invoke", {"FunctionName": self.on_event.arn})]
        if self.is_complete is not None and self.waiter is not None:
            calls.append((self.entry, "stepfunctions", "StartExecution", {"stateMachineArn": self.waiter.arn}))
            if self.waiter_task is not None:
                calls.append((self.waiter_task, "lambda", "Invoke", {"FunctionName": self.is_complete.arn}))
        for function, service, operation, params in calls:
            denied = check(service, operation, params, Caller(function.role_arn, function.name), ctx.account, ctx.region)
            if denied is not None:
                return f"{denied.code}: {denied.message}"
        return None


def request(ctx: ResourceContext, request_type: str, physical_id: str | None, old_properties: dict | None,
            stack_id: str) -> dict:
    """The event CloudFormation sends to the ServiceToken; its RequestId is a UUID, as CloudFormation's
    are (derived from the request, so a rehearsal is repeatable)."""
    event = {
        "RequestType": request_type, "ServiceToken": ctx.properties["ServiceToken"],
        "ResponseURL": f"https://cloudformation-custom-resource-response-{ctx.region}.s3.amazonaws.com/rehearsal",
        "StackId": stack_id, "RequestId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{stack_id}/{ctx.logical_id}/{request_type}/{CLOCK.now():.3f}")),
        "LogicalResourceId": ctx.logical_id, "ResourceType": ctx.resource_type,
        "ResourceProperties": ctx.properties,
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = old_properties
    return event


def run(ctx: ResourceContext, event: dict) -> Generator[float, None, Created]:
    """Deliver `event` to the resource's ServiceToken and wait for its response, as CloudFormation does."""
    token = ctx.properties.get("ServiceToken")
    function = ctx.cloud.function(token)
    if function is None:
        raise ResourceFailed(f"ServiceToken {token} is not a Lambda function of this account")
    builtin = BUILTIN_PROVIDERS.get(ctx.resource_type)
    if builtin is not None and not function.is_python:
        return (yield from builtin(ctx, event, function))
    framework = _framework(ctx, function)
    if framework is None:
        raise ResourceFailed(f"{ctx.resource_type}: only CDK Provider framework custom resources and CDK's "
                             f"built-in providers are modelled; {function.name} is neither")
    started = CLOCK.now()
    outcome = yield from _provider(ctx, framework, event)
    if CLOCK.now() - started > CLOUDFORMATION_TIMEOUT:
        raise ResourceFailed("Failed to receive a response from the custom resource within the timeout")
    return outcome


def _framework(ctx: ResourceContext, function: LambdaFunction) -> ProviderFramework | None:
    environment = function.environment
    if "USER_ON_EVENT_FUNCTION_ARN" not in environment:
        return None
    on_event = ctx.cloud.function(environment["USER_ON_EVENT_FUNCTION_ARN"])
    is_complete = ctx.cloud.function(environment.get("USER_IS_COMPLETE_FUNCTION_ARN", "")) \
        if environment.get("USER_IS_COMPLETE_FUNCTION_ARN") else None
    waiter = None
    if environment.get("WAITER_STATE_MACHINE_ARN"):
        arn = environment["WAITER_STATE_MACHINE_ARN"]
        definition = ctx.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
        waiter = Waiter.from_definition(definition, arn)
    if on_event is None:
        raise ResourceFailed(f"the Provider's on_event function {environment['USER_ON_EVENT_FUNCTION_ARN']} does not exist")
    waiter_task = ctx.cloud.function(waiter.task_function_arn) if waiter is not None else None
    return ProviderFramework(function, on_event, is_complete, waiter, waiter_task)


def _failed(message: str, request_type: str, physical_id: str | None,
            create_marker: str = MISSING_PHYSICAL_ID) -> ResourceFailed:
    """The FAILED response, with the physical id it carries: the one on_event answered once it ran (so a
    rollback's Delete reaches the handler, which cleans up what it made), else, for a Create, the
    marker whose Delete the framework ignores (cfn-response.js, safeHandler and submitResponse)."""
    failure = ResourceFailed(f"Received response status [FAILED] from custom resource. Message returned: {message}")
    failure.physical_id = physical_id or (create_marker if request_type == "Create" else None)  # type: ignore[attr-defined]
    return failure


def _provider(ctx: ResourceContext, framework: ProviderFramework, event: dict) -> Generator[float, None, Created]:
    """framework.ts: onEvent, then the waiter's isComplete attempts, then the response."""
    request_type = event["RequestType"]
    if request_type == "Delete" and event.get("PhysicalResourceId") == MISSING_PHYSICAL_ID:
        return Created(MISSING_PHYSICAL_ID)
    refused = framework.permitted(ctx)
    if refused is not None:
        raise _failed(refused, request_type, event.get("PhysicalResourceId"))
    try:
        on_event = framework.on_event.invoke(event) or {}
    except FunctionError as error:
        raise _failed(str(error), request_type, event.get("PhysicalResourceId")) from None
    default_id = event["RequestId"] if request_type == "Create" else event["PhysicalResourceId"]
    physical_id = on_event.get("PhysicalResourceId") or default_id
    if request_type == "Delete" and physical_id != event["PhysicalResourceId"]:
        raise _failed(f"DELETE: cannot change the physical resource ID from \"{event['PhysicalResourceId']}\" "
                      f"to \"{physical_id}\" during deletion", request_type, event.get("PhysicalResourceId"))
    waiter_event = {**event, **on_event, "PhysicalResourceId": physical_id}
    data = dict(on_event.get("Data") or {})
    if framework.is_complete is not None and framework.waiter is not None:
        data = yield from _wait(framework, waiter_event, data)
    if len(json.dumps({"PhysicalResourceId": physical_id, "Data": data})) > MAX_RESPONSE_BYTES:
        raise _failed("Response object is too long.", request_type, physical_id)
    return Created(physical_id, data)


def _wait(framework: ProviderFramework, event: dict, data: dict) -> Generator[float, None, dict]:
    waiter = framework.waiter
    assert waiter is not None and framework.is_complete is not None
    interval, request_type = waiter.interval, event["RequestType"]
    for attempt in range(waiter.max_attempts + 1):
        try:
            result = framework.is_complete.invoke(event)
        except FunctionError as error:
            raise _failed(str(error), request_type, event["PhysicalResourceId"]) from None
        if result.get("IsComplete"):
            return {**data, **(result.get("Data") or {})}
        if result.get("Data"):
            raise _failed('"Data" is not allowed if "IsComplete" is "False"', request_type, event["PhysicalResourceId"])
        if attempt == waiter.max_attempts:
            break
        wake = CLOCK.now() + interval
        skipped_to = _next_useful_poll(wake, interval)
        yield skipped_to
        interval *= waiter.backoff_rate
    raise _failed(f"Operation timed out: {json.dumps({'RequestId': event['RequestId']})}", request_type,
                  event["PhysicalResourceId"])


def _next_useful_poll(wake: float, interval: float) -> float:
    """The first poll on the waiter's grid (wake + k * interval) that can observe a change.

    Between the model's state transitions is_complete sees the same state and answers the same, so
    skipping those polls changes the number of calls, not the outcome or the timeline."""
    due = CLOCK.next_due()
    if due is not None and due <= wake + MAX_SKIPPED_SECONDS:
        return wake + max(0, math.ceil((due - wake) / interval)) * interval
    return wake + math.floor(MAX_SKIPPED_SECONDS / interval) * interval


# --- CDK's built-in Node.js providers ------------------------------------------------------------

def _restrict_default_security_group(ctx: ResourceContext, event: dict,
                                     function: LambdaFunction) -> Generator[float, None, Created]:
    """aws-cdk-lib's restrict-default-security-group handler: remove the default security group's
    rules on create (restore them on delete), as the handler's role."""
    group_id, account = ctx.properties["DefaultSecurityGroupId"], ctx.properties["Account"]
    ingress = [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id, "UserId": account}]}]
    egress = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    ec2 = ctx.client("ec2")
    yield CLOCK.now() + 2.0
    if event["RequestType"] == "Delete" and event.get("PhysicalResourceId") == CREATE_FAILED_PHYSICAL_ID:
        return Created(CREATE_FAILED_PHYSICAL_ID)
    with caller.acting_as(function.role_arn, function.name):
        try:
            if event["RequestType"] == "Delete":
                ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ingress)
                ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=egress)
            elif event["RequestType"] == "Create":
                ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=ingress)
                ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=egress)
        except Exception as error:  # what the handler reports to CloudFormation
            raise _failed(str(error), event["RequestType"], event.get("PhysicalResourceId"),
                          CREATE_FAILED_PHYSICAL_ID) from None
    return Created(event.get("PhysicalResourceId") or group_id)


BUILTIN_PROVIDERS = {"Custom::VpcRestrictDefaultSG": _restrict_default_security_group}
