"""Peering stack: the demo application VPC (reference) and an existing VPC given by ids, peered with the
HSM VPC; routes only between the HSM subnets and the application subnets; each application VPC's own
S3 gateway endpoint; the cluster's ingress from the application's client group, never a CIDR."""

import ipaddress
import json

import pytest

from cmk_validate.cli import main as validate

EXISTING = {"name": "payments", "vpcId": "vpc-0123456789abcdef0", "cidr": "10.50.0.0/24",
            "routeTableIds": ["rtb-0123456789abcdef0", "rtb-0fedcba9876543210"],
            "clientSecurityGroupId": "sg-0123456789abcdef0", "readsDataBucket": True}
PEERING_WITH_EXISTING = {"demoApplicationVpc": {"cidr": "172.20.0.0/22"}, "applicationVpcs": [EXISTING]}


@pytest.fixture(scope="module")
def with_existing(synth):
    return synth(hsmPeering=PEERING_WITH_EXISTING)


def _resources(template, resource_type):
    return {lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == resource_type}


def _hsm_subnet_cidrs(app):
    return sorted(p["CidrBlock"] for p in _resources(app.raw("Network"), "AWS::EC2::Subnet").values())


def _hsm_route_tables(app):
    return {f"{lid}" for lid in _resources(app.raw("Network"), "AWS::EC2::RouteTable")}


def _imported_ref(app, value):
    """A Network export as the logical id it refers to."""
    return app.output_value("Network", value["Fn::ImportValue"])["Ref"]


def test_the_demo_vpc_is_peered_with_the_hsm_vpc(reference):
    peering = reference.raw("Peering")
    (connection,) = _resources(peering, "AWS::EC2::VPCPeeringConnection").values()
    (hsm_vpc,) = _resources(reference.raw("Network"), "AWS::EC2::VPC")
    (demo_vpc, demo), = _resources(peering, "AWS::EC2::VPC").items()
    assert _imported_ref(reference, connection["VpcId"]) == hsm_vpc
    assert connection["PeerVpcId"] == {"Ref": demo_vpc}
    assert "PeerOwnerId" not in connection and "PeerRoleArn" not in connection  # same account and Region
    assert demo["CidrBlock"] == "172.20.0.0/22"
    for kind in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::VPCGatewayAttachment"):
        assert not _resources(peering, kind)


def test_routes_join_only_hsm_subnets_and_application_subnets(reference):
    peering = reference.raw("Peering")
    demo_subnets = _resources(peering, "AWS::EC2::Subnet")
    demo_cidrs = sorted(p["CidrBlock"] for p in demo_subnets.values())
    demo_tables = {lid for lid in _resources(peering, "AWS::EC2::RouteTable")}
    hsm_tables, hsm_cidrs = _hsm_route_tables(reference), _hsm_subnet_cidrs(reference)
    from_hsm, from_demo = {}, {}
    for route in _resources(peering, "AWS::EC2::Route").values():
        assert set(route) == {"RouteTableId", "DestinationCidrBlock", "VpcPeeringConnectionId"}
        table = route["RouteTableId"]
        if "Fn::ImportValue" in table:
            from_hsm.setdefault(_imported_ref(reference, table), []).append(route["DestinationCidrBlock"])
        else:
            from_demo.setdefault(table["Ref"], []).append(route["DestinationCidrBlock"])
    assert set(from_hsm) == hsm_tables and all(sorted(c) == demo_cidrs for c in from_hsm.values())
    assert set(from_demo) == demo_tables and all(sorted(c) == hsm_cidrs for c in from_demo.values())
    demo_range = ipaddress.ip_network("172.20.0.0/22")
    assert all(ipaddress.ip_network(cidr).subnet_of(demo_range) for cidr in demo_cidrs)


