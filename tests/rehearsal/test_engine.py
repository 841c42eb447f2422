"""CloudFormation semantics the rehearsal must get right, on the synthesised app: the Provider
contract and the handler code come from the assembly, a failure rolls the stack back, and the next
deploy of a rolled-back stack starts over."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from rehearsal.cloudformation.custom import Waiter
from rehearsal.cloudformation.engine import DeployFailed
from rehearsal.faults import FAULTS
from rehearsal.session import offline_account
from tests.rehearsal.conftest import loaded

ACCOUNT, REGION = "111122223333", "eu-west-1"


def _template(directory: Path, suffix: str) -> tuple[Path, dict]:
    path = next(directory.glob(f"*-{suffix}.template.json"))
    return path, json.loads(path.read_text())


def _resource(template: dict, resource_type: str) -> tuple[str, dict]:
    return next((logical_id, resource) for logical_id, resource in template["Resources"].items()
                if resource["Type"] == resource_type)


def _deploy(directory: Path):
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        try:
            cloud.deploy(loaded(directory))
        except DeployFailed as failure:
            return cloud, failure
        return cloud, None


def _state_machine_for(template: dict, custom_type: str) -> tuple[str, dict]:
    """The waiter state machine of the Provider that serves `custom_type`, found through the wiring."""
    _, custom = _resource(template, custom_type)
    framework_id = custom["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    environment = template["Resources"][framework_id]["Properties"]["Environment"]["Variables"]
    machine_id = environment["WAITER_STATE_MACHINE_ARN"]["Ref"]
    return machine_id, template["Resources"][machine_id]


def test_the_waiter_is_read_from_the_synthesised_state_machine(assembly_dir):
    _, template = _template(assembly_dir(), "Hsm")
    _, machine = _state_machine_for(template, "Custom::KmsCustomKeyStore")
    definition = "".join(part if isinstance(part, str) else "arn" for part in machine["Properties"]["DefinitionString"]["Fn::Join"][1])
    waiter = Waiter.from_definition(definition)
    retry = json.loads(definition)["States"]["framework-isComplete-task"]["Retry"][0]
    assert (waiter.interval, waiter.max_attempts) == (retry["IntervalSeconds"], retry["MaxAttempts"])
    assert waiter.total_timeout == retry["IntervalSeconds"] * retry["MaxAttempts"]


def test_a_shorter_waiter_in_the_template_times_the_key_store_out(copied_assembly):
    """The key store needs ~20 minutes to connect; a state machine allowing 5 fails it as the framework does."""
    directory = copied_assembly()
    path, template = _template(directory, "Hsm")
    machine_id, machine = _state_machine_for(template, "Custom::KmsCustomKeyStore")
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    parts[0] = re.sub(r'"MaxAttempts":\d+', '"MaxAttempts":5', parts[0])
    path.write_text(json.dumps(template))
    cloud, failure = _deploy(directory)
    assert failure is not None and failure.stack.endswith("-Hsm") and failure.resource_type == "Custom::KmsCustomKeyStore"
    assert "Operation timed out" in failure.reason
    assert cloud.stacks[failure.stack].status == "ROLLBACK_COMPLETE"


def test_handlers_run_from_the_assembly_assets_not_the_source_tree(copied_assembly):
    directory = copied_assembly()
    _, template = _template(directory, "Keys")
    _, key = _resource(template, "Custom::HsmBackedKmsKey")
    framework_id = key["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    variables = template["Resources"][framework_id]["Properties"]["Environment"]["Variables"]
    on_event_id = variables["USER_ON_EVENT_FUNCTION_ARN"]["Fn::GetAtt"][0]
    code_key = template["Resources"][on_event_id]["Properties"]["Code"]["S3Key"]
    handler = directory / f"asset.{code_key.removesuffix('.zip')}" / "handler.py"
    handler.write_text(handler.read_text() + "\n\ndef on_event(event, context):\n    raise RuntimeError('the asset copy ran')\n")
    _, failure = _deploy(directory)
    assert failure is not None and failure.resource_type == "Custom::HsmBackedKmsKey"
    assert "the asset copy ran" in failure.reason


def test_a_failed_resource_rolls_the_new_stack_back_and_the_next_deploy_starts_over(assembly_dir):
    """The data key's alias fails once, after its CreateKey: the Keys stack rolls back through the
    handler, which schedules the new key's deletion (it carried the key's id from CreateKey on); the
    key store, in the Hsm stack, stays CONNECTED; the next deploy makes a new key in it."""
    directory = assembly_dir()
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        FAULTS.fail("kms", "CreateAlias", "KMSInternalException", "KMS had an internal error", times=1)
        assembly = loaded(directory)
        with pytest.raises(DeployFailed) as failed:
            cloud.deploy(assembly)
        failure = failed.value
        assert failure.stack.endswith("-Keys") and failure.resource_type == "Custom::HsmBackedKmsKey"
        assert "KMS had an internal error" in failure.reason
        state = cloud.stacks[failure.stack]
        assert state.status == "ROLLBACK_COMPLETE" and state.resources == {}
        assert all(cloud.stacks[name].status == "CREATE_COMPLETE" for name in cloud.stacks if name != failure.stack)
        kms = cloud.client("kms")
        (store,) = kms.describe_custom_key_stores()["CustomKeyStores"]
        assert store["ConnectionState"] == "CONNECTED"
        (first_key,) = [key["KeyId"] for key in kms.list_keys()["Keys"]
                        if kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"].get("CustomKeyStoreId")]
        assert kms.describe_key(KeyId=first_key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
        roles = {role["RoleName"] for role in cloud.client("iam").list_roles()["Roles"]}
        assert not [name for name in roles if name.startswith(failure.stack)], "the stack's roles were deleted"
        cloud.deploy(assembly)  # CDK deletes the ROLLBACK_COMPLETE stack, then creates it again
        assert all(stack.status == "CREATE_COMPLETE" for stack in cloud.stacks.values())
        data_key = kms.describe_key(KeyId="alias/customer-keys/data")["KeyMetadata"]
        assert data_key["KeyId"] != first_key and data_key["CustomKeyStoreId"] == store["CustomKeyStoreId"]


def test_a_failed_first_create_leaves_nothing_retained_to_block_the_next_deploy(assembly_dir):
    """The audit key fails at once: the named access-log bucket, created beside it, must not outlive the
    rollback (with plain Retain it did, and the next deploy failed: the bucket already existed)."""
    directory = assembly_dir()
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        FAULTS.fail("kms", "CreateKey", "KMSInternalException", "KMS had an internal error", times=1)
        assembly = loaded(directory)
        with pytest.raises(DeployFailed) as failed:
            cloud.deploy(assembly)
        assert failed.value.stack.endswith("-Audit") and failed.value.resource_type == "AWS::KMS::Key"
        created = [event.logical_id for phase in cloud.timeline.phases for event in phase.events
                   if event.status == "CREATE_IN_PROGRESS" and event.resource_type == "AWS::S3::Bucket"]
        assert created, "a bucket was being created when the key failed"
        assert cloud.timeline.retained_resources == []
        buckets = {bucket["Name"] for bucket in cloud.client("s3").list_buckets()["Buckets"]}
        named = {resource["Properties"]["BucketName"] for _, _, resource in assembly.iter_resources("AWS::S3::Bucket")}
        assert cloud.asset_bucket in buckets and not buckets & named
        cloud.deploy(assembly)
        assert all(stack.status == "CREATE_COMPLETE" for stack in cloud.stacks.values())


def test_a_key_of_another_application_in_the_account_does_not_stop_deploy_or_destroy(assembly_dir):
    """The handlers find keys in their store by describing every key in the account; a key whose policy
    does not admit them (another application's, or another environment of this app: dev-kms's data
    key admits only its administrators and S3) answers AccessDenied and is not theirs to look at."""
    directory = assembly_dir()
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        kms = cloud.client("kms")
        foreign = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/SomeoneElse"}, "Action": "kms:*",
            "Resource": "*"}]}))["KeyMetadata"]["KeyId"]
        assembly = loaded(directory)
        cloud.deploy(assembly)
        assert all(stack.status == "CREATE_COMPLETE" for stack in cloud.stacks.values())
        with pytest.raises(DeployFailed) as first_round:
            cloud.destroy(assembly)
        assert "still holds KMS keys" in first_round.value.reason and "(PendingDeletion)" in first_round.value.reason
        assert foreign not in first_round.value.reason and "AccessDenied" not in first_round.value.reason


def _events(cloud, resource_type: str) -> list[tuple[str, float]]:
    return [(event.status, event.seconds) for phase in cloud.timeline.phases for event in phase.events
            if event.resource_type == resource_type]


def test_a_failed_completion_check_is_rolled_back_through_the_handler(assembly_dir):
    """The Provider framework answers FAILED for an is_complete failure with the physical id on_event
    gave (aws-cdk-lib cfn-response.js, safeHandler), so the rollback's Delete reaches the handler and
    it deletes the HSM it created; the cluster then goes too. (A Create whose on_event fails carries
    the framework's marker instead, and its Delete does nothing.)"""
    from rehearsal.scenarios import steps_of_a_clean_deploy

    assembly = loaded(assembly_dir())
    (step,) = [step for step in steps_of_a_clean_deploy(assembly)
               if "FirstHsmLifecycleIsComplete" in step.function and step.action == "DescribeClusters"]
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        FAULTS.fail(step.service, step.action, "InjectedFailure", "injected", after=step.earlier_calls)
        with pytest.raises(DeployFailed) as failed:
            cloud.deploy(assembly)
        assert failed.value.logical_id.startswith("FirstHsm") and "InjectedFailure" in failed.value.reason
        (deleted,) = [seconds for status, seconds in _events(cloud, "Custom::CloudHsmFirstHsm")
                      if status == "DELETE_COMPLETE"]
        assert deleted >= 60, "the handler waited for its HSM to be deleted"
        assert cloud.stacks[failed.value.stack].status == "ROLLBACK_COMPLETE"
        assert cloud.client("cloudhsmv2").describe_clusters()["Clusters"] == []


def test_a_rollback_that_cannot_delete_a_resource_fails_and_the_next_deploy_deletes_the_stack_first(assembly_dir):
    """A resource that fails to delete during the rollback of a new stack leaves it ROLLBACK_FAILED with
    that resource; the CDK CLI deletes a stack whose creation failed before creating it again, and that
    deletion keeps a RetainExceptOnCreate resource, as for any operation but the rolled-back create
    (CloudFormation User Guide, "DeletionPolicy attribute")."""
    assembly = loaded(assembly_dir())
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        FAULTS.fail("cloudhsmv2", "CreateHsm", "InjectedFailure", "injected")
        FAULTS.fail("cloudhsmv2", "DeleteCluster", "InjectedFailure", "cluster deletion refused")
        with pytest.raises(DeployFailed):
            cloud.deploy(assembly)
        state = cloud.stacks[next(name for name in cloud.stacks if name.endswith("-Hsm"))]
        assert state.status == "ROLLBACK_FAILED"
        assert [resource.resource_type for resource in state.resources.values()] == ["AWS::CloudHSM::Cluster"]
        (left_over,) = state.resources.values()
        cloud.deploy(assembly)
        assert all(stack.status == "CREATE_COMPLETE" for stack in cloud.stacks.values())
        assert ("DELETE_SKIPPED" in [status for status, _ in _events(cloud, "AWS::CloudHSM::Cluster")]
                and left_over.physical_id in {c["ClusterId"] for c in cloud.client("cloudhsmv2").describe_clusters()["Clusters"]})


def test_a_failed_custom_resource_update_is_rolled_back_through_its_handler(assembly_dir):
    """CloudFormation rolls a failed custom resource back with another Update, to its previous
    properties (the Provider framework answers a failed Update with the old physical id, so it is
    an update, not a replacement, that CloudFormation rolls back):
    the key store's rename fails, then its rollback goes through the handler and the store keeps its
    name, CONNECTED. When the rollback's Update fails too the stack is UPDATE_ROLLBACK_FAILED, and
    the next UpdateStack is refused."""
    reference, renamed = loaded(assembly_dir()), loaded(assembly_dir(keyStoreName="customer-keys-renamed"))
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        cloud.deploy(reference)
        kms = cloud.client("kms")
        (store,) = kms.describe_custom_key_stores()["CustomKeyStores"]
        FAULTS.fail("kms", "UpdateCustomKeyStore", "KMSInternalException", "KMS had an internal error", times=1)
        with pytest.raises(DeployFailed) as failed:
            cloud.deploy(renamed)
        assert failed.value.resource_type == "Custom::KmsCustomKeyStore"
        hsm_stack = cloud.stacks[failed.value.stack]
        assert hsm_stack.status == "UPDATE_ROLLBACK_COMPLETE"
        rolled_back = [(event.logical_id, event.status) for event in cloud.timeline.phases[-1].events
                       if event.action == "Rollback"]
        assert rolled_back == [(failed.value.logical_id, "UPDATE_COMPLETE")]
        (after,) = kms.describe_custom_key_stores()["CustomKeyStores"]
        assert after["CustomKeyStoreName"] == store["CustomKeyStoreName"] and after["ConnectionState"] == "CONNECTED"

        # The rename fails again, and so does the rollback's look at the store (the second call; the first
        # is the rename's own).
        FAULTS.fail("kms", "UpdateCustomKeyStore", "KMSInternalException", "KMS had an internal error", times=1)
        FAULTS.fail("kms", "DescribeCustomKeyStores", "KMSInternalException", "KMS had an internal error", times=5,
                    after=1)
        with pytest.raises(DeployFailed):
            cloud.deploy(renamed)
        assert hsm_stack.status == "UPDATE_ROLLBACK_FAILED", cloud.timeline.phases[-1].events
        with pytest.raises(DeployFailed) as refused:
            cloud.deploy(reference)
        assert "UPDATE_ROLLBACK_FAILED state and can not be updated" in refused.value.reason
