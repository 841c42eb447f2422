"""The SSM Run Command boundary: what the app's host documents do to the modelled cluster.

cloudhsm-cli cannot run offline, so the model reads the document's shell script
(with SSM's {{ Parameter }} substitution) and checks it does what the host must
do: configure the CLI with an ACTIVE HSM's IP, install the cluster's trust anchor,
read both passwords from Secrets Manager, with no password on any command line;
then either `cluster activate` and create kmsuser as a crypto-user (the cluster
becomes ACTIVE with those users), or, as the admin, set kmsuser's password to its
secret's value. Otherwise the invocation fails with the error the host would print.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from moto.cloudhsmv2.models import cloudhsmv2_backends
from moto.ec2.models import ec2_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.ssm import models as ssm_models

from rehearsal import caller, durations
from rehearsal.clock import CLOCK
from rehearsal.services.cloudhsm import activate, model_of, password_digest
from rehearsal.services.ssm.exceptions import InvalidDocument, InvalidInstanceId


@dataclass
class Invocation:
    status: str = "InProgress"
    stdout: str = ""
    stderr: str = ""
    response_code: int = -1


class ActivationFailed(Exception):
    """What the script would print to stderr before exiting non-zero."""


def _script(document_content: str, parameters: dict[str, list[str]]) -> str | None:
    content = json.loads(document_content)
    lines = [line for step in content.get("mainSteps", []) if step.get("action") == "aws:runShellScript"
             for line in step["inputs"]["runCommand"]]
    if not lines:
        return None
    text = "\n".join(lines)
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda match: (parameters.get(match.group(1)) or [""])[0], text)


def _one(pattern: str, script: str, missing: str) -> str:
    match = re.search(pattern, script)
    if not match:
        raise ActivationFailed(missing)
    return match.group(1)


def _secret(backend_account: str, region: str, secret_id: str) -> str:
    try:
        return secretsmanager_backends[backend_account][region].get_secret_value(secret_id, None, None)["SecretString"]
    except Exception:
        raise ActivationFailed(f"An error occurred (ResourceNotFoundException) when calling GetSecretValue: {secret_id}") from None


def _host_role(account: str, region: str, instance_id: str) -> str | None:
    """The role of the instance profile the host runs with (its AWS CLI calls are made as that role)."""
    association = ec2_backends[account][region].iam_instance_profile_associations.get(instance_id)
    roles = getattr(getattr(association, "iam_instance_profile", None), "roles", None) or []
    return roles[0].arn if roles else None


def _authorised(account: str, region: str, instance_id: str | None, service: str, operation: str, params: dict) -> None:
    """The AWS CLI call on the host, authorised as the host's role; its error as the CLI prints it."""
    if instance_id is None:
        return
    from rehearsal.authorization import check
    from rehearsal.caller import Caller

    role = _host_role(account, region, instance_id)
    if role is None:
        raise ActivationFailed("Unable to locate credentials: the instance has no instance profile role")
    denied = check(service, operation, params, Caller(role, instance_id), account, region)
    if denied is not None:
        raise ActivationFailed(f"An error occurred ({denied.code}) when calling the {operation} operation: "
                               f"{denied.message}")


def _require_client(account: str, region: str, instance_id: str | None) -> None:
    """The activation runs the CloudHSM CLI that the host's user data installed at first boot. The
    host's shell says only that the program is missing; why is in the host's cloud-init log (the
    rehearsal's timeline shows it when the boot fails)."""
    from rehearsal import host

    boot = host.booted(account, region, instance_id) if instance_id is not None else None
    if boot is not None and "cloudhsm-cli" not in boot.installed:
        raise ActivationFailed("bash: /opt/cloudhsm/bin/configure-cli: No such file or directory")


@dataclass
class HostSession:
    """What every host script of the app does first: the CLI pointed at an ACTIVE HSM, the cluster's
    trust anchor installed, both passwords read from Secrets Manager (each call as the host's role)."""
    cluster: object
    model: object
    admin_password: str
    kmsuser_password: str


def _host_session(account: str, region: str, script: str, parameters: dict[str, list[str]],
                  instance_id: str | None) -> HostSession:
    if re.search(r"--password\b", script):
        raise ActivationFailed("policy: a password is passed on a command line")
    _require_client(account, region, instance_id)
    cluster_id = (parameters.get("ClusterId") or [""])[0]
    cluster = cloudhsmv2_backends[account][region].clusters.get(cluster_id)
    if cluster is None:
        raise ActivationFailed(f"cluster {cluster_id} not found")
    model = model_of(cluster)
    hsm_ip = _one(r'configure-cli\s+-a\s+"?([0-9.]+)"?', script, "cloudhsm-cli is not configured with an HSM IP (configure-cli -a)")
    if hsm_ip not in {hsm.eni_ip for hsm in model.active_hsms()}:
        raise ActivationFailed(f"cloudhsm-cli: no ACTIVE HSM answers at {hsm_ip}:2223-2225")
    anchor_name = _one(r'ssm get-parameter[^\n]*--name\s+"?([^"\s]+)"?[^\n]*customerCA\.crt', script,
                       "the cluster's trust anchor is not installed as /opt/cloudhsm/etc/customerCA.crt")
    _authorised(account, region, instance_id, "ssm", "GetParameter", {"Name": anchor_name})
    parameter = ssm_models.ssm_backends[account][region].get_parameter(anchor_name)
    if parameter is None or parameter.value.strip() != model.trust_anchor_pem.strip():
        raise ActivationFailed("TLS handshake failed: customerCA.crt does not match the cluster's trust anchor")
    admin_secret = _one(r'admin_password="\$\(aws secretsmanager get-secret-value[^\n]*--secret-id\s+"?([^"\s]+)"?', script,
                        "the admin password is not read from Secrets Manager")
    kmsuser_secret = _one(r'kmsuser_password="\$\(aws secretsmanager get-secret-value[^\n]*--secret-id\s+"?([^"\s]+)"?', script,
                          "the kmsuser password is not read from Secrets Manager")
    for secret_id in (admin_secret, kmsuser_secret):
        _authorised(account, region, instance_id, "secretsmanager", "GetSecretValue", {"SecretId": secret_id})
    return HostSession(cluster, model, _secret(account, region, admin_secret), _secret(account, region, kmsuser_secret))