def test_the_demo_vpc_reads_the_bucket_through_its_own_gateway_endpoint(reference, config):
    peering = reference.raw("Peering")
    (endpoint,) = _resources(peering, "AWS::EC2::VPCEndpoint").values()
    assert endpoint["VpcEndpointType"] == "Gateway" and endpoint["ServiceName"] == f"com.amazonaws.{config.region}.s3"
    assert sorted(t["Ref"] for t in endpoint["RouteTableIds"]) == sorted(_resources(peering, "AWS::EC2::RouteTable"))
    (statement,) = endpoint["PolicyDocument"]["Statement"]
    bucket = config.bucket_name("data")
    assert statement["Sid"] == "DataBucketsFromThisAccount" and statement["Effect"] == "Allow"
    assert statement["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": config.account}}


def test_the_demo_client_group_goes_out_only_to_the_hsms(reference):
    hsm = reference.raw("Hsm")
    (egress,) = _resources(hsm, "AWS::EC2::SecurityGroupEgress").values()
    (cluster,) = _resources(hsm, "AWS::CloudHSM::Cluster")
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 2223, 2225)
    assert egress["DestinationSecurityGroupId"] == {"Fn::GetAtt": [cluster, "SecurityGroup"]}
    (group,) = _resources(reference.raw("Peering"), "AWS::EC2::SecurityGroup").values()
    assert group["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"  # CDK's "no egress" placeholder
    assert "SecurityGroupIngress" not in group


def test_an_existing_vpc_is_peered_by_ids_with_its_own_endpoint(with_existing, config):
    peering = with_existing.raw("Peering")
    connections = _resources(peering, "AWS::EC2::VPCPeeringConnection").values()
    assert sorted(str(c["PeerVpcId"]) for c in connections) == sorted([str({"Ref": next(iter(_resources(
        peering, "AWS::EC2::VPC")))}), EXISTING["vpcId"]])
    routes = _resources(peering, "AWS::EC2::Route").values()
    from_existing = sorted((r["RouteTableId"], r["DestinationCidrBlock"]) for r in routes
                           if r["RouteTableId"] in EXISTING["routeTableIds"])
    assert from_existing == sorted((t, c) for t in EXISTING["routeTableIds"] for c in _hsm_subnet_cidrs(with_existing))
    to_existing = [r for r in routes if r["DestinationCidrBlock"] == EXISTING["cidr"]]
    assert {_imported_ref(with_existing, r["RouteTableId"]) for r in to_existing} == _hsm_route_tables(with_existing)
    endpoints = [e for e in _resources(peering, "AWS::EC2::VPCEndpoint").values() if e["VpcId"] == EXISTING["vpcId"]]
    assert [e["RouteTableIds"] for e in endpoints] == [EXISTING["routeTableIds"]]
    ingress = [r for r in _resources(with_existing.raw("Hsm"), "AWS::EC2::SecurityGroupIngress").values()
               if r["SourceSecurityGroupId"] == EXISTING["clientSecurityGroupId"]]
    assert len(ingress) == 1 and (ingress[0]["FromPort"], ingress[0]["ToPort"]) == (2223, 2225)
    # The existing VPC's group is its owner's: no egress rule is added to it.
    assert all(e["GroupId"] != EXISTING["clientSecurityGroupId"]
               for e in _resources(with_existing.raw("Hsm"), "AWS::EC2::SecurityGroupEgress").values())
    # The bucket policy lists the three endpoints (HSM VPC, demo, existing).
    (policy,) = _resources(with_existing.raw("Data"), "AWS::S3::BucketPolicy").values()
    assert len(policy["PolicyDocument"]["Statement"][0]["Condition"]["StringNotEquals"]["aws:sourceVpce"]) == 3


def test_an_existing_vpc_needs_no_lookup_and_passes_the_validator(with_existing, capsys):
    manifest = json.loads((with_existing.outdir / "manifest.json").read_text())
    assert not manifest.get("missing"), "synth asked for a context lookup"
    assert validate([str(with_existing.outdir)]) == 0, capsys.readouterr().out
