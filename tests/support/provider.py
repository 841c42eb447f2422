"""One custom resource of the deployed app, as the lifecycle tests drive it: through the rehearsal.

`run_now(resource, "Create")` sends the resource's request through its ServiceToken exactly as the
deploy rehearsal does (the Provider framework's contract, the handler from its asset, authorised as
its role, on the simulated clock), and returns what the framework would send CloudFormation.
A failure raises ResourceFailed with the message the handler reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generator

from rehearsal.cloudformation import custom
from rehearsal.cloudformation.types.base import ResourceFailed as FrameworkFailed
from rehearsal.lambda_runtime import LambdaFunction

FAILED_PREFIX = "Received response status [FAILED] from custom resource. Message returned: "


class ResourceFailed(Exception):
    """The request failed; str() is what the handler reported (CloudFormation shows it after a prefix)."""


@dataclass
class CustomResource:
    cloud: Any                      # rehearsal.cloudformation.engine.Cloud
    assembly: Any                   # the cloud assembly the resource comes from
    logical_id: str
    resource_type: str
    properties: dict                # resolved; a test may change them before a request
    physical_id: str | None = None
    attributes: dict = field(default_factory=dict)

    def functions(self) -> list[LambdaFunction]:
        """The user functions (on_event, is_complete) behind the resource's Provider."""
        framework = self.cloud.function(self.properties["ServiceToken"])
        names = ("USER_ON_EVENT_FUNCTION_ARN", "USER_IS_COMPLETE_FUNCTION_ARN")
        return [self.cloud.function(framework.environment[name]) for name in names if name in framework.environment]


def _unwrap(failure: FrameworkFailed) -> ResourceFailed:
    return ResourceFailed(str(failure).removeprefix(FAILED_PREFIX))


def event(resource: CustomResource, request_type: str, old_properties: dict | None = None) -> dict:
    """The request CloudFormation sends for the resource."""
    ctx = resource.cloud.resource_context(resource.assembly, resource.logical_id, resource.properties)
    state = resource.cloud.stacks[ctx.stack_name]
    return custom.request(ctx, request_type, None if request_type == "Create" else resource.physical_id,
                          old_properties, state.stack_id)


def run_now(resource: CustomResource, request_type: str, old_properties: dict | None = None,
            event: dict | None = None) -> dict:
    """Send the request (or exactly `event`, as a retry does) and wait for its response, moving the
    clock as the framework waits."""
    try:
        created = resource.cloud.run_resource(resource.assembly, resource.logical_id, request_type,
                                              properties=resource.properties, old_properties=old_properties,
                                              physical_id=None if request_type == "Create" else resource.physical_id,
                                              event=event)
    except FrameworkFailed as failure:
        raise _unwrap(failure) from None
    if request_type != "Delete":
        resource.physical_id, resource.attributes = created.physical_id, dict(created.attributes)
    return {"PhysicalResourceId": created.physical_id, "Data": dict(created.attributes)}


def run(resource: CustomResource, request_type: str) -> Generator[float, None, dict]:
    """The same request, a step at a time: yields the simulated times at which it next wants to run."""
    ctx = resource.cloud.resource_context(resource.assembly, resource.logical_id, resource.properties)
    try:
        created = yield from custom.run(ctx, event(resource, request_type))
    except FrameworkFailed as failure:
        raise _unwrap(failure) from None
    resource.physical_id, resource.attributes = created.physical_id, dict(created.attributes)
    return {"PhysicalResourceId": created.physical_id, "Data": dict(created.attributes)}
