"""Custom::CloudHsmClusterActivation: the SSM command activates and creates kmsuser; no password leaks."""

from __future__ import annotations

import pytest

from tests.lifecycle.conftest import deployed
from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.services.cloudhsm import model_of, password_digest
from rehearsal.faults import FAULTS
from tests.support.world import ACCOUNT, REGION
from tests.support.provider import ResourceFailed, event as request, run_now


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
    with pytest.raises(ResourceFailed, match=r"activation command \S+ on i-\w+ Failed: cloudhsm-cli: no ACTIVE HSM answers at 10.40.9.9"):
        run_now(resource, "Create")
    assert world.cluster_state() == "INITIALIZED"


def test_a_document_without_cluster_activate_fails(world):
    deployed(world, "initialisation")
    import json
    resource = world.activation_resource()
    content = json.loads(world.ssm.get_document(Name=world.document)["Content"])
    content["mainSteps"][0]["inputs"]["runCommand"] = [line for line in content["mainSteps"][0]["inputs"]["runCommand"]
                                                     if "cluster activate" not in line]
    version = world.ssm.update_document(Name=world.document, Content=json.dumps(content), DocumentVersion="$LATEST")
    world.ssm.update_document_default_version(Name=world.document,
                                              DocumentVersion=version["DocumentDescription"]["DocumentVersion"])
    with pytest.raises(ResourceFailed, match="no `cluster activate`"):
        run_now(resource, "Create")


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


def test_a_retry_after_a_crash_after_sending_tolerates_two_commands(world):
    deployed(world, "initialisation")
    resource = world.activation_resource()
    event = request(resource, "Create")
    on_event = resource.functions()[0]
    on_event.invoke(event)  # the first attempt sent the command, then its response was lost
    run_now(resource, "Create", event=event)  # the framework's retry sends a second one
    assert world.cluster_state() == "ACTIVE"
    statuses = [world.ssm.get_command_invocation(CommandId=c["CommandId"], InstanceId=world.instance_id)["Status"]
                for c in world.ssm.list_commands()["Commands"]]
    assert statuses == ["Success", "Success"]  # the script is idempotent


def test_update_of_an_active_cluster_changes_nothing(world):
    deployed(world, "activation")
    response = run_now(world.activation, "Update", old_properties=world.activation.properties)
    assert response["Data"]["ClusterState"] == "ACTIVE" and len(world.ssm.list_commands()["Commands"]) == 1
