"""The SSM Run Command boundary: the app's host documents run on the client host.

The document's shell script (with SSM's {{ Parameter }} substitution) is executed with bash on a
stand-in host (host_shell) whose `aws`, `configure-cli` and `cloudhsm-cli` are answered from the
offline account and the modelled cluster, so what the script does to the cluster is what the
cluster's model lets cloudhsm-cli do. The invocation fails with what the script printed to stderr
when it exits non-zero, or when a password was on a command line of the host.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from moto.ec2.models import ec2_backends
from moto.ssm import models as ssm_models

from rehearsal import caller, durations
from rehearsal.clock import CLOCK
from rehearsal.services.ssm import host_shell
from rehearsal.services.ssm.exceptions import InvalidDocument, InvalidInstanceId


@dataclass
class Invocation:
    status: str = "InProgress"
    stdout: str = ""
    stderr: str = ""
    response_code: int = -1


class ActivationFailed(Exception):
    """What the script printed to stderr before exiting non-zero (and its stdout)."""

    def __init__(self, stderr: str, stdout: str = "", exit_code: int = 1) -> None:
        super().__init__(stderr)
        self.stdout, self.exit_code = stdout, exit_code


def document_script(document_content: str, parameters: dict[str, list[str]]) -> str | None:
    """The shell script of a Command document's aws:runShellScript steps, with SSM's {{ Parameter }}
    substitution; None if it has none."""
    content = json.loads(document_content)
    lines = [line for step in content.get("mainSteps", []) if step.get("action") == "aws:runShellScript"
             for line in step["inputs"]["runCommand"]]
    if not lines:
        return None
    text = "\n".join(lines)
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda match: (parameters.get(match.group(1)) or [""])[0], text)


def _client_installed(account: str, region: str, instance_id: str | None) -> bool:
    """Whether the host's user data installed the CloudHSM client at first boot. Without it the host's
    shell says only that the program is missing; why is in the host's cloud-init log (the rehearsal's
    timeline shows it when the boot fails)."""
    from rehearsal import host

    boot = host.booted(account, region, instance_id) if instance_id is not None else None
    return boot is None or "cloudhsm-cli" in boot.installed


def run_host_script(account: str, region: str, script: str, instance_id: str | None = None) -> str:
    """Run a host document's script (document_script) on the stand-in host; its stdout, or
    ActivationFailed with what the host printed. With `instance_id`, each AWS CLI call of the script
    is made as the host's role and authorised first."""
    run = host_shell.run(script, host_shell.Host(account, region, instance_id,
                                                 _client_installed(account, region, instance_id)))
    if run.exposed:
        raise ActivationFailed(run.stderr + "".join(f"{finding}\n" for finding in run.exposed), run.stdout)
    if run.exit_code != 0:
        raise ActivationFailed(run.stderr or f"the script exited with status {run.exit_code}", run.stdout,
                               run.exit_code)
    return run.stdout


# --- Run Command on moto's SSM backend ---------------------------------------------

_original_send_command = ssm_models.SimpleSystemManagerBackend.send_command
_original_get_command_invocation = ssm_models.SimpleSystemManagerBackend.get_command_invocation


def _invocations(backend) -> dict[tuple[str, str], Invocation]:
    if not hasattr(backend, "modelled_invocations"):
        backend.modelled_invocations = {}
    return backend.modelled_invocations


def send_command(self, comment, document_name, timeout_seconds, instance_ids, max_concurrency, max_errors,
                 notification_config, output_s3_bucket_name, output_s3_key_prefix, output_s3_region, parameters,
                 service_role_arn, targets):
    documents = self._documents.get(document_name)
    if documents is None:
        raise InvalidDocument(f"Document {document_name} does not exist")
    ec2 = ec2_backends[self.account_id][self.region_name]
    requested = list(dict.fromkeys(instance_ids or []))   # moto's Command extends the list it is given
    for instance_id in requested:
        try:
            instance = ec2.get_instance(instance_id)
        except Exception:
            raise InvalidInstanceId(f"Instance {instance_id} is not a managed instance") from None
        if instance.state != "running":
            raise InvalidInstanceId(f"Instance {instance_id} is not running")
        from rehearsal import host
        boot = host.booted(self.account_id, self.region_name, instance_id)
        if boot is not None and not boot.agent_online(CLOCK.now()):
            raise InvalidInstanceId(f"Instance {instance_id} is not a managed instance: its SSM Agent "
                                    f"{'has not registered yet' if boot.agent_problem is None else 'cannot register: ' + boot.agent_problem}")
    command = _original_send_command(self, comment, document_name, timeout_seconds, instance_ids, max_concurrency,
                                     max_errors, notification_config, output_s3_bucket_name, output_s3_key_prefix,
                                     output_s3_region, parameters, service_role_arn, targets)
    script = document_script(documents.get_default_version().content, parameters or {})
    # The host's own calls are authorised when the deployment's code sent the command (as in the rehearsal).
    authorise = caller.current() is not None
    for instance_id in requested:
        invocation = Invocation()
        _invocations(self)[(command.command_id, instance_id)] = invocation

        def finish(invocation=invocation, instance_id=instance_id) -> None:
            try:
                invocation.stdout = run_host_script(self.account_id, self.region_name, script or "",
                                                    instance_id if authorise else None)
                invocation.status, invocation.response_code = "Success", 0
            except ActivationFailed as failure:
                invocation.stdout, invocation.stderr = failure.stdout, str(failure)
                invocation.status, invocation.response_code = "Failed", failure.exit_code
        CLOCK.schedule(durations.ACTIVATION_COMMAND, f"activation command {command.command_id}", finish)
    return command


# GetCommandInvocation returns "the first 24,000 characters written by the plugin to stdout" and
# "the first 8,000 characters written by the plugin to stderr" (SSM API Reference, GetCommandInvocation).
STDOUT_LIMIT, STDERR_LIMIT = 24_000, 8_000


def get_command_invocation(self, command_id, instance_id, plugin_name):
    result = _original_get_command_invocation(self, command_id, instance_id, plugin_name)
    invocation = _invocations(self).get((command_id, instance_id))
    if invocation is not None:
        result = {**result, "Status": invocation.status, "StatusDetails": invocation.status,
                  "ResponseCode": invocation.response_code,
                  "StandardOutputContent": invocation.stdout[:STDOUT_LIMIT],
                  "StandardErrorContent": invocation.stderr[:STDERR_LIMIT]}
    return result
