"""Clients in the peered application VPC reach the HSM ENIs on 2223-2225 only, decided from the deployed
route tables, peering connections and security groups (rehearsal.reachability), and the rehearsal fails
when a route is missing, a CIDR rule opens the HSMs, or the client group is not admitted."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from rehearsal.cli import main
from rehearsal.reachability import interface, reaches


def _template(directory: Path, stack_suffix: str) -> tuple[Path, dict]:
    path = next(directory.glob(f"*-{stack_suffix}.template.json"))
    return path, json.loads(path.read_text())


def test_the_default_deploy_proves_hsm_access_from_the_peered_vpc(assembly_dir, capsys):
    assert main([str(assembly_dir()), "--no-destroy"]) == 0
    out = capsys.readouterr().out
    access = [line for line in out.splitlines() if "HSM access: " in line]
    assert len(access) == 1 and " over pcx-" in access[0]
    assert "clients in 3 subnet(s) reach 3 HSM(s) on TCP 2223-2225 and on no other port tried; other hosts reach none" \
        in access[0]
    # The bucket is read through both gateway endpoints: the HSM VPC's and the application VPC's.
    endpoints = {line.split(" through ")[1].split()[0] for line in out.splitlines() if "data path: " in line}
    assert len(endpoints) == 2


def _remove_one_route_to_the_application(directory: Path) -> None:
    path, template = _template(directory, "Peering")
    hsm_side = sorted(lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::EC2::Route"
                      and "Fn::ImportValue" in r["Properties"]["RouteTableId"])
    assert hsm_side
    del template["Resources"][hsm_side[0]]
    path.write_text(json.dumps(template))


def _open_the_hsms_to_the_application_range(directory: Path) -> None:
    path, template = _template(directory, "Hsm")
    (cluster,) = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::CloudHSM::Cluster"]
    template["Resources"]["WideOpen"] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": {"Fn::GetAtt": [cluster, "SecurityGroup"]}, "IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535,
        "CidrIp": "172.20.0.0/22"}}
    path.write_text(json.dumps(template))


def _stop_admitting_the_application_clients(directory: Path) -> None:
    path, template = _template(directory, "Hsm")
    peered = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::EC2::SecurityGroupIngress"
              and "Fn::ImportValue" in json.dumps(r["Properties"]["SourceSecurityGroupId"])]
    assert len(peered) == 1
    del template["Resources"][peered[0]]
    path.write_text(json.dumps(template))


@pytest.mark.parametrize("change, expected", [
    (_remove_one_route_to_the_application, "cannot reach HSM 10.40."),
    (_open_the_hsms_to_the_application_range, "outside the client groups reaches HSM 10.40."),
    (_stop_admitting_the_application_clients, "is admitted by the cluster's group"),
])
def test_broken_hsm_access_fails_the_rehearsal(copied_assembly, capsys, change, expected):
    directory = copied_assembly()
    change(directory)
    assert main([str(directory), "--no-destroy"]) == 1
    captured = capsys.readouterr()
    assert "rehearsal: FAILED: data path: HSM access over pcx-" in captured.err
    assert expected in captured.err
    assert "FAILED (data path)" in captured.out


# -- the reachability model on its own, on a small EC2 state -------------------------------------------

@pytest.fixture
def two_vpcs():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        vpcs, subnets, tables, groups = {}, {}, {}, {}
        for name, cidr in (("hsm", "10.40.0.0/16"), ("app", "10.41.0.0/16")):
            vpcs[name] = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
            subnets[name] = ec2.create_subnet(VpcId=vpcs[name], CidrBlock=cidr.replace("/16", "/24"))["Subnet"]["SubnetId"]
            tables[name] = ec2.create_route_table(VpcId=vpcs[name])["RouteTable"]["RouteTableId"]
            ec2.associate_route_table(RouteTableId=tables[name], SubnetId=subnets[name])
            groups[name] = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpcs[name])["GroupId"]
        ec2.revoke_security_group_egress(GroupId=groups["hsm"], IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.authorize_security_group_ingress(GroupId=groups["hsm"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 2223, "ToPort": 2225, "UserIdGroupPairs": [{"GroupId": groups["app"]}]}])
        peering = ec2.create_vpc_peering_connection(VpcId=vpcs["hsm"], PeerVpcId=vpcs["app"])[
            "VpcPeeringConnection"]["VpcPeeringConnectionId"]
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
        ec2.create_route(RouteTableId=tables["hsm"], DestinationCidrBlock="10.41.0.0/24", VpcPeeringConnectionId=peering)
        ec2.create_route(RouteTableId=tables["app"], DestinationCidrBlock="10.40.0.0/24", VpcPeeringConnectionId=peering)
        enis = {name: interface(ec2, ec2.create_network_interface(SubnetId=subnets[name], Groups=[groups[name]])[
            "NetworkInterface"]["NetworkInterfaceId"]) for name in ("hsm", "app")}
        yield ec2, enis, tables, groups, peering


def test_reachability_follows_routes_both_ways_and_security_groups(two_vpcs):
    ec2, enis, tables, groups, peering = two_vpcs
    verdict = reaches(ec2, enis["app"], enis["hsm"], 2224)
    assert verdict.reachable and verdict.reason == f"over {peering}"
    assert "no ingress rule" in reaches(ec2, enis["app"], enis["hsm"], 22).reason
    assert "no egress rule" in reaches(ec2, enis["hsm"], enis["app"], 2224).reason
    assert not reaches(ec2, enis["app"], enis["hsm"], 2224, protocol="udp").reachable
    ec2.delete_route(RouteTableId=tables["hsm"], DestinationCidrBlock="10.41.0.0/24")
    verdict = reaches(ec2, enis["app"], enis["hsm"], 2224)
    assert not verdict.reachable and f"route table {tables['hsm']} has no route back from" in verdict.reason


def test_a_cidr_rule_admits_by_address_and_a_deleted_peering_carries_nothing(two_vpcs):
    ec2, enis, tables, groups, peering = two_vpcs
    ec2.authorize_security_group_ingress(GroupId=groups["hsm"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.41.0.0/24"}]}])
    assert reaches(ec2, enis["app"], enis["hsm"], 22).reachable
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=peering)
    verdict = reaches(ec2, enis["app"], enis["hsm"], 2223)
    assert not verdict.reachable and peering in verdict.reason
