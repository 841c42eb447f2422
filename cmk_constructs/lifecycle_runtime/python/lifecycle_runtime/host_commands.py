"""SSM Run Command on the CloudHSM client host: send a document, follow its invocation, report failure.

The cluster activation and the key store's kmsuser password reset both run a document on the host;
the parameters are names and ARNs only (the host reads passwords from Secrets Manager itself).
A handler's is_complete keeps no state between polls, so a command is found again by its comment,
which names the CloudFormation request; until the host's SSM Agent has registered, SendCommand
answers InvalidInstanceId and the command is sent at a later poll.
"""

from __future__ import annotations

from lifecycle_runtime.aws_clients import client, create_once
from lifecycle_runtime.errors import LifecycleError
from lifecycle_runtime.structured_log import log

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


def find(instance_id: str, comment: str) -> str | None:
    """The id of a command sent to the instance with this comment, or None."""
    for page in client("ssm").get_paginator("list_commands").paginate(InstanceId=instance_id):
        for command in page["Commands"]:
            if command.get("Comment") == comment[:100]:
                return command["CommandId"]
    return None


def ensure_sent(document: str, instance_id: str, parameters: dict[str, str], comment: str) -> str | None:
    """The command for `comment`, sent now if it was not yet; None while the host is not a managed
    instance yet (its SSM Agent registers a minute or two after boot)."""
    command_id = find(instance_id, comment)
    if command_id is not None:
        return command_id
    try:
        command_id = send(document, instance_id, parameters, comment)
    except client("ssm").exceptions.InvalidInstanceId as error:
        log("host_not_managed_yet", instance_id=instance_id, error=str(error))
        return None
    log("host_command_sent", instance_id=instance_id, command_id=command_id, comment=comment[:100])
    return command_id


def status(command_id: str, instance_id: str) -> tuple[str, dict]:
    """(Status, invocation); Pending while SSM has not yet delivered the command to the host."""
    try:
        invocation = client("ssm").get_command_invocation(CommandId=command_id, InstanceId=instance_id)
    except client("ssm").exceptions.InvocationDoesNotExist:
        return "Pending", {}
    return invocation["Status"], invocation


# SSM returns only the first 8,000 characters of a command's standard error (GetCommandInvocation).
STDERR_LIMIT = 8_000


def error_summary(stderr: str) -> str:
    """The host's last complete error line; when SSM cut the output, the line before the cut, saying so
    (a cut line, or the script's last words past the cut, would mislead)."""
    text = stderr or ""
    truncated = len(text) >= STDERR_LIMIT
    if truncated:
        text = text[: text.rfind("\n")] if "\n" in text else ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1][:300] if lines else "no complete error line"
    return f"{line} (error output cut by SSM at {STDERR_LIMIT:,} characters; this is its last complete line)" \
        if truncated else (line if lines else "no error output")


def raise_if_failed(what: str, command_id: str, instance_id: str, state: str, invocation: dict) -> None:
    """A finished command that did not succeed fails the resource with the host's error."""
    if state in PENDING or state == "Success":
        return
    raise LifecycleError(f"{what} command {command_id} on {instance_id} {state}: "
                         f"{error_summary(invocation.get('StandardErrorContent', ''))} "
                         f"(full output: aws ssm get-command-invocation --command-id {command_id} --instance-id {instance_id})")
