"""The stand-in client host and its cloudhsm-cli, through their public interface: host_session.sh and a
few commands, run with bash by rehearsal.services.ssm.host_shell. Each behaviour names the CloudHSM
User Guide page it follows."""

from __future__ import annotations

import json
from pathlib import Path

from moto.cloudhsmv2.models import cloudhsmv2_backends

from cmk_constructs.cluster_activation.infrastructure import HOST_SCRIPT, HOST_SESSION
from rehearsal.services.cloudhsm import model_of, password_digest
from rehearsal.services.cloudhsm.models import FAILED_LOGINS_BEFORE_LOCKOUT
from rehearsal.services.ssm import host_shell
from rehearsal.services.ssm.models import document_script
from tests.lifecycle.conftest import deployed
from tests.support.world import ACCOUNT, REGION

WRONG = "not-the-password"   # a password no user has


def _model(world):
    return model_of(cloudhsmv2_backends[ACCOUNT][REGION].clusters[world.cluster_id])


def _secret(world, arn: str) -> str:
    return world.secrets.get_secret_value(SecretId=arn)["SecretString"]


def _on_host(world, *commands: str, script: Path | None = None) -> host_shell.HostRun:
    """host_session.sh (the document's parameters filled in as SSM does), then `script` or `commands`,
    on the host."""
    properties = world.activation_resource().properties
    parameters = {name: [properties[name]] for name in ("ClusterId", "HsmIp", "TrustAnchorParameterName",
                                                       "AdminPasswordSecretArn", "KmsUserPasswordSecretArn")}
    lines = HOST_SESSION.read_text().splitlines() + (script.read_text().splitlines() if script else [])
    content = {"mainSteps": [{"action": "aws:runShellScript", "inputs": {"runCommand": [*lines, *commands]}}]}
    text = document_script(json.dumps(content), {**parameters, "Region": [REGION]})
    return host_shell.run(text, host_shell.Host(ACCOUNT, REGION, world.instance_id))


def _answers(run: host_shell.HostRun) -> list[dict]:
    """cloudhsm-cli's answers, one JSON line each (host_session.sh's `cloudhsm` prints them so)."""
    return [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]


def test_the_prompt_needs_a_terminal_so_a_password_piped_in_is_refused(world):
    """"Activate the cluster" and "Command modes in CloudHSM CLI" give a new password at the
    "Enter password:" prompt (or with --password); the prompt reads the terminal. Under SSM Run
    Command there is none, so the password the old script piped into standard input is never read."""
    deployed(world, "initialisation")
    run = _on_host(world, """printf '%s\\n%s\\n' "$admin_password" "$admin_password" | "$cli" cluster activate""")
    assert run.exit_code != 0
    answer = json.loads(run.stdout)   # the CLI's own output, not through host_session.sh's `cloudhsm`
    assert answer["error_code"] == 1 and "no terminal" in answer["data"]
    assert world.cluster_state() == "INITIALIZED"


def test_cluster_activate_takes_the_password_typed_at_its_prompts(world):
    """"Activate the cluster": `user list` needs no login and shows admin as unactivated-admin (and
    the appliance user); `cluster activate` prompts for the new admin password twice and answers
    "Cluster activation successful"; the admin is then an admin ("List all AWS CloudHSM users")."""
    deployed(world, "initialisation")
    run = _on_host(world, "cloudhsm - user list", "cloudhsm admin_password cluster activate", "cloudhsm - user list")
    assert run.exit_code == 0, run.stderr
    before, activated, after = _answers(run)
    assert [(user["username"], user["role"]) for user in before["data"]["users"]] == [
        ("admin", "unactivated-admin"), ("app_user", "internal(APPLIANCE_USER)")]
    assert activated == {"error_code": 0, "data": "Cluster activation successful"}
    assert after["data"]["users"][0] == {"username": "admin", "role": "admin", "locked": "false", "mfa": [],
                                         "cluster-coverage": "full"}
    assert world.cluster_state() == "ACTIVE"
    assert _model(world).users["admin"]["password_digest"] == password_digest(_secret(world, world.admin_secret))


def test_single_command_mode_logs_in_with_cloudhsm_role_and_cloudhsm_pin(world):
    """"Command modes in CloudHSM CLI": CLOUDHSM_ROLE and CLOUDHSM_PIN=<username>:<password> log in for
    the one command; "Create an AWS CloudHSM user": only an admin creates users, the answer names the
    user and role. Without the variables the command is not logged in."""
    deployed(world, "activation")
    run = _on_host(world, "as_admin kmsuser_password user create --username Alice --role crypto-user",
                   "cloudhsm kmsuser_password user create --username bob --role crypto-user || true")
    created, not_logged_in = _answers(run)
    assert created == {"error_code": 0, "data": {"username": "alice", "role": "crypto-user"}}
    assert not_logged_in["error_code"] == 1 and "CLOUDHSM_PIN" in not_logged_in["data"]
    assert set(_model(world).users) == {"admin", "kmsuser", "alice"}