def _logged_in_as_admin(script: str, what: str) -> None:
    if "CLOUDHSM_PIN=\"admin:" not in script and "login --username admin --role admin" not in script:
        raise ActivationFailed(f'{{"error_code": 1, "data": "{what}: not logged in as admin"}}')


def run_host_script(account: str, region: str, script: str, parameters: dict[str, list[str]],
                    instance_id: str | None = None) -> str:
    """The app's two host scripts, told apart by what they do: setting kmsuser's password, or
    activating the cluster. Returns stdout or raises ActivationFailed with what the host prints.

    With `instance_id`, each AWS CLI call of the script is authorised as the host's role first."""
    if re.search(r"user change-password --username kmsuser", script):
        return run_kmsuser_password(account, region, script, parameters, instance_id)
    return run_activation(account, region, script, parameters, instance_id)


def run_kmsuser_password(account: str, region: str, script: str, parameters: dict[str, list[str]],
                         instance_id: str | None = None) -> str:
    """An admin sets kmsuser's password to the secret's value. CloudHSM refuses to change the password
    of a user who is logged in (CloudHSM User Guide, "Change HSM user passwords using CloudHSM CLI"),
    and KMS stays logged in as kmsuser while a store is connected to the cluster (KMS Developer
    Guide, "Connecting and disconnecting an AWS CloudHSM key store")."""
    session = _host_session(account, region, script, parameters, instance_id)
    _logged_in_as_admin(script, "user change-password")
    users = session.model.users
    if session.cluster.state != "ACTIVE" or "admin" not in users:
        raise ActivationFailed('user change-password kmsuser failed: {"error_code": 1, "data": "cluster is not activated"}')
    if users["admin"]["password_digest"] != password_digest(session.admin_password):
        raise ActivationFailed('user change-password kmsuser failed: {"error_code": 1, "data": "login failed: invalid credentials"}')
    if "kmsuser" not in users:
        raise ActivationFailed('user change-password kmsuser failed: {"error_code": 1, "data": "user kmsuser not found"}')
    from rehearsal.services.kms.models import kmsuser_logged_in
    if "kmsuser" in session.model.logged_in or kmsuser_logged_in(account, region, session.cluster.cluster_id):
        raise ActivationFailed('user change-password kmsuser failed: {"error_code": 1, "data": "user kmsuser is logged in"}')
    users["kmsuser"]["password_digest"] = password_digest(session.kmsuser_password)
    return f"cluster {session.cluster.cluster_id}: kmsuser password set from its secret\n"


def run_activation(account: str, region: str, script: str, parameters: dict[str, list[str]],
                   instance_id: str | None = None) -> str:
    """Check the activation script against the cluster and apply its effect."""
    session = _host_session(account, region, script, parameters, instance_id)
    cluster, model, cluster_id = session.cluster, session.model, session.cluster.cluster_id
    if not re.search(r"cloudhsm-cli[^\n]*cluster activate|\"\$cli\" cluster activate", script):
        raise ActivationFailed('{"error_code": 1, "data": "cluster is not activated: no `cluster activate`"}')
    create = re.search(r"user create --username ([\w-]+) --role ([\w-]+)", script)
    if not create or create.group(1) != "kmsuser":
        raise ActivationFailed("kmsuser is not created (user create --username kmsuser --role crypto-user)")
    _logged_in_as_admin(script, "user create")

    if cluster.state == "ACTIVE":
        if model.users.get("admin", {}).get("password_digest") != password_digest(session.admin_password):
            raise ActivationFailed('cluster activate failed: {"error_code": 1, "data": "cluster is already activated"}')
        return f"cluster {cluster_id}: already activated\ncluster {cluster_id}: activated, kmsuser created\n"
    if cluster.state != "INITIALIZED":
        raise ActivationFailed(f'cluster activate failed: {{"error_code": 1, "data": "cluster is {cluster.state}, not initialized"}}')
    activate(cluster, session.admin_password, session.kmsuser_password)
    model.users["kmsuser"]["role"] = create.group(2)
    return f"cluster {cluster_id}: activating\ncluster {cluster_id}: creating crypto user kmsuser\ncluster {cluster_id}: activated, kmsuser created\n"


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
    for instance_id in instance_ids or []:
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
    script = _script(documents.get_default_version().content, parameters or {})
    # The host's own calls are authorised when the deployment's code sent the command (as in the rehearsal).
    authorise = caller.current() is not None
    for instance_id in instance_ids or []:
        invocation = Invocation()
        _invocations(self)[(command.command_id, instance_id)] = invocation

        def finish(invocation=invocation, instance_id=instance_id) -> None:
            try:
                invocation.stdout = run_host_script(self.account_id, self.region_name, script or "", parameters or {},
                                                   instance_id if authorise else None)
                invocation.status, invocation.response_code = "Success", 0
            except ActivationFailed as failure:
                invocation.stderr = str(failure)
                invocation.status, invocation.response_code = "Failed", 1
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
