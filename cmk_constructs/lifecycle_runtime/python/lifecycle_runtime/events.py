"""Reading CloudFormation custom-resource events and building Provider responses.

The Provider framework calls on_event once per request and is_complete with the
same event plus on_event's result until it answers IsComplete; is_complete may
return Data only with IsComplete true.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from lifecycle_runtime.structured_log import log

MAX_DATA_BYTES = 4096  # CloudFormation's limit for a custom resource response


def properties(event: Mapping[str, Any]) -> dict:
    """ResourceProperties without the ServiceToken the framework adds."""
    return {key: value for key, value in event.get("ResourceProperties", {}).items() if key != "ServiceToken"}


def old_properties(event: Mapping[str, Any]) -> dict:
    return {key: value for key, value in event.get("OldResourceProperties", {}).items() if key != "ServiceToken"}


def required(props: Mapping[str, Any], name: str) -> str:
    from lifecycle_runtime.errors import LifecycleError

    value = props.get(name)
    if value in (None, ""):
        raise LifecycleError(f"property {name} is required")
    return value


def still_waiting() -> dict:
    return {"IsComplete": False}


def finished(data: Mapping[str, Any] | None = None) -> dict:
    """IsComplete with `data` as attributes, refusing data CloudFormation would reject."""
    result: dict = {"IsComplete": True}
    if data:
        size = len(json.dumps(data).encode())
        if size > MAX_DATA_BYTES - 512:  # leave room for the rest of the response
            from lifecycle_runtime.errors import LifecycleError
            raise LifecycleError(f"response data is {size} bytes; CloudFormation accepts at most 4096")
        result["Data"] = dict(data)
    return result


def dispatch(event: Mapping[str, Any], *, create: Callable, update: Callable, delete: Callable,
             log_properties: bool = True):
    """Log the request (properties hold names and ARNs, never secrets; a large key policy can be
    left out with `log_properties=False`), then call the function for the event's RequestType."""
    details = {"properties": properties(event)} if log_properties else {}
    log("on_event", request_type=event["RequestType"], logical_id=event.get("LogicalResourceId"),
        physical_id=event.get("PhysicalResourceId"), **details)
    return {"Create": create, "Update": update, "Delete": delete}[event["RequestType"]](event)