def test_a_wrong_admin_password_is_an_error_and_a_failed_login(world):
    """"login": a wrong password fails the login and counts towards the lock-out."""
    deployed(world, "activation")
    run = _on_host(world, f'CLOUDHSM_ROLE=admin CLOUDHSM_PIN="admin:{WRONG}" '
                          "cloudhsm kmsuser_password user create --username alice --role crypto-user || true")
    [answer] = _answers(run)
    assert answer == {"error_code": 1, "data": "login failed: invalid credentials"}
    assert "alice" not in _model(world).users and _model(world).users["admin"]["failed_logins"] == 1


def _logins(password_variable: str, count: int) -> list[str]:
    return [f"cloudhsm {password_variable} login --username kmsuser --role crypto-user || true"] * count


def test_failed_logins_lock_the_user_out_until_an_admin_sets_its_password(world):
    """"login": "If you exceed five incorrect login attempts, your account is locked out. To unlock the
    account, an admin must reset your password using the user change-password command." Four failures
    and then the right password log in (and the count starts again); five lock the user out, after
    which even the right password fails, `user list` shows it locked, and a password set by the admin
    unlocks it ("Change a user's password with CloudHSM CLI")."""
    deployed(world, "activation")
    users = _model(world).users
    run = _on_host(world, f"wrong={WRONG}", *_logins("wrong", FAILED_LOGINS_BEFORE_LOCKOUT - 1),
                   *_logins("kmsuser_password", 1))
    assert _answers(run)[-1] == {"error_code": 0, "data": {"username": "kmsuser", "role": "crypto-user"}}
    assert "failed_logins" not in users["kmsuser"] and "locked_out" not in users["kmsuser"]

    run = _on_host(world, f"wrong={WRONG}", *_logins("wrong", FAILED_LOGINS_BEFORE_LOCKOUT),
                   *_logins("kmsuser_password", 1), "cloudhsm - user list")
    *failures, right_password, listed = _answers(run)
    assert all(answer["data"] == "login failed: invalid credentials" for answer in failures)
    assert right_password["error_code"] == 1 and "user kmsuser is locked out" in right_password["data"]
    assert {user["username"]: user["locked"] for user in listed["data"]["users"]}["kmsuser"] == "true"
    assert users["kmsuser"]["locked_out"] is True

    run = _on_host(world, "as_admin kmsuser_password user change-password --username kmsuser --role crypto-user",
                   *_logins("kmsuser_password", 1))
    assert [answer["error_code"] for answer in _answers(run)] == [0, 0]
    assert "locked_out" not in users["kmsuser"]


def test_change_password_is_refused_while_kmsuser_is_logged_in(world):
    """"Change a user's password with CloudHSM CLI": "You cannot change the password of a user who is
    currently logged in to the cluster" (KMS is logged in as kmsuser while a store is connected)."""
    deployed(world, "activation")
    model = _model(world)
    before = model.users["kmsuser"]["password_digest"]
    model.logged_in.add("kmsuser")
    run = _on_host(world, "as_admin admin_password user change-password --username kmsuser --role crypto-user || true")
    [answer] = _answers(run)
    assert answer["error_code"] == 1 and "user kmsuser is logged in" in answer["data"]
    assert model.users["kmsuser"]["password_digest"] == before


def test_only_single_command_mode_is_offered(world):
    """"Command modes in CloudHSM CLI": scripts use single command mode; the stand-in has no other."""
    deployed(world, "initialisation")
    answer = json.loads(_on_host(world, '"$cli" interactive || true').stdout)
    assert answer["error_code"] == 1 and "single command mode only" in answer["data"]


def test_the_activation_puts_no_password_on_any_command_line(world):
    """Every command line the stand-ins saw (theirs, and bash's and the prompt helper's that started
    them) is free of both passwords, though the activation ran cloudhsm-cli with both."""
    deployed(world, "initialisation")
    run = _on_host(world, script=HOST_SCRIPT)
    assert run.exit_code == 0, run.stderr
    commands = [" ".join(line) for line in run.command_lines]
    assert any(command.endswith("cloudhsm-cli cluster activate") for command in commands)
    assert any(command.endswith("cloudhsm-cli user create --username kmsuser --role crypto-user") for command in commands)
    for password in (_secret(world, world.admin_secret), _secret(world, world.kmsuser_secret)):
        assert not [command for command in commands if password in command]
    assert run.exposed == []


def test_a_password_given_with_the_password_option_is_found_on_the_command_line(world):
    """--password is documented ("Activate the cluster", "Create an AWS CloudHSM user"), so the CLI
    takes it; but the command line is readable by every user of the host, so the run reports it,
    without the password."""
    deployed(world, "initialisation")
    run = _on_host(world, '"$cli" cluster activate --password "$admin_password"')
    assert world.cluster_state() == "ACTIVE"
    [finding] = run.exposed
    assert "cluster activate --password ****" in finding
    assert _secret(world, world.admin_secret) not in finding


def test_the_cli_trusts_the_hsms_only_with_the_clusters_trust_anchor(world):
    """"Activate the cluster": the issuing certificate goes to /opt/cloudhsm/etc/customerCA.crt on the
    client before it connects; another certificate fails the TLS handshake."""
    deployed(world, "initialisation")
    other = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    run = _on_host(world, f"printf '%s\\n' '{other}' > /opt/cloudhsm/etc/customerCA.crt", "cloudhsm - user list || true")
    [answer] = _answers(run)
    assert answer == {"error_code": 1, "data": "TLS handshake failed: customerCA.crt does not match the cluster's trust anchor"}
