"""Custom::CloudHsmClusterActivation: the SSM command activates and creates kmsuser; no password leaks."""

from __future__ import annotations

import json

import pytest

from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.faults import FAULTS
from rehearsal.services.cloudhsm import model_of, password_digest
from rehearsal.services.ssm import models as ssm_model
from tests.lifecycle.conftest import deployed
from tests.support.provider import ResourceFailed, run_now
from tests.support.provider import event as request
from tests.support.world import ACCOUNT, REGION


def _cluster_model(world):
    from moto.cloudhsmv2.models import cloudhsmv2_backends
    return model_of(cloudhsmv2_backends[ACCOUNT][REGION].clusters[world.cluster_id])


def _passwords(world) -> list[str]:
    return [world.secrets.get_secret_value(SecretId=arn)["SecretString"] for arn in (world.admin_secret, world.kmsuser_secret)]


def test_activation_makes_the_cluster_active_with_kmsuser_as_crypto_user(world, capsys):
    deployed(world, "activation")
    assert world.cluster_state() == "ACTIVE"
    users = _cluster_model(world).users
    admin_password, kmsuser_password = _passwords(world)
    assert users["kmsuser"] == {"role": "crypto-user", "password_digest": password_digest(kmsuser_password)}
    assert users["admin"]["password_digest"] == password_digest(admin_password)
    assert world.activation.attributes["CommandId"]
    # No password in the command's parameters or in any handler log line.
    command = world.ssm.list_commands()["Commands"][0]
    parameters = str(command["Parameters"])
    logs = capsys.readouterr().out
    for password in (admin_password, kmsuser_password):
        assert password not in parameters and password not in logs


def test_a_retry_on_an_active_cluster_sends_no_second_command(world):
    deployed(world, "activation")
    run_now(world.activation, "Create")
    assert len(world.ssm.list_commands()["Commands"]) == 1


def test_a_failed_command_reports_the_hosts_error(world):
    deployed(world, "initialisation")
    resource = world.activation_resource()
    resource.properties["HsmIp"] = "10.40.9.9"
    with pytest.raises(ResourceFailed, match=r"activation command \S+ on i-\w+ Failed: user list failed: .*"
                                             r"no ACTIVE HSM answers at 10.40.9.9:2223-2225"):
        run_now(resource, "Create")
    assert world.cluster_state() == "INITIALIZED"


def _edit_document(world, edit) -> None:
    """The activation document's new default version, its lines passed through `edit`."""
    content = json.loads(world.ssm.get_document(Name=world.document)["Content"])
    step = content["mainSteps"][0]["inputs"]
    step["runCommand"] = edit(step["runCommand"])
    version = world.ssm.update_document(Name=world.document, Content=json.dumps(content), DocumentVersion="$LATEST")
    world.ssm.update_document_default_version(Name=world.document,
                                              DocumentVersion=version["DocumentDescription"]["DocumentVersion"])


def test_a_document_without_cluster_activate_fails(world):
    """The script runs on: the admin cannot log in to create kmsuser on a cluster nobody activated."""
    deployed(world, "initialisation")
    _edit_document(world, lambda lines: [line for line in lines if "cluster activate" not in line])
    with pytest.raises(ResourceFailed, match=r"Failed: user create kmsuser failed: .*the cluster is not activated"):
        run_now(world.activation_resource(), "Create")
    assert world.cluster_state() == "INITIALIZED"


def test_a_document_that_pipes_the_password_into_cloudhsm_cli_fails(world):
    """How the script gave passwords before: on standard input. cloudhsm-cli prompts on the terminal
    (CloudHSM User Guide, "Activate the cluster"), and under Run Command there is none."""
    deployed(world, "initialisation")
    piped = ('output="$(printf \'%s\\n%s\\n\' "$admin_password" "$admin_password" | "$cli" cluster activate 2>&1)" '
             '|| fail "cluster activate" "$output"')
    _edit_document(world, lambda lines: [piped if "cloudhsm admin_password cluster activate" in line else line
                                         for line in lines])
    with pytest.raises(ResourceFailed, match=r"Failed: cluster activate failed: .*cannot prompt for the password: "
                                             r"no terminal"):
        run_now(world.activation_resource(), "Create")
    assert world.cluster_state() == "INITIALIZED"


def _activation_script(world) -> str:
    """The activation document's script as the deployment sent it."""
    command = world.ssm.list_commands()["Commands"][0]
    return ssm_model.document_script(world.ssm.get_document(Name=world.document)["Content"], command["Parameters"])


def test_the_activation_run_again_changes_nothing(world):
    """Re-running is safe: the admin secret's password logs in to the activated cluster, and kmsuser
    is a crypto user already, so neither password changes."""
    deployed(world, "activation")
    users = {name: dict(user) for name, user in _cluster_model(world).users.items()}
    stdout = ssm_model.run_host_script(ACCOUNT, REGION, _activation_script(world), world.instance_id)
    assert "already activated" in stdout and "crypto user kmsuser already exists" in stdout
    assert _cluster_model(world).users == users


