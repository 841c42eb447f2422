"""The CDK Provider framework's behaviour, on the simulated clock.

What the handlers rely on: on_event runs once; is_complete runs with the event plus
on_event's result (top-level fields included), first at once and then every query
interval, may return Data only when complete, and the resource fails with
"Operation timed out" past the total timeout. A failed Create reports no physical id
so the rollback Delete is skipped (the framework's MISSING_PHYSICAL_ID marker);
a failed is_complete keeps on_event's id so the rollback Delete reaches the handler.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Generator
from unittest import mock

from cmk_constructs.lifecycle_provider import BUDGET_VARIABLE
from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.faults import FAULTS

MISSING_PHYSICAL_ID = "AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID"


class ResourceFailed(Exception):
    """The resource's request failed; str() is the reason CloudFormation would show."""

    def __init__(self, reason: str, physical_id: str) -> None:
        super().__init__(reason)
        self.physical_id = physical_id


@dataclass
class CustomResource:
    """One Custom:: resource as the stack declares it."""
    logical_id: str
    resource_type: str
    handler: ModuleType
    properties: dict
    query_interval: float = 30.0
    total_timeout: float = 3600.0
    budget_seconds: float | None = None   # the handler's budget (LIFECYCLE_BUDGET_SECONDS); None: unset
    physical_id: str | None = None
    attributes: dict = field(default_factory=dict)


def _event(resource: CustomResource, request_type: str, old_properties: dict | None) -> dict:
    event: dict[str, Any] = {
        "RequestType": request_type, "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:framework-onEvent",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/", "StackId": "arn:aws:cloudformation:stack/sim",
        "RequestId": str(uuid.uuid4()), "LogicalResourceId": resource.logical_id, "ResourceType": resource.resource_type,
        "ResourceProperties": {"ServiceToken": "token", **resource.properties},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = resource.physical_id
    if request_type == "Update":
        event["OldResourceProperties"] = {"ServiceToken": "token", **(old_properties or {})}
    return event


def _invoke(resource: CustomResource, function: str, event: dict) -> dict:
    """Call a handler function as Lambda would: a JSON round-tripped event, its calls attributed to it."""
    FAULTS.current_handler = resource.handler.__name__
    try:
        budget = {} if resource.budget_seconds is None else {BUDGET_VARIABLE: str(resource.budget_seconds)}
        with mock.patch.dict(os.environ, budget):
            return getattr(resource.handler, function)(json.loads(json.dumps(event)), None)
    finally:
        FAULTS.current_handler = ""


def run(resource: CustomResource, request_type: str, old_properties: dict | None = None,
        event: dict | None = None) -> Generator[float, None, dict]:
    """Drive one request; yields the simulated times at which it next wants to run; returns the response."""
    event = event or _event(resource, request_type, old_properties)
    if request_type == "Delete" and event.get("PhysicalResourceId") == MISSING_PHYSICAL_ID:
        return {"PhysicalResourceId": MISSING_PHYSICAL_ID, "Data": {}}
    CLOCK.advance(durations.HANDLER_INVOCATION)
    try:
        on_event = _invoke(resource, "on_event", event) or {}
    except Exception as error:
        raise ResourceFailed(str(error), MISSING_PHYSICAL_ID if request_type == "Create" else event.get("PhysicalResourceId")) from error
    physical_id = on_event.get("PhysicalResourceId") or (event["RequestId"] if request_type == "Create" else event["PhysicalResourceId"])
    waiter_event = {**event, **on_event, "PhysicalResourceId": physical_id}
    started = CLOCK.now()
    data = dict(on_event.get("Data") or {})
    while True:
        CLOCK.advance(durations.HANDLER_INVOCATION)
        try:
            result = _invoke(resource, "is_complete", waiter_event)
        except Exception as error:
            raise ResourceFailed(str(error), physical_id) from error
        if result.get("IsComplete"):
            data.update(result.get("Data") or {})
            break
        if result.get("Data"):
            raise ResourceFailed('"Data" is not allowed if "IsComplete" is "False"', physical_id)
        if CLOCK.now() + resource.query_interval - started > resource.total_timeout:
            raise ResourceFailed("Operation timed out", physical_id)
        yield CLOCK.now() + resource.query_interval
    if len(json.dumps({"PhysicalResourceId": physical_id, "Data": data})) > 4096:
        raise ResourceFailed("Response object is too long.", physical_id)
    return {"PhysicalResourceId": physical_id, "Data": data}


# Polls that cannot see a change are skipped, but never more than this many seconds of them,
# so a handler's own time budget (3-5 minutes under the Provider's timeout) still fires first.
MAX_SKIPPED_SECONDS = 150.0


def next_useful_poll(wake: float, interval: float) -> float:
    """The first poll time on the Provider's grid (wake + k * interval) that can observe a change.

    Between model transitions is_complete sees the same state and answers the same, so
    skipping those polls changes the call count, not the outcome or the timeline."""
    due = CLOCK.next_due()
    if due is not None and due <= wake + MAX_SKIPPED_SECONDS:
        return wake + max(0, math.ceil((due - wake) / interval)) * interval
    return wake + math.floor(MAX_SKIPPED_SECONDS / interval) * interval


def run_now(resource: CustomResource, request_type: str, old_properties: dict | None = None, event: dict | None = None) -> dict:
    """Drive one request alone to its end, moving the clock as it waits."""
    steps = run(resource, request_type, old_properties, event)
    try:
        while True:
            CLOCK.advance_to(next_useful_poll(next(steps), resource.query_interval))
    except StopIteration as done:
        return done.value


def run_in_parallel(requests: list[tuple[CustomResource, str, dict | None]]) -> list[dict | ResourceFailed]:
    """CloudFormation running independent resources at once: each outcome, in order."""
    pending = {index: run(resource, request_type, old) for index, (resource, request_type, old) in enumerate(requests)}
    wake = {index: CLOCK.now() for index in pending}
    outcomes: dict[int, dict | ResourceFailed] = {}
    while pending:
        index = min(pending, key=lambda i: (wake[i], i))
        CLOCK.advance_to(wake[index])
        try:
            wake[index] = next_useful_poll(next(pending[index]), requests[index][0].query_interval)
        except StopIteration as done:
            outcomes[index] = done.value
            del pending[index]
        except ResourceFailed as failure:
            outcomes[index] = failure
            del pending[index]
    return [outcomes[index] for index in range(len(requests))]
