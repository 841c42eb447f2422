"""SSM Run Command on the CloudHSM client host: send a document, follow its invocation, report failure.

The cluster activation and the key store's kmsuser password reset both run a document on the host;
the parameters are names and ARNs only (the host reads passwords from Secrets Manager itself).
"""

from __future__ import annotations

from lifecycle_runtime.aws_clients import client, create_once
from lifecycle_runtime.errors import LifecycleError

PENDING = ("Pending", "InProgress", "Delayed")


def send(document: str, instance_id: str, parameters: dict[str, str], comment: str) -> str:
    """The command id; SSM's Comment (at most 100 characters) names what the command is for."""
    response = create_once(
        "ssm", "send_command",
        DocumentName=document,
        InstanceIds=[instance_id],
        Parameters={name: [str(value)] for name, value in parameters.items()},
        Comment=comment[:100],
        TimeoutSeconds=900,
    )
    return response["Command"]["CommandId"]


def status(command_id: str, instance_id: str) -> tuple[str, dict]:
    """(Status, invocation); Pending while SSM has not yet delivered the command to the host."""
    try:
        invocation = client("ssm").get_command_invocation(CommandId=command_id, InstanceId=instance_id)
    except client("ssm").exceptions.InvocationDoesNotExist:
        return "Pending", {}
    return invocation["Status"], invocation


def last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error output"


def raise_if_failed(what: str, command_id: str, instance_id: str, state: str, invocation: dict) -> None:
    """A finished command that did not succeed fails the resource with the host's last error line."""
    if state in PENDING or state == "Success":
        return
    raise LifecycleError(f"{what} command {command_id} on {instance_id} {state}: "
                         f"{last_line(invocation.get('StandardErrorContent', ''))} "
                         f"(full output: aws ssm get-command-invocation --command-id {command_id} --instance-id {instance_id})")
