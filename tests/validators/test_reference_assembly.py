"""The reference app's own assemblies pass; each invariant broken in its real templates is caught.

Mutations find resources by type and Sid, never by hashed logical id, and change exactly one thing.
Where a rule fixture's mutation (tests/validators/fixtures/mutations.py) is the same change, it is that
table entry, applied to the resource that plays the base fixture's part in the app (`_as_base`).
"""

from __future__ import annotations

import copy
import json

import pytest

from cmk_validate.engine import run
from cmk_validate.findings import Severity
from cmk_validate.model import load
from tests.validators.assemblies import copied
from tests.validators.fixtures.mutations import mutation


@pytest.fixture(scope="session")
def reference(reference_dir):
    return load(str(reference_dir))


def test_reference_modes_pass_without_errors_or_warnings(synthesised):
    for mode, directory in synthesised.items():
        report = run(load(str(directory)), with_lines=False)
        assert report.active(Severity.WARNING) == [], (mode, [f"{f.rule_id} {f.message}" for f in report.active()])


def test_reference_passes_cfn_lint_with_documented_ignores(reference):
    report = run(reference, rules=[], cfn_lint=True, with_lines=False)
    assert [f"{f.rule_id} {f.message}" for f in report.active(Severity.WARNING)] == []


def _resources(assembly, kind):
    return [(s, lid, r) for s, lid, r in assembly.iter_resources(kind)]


def _one(assembly, kind, where=lambda r: True):
    found = [r for _, _, r in _resources(assembly, kind) if where(r)]
    assert found, kind
    return found[0]


def _data_bucket(a):
    return _one(a, "AWS::S3::Bucket", lambda r: "-data-" in json.dumps(r["Properties"].get("BucketName", "")))


def _data_policy(a):
    return _one(a, "AWS::S3::BucketPolicy", lambda r: "DenyRequestsOutsideGatewayEndpoint" in json.dumps(r))


