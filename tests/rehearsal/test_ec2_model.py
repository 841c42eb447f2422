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
