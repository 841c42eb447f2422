"""Custom::CloudHsmClusterActivation: activate the cluster and create kmsuser on the client host.

is_complete sends the activation document (host_session.sh + activate_cluster.sh)
to the host with SSM Run Command once the host is a managed instance; its parameters
are names and ARNs only, the host reads both passwords from Secrets Manager itself.
It follows the command and then waits for the cluster to report ACTIVE; a failed
command fails the resource with the host's last error line. The script is idempotent, and an ACTIVE cluster is not
activated twice. A cluster cannot be deactivated, so Delete changes nothing.
"""

from __future__ import annotations

from lifecycle_runtime import events, host_commands, time_budget
from lifecycle_runtime.aws_clients import client
from lifecycle_runtime.clusters import describe_cluster
from lifecycle_runtime.errors import LifecycleError, reported
from lifecycle_runtime.structured_log import log

DOCUMENT_PARAMETERS = ("ClusterId", "HsmIp", "TrustAnchorParameterName", "AdminPasswordSecretArn", "KmsUserPasswordSecretArn")


def _comment(event, props: dict) -> str:
    return f"request {event['RequestId']}: activate CloudHSM cluster {props['ClusterId']}"


def _command(event, props: dict) -> str | None:
    """The activation command of this request, sent when the host can take it; None until then."""
    parameters = {name: events.required(props, name) for name in DOCUMENT_PARAMETERS}
    parameters["Region"] = client("ssm").meta.region_name
    return host_commands.ensure_sent(events.required(props, "DocumentName"), events.required(props, "InstanceId"),
                                     parameters, _comment(event, props))


def _start(event) -> dict:
    props = events.properties(event)
    cluster = describe_cluster(events.required(props, "ClusterId"))
    response = time_budget.started({"PhysicalResourceId": f"{cluster['ClusterId']}/activation"})
    if cluster["State"] == "ACTIVE":
        log("already_active", cluster_id=cluster["ClusterId"])
        return {**response, "Data": {"CommandId": ""}}
    if cluster["State"] != "INITIALIZED":
        raise LifecycleError(f"cluster {cluster['ClusterId']} is {cluster['State']}: activation needs an INITIALIZED cluster")
    return response  # is_complete sends the command once the host is a managed instance


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
    if cluster["State"] == "ACTIVE":
        command_id = host_commands.find(props["InstanceId"], _comment(event, props)) or ""
        return events.finished({"ClusterState": "ACTIVE", "CommandId": command_id})
    command_id = _command(event, props)
    if command_id is None:
        time_budget.ensure_within(event, f"client host {props['InstanceId']} to become a managed instance (SSM Agent)",
                                  "check the host reaches the ssm, ec2messages and ssmmessages endpoints and its "
                                  "role allows the SSM Agent, then redeploy")
        return events.still_waiting()
    status, invocation = host_commands.status(command_id, props["InstanceId"])
    log("activation_poll", cluster_id=cluster["ClusterId"], command_id=command_id, status=status,
        cluster_state=cluster["State"], waited_s=round(time_budget.elapsed(event)))
    host_commands.raise_if_failed("activation", command_id, props["InstanceId"], status, invocation)
    time_budget.ensure_within(event, f"cluster {cluster['ClusterId']} to become ACTIVE (it is {cluster['State']})",
                              "check the command output on the client host (SSM Run Command history), then redeploy")
    return events.still_waiting()
