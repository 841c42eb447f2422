"""The CloudHSM cluster (native AWS::CloudHSM::Cluster) and who may reach its HSMs."""

from __future__ import annotations

from aws_cdk import aws_cloudhsm as cloudhsm
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cmk_constructs.nag import acknowledge
from cmk_constructs.retention import KEEP

# cloudhsm-cli and the client SDK talk to the HSM ENIs on these ports only.
HSM_PORTS = ec2.Port.tcp_range(2223, 2225)


class HsmCluster(Construct):
    """FIPS-mode cluster over every isolated subnet, retained on delete and on replacement.

    The cluster's security group is created by CloudHSM (`SecurityGroup` attribute);
    we add the only ingress it needs: 2223-2225 from the client host's group. CloudHSM also
    makes the cluster's audit log group, which cmk_constructs.cluster_audit_log adopts.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        hsm_type: str,
        backup_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = cloudhsm.CfnCluster(
            self, "Cluster",
            hsm_type=hsm_type,
            mode="FIPS",
            subnet_ids=vpc.select_subnets(subnet_type=subnets.subnet_type).subnet_ids,
            backup_retention_policy=cloudhsm.CfnCluster.BackupRetentionPolicyProperty(
                type="DAYS", value=str(backup_retention_days)),
        )
        # Keys live in the cluster and its backups: a stack delete or a replacing update
        # must never take them with it.
        self.cluster.apply_removal_policy(KEEP)
        acknowledge(self.cluster, "CloudFormation-Validate::F3006",
                    "AWS::CloudHSM::Cluster is a newer CloudFormation type than the region spec bundled with this aws-cdk-lib; cfn-lint's current spec knows it.")
        self.cluster_id = self.cluster.attr_cluster_id
        self.cluster_arn = self.cluster.attr_arn
        self.security_group_id = self.cluster.attr_security_group

    def allow_client(self, client_security_group: ec2.ISecurityGroup) -> None:
        """Open 2223-2225 from `client_security_group` to the HSMs, and nothing else."""
        ec2.CfnSecurityGroupIngress(
            self, "ClientIngress",
            group_id=self.security_group_id,
            ip_protocol="tcp",
            from_port=2223,
            to_port=2225,
            source_security_group_id=client_security_group.security_group_id,
            description="cloudhsm-cli and client SDK from the CloudHSM client host",
        )
        client_security_group.add_egress_rule(
            ec2.Peer.security_group_id(self.security_group_id), HSM_PORTS, "To the HSMs")

    def allow_peered_client(self, name: str, client_security_group_id: str, *, add_egress: bool) -> ec2.CfnSecurityGroupIngress:
        """Open 2223-2225 to the HSMs from a peered application VPC's client group, by reference (EC2 allows
        referencing a peer VPC's group across a same-Region peering connection; the Amazon VPC Peering
        Guide, https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html), never
        from its CIDR. `add_egress`: the group is this app's, so its way out to the HSMs is declared too."""
        ingress = ec2.CfnSecurityGroupIngress(
            self, f"PeeredClientIngress{name}",
            group_id=self.security_group_id,
            ip_protocol="tcp",
            from_port=2223,
            to_port=2225,
            source_security_group_id=client_security_group_id,
            description=f"cloudhsm clients of the peered application VPC {name}",
        )
        if add_egress:
            ec2.CfnSecurityGroupEgress(
                self, f"PeeredClientEgress{name}",
                group_id=client_security_group_id,
                ip_protocol="tcp",
                from_port=2223,
                to_port=2225,
                destination_security_group_id=self.security_group_id,
                description="To the HSMs over VPC peering",
            )
        return ingress