def _sid(a, sid):
    return next(s for s in _data_policy(a)["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == sid)


def _drop_sid(a, sid):
    statements = _data_policy(a)["Properties"]["PolicyDocument"]["Statement"]
    statements[:] = [s for s in statements if s.get("Sid") != sid]


def _sse(a):
    return _data_bucket(a)["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]


def _endpoint(a):
    return _one(a, "AWS::EC2::VPCEndpoint", lambda r: r["Properties"].get("VpcEndpointType", "Gateway") == "Gateway")


def _cluster(a):
    return _one(a, "AWS::CloudHSM::Cluster")


def _remove(a, kind, where=lambda r: True):
    for stack, lid, resource in _resources(a, kind):
        if where(resource):
            del stack.template["Resources"][lid]


def _add(a, kind_of_neighbour, resources):
    stack = _resources(a, kind_of_neighbour)[0][0]
    stack.template["Resources"].update(resources)


def _peering_routes(a):
    return [r["Properties"] for _, _, r in _resources(a, "AWS::EC2::Route") if "VpcPeeringConnectionId" in r["Properties"]]


def _application_side_route(a):
    """A route in the demo application VPC (its table is a Ref in the same stack)."""
    return next(route for route in _peering_routes(a) if "Ref" in route["RouteTableId"])


def _hsm_side_route(a):
    """A route in an HSM subnet's table (imported from the Network stack)."""
    return next(route for route in _peering_routes(a) if "Fn::ImportValue" in route["RouteTableId"])


def _peered_ingress(a):
    return _one(a, "AWS::EC2::SecurityGroupIngress", lambda r: "Fn::ImportValue" in json.dumps(
        r["Properties"].get("SourceSecurityGroupId")))["Properties"]


def _application_endpoint(a):
    return next(r for stack, _, r in _resources(a, "AWS::EC2::VPCEndpoint") if stack.name.endswith("-Peering"))


def _route_table(a):
    return _one(a, "AWS::EC2::SubnetRouteTableAssociation")["Properties"]["RouteTableId"]


# The base fixture's logical ids -> the resource of the app that plays that part.
BASE_ROLES = {
    "DataBucket": _data_bucket,
    "DataBucketPolicy": _data_policy,
    "S3Endpoint": _endpoint,
    "Cluster": _cluster,
    "HsmIngress": lambda a: _one(a, "AWS::EC2::SecurityGroupIngress"),
    "AuditKey": lambda a: _one(a, "AWS::KMS::Key"),
    "DataKey": lambda a: _one(a, "Custom::HsmBackedKmsKey"),
    "KeyStore": lambda a: _one(a, "Custom::KmsCustomKeyStore"),
    "Trail": lambda a: _one(a, "AWS::CloudTrail::Trail"),
    "FlowLogs": lambda a: _one(a, "AWS::Logs::LogGroup"),
    "ClientHost": lambda a: _one(a, "AWS::EC2::Instance"),
    "ClientLaunchTemplate": lambda a: _one(a, "AWS::EC2::LaunchTemplate"),
}


class _BaseResources:
    def __init__(self, assembly):
        self._assembly = assembly

    def __getitem__(self, logical_id):
        return BASE_ROLES[logical_id](self._assembly)


def _as_base(assembly) -> dict:
    """The assembly as a fixture mutation sees base_architecture.yaml: template["Resources"][logical id]
    is the app's resource in that part (only reading and changing resources; none is added or removed)."""
    return {"Resources": _BaseResources(assembly)}


def _fixture(folder, name):
    """The mutation of rule fixture `folder`/`name`, applied to the assembly."""
    change = mutation(folder, name)
    return lambda a: change(_as_base(a))


MUTATIONS = {
    # 1 endpoint pinning
    "endpoint deny removed": ("CKE101", _fixture("data_bucket_endpoint_only", "bad_no_endpoint_deny")),
    "endpoint deny names a foreign endpoint": ("CKE101", _fixture("data_bucket_endpoint_only", "bad_foreign_endpoint")),
    "endpoint deny covers objects only": ("CKE101", lambda a: _sid(a, "DenyRequestsOutsideGatewayEndpoint").update(
        Resource=_sid(a, "DenyRequestsOutsideGatewayEndpoint")["Resource"][1])),
    "break-glass widened to a wildcard": ("CKE101", _fixture("data_bucket_endpoint_only", "bad_wildcard_break_glass")),
    "endpoint deny for one principal only": ("CKE101", lambda a: _sid(a, "DenyRequestsOutsideGatewayEndpoint").update(
        Principal={"AWS": "arn:aws:iam::111122223333:role/Someone"})),
    "endpoint deny lists a foreign endpoint beside this app's": ("CKE101", lambda a: _sid(
        a, "DenyRequestsOutsideGatewayEndpoint")["Condition"]["StringNotEquals"]["aws:sourceVpce"].append(
        "vpce-0aaaabbbbccccdddd")),
    # 2 TLS
    "TLS deny removed": ("CKE102", _fixture("bucket_denies_insecure_transport", "bad_no_tls_deny")),
    "TLS deny on reads only": ("CKE102", lambda a: _sid(a, "DenyInsecureTransport").update(Action="s3:Get*")),
    # 3 encryption
    "data bucket on SSE-S3": ("CKE103", lambda a: _sse(a).update(ServerSideEncryptionByDefault={"SSEAlgorithm": "AES256"})),
    "data bucket on a foreign key": ("CKE103", lambda a: _sse(a)["ServerSideEncryptionByDefault"].update(
        KMSMasterKeyID="arn:aws:kms:eu-west-1:111122223333:key/00000000-1111-2222-3333-444444444444")),
    "bucket keys off": ("CKE103", _fixture("data_bucket_hsm_key_encryption", "bad_no_bucket_key")),
    "uploads with other keys allowed": ("CKE103", _fixture("data_bucket_hsm_key_encryption", "bad_other_key_uploads_allowed")),
    "SSE-C not blocked": ("CKE103", lambda a: (_sse(a).pop("BlockedEncryptionTypes"),
                                               _drop_sid(a, "DenyUploadsWithOtherKmsKey"),
                                               _drop_sid(a, "DenyUploadsWithOtherEncryption"))),
    # 4 bucket protection
    "public policy not blocked": ("CKE104", _fixture("bucket_protection", "bad_public_policy_allowed")),
    "versioning off": ("CKE104", lambda a: _data_bucket(a)["Properties"].pop("VersioningConfiguration")),
    "access logging off": ("CKE104", _fixture("bucket_protection", "bad_no_access_logs")),
    # 5 gateway endpoint
    "endpoint misses a route table": ("CKE105", lambda a: _endpoint(a)["Properties"]["RouteTableIds"].pop()),
    # 15 what the endpoint lets through
    "endpoint policy wide open": ("CKE115", lambda a: _endpoint(a)["Properties"].update(PolicyDocument={
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})),
    "endpoint policy removed": ("CKE115", _fixture("gateway_endpoint_names_buckets", "bad_no_policy")),
    "endpoint lets writes reach any bucket": ("CKE115", lambda a: _endpoint_statements(a).append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"})),
    "endpoint data statement widened to every bucket named customer-*": ("CKE115", lambda a: _endpoint_statements(a)[0]
                                                                         .update(Resource="arn:aws:s3:::customer-*")),
    "endpoint lets writes reach a foreign bucket": ("CKE115", lambda a: _endpoint_statements(a).append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::drop-zone-4711/*"})),
    "AWS-owned buckets writable through the endpoint": ("CKE115", lambda a: _endpoint_statements(a)[-1].update(
        Action="s3:*")),
    "endpoint passes other accounts' principals to the data bucket": ("CKE115", lambda a: next(
        s for s in _endpoint_statements(a) if s.get("Sid") == "DataBucketsFromThisAccount").pop("Condition")),
    "endpoint passes the data bucket to the organisation": ("CKE115", lambda a: next(
        s for s in _endpoint_statements(a) if s.get("Sid") == "DataBucketsFromThisAccount").update(
        Condition={"StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}})),
    # 6 internet routes
    "NAT route from an HSM subnet": ("CKE106", lambda a: _add(a, "AWS::EC2::SubnetRouteTableAssociation", {
        "NatRoute": {"Type": "AWS::EC2::Route", "Properties": {"RouteTableId": _route_table(a),
                     "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0123456789abcdef0"}}})),
    "internet gateway route": ("CKE106", lambda a: _add(a, "AWS::EC2::SubnetRouteTableAssociation", {
        "Igw": {"Type": "AWS::EC2::InternetGateway"},
        "IgwRoute": {"Type": "AWS::EC2::Route", "Properties": {"RouteTableId": _route_table(a),
                     "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": {"Ref": "Igw"}}}})),
    # 19 peering routes (the demo application VPC of the reference environment)
    "application VPC routes the whole HSM VPC": ("CKE119", lambda a: _application_side_route(a).update(
        DestinationCidrBlock="10.40.0.0/16")),
    "HSM subnets route the whole application range": ("CKE119", lambda a: _hsm_side_route(a).update(
        DestinationCidrBlock="172.20.0.0/22")),
    "HSM subnet routes to a transit gateway": ("CKE119", lambda a: _add(a, "AWS::EC2::SubnetRouteTableAssociation", {
        "TransitRoute": {"Type": "AWS::EC2::Route", "Properties": {"RouteTableId": _route_table(a),
                         "DestinationCidrBlock": "10.0.0.0/8", "TransitGatewayId": "tgw-0123456789abcdef0"}}})),
    # 8 HSM ingress, from the peered application VPC
    "peered clients admitted by CIDR": ("CKE108", lambda a: (rule := _peered_ingress(a), rule.pop(
        "SourceSecurityGroupId"), rule.update(CidrIp="172.20.0.0/22"))),
    "client group of a VPC the HSM VPC is not peered with": ("CKE108", lambda a: _one(
        a, "AWS::EC2::VPCPeeringConnection")["Properties"].update(PeerVpcId="vpc-0123456789abcdef0")),
    # 5 and 15: the application VPC's own gateway endpoint
    "application VPC endpoint misses a route table": ("CKE105", lambda a: _application_endpoint(a)["Properties"]
                                                      ["RouteTableIds"].pop()),
    "application VPC endpoint opened to every bucket": ("CKE115", lambda a: _application_endpoint(a)["Properties"]
                                                        ["PolicyDocument"]["Statement"][0].update(Resource="*")),
    # 7 cluster
    "only one HSM": ("CKE107", lambda a: _remove(a, "Custom::CloudHsmHsm")),
    "all HSMs in one AZ": ("CKE107", lambda a: [r["Properties"].update(AvailabilityZone="eu-west-1a")
                                                for _, _, r in _resources(a, "Custom::CloudHsmHsm")]),
    "cluster not FIPS": ("CKE107", _fixture("hsm_cluster_resilience", "bad_not_fips")),
    "cluster deleted with the stack": ("CKE107", lambda a: _cluster(a).update(DeletionPolicy="Delete")),
    # 8 HSM ingress
    "HSM ingress from a CIDR": ("CKE108", lambda a: _one(a, "AWS::EC2::SecurityGroupIngress")["Properties"].update(
        CidrIp="10.0.0.0/8")),
    "HSM ingress on all ports": ("CKE108", _fixture("hsm_security_group_ingress", "bad_wide_ports")),
    # 9 secrets
    "literal kmsuser password": ("CKE109", lambda a: _one(a, "AWS::SecretsManager::Secret")["Properties"].update(
        SecretString="FAKE-placeholder-password-123")),
    # Short and plain: only the schema says SecretString holds a secret.
    "short literal kmsuser password": ("CKE109", lambda a: _one(a, "AWS::SecretsManager::Secret")["Properties"].update(
        SecretString="abc12")),
    # 10 KMS
    "key policy open to everyone": ("CKE110", lambda a: _one(a, "AWS::KMS::Key")["Properties"]["KeyPolicy"]
                                    ["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "*"},
                                                          "Action": "kms:Decrypt", "Resource": "*"})),
    "key rotation off": ("CKE110", _fixture("kms_key_policy", "bad_no_rotation")),
    "HSM key without deletion window": ("CKE110", _fixture("kms_key_policy", "bad_no_deletion_window")),
    # 11 audit
    "no flow log": ("CKE111", lambda a: _remove(a, "AWS::EC2::FlowLog")),
    "trail without log file validation": ("CKE111", _fixture("audit_logging", "bad_trail_not_validated")),
    "log group kept forever": ("CKE111", _fixture("audit_logging", "bad_log_group_forever")),
    # 14 what the trail records
    "trail in one Region only": ("CKE114", _fixture("trail_records_key_and_data_use", "bad_single_region")),
    "trail without data events": ("CKE114", lambda a: _trail(a).update(EventSelectors=[
        {"IncludeManagementEvents": True, "ReadWriteType": "All"}])),
    "data events for writes only": ("CKE114", lambda a: [selector.update(ReadWriteType="WriteOnly")
                                                         for selector in _trail(a)["EventSelectors"]
                                                         if selector.get("DataResources")]),
    "data events for one prefix of the bucket": ("CKE114", lambda a: _data_values(a).__setitem__(
        0, {"Fn::Join": ["", [_data_values(a)[0], "uploads/"]]})),
    "management events off": ("CKE114", lambda a: [selector.update(IncludeManagementEvents=False)
                                                   for selector in _trail(a)["EventSelectors"]]),
    "KMS events left out by an advanced selector": ("CKE114", _fixture("trail_records_key_and_data_use",
                                                                       "bad_kms_events_left_out")),
    # 16 the client host
    "client host answers IMDSv1": ("CKE116", _fixture("hsm_client_host_hardened", "bad_imds_v1")),
    "client host with a public IP": ("CKE116", lambda a: _client_host(a)["NetworkInterfaces"][0].update(
        AssociatePublicIpAddress=True)),
    "client host with an SSH key": ("CKE116", _fixture("hsm_client_host_hardened", "bad_ssh_key")),
    "client host's group admits SSH": ("CKE116", lambda a: _one(
        a, "AWS::EC2::SecurityGroup", lambda r: "client host" in r["Properties"].get("GroupDescription", ""))
        ["Properties"].update(SecurityGroupIngress=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                     "CidrIp": "10.40.0.0/16"}])),
    "client host disk unencrypted": ("CKE116", _fixture("hsm_client_host_hardened", "bad_unencrypted_disk")),
    # 17 the data key's policy
    "data key administrators may create grants": ("CKE117", lambda a: _data_key_statement(a, "KeyAdministration")
                                                  ["Action"].append("kms:CreateGrant")),
    "data key use without kms:CallerAccount": ("CKE117", lambda a: _data_key_statement(
        a, "UseOnlyThroughS3ForTheDataBucket")["Condition"]["StringEquals"].pop("kms:CallerAccount")),
    "account root may administer the data key": ("CKE117", lambda a: _data_key_statement(
        a, "UseOnlyThroughS3ForTheDataBucket").update(Action="kms:*")),
    "a named role may decrypt directly": ("CKE117", lambda a: _one(a, "Custom::HsmBackedKmsKey")["Properties"]
                                          ["KeyPolicy"]["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Analyst"},
         "Action": "kms:Decrypt", "Resource": "*"})),
    # acknowledgements
    "acknowledgement without a reason": ("CKE100", lambda a: _data_bucket(a).update(Metadata={
        "ArchitectureInvariants": {"acknowledge": [{"id": "CKE104", "reason": ""}]}})),
    # 12 key store chain
    "key store on a foreign cluster": ("CKE112", _fixture("custom_key_store_wiring", "bad_foreign_cluster")),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_is_caught_by_exactly_its_rule(reference, name):
    expected, mutate = MUTATIONS[name]
    assembly = copied(reference)
    mutate(assembly)
    report = run(assembly, with_lines=False)
    raised = {f.rule_id for f in report.findings if f.severity >= Severity.WARNING}
    assert raised == {expected}, [f"{f.rule_id}: {f.message}" for f in report.findings]


def _split_endpoint_deny(a):
    statement = _sid(a, "DenyRequestsOutsideGatewayEndpoint")
    bucket, objects = statement["Resource"]
    statement["Resource"] = bucket
    _data_policy(a)["Properties"]["PolicyDocument"]["Statement"].append(
        {**copy.deepcopy(statement), "Sid": "DenyObjectsOutsideGatewayEndpoint", "Resource": [objects]})


def _rewrite_endpoint_condition(a):
    condition = _sid(a, "DenyRequestsOutsideGatewayEndpoint")["Condition"]
    endpoint = condition.pop("StringNotEquals")["aws:sourceVpce"]
    condition["StringNotEqualsIfExists"] = {"AWS:SOURCEVPCE": endpoint if isinstance(endpoint, list) else [endpoint]}
    condition["ArnNotEquals"] = {"aws:principalarn": condition.pop("ArnNotLike")["aws:PrincipalArn"]}


def _trail(a):
    return _one(a, "AWS::CloudTrail::Trail")["Properties"]


def _data_key_statement(a, sid):
    return next(statement for statement in _one(a, "Custom::HsmBackedKmsKey")["Properties"]["KeyPolicy"]["Statement"]
                if statement.get("Sid") == sid)


def _client_host(a):
    return _one(a, "AWS::EC2::Instance")["Properties"]


def _endpoint_statements(a):
    return _endpoint(a)["Properties"]["PolicyDocument"]["Statement"]


def _advanced(a, selectors):
    _trail(a).pop("EventSelectors")
    _trail(a)["AdvancedEventSelectors"] = selectors


def _data_values(a):
    return next(selector for selector in _trail(a)["EventSelectors"]
                if selector.get("DataResources"))["DataResources"][0]["Values"]


SILENT_VARIANTS = {
    "trail with advanced selectors for management and every S3 object": lambda a: _advanced(a, [
            {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
            {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                {"Field": "readOnly", "Equals": ["true"]}]},
            {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                {"Field": "readOnly", "Equals": ["false"]}]}]),
    "data events of every bucket in the account": lambda a: _data_values(a).__setitem__(0, "arn:aws:s3"),
    "endpoint wildcard pinned to this account's buckets and principals": lambda a: _endpoint_statements(a).append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceAccount": "111122223333",
                                        "aws:PrincipalAccount": "111122223333"}}}),
    "endpoint deny split into bucket and objects statements": _split_endpoint_deny,
    "IfExists, upper-case key, a list, ArnNotEquals": _rewrite_endpoint_condition,
    "string \"*\" principal and action list of one": lambda a: [
        _sid(a, sid).update(Principal="*", Action=["s3:*"]) for sid in ("DenyRequestsOutsideGatewayEndpoint",
                                                                        "DenyInsecureTransport")],
    "TLS deny with BoolIfExists and a bare \"*\" action": lambda a: _sid(a, "DenyInsecureTransport").update(
        Action="*", Condition={"BoolIfExists": {"aws:securetransport": "false"}}),
    "extra narrower deny statement": lambda a: _data_policy(a)["Properties"]["PolicyDocument"]["Statement"].append(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"}),
    "key policy Allow to * narrowed by aws:PrincipalAccount": _fixture("kms_key_policy", "good_star_with_principal_account"),
}


@pytest.mark.parametrize("name", list(SILENT_VARIANTS))
def test_correct_but_unusual_variant_stays_silent(reference, name):
    assembly = copied(reference)
    SILENT_VARIANTS[name](assembly)
    report = run(assembly, with_lines=False)
    assert report.active(Severity.WARNING) == [], [f"{f.rule_id}: {f.message}" for f in report.active()]


def test_acknowledged_finding_is_kept_as_suppressed(reference):
    assembly = copied(reference)
    _data_bucket(assembly)["Properties"].pop("LoggingConfiguration")
    _data_bucket(assembly)["Metadata"] = {"ArchitectureInvariants": {"acknowledge": [
        {"id": "CKE104", "reason": "access logs go to a central account in this test"}]}}
    report = run(assembly, with_lines=False)
    assert report.active(Severity.WARNING) == []
    suppressed = [f for f in report.findings if f.suppressed]
    assert [f.rule_id for f in suppressed] == ["CKE104"]
    assert suppressed[0].suppression_reason.startswith("access logs")


def _spare_subnet(a, with_internet_route: bool) -> None:
    """A subnet in the app's VPC that no compute uses, with its own route table (no S3 endpoint on it)."""
    vpc = _one(a, "AWS::EC2::Subnet")["Properties"]["VpcId"]
    resources = {
        "SpareSubnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": vpc, "CidrBlock": "10.0.250.0/24"}},
        "SpareTable": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": vpc}},
        "SpareAssociation": {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
            "SubnetId": {"Ref": "SpareSubnet"}, "RouteTableId": {"Ref": "SpareTable"}}},
    }
    if with_internet_route:
        resources["SpareRoute"] = {"Type": "AWS::EC2::Route", "Properties": {
            "RouteTableId": {"Ref": "SpareTable"}, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0123456789abcdef0"}}
    _add(a, "AWS::EC2::Subnet", resources)


@pytest.mark.parametrize("mode, expected", [("dev-kms", {"CKE105", "CKE106"}), ("reference", set())])
def test_in_kms_mode_every_subnet_of_the_vpc_keeps_the_network_invariants(synthesised, mode, expected):
    """With CloudHSM only the HSM and client subnets are singled out; without it every subnet of the VPC is."""
    assembly = copied(load(str(synthesised[mode])))
    _spare_subnet(assembly, with_internet_route=True)
    report = run(assembly, with_lines=False)
    assert {f.rule_id for f in report.active(Severity.ERROR) if "Spare" in f.message or "Spare" in f.path_text} == expected


def test_the_endpoints_aws_owned_buckets_are_those_the_rule_knows():
    """The construct's list (what the client host reads) stays within the AWS-owned buckets CKE115 accepts."""
    from cmk_constructs.s3_gateway_endpoint.infrastructure import aws_owned_buckets_for_client_host
    from cmk_validate.rules.gateway_endpoint_names_buckets import S3_ARN, aws_owned

    for arn in aws_owned_buckets_for_client_host("eu-west-1"):
        assert aws_owned(arn[len(S3_ARN):].split("/", 1)[0]), arn
    assert not aws_owned("amazon-ssm-eu-west-1-mine") and not aws_owned("customer-keys-data-111122223333-eu-west-1")
