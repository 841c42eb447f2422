"""Custom::CloudHsmClusterAuditLog: the cluster's audit log group, encrypted and with retention, whoever made it.

CloudHSM creates /aws/cloudhsm/<cluster id> itself, at a moment its guide does not give. Create and
Update make the group with the key when it is not there yet (CloudHSM then writes into it), and adopt it
when it is; either way the key is associated (a group CloudHSM made is not encrypted) and the retention
set, so the group ends the same whichever came first. One call each, done when on_event answers.
Delete leaves the group: it is audit evidence, expiring with its retention.
"""

from __future__ import annotations

from lifecycle_runtime import events
from lifecycle_runtime.aws_clients import client
from lifecycle_runtime.errors import LifecycleError, reported
from lifecycle_runtime.structured_log import log


def _settings(event) -> tuple[str, str, int]:
    props = events.properties(event)
    name, key = events.required(props, "LogGroupName"), events.required(props, "KmsKeyId")
    try:
        days = int(events.required(props, "RetentionInDays"))
    except ValueError:
        raise LifecycleError(f"property RetentionInDays is not a number of days: {props['RetentionInDays']!r}") from None
    return name, key, days


def _apply(event) -> dict:
    name, key, days = _settings(event)
    try:
        client("logs").create_log_group(logGroupName=name, kmsKeyId=key)
        log("audit_log_group_created", log_group=name)
    except client("logs").exceptions.ResourceAlreadyExistsException:
        log("audit_log_group_adopted", log_group=name)  # CloudHSM made it first
    client("logs").associate_kms_key(logGroupName=name, kmsKeyId=key)
    client("logs").put_retention_policy(logGroupName=name, retentionInDays=days)
    return {"PhysicalResourceId": name}


def _delete(event) -> dict:
    log("audit_log_group_kept", log_group=event["PhysicalResourceId"])
    return {"PhysicalResourceId": event["PhysicalResourceId"]}


@reported("cluster audit log group")
def on_event(event, context):
    return events.dispatch(event, create=_apply, update=_apply, delete=_delete)
