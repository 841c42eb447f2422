"""Custom::CloudHsmClusterActivation: activate the cluster and create kmsuser on the client host.

on_event sends the activation document (activate_cluster.sh) to the host with SSM
Run Command; its parameters are names and ARNs only, the host reads both passwords
from Secrets Manager itself. is_complete follows the command and then waits for the
cluster to report ACTIVE; a failed command fails the resource with the last line of
the host's error output. The script is idempotent, and an ACTIVE cluster is not
activated twice. A cluster cannot be deactivated, so Delete changes nothing.
"""

from __future__ import annotations

from lifecycle_runtime import events, host_commands, time_budget
from lifecycle_runtime.aws_clients import client
from lifecycle_runtime.errors import LifecycleError, reported
from lifecycle_runtime.clusters import describe_cluster
from lifecycle_runtime.structured_log import log

COMMAND_ID = "ActivationCommandId"
DOCUMENT_PARAMETERS = ("ClusterId", "HsmIp", "TrustAnchorParameterName", "AdminPasswordSecretArn", "KmsUserPasswordSecretArn")


def _send(props: dict) -> str:
    parameters = {name: events.required(props, name) for name in DOCUMENT_PARAMETERS}
    parameters["Region"] = client("ssm").meta.region_name
    command_id = host_commands.send(events.required(props, "DocumentName"), events.required(props, "InstanceId"),
                                    parameters, f"Activate CloudHSM cluster {props['ClusterId']}")
    log("activation_command_sent", cluster_id=props["ClusterId"], command_id=command_id, instance_id=props["InstanceId"])
    return command_id


def _start(event) -> dict:
    props = events.properties(event)
    cluster = describe_cluster(events.required(props, "ClusterId"))
    response = time_budget.started({"PhysicalResourceId": f"{cluster['ClusterId']}/activation"})
    if cluster["State"] == "ACTIVE":
        log("already_active", cluster_id=cluster["ClusterId"])
        return {**response, "Data": {"CommandId": ""}}
    if cluster["State"] != "INITIALIZED":
        raise LifecycleError(f"cluster {cluster['ClusterId']} is {cluster['State']}: activation needs an INITIALIZED cluster")
    command_id = _send(props)
    return {**response, COMMAND_ID: command_id, "Data": {"CommandId": command_id}}


def _delete(event) -> dict:
    log("delete_noop", reason="a CloudHSM cluster cannot be deactivated", physical_id=event.get("PhysicalResourceId"))
    return {"PhysicalResourceId": event["PhysicalResourceId"]}


@reported("cluster activation")
def on_event(event, context):
    return events.dispatch(event, create=_start, update=_start, delete=_delete)


@reported("cluster activation")
def is_complete(event, context):
    if event["RequestType"] == "Delete":
        return events.finished()
    props = events.properties(event)
    cluster = describe_cluster(events.required(props, "ClusterId"))
    command_id = event.get(COMMAND_ID)
    if cluster["State"] == "ACTIVE":
        return events.finished({"ClusterState": "ACTIVE", "CommandId": command_id or ""})
    if command_id:
        status, invocation = host_commands.status(command_id, props["InstanceId"])
        log("activation_poll", cluster_id=cluster["ClusterId"], command_id=command_id, status=status,
            cluster_state=cluster["State"], waited_s=round(time_budget.elapsed(event)))
        host_commands.raise_if_failed("activation", command_id, props["InstanceId"], status, invocation)
    time_budget.ensure_within(event, f"cluster {cluster['ClusterId']} to become ACTIVE (it is {cluster['State']})",
                              "check the command output on the client host (SSM Run Command history), then redeploy")
    return events.still_waiting()
