"""Where moto's EC2 differs from EC2: a new VPC's default security group.

EC2 creates every VPC with a default security group that allows all inbound traffic from itself
and all outbound traffic (Amazon VPC User Guide, "Default security groups for your VPCs"); moto's
has the outbound rule only. CDK's restrict-default-security-group handler revokes both rules, and
fails on a rule that is not there, so the model adds the inbound one.

One module, not moto's three: one backend method changes, with no error or wire format of its own.
"""

from __future__ import annotations

from moto.ec2.models import vpcs

_original_create_vpc = vpcs.VPCBackend.create_vpc


def create_vpc(self, *args, **kwargs):
    vpc = _original_create_vpc(self, *args, **kwargs)
    group = self.get_security_group_from_name("default", vpc_id=vpc.id)
    if group is not None and not group.ingress_rules:
        self.authorize_security_group_ingress(group.id, "-1", None, None, [],
                                              source_groups=[{"GroupId": group.id, "UserId": self.account_id}],
                                              vpc_id=vpc.id)
    return vpc


def install() -> None:
    vpcs.VPCBackend.create_vpc = create_vpc
