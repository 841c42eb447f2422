"""S3 requests are authorised as S3 decides them: identity, bucket and gateway endpoint policies, and
KMS's key policy for the key that encrypts the object. Two places depend on it: the client host's
first boot downloads the CloudHSM client through the endpoint, and after each deploy a workload
writes and reads the data bucket through the endpoint and is refused outside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ConnectTimeoutError

from rehearsal import caller, host
from rehearsal.cli import main
from rehearsal.session import offline_account
from tests.rehearsal.conftest import loaded

ACCOUNT, REGION = "111122223333", "eu-west-1"


def _template(directory: Path, stack_suffix: str) -> tuple[Path, dict]:
    path = next(directory.glob(f"*-{stack_suffix}.template.json"))
    return path, json.loads(path.read_text())


def _drop_statement(directory: Path, stack_suffix: str, resource_type: str, policy_property: str, sid: str) -> None:
    """Remove the statement `sid` from the policy `policy_property` of every `resource_type` resource."""
    path, template = _template(directory, stack_suffix)
    removed = 0
    for resource in template["Resources"].values():
        if resource["Type"] != resource_type or policy_property not in resource["Properties"]:
            continue
        document = resource["Properties"][policy_property]
        kept = [statement for statement in document["Statement"] if statement.get("Sid") != sid]
        removed += len(document["Statement"]) - len(kept)
        document["Statement"] = kept
    assert removed, f"no {resource_type} policy has a statement {sid}"
    path.write_text(json.dumps(template))


def test_the_default_deploy_proves_the_data_path_through_the_endpoint(assembly_dir, capsys):
    assert main([str(assembly_dir()), "--no-destroy"]) == 0
    out = capsys.readouterr().out
    assert "prerequisite staged as the platform team would upload it: s3://" in out
    # One line per gateway endpoint the bucket's lock names (reference: the HSM VPC's and the peered
    # application VPC's); the write from outside any VPC ends the last.
    lines = [line for line in out.splitlines() if "data path: " in line]
    assert len(lines) == 2
    for line in lines:
        assert "write, read, delete from subnet-" in line and "through vpce-" in line
        assert "encrypted with arn:aws:kms:" in line
    assert lines[-1].endswith("a write from outside the VPC was refused (AccessDenied)")


@pytest.mark.parametrize("stack, resource_type, policy_property, sid, expected", [
    # The endpoint no longer admits the data bucket: nothing in the VPC reaches it.
    ("Network", "AWS::EC2::VPCEndpoint", "PolicyDocument", "DataBucketsFromThisAccount",
     "because no VPC endpoint policy allows the s3:PutObject action"),
    # The key policy no longer lets S3 use the key for the bucket: uploads cannot be encrypted.
    ("Keys", "Custom::HsmBackedKmsKey", "KeyPolicy", "UseOnlyThroughS3ForTheDataBucket",
     "not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:"),
    # The bucket is no longer locked to the endpoint: a write from outside the VPC gets through.
    ("Data", "AWS::S3::BucketPolicy", "PolicyDocument", "DenyRequestsOutsideGatewayEndpoint",
     "a write from outside the VPC was accepted"),
])
def test_a_broken_data_path_fails_the_rehearsal_after_a_successful_deploy(copied_assembly, capsys, stack,
                                                                         resource_type, policy_property, sid, expected):
    directory = copied_assembly()
    _drop_statement(directory, stack, resource_type, policy_property, sid)
    assert main([str(directory), "--no-destroy"]) == 1
    captured = capsys.readouterr()
    assert "rehearsal: FAILED: data path: customer-keys-data-" in captured.err
    assert expected in captured.err
    assert "FAILED (data path)" in captured.out


def test_the_data_path_in_sse_c_mode_sends_its_own_key(assembly_dir, capsys):
    assert main([str(assembly_dir(bucketEncryption="sse-c")), "--no-destroy"]) == 0
    assert "succeeded (with SSE-C); a write from outside the VPC was refused" in capsys.readouterr().out


@pytest.mark.parametrize("stack, change, expected", [
    # The endpoint no longer admits the client package: the host's first boot cannot download it.
    ("Network", "endpoint", "because no VPC endpoint policy allows the s3:GetObject action"),
    # The host's role no longer may read the client package.
    ("Hsm", "host role", "because no identity-based policy allows the s3:GetObject action"),
])
def test_a_client_host_that_cannot_download_the_client_fails_the_activation(copied_assembly, capsys, stack, change,
                                                                           expected):
    directory = copied_assembly()
    if change == "endpoint":
        _drop_statement(directory, stack, "AWS::EC2::VPCEndpoint", "PolicyDocument", "ClientPackageFromThisAccount")
    else:
        path, template = _template(directory, stack)
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == "AWS::IAM::Policy" and logical_id.startswith("ClientHostRoleDefaultPolicy"):
                statements = resource["Properties"]["PolicyDocument"]["Statement"]
                resource["Properties"]["PolicyDocument"]["Statement"] = [
                    statement for statement in statements if statement["Action"] != "s3:GetObject"]
                assert len(resource["Properties"]["PolicyDocument"]["Statement"]) == len(statements) - 1
        path.write_text(json.dumps(template))
    assert main([str(directory), "--no-destroy"]) == 1
    captured = capsys.readouterr()
    assert "resource Activation" in captured.err
    assert "/opt/cloudhsm/bin/configure-cli: No such file or directory" in captured.err
    # The cause is on the host (its cloud-init log): the timeline shows it when the boot fails.
    boot = next(line for line in captured.out.splitlines() if ": user data stopped: aws s3 cp s3://" in line)
    assert "is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::customer-keys-artifacts-" in boot
    assert expected in boot


def test_the_user_data_steps_are_read_from_the_synthesised_template(assembly_dir):
    """The download and the package, as the template's own user data names them."""
    from cmk_validate.model.resolver import Resolver

    assembly = loaded(assembly_dir())
    (stack, _, instance), = assembly.iter_resources("AWS::EC2::Instance")
    script = Resolver(assembly, stack).resolve(instance["Properties"]["UserData"])
    download, package = list(host.steps(script))
    assert isinstance(download, host.Download)
    assert (download.bucket, download.key) == ("customer-keys-artifacts-111122223333-eu-west-1",
                                               "cloudhsm/cloudhsm-cli-latest.amzn2023.x86_64.rpm")
    assert package == "cloudhsm-cli"


