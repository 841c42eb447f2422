"""Where the model's EC2 follows the EC2 API Reference rather than moto."""

from __future__ import annotations

import contextlib
import io

import pytest
from botocore.exceptions import ClientError

from rehearsal.session import offline_account
from tests.support.world import ACCOUNT, REGION


def test_a_vpc_with_a_security_group_left_in_it_cannot_be_deleted():
    """Amazon EC2 API Reference, DeleteVpc: delete all security groups associated with the VPC (except
    the default one) first; until then EC2 answers DependencyViolation."""
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        ec2 = cloud.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        group = ec2.create_security_group(GroupName="left-behind", Description="x", VpcId=vpc)["GroupId"]
        with pytest.raises(ClientError) as refused:
            ec2.delete_vpc(VpcId=vpc)
        assert refused.value.response["Error"]["Code"] == "DependencyViolation" and group in str(refused.value)
        ec2.delete_security_group(GroupId=group)
        ec2.delete_vpc(VpcId=vpc)  # the default group goes with the VPC
        assert vpc not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}


def test_a_subnet_with_a_network_interface_in_it_cannot_be_deleted():
    """Amazon EC2 API Reference, DeleteSubnet: terminate the instances in the subnet first; any network
    interface left in it (an HSM's, a key store's) makes EC2 answer DependencyViolation. A terminated
    instance's interface goes with it."""
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        ec2 = cloud.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
        interface = ec2.create_network_interface(SubnetId=subnet, Description="HSM")["NetworkInterface"]
        with pytest.raises(ClientError) as refused:
            ec2.delete_subnet(SubnetId=subnet)
        assert refused.value.response["Error"]["Code"] == "DependencyViolation"
        assert interface["NetworkInterfaceId"] in str(refused.value)
        ec2.delete_network_interface(NetworkInterfaceId=interface["NetworkInterfaceId"])
        image = ec2.register_image(Name="host", RootDeviceName="/dev/xvda")["ImageId"]
        (instance,) = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"]
        with pytest.raises(ClientError):
            ec2.delete_subnet(SubnetId=subnet)
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        ec2.delete_subnet(SubnetId=subnet)
        assert subnet not in {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
