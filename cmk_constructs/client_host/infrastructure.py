"""The CloudHSM client host: a private instance, managed through SSM only, that runs cloudhsm-cli."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from cmk_constructs.nag import acknowledge
from stacks.config import S3Location

_USER_DATA = Path(__file__).with_name("install_client.sh")

# What AmazonSSMManagedInstanceCore grants, written out so no managed policy is attached.
SSM_AGENT_ACTIONS = (
    "ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument",
    "ssm:DescribeDocument", "ssm:GetManifest", "ssm:ListAssociations", "ssm:ListInstanceAssociations",
    "ssm:PutInventory", "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult",
    "ssm:UpdateAssociationStatus", "ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
    "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
)


class HsmClientHost(Construct):
    """Amazon Linux 2023 in an isolated subnet: no public IP, no SSH key, IMDSv2, encrypted disk."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        instance_type: str,
        client_package: S3Location,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup",
            vpc=vpc,
            description="CloudHSM client host: no ingress; HTTPS to endpoints, 2223-2225 to the HSMs",
            allow_all_outbound=False,
        )
        # Isolated subnets route nowhere but the VPC and the S3 gateway endpoint, so 443
        # reaches only the interface endpoints and S3 through the gateway endpoint.
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints and the S3 gateway endpoint")

        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="CloudHSM client host: SSM agent and the client package, nothing else by default",
        )
        agent = iam.PolicyStatement(actions=list(SSM_AGENT_ACTIONS), resources=["*"])
        self.role.add_to_policy(agent)
        self.role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[client_package.object_arn]))
        acknowledge(
            self.role, "AwsSolutions-IAM5",
            "SSM Agent actions (ssm:UpdateInstanceInformation, ssmmessages:*Channel, ec2messages:*) have no resource-level permissions; this is the action list of AmazonSSMManagedInstanceCore written out.",
            findings=["Resource::*"],
        )

        user_data = ec2.UserData.for_linux()
        script = _USER_DATA.read_text().replace("__CLIENT_PACKAGE_URI__", client_package.uri)
        user_data.add_commands(script.replace("__REGION__", Stack.of(self).region))
        self.instance = ec2.Instance(
            self, "Instance",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=subnets.subnet_type, availability_zones=[vpc.availability_zones[0]]),
            instance_type=ec2.InstanceType(instance_type),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            security_group=self.security_group,
            role=self.role,
            user_data=user_data,
            require_imdsv2=True,
            associate_public_ip_address=False,
            detailed_monitoring=True,
            ssm_session_permissions=False,
            block_devices=[ec2.BlockDevice(
                device_name="/dev/xvda",
                volume=ec2.BlockDeviceVolume.ebs(16, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3),
            )],
        )
        acknowledge(
            self.instance, "AwsSolutions-EC29",
            "The client host holds no key material and no credentials (passwords stay in Secrets Manager); it is rebuilt from the stack, and termination protection would block 'cdk destroy'.",
        )
        acknowledge(self.instance, "CloudFormation-Validate::W3010",
                    "The AZ is the first of the configured, pinned AZs (synth is offline and deterministic); the subnet already fixes it.")
        self.instance_id = self.instance.instance_id