def test_a_failed_download_stops_the_script_before_what_it_would_install():
    script = 'set -e\nuri="s3://b/k.rpm"\naws s3 cp "$uri" /tmp/x.rpm\ndnf install -y /tmp/x.rpm\n'
    steps = list(host.steps(script))
    assert steps == [host.Download("b", "k.rpm", "/tmp/x.rpm"), "x"]


def _isolated_subnet(cloud, with_endpoint: bool) -> tuple[str, str | None]:
    ec2 = cloud.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    endpoint = None
    if with_endpoint:
        endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3",
                                           VpcEndpointType="Gateway", RouteTableIds=[table])["VpcEndpoint"]["VpcEndpointId"]
    return subnet, endpoint


def _reader(cloud, bucket: str) -> str:
    iam = cloud.client("iam")
    arn = iam.create_role(RoleName="reader", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(RoleName="reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    return arn


def test_an_isolated_subnet_without_the_endpoint_cannot_reach_s3():
    with offline_account(ACCOUNT, REGION) as cloud:
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket="some-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="some-bucket", Key="k", Body=b"x")
        subnet, _ = _isolated_subnet(cloud, with_endpoint=False)
        with caller.acting_as(_reader(cloud, "some-bucket"), "test", subnet), pytest.raises(ConnectTimeoutError):
            s3.get_object(Bucket="some-bucket", Key="k")


def test_the_endpoint_sets_source_vpce_and_its_policy_must_allow():
    with offline_account(ACCOUNT, REGION) as cloud:
        s3, ec2 = cloud.client("s3"), cloud.client("ec2")
        s3.create_bucket(Bucket="locked-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="locked-bucket", Key="k", Body=b"x")
        subnet, endpoint = _isolated_subnet(cloud, with_endpoint=True)
        s3.put_bucket_policy(Bucket="locked-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::locked-bucket/*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": endpoint}}}]}))
        reader = _reader(cloud, "locked-bucket")
        with caller.acting_as(reader, "test", subnet):
            assert s3.get_object(Bucket="locked-bucket", Key="k")["Body"].read() == b"x"
        with caller.acting_as(reader, "test"), pytest.raises(s3.exceptions.ClientError, match="explicit deny in a "
                                                                                            "resource-based policy"):
            s3.get_object(Bucket="locked-bucket", Key="k")
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other-bucket/*"}]}))
        with caller.acting_as(reader, "test", subnet), pytest.raises(
                s3.exceptions.ClientError, match="because no VPC endpoint policy allows the s3:GetObject action"):
            s3.get_object(Bucket="locked-bucket", Key="k")


def test_an_object_in_a_disconnected_key_store_cannot_be_read():
    """S3 passes KMS's state error on when the key that encrypts the object is unusable."""
    with offline_account(ACCOUNT, REGION) as cloud:
        s3, kms = cloud.client("s3"), cloud.client("kms")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        s3.create_bucket(Bucket="kms-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="kms-bucket", Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
        kms.disable_key(KeyId=key)
        iam = cloud.client("iam")
        role = _reader(cloud, "kms-bucket")
        iam.put_role_policy(RoleName="reader", PolicyName="kms", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}))
        with caller.acting_as(role, "test"), pytest.raises(s3.exceptions.ClientError, match="KMS.DisabledException"):
            s3.get_object(Bucket="kms-bucket", Key="k")


def test_an_sse_c_object_is_read_only_with_its_own_key():
    with offline_account(ACCOUNT, REGION) as cloud:
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket="sse-c-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        key, other = b"k" * 32, b"o" * 32
        s3.put_object(Bucket="sse-c-bucket", Key="k", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
        read = s3.get_object(Bucket="sse-c-bucket", Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
        assert (read["Body"].read(), read["SSECustomerAlgorithm"]) == (b"x", "AES256")
        with pytest.raises(s3.exceptions.ClientError, match="InvalidRequest"):
            s3.get_object(Bucket="sse-c-bucket", Key="k")
        with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
            s3.get_object(Bucket="sse-c-bucket", Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=other)
