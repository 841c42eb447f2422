"""Network stack: isolated subnets in the pinned AZs, no internet path, endpoints, flow logs."""

import pytest
from aws_cdk.assertions import Match

INTERFACE_SERVICES = ("ssm", "ssmmessages", "ec2messages", "kms", "secretsmanager", "logs")


def test_subnets_are_isolated_one_per_configured_zone(reference, config):
    network = reference.template("Network")
    subnets = network.find_resources("AWS::EC2::Subnet")
    assert sorted(s["Properties"]["AvailabilityZone"] for s in subnets.values()) == list(config.availability_zones)
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    network.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": config.vpc_cidr})


def test_nothing_can_reach_the_internet(reference):
    network = reference.template("Network")
    for resource_type in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EgressOnlyInternetGateway",
                          "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::EIP"):
        network.resource_count_is(resource_type, 0)
    for route in network.find_resources("AWS::EC2::Route").values():
        assert "GatewayId" not in route["Properties"] and "NatGatewayId" not in route["Properties"]


def test_flow_logs_go_to_an_encrypted_log_group_with_retention(reference, config):
    network = reference.template("Network")
    network.has_resource_properties("AWS::EC2::FlowLog", {
        "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"})
    groups = network.find_resources("AWS::Logs::LogGroup")
    assert groups, "flow log group missing"
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == config.log_retention_days
        assert "KmsKeyId" in group["Properties"]


def test_interface_endpoints_with_private_dns(reference, config):
    endpoints = reference.template("Network").find_resources("AWS::EC2::VPCEndpoint", {
        "Properties": {"VpcEndpointType": "Interface"}})
    services = sorted(e["Properties"]["ServiceName"] for e in endpoints.values())
    assert services == sorted(f"com.amazonaws.{config.region}.{name}" for name in INTERFACE_SERVICES)
    assert all(e["Properties"]["PrivateDnsEnabled"] is True for e in endpoints.values())


def test_endpoint_security_group_admits_https_from_the_vpc_only(reference, config):
    network = reference.template("Network")
    network.has_resource_properties("AWS::EC2::SecurityGroup", {
        "GroupDescription": Match.string_like_regexp("Interface endpoints"),
        "SecurityGroupIngress": [{"CidrIp": config.vpc_cidr, "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp",
                                  "Description": Match.any_value()}],
    })


def test_s3_gateway_endpoint_on_every_route_table(reference):
    network = reference.template("Network")
    route_tables = network.find_resources("AWS::EC2::RouteTable")
    gateways = network.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Gateway"}})
    assert len(gateways) == 1
    gateway = next(iter(gateways.values()))["Properties"]
    assert gateway["ServiceName"] == {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}
    assert sorted(ref["Ref"] for ref in gateway["RouteTableIds"]) == sorted(route_tables)


def test_s3_gateway_endpoint_policy_names_buckets_and_actions(reference, config):
    gateway = next(iter(reference.template("Network").find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Gateway"}}).values()))
    statements = {s["Sid"]: s for s in gateway["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"DataBucketsFromThisAccount", "ClientPackageFromThisAccount", "AwsOwnedBucketsForClientHost"}
    for statement in statements.values():
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in actions and "s3:*" not in actions
        assert "*" not in resources
    data = statements["DataBucketsFromThisAccount"]
    bucket = config.bucket_name("data")
    assert data["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    assert data["Condition"] == {"StringEquals": {"aws:PrincipalAccount": config.account}}
    assert statements["ClientPackageFromThisAccount"]["Resource"] == config.client_package.object_arn
    assert f"arn:aws:s3:::al2023-repos-{config.region}-de612dc2/*" in statements["AwsOwnedBucketsForClientHost"]["Resource"]


def test_kms_mode_has_no_interface_endpoints_but_keeps_the_gateway(synth):
    network = synth("dev-kms").template("Network")
    network.resource_count_is("AWS::EC2::VPCEndpoint", 1)
    network.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})


@pytest.mark.parametrize("environment, kept", [("reference", True), ("dev-kms", False)])
def test_the_vpc_outlives_the_stack_only_beside_a_kept_cluster(synth, environment, kept):
    """The kept cluster's own security group stays in the VPC, and EC2 refuses to delete a VPC that
    still has one; without CloudHSM the VPC goes with the stack (the rehearsal's destroy scenario)."""
    (vpc,) = synth(environment).template("Network").find_resources("AWS::EC2::VPC").values()
    policies = (vpc.get("DeletionPolicy", "Delete"), vpc.get("UpdateReplacePolicy", "Delete"))
    assert policies == (("RetainExceptOnCreate", "Retain") if kept else ("Delete", "Delete"))
    (subnet, *_) = synth(environment).template("Network").find_resources("AWS::EC2::Subnet").values()
    assert "DeletionPolicy" not in subnet, "subnets, endpoints and route tables go with the stack"


def _placement_guard(network) -> tuple[str, dict]:
    (found,) = network.find_resources("Custom::ClusterPlacementGuard").items()
    return found


def test_the_cluster_placement_check_comes_before_every_resource_it_protects(reference, config):
    """A change of AZs, CIDR or HSM type (a new, empty cluster) is refused before the Network stack
    changes anything: the check carries the settings, and every resource but its own Provider waits."""
    network = reference.template("Network")
    guard_id, guard = _placement_guard(network)
    assert {key: value for key, value in guard["Properties"].items() if key != "ServiceToken"} == {
        "AvailabilityZones": list(config.availability_zones), "VpcCidr": config.vpc_cidr, "HsmType": config.hsm_type}
    resources = network.to_json()["Resources"]
    own_provider = guard["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    before_the_check = {logical_id for logical_id, resource in resources.items()
                        if guard_id not in resource.get("DependsOn", [])} - {guard_id}
    for logical_id in sorted(before_the_check):
        resource_type = resources[logical_id]["Type"]
        # What the check itself runs on (its functions, roles, logs, layer), CDK's metadata, and the
        # provider of CDK's default-security-group lockdown (its resource, in the VPC, waits).
        assert (logical_id.startswith("ClusterPlacementGuard") or logical_id == own_provider
                or resource_type in ("AWS::CDK::Metadata", "AWS::Lambda::LayerVersion")
                or logical_id.startswith("CustomVpcRestrictDefaultSGCustomResourceProvider")), \
            f"{logical_id} ({resource_type}) can change before the placement check"
    assert any(resources[logical_id]["Type"] == "AWS::EC2::Subnet" for logical_id in resources
               if guard_id in resources[logical_id].get("DependsOn", []))


def test_kms_mode_has_no_cluster_to_protect(synth):
    assert not synth("dev-kms").template("Network").find_resources("Custom::ClusterPlacementGuard")