def test_a_rerun_on_a_cluster_activated_with_another_admin_password_stops(world):
    """The admin secret no longer logs in (here: the secret was changed behind the cluster's back): the
    re-run stops with the host's error, and the attempt counts as a failed login (CloudHSM CLI "login")."""
    deployed(world, "activation")
    world.secrets.put_secret_value(SecretId=world.admin_secret, SecretString="another-admin-password-of-32-chars")
    with pytest.raises(ssm_model.ActivationFailed, match="admin login on the activated cluster failed: .*"
                                                         "login failed: invalid credentials"):
        ssm_model.run_host_script(ACCOUNT, REGION, _activation_script(world), world.instance_id)
    assert _cluster_model(world).users["admin"]["failed_logins"] == 1


def test_a_document_with_the_password_on_the_command_line_fails(world):
    """--password works (CloudHSM CLI reference), but every user of the host can read a command line:
    the command fails with that finding, which does not repeat the password."""
    deployed(world, "initialisation")
    _edit_document(world, lambda lines: [line.replace("cloudhsm admin_password cluster activate",
                                                      '"$cli" cluster activate --password "$admin_password"')
                                         for line in lines])
    run_now(world.activation_resource(), "Create")
    command = world.ssm.list_commands()["Commands"][0]
    invocation = world.ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=world.instance_id)
    assert invocation["Status"] == "Failed"
    assert "rehearsal: a password is on the command line `" in invocation["StandardErrorContent"]
    assert "cluster activate --password ****`" in invocation["StandardErrorContent"]
    assert _passwords(world)[0] not in str(invocation)


def test_activation_needs_an_initialised_cluster(world):
    deployed(world, "initialisation")
    resource = world.activation_resource()
    subnets = [mapping for mapping in world.cluster()["SubnetMapping"].values()]
    other = world.cloudhsm.create_cluster(HsmType="hsm2m.medium", SubnetIds=subnets, Mode="FIPS")["Cluster"]["ClusterId"]
    CLOCK.advance(durations.CLUSTER_CREATE)
    resource.properties["ClusterId"] = other   # a cluster nobody initialised
    with pytest.raises(ResourceFailed, match="is UNINITIALIZED: activation needs an INITIALIZED cluster"):
        run_now(resource, "Create")


def test_throttled_send_command_is_retried(world, retry_sleeps):
    deployed(world, "initialisation")
    FAULTS.throttle("ssm", "SendCommand", times=2)
    world.deploy_activation()
    assert world.cluster_state() == "ACTIVE" and len(retry_sleeps) == 2


def test_a_command_that_never_finishes_exhausts_the_budget(world, monkeypatch):
    deployed(world, "initialisation")
    monkeypatch.setattr(durations, "ACTIVATION_COMMAND", 2 * 3600)
    with pytest.raises(ResourceFailed, match=r"gave up after \d+ min waiting for cluster \S+ to become ACTIVE"):
        world.deploy_activation()


def test_delete_changes_nothing(world):
    deployed(world, "activation")
    run_now(world.activation, "Delete")
    assert world.cluster_state() == "ACTIVE"


def test_a_poll_that_crashed_after_sending_does_not_send_a_second_command(world):
    """is_complete keeps no state between polls: the command is found again by its comment, which names
    the CloudFormation request, so a poll whose response was lost after sending sends nothing twice."""
    deployed(world, "initialisation")
    resource = world.activation_resource()
    event = request(resource, "Create")
    on_event, is_complete = resource.functions()[:2]
    started = {**event, **on_event.invoke(event)}
    CLOCK.advance(durations.SSM_AGENT_REGISTRATION)
    is_complete.invoke(started)  # sent the command; then the poll's response was lost
    run_now(resource, "Create", event=event)
    assert world.cluster_state() == "ACTIVE"
    commands = world.ssm.list_commands()["Commands"]
    assert len(commands) == 1 and event["RequestId"] in commands[0]["Comment"]


def test_update_of_an_active_cluster_changes_nothing(world):
    deployed(world, "activation")
    response = run_now(world.activation, "Update", old_properties=world.activation.properties)
    assert response["Data"]["ClusterState"] == "ACTIVE" and len(world.ssm.list_commands()["Commands"]) == 1


def test_an_error_output_longer_than_ssm_returns_is_reported_as_cut(world, monkeypatch):
    """SSM returns the first 8,000 characters of stderr (API Reference, GetCommandInvocation): the
    reported line is the last complete one, and the report says the output was cut."""
    deployed(world, "initialisation")
    noise = "".join(f"cloudhsm-cli: retrying connection to HSM {n}\n" for n in range(400))  # about 17,000 characters

    def failing(*args, **kwargs):
        raise ssm_model.ActivationFailed(noise + "cluster activate failed: the real cause")
    monkeypatch.setattr(ssm_model, "run_host_script", failing)
    with pytest.raises(ResourceFailed) as failure:
        run_now(world.activation_resource(), "Create")
    message = str(failure.value)
    assert "error output cut by SSM at 8,000 characters; this is its last complete line" in message
    reported = message.split(" Failed: ", 1)[1].split(" (error output cut", 1)[0]
    assert reported in noise.splitlines(), "a complete line from before the cut, not a fragment"
