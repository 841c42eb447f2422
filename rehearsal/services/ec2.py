"""Where moto's EC2 differs from EC2: a new VPC's default security group, and what DeleteVpc refuses.

EC2 creates every VPC with a default security group that allows all inbound traffic from itself
and all outbound traffic (Amazon VPC User Guide, "Default security groups for your VPCs"); moto's
has the outbound rule only. CDK's restrict-default-security-group handler revokes both rules, and
fails on a rule that is not there, so the model adds the inbound one.

DeleteVpc: "you must ... delete all security groups associated with the VPC (except the default
one)" (Amazon EC2 API Reference, DeleteVpc); moto deletes the VPC and leaves such groups behind, so a
teardown that leaves one (CloudHSM's cluster group, KMS's key store group) looked clean. EC2 answers
DependencyViolation.

DeleteSubnet: "You must terminate all running instances in the subnet before you can delete the
subnet" (Amazon EC2 API Reference, DeleteSubnet), and so for every network interface in it (an HSM's,
a key store's, an endpoint's): EC2 answers DependencyViolation, "the specified object has dependent
resources" (Amazon EC2 API Reference, "Error codes"). moto deletes the subnet under them.

One module, not moto's three: backend methods change, with no wire format of their own.
"""

from __future__ import annotations

from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models import subnets, vpcs

_original_create_vpc = vpcs.VPCBackend.create_vpc
_original_delete_vpc = vpcs.VPCBackend.delete_vpc
_original_delete_subnet = subnets.SubnetBackend.delete_subnet


def create_vpc(self, *args, **kwargs):
    vpc = _original_create_vpc(self, *args, **kwargs)
    group = self.get_security_group_from_name("default", vpc_id=vpc.id)
    if group is not None and not group.ingress_rules:
        self.authorize_security_group_ingress(group.id, "-1", None, None, [],
                                              source_groups=[{"GroupId": group.id, "UserId": self.account_id}],
                                              vpc_id=vpc.id)
    return vpc


def delete_vpc(self, vpc_id: str):
    groups = [group for group in self.describe_security_groups(filters={"vpc-id": [vpc_id]})
              if group.name != "default"]
    if groups:
        raise DependencyViolationError(f"The vpc '{vpc_id}' has dependencies and cannot be deleted: security "
                                       f"group {groups[0].id} ({groups[0].name})")
    return _original_delete_vpc(self, vpc_id)


def delete_subnet(self, subnet_id: str):
    # moto keeps a terminated instance's interface; EC2 deletes it with the instance.
    in_use = [eni for eni in self.enis.values() if eni.subnet is not None and eni.subnet.id == subnet_id
              and not (eni.instance is not None and eni.instance.instance_state.name == "terminated")]
    if in_use:
        raise DependencyViolationError(f"The subnet '{subnet_id}' has dependencies and cannot be deleted: network "
                                       f"interface {in_use[0].id} ({in_use[0].description or 'no description'})")
    return _original_delete_subnet(self, subnet_id)


def install() -> None:
    vpcs.VPCBackend.create_vpc = create_vpc
    vpcs.VPCBackend.delete_vpc = delete_vpc
    subnets.SubnetBackend.delete_subnet = delete_subnet
