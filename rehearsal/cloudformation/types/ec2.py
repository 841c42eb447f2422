"""The EC2 network and compute types the app uses: VPC, subnets, route tables, security groups,
endpoints, flow logs, launch templates and instances."""

from __future__ import annotations

import json
from typing import Generator

from rehearsal import host
from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceFailed, ResourceType, flag, register


def _tag_spec(ctx: ResourceContext, resource_type: str) -> list[dict]:
    tags = ctx.tags()
    return [{"ResourceType": resource_type, "Tags": tags}] if tags else []


@register
class Vpc(ResourceType):
    type_name = "AWS::EC2::VPC"
    create_seconds = 10.0

    def create(self, ctx: ResourceContext) -> Created:
        props, ec2 = ctx.properties, ctx.client("ec2")
        vpc = ec2.create_vpc(CidrBlock=props["CidrBlock"], InstanceTenancy=props.get("InstanceTenancy", "default"),
                             TagSpecifications=_tag_spec(ctx, "vpc"))["Vpc"]
        vpc_id = vpc["VpcId"]
        for name in ("EnableDnsSupport", "EnableDnsHostnames"):
            if name in props:
                ec2.modify_vpc_attribute(VpcId=vpc_id, **{name: {"Value": flag(props[name])}})
        default_group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                              {"Name": "group-name", "Values": ["default"]}])
        acl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                 {"Name": "default", "Values": ["true"]}])
        return Created(vpc_id, {"CidrBlock": props["CidrBlock"], "VpcId": vpc_id,
                                "DefaultSecurityGroup": default_group["SecurityGroups"][0]["GroupId"],
                                "DefaultNetworkAcl": acl["NetworkAcls"][0]["NetworkAclId"] if acl["NetworkAcls"] else ""})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").delete_vpc(VpcId=physical_id)


@register
class Subnet(ResourceType):
    type_name = "AWS::EC2::Subnet"

    def create(self, ctx: ResourceContext) -> Created:
        props, ec2 = ctx.properties, ctx.client("ec2")
        subnet = ec2.create_subnet(VpcId=props["VpcId"], CidrBlock=props["CidrBlock"],
                                   AvailabilityZone=props["AvailabilityZone"],
                                   TagSpecifications=_tag_spec(ctx, "subnet"))["Subnet"]
        if flag(props.get("MapPublicIpOnLaunch")):
            ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
        return Created(subnet["SubnetId"], {"AvailabilityZone": subnet["AvailabilityZone"], "VpcId": props["VpcId"],
                                            "CidrBlock": props["CidrBlock"], "SubnetId": subnet["SubnetId"]})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").delete_subnet(SubnetId=physical_id)


@register
class RouteTable(ResourceType):
    type_name = "AWS::EC2::RouteTable"

    def create(self, ctx: ResourceContext) -> Created:
        table = ctx.client("ec2").create_route_table(VpcId=ctx.properties["VpcId"],
                                                     TagSpecifications=_tag_spec(ctx, "route-table"))["RouteTable"]
        return Created(table["RouteTableId"], {"RouteTableId": table["RouteTableId"]})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").delete_route_table(RouteTableId=physical_id)


@register
class SubnetRouteTableAssociation(ResourceType):
    type_name = "AWS::EC2::SubnetRouteTableAssociation"

    def create(self, ctx: ResourceContext) -> Created:
        association = ctx.client("ec2").associate_route_table(RouteTableId=ctx.properties["RouteTableId"],
                                                              SubnetId=ctx.properties["SubnetId"])
        return Created(association["AssociationId"], {"Id": association["AssociationId"]})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").disassociate_route_table(AssociationId=physical_id)


def _permission(rule: dict) -> dict:
    """A SecurityGroupIngress/Egress entry (or the standalone resource's properties) as an IpPermission."""
    permission: dict = {"IpProtocol": str(rule.get("IpProtocol", "-1"))}
    if "FromPort" in rule:
        permission["FromPort"] = int(rule["FromPort"])
    if "ToPort" in rule:
        permission["ToPort"] = int(rule["ToPort"])
    description = {"Description": rule["Description"]} if rule.get("Description") else {}
    if rule.get("CidrIp"):
        permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], **description}]
    if rule.get("CidrIpv6"):
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **description}]
    for key in ("SourceSecurityGroupId", "DestinationSecurityGroupId"):
        if rule.get(key):
            permission["UserIdGroupPairs"] = [{"GroupId": rule[key], **description}]
    if rule.get("DestinationPrefixListId") or rule.get("SourcePrefixListId"):
        permission["PrefixListIds"] = [{"PrefixListId": rule.get("DestinationPrefixListId") or rule.get("SourcePrefixListId")}]
    return permission


ALLOW_ALL_EGRESS = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


@register
class SecurityGroup(ResourceType):
    type_name = "AWS::EC2::SecurityGroup"

    def create(self, ctx: ResourceContext) -> Created:
        props, ec2 = ctx.properties, ctx.client("ec2")
        group_id = ec2.create_security_group(
            GroupName=props.get("GroupName") or ctx.generated_name(max_length=255),
            Description=props["GroupDescription"], VpcId=props["VpcId"],
            TagSpecifications=_tag_spec(ctx, "security-group"))["GroupId"]
        ingress = [_permission(rule) for rule in props.get("SecurityGroupIngress") or []]
        if ingress:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ingress)
        if "SecurityGroupEgress" in props:  # CloudFormation replaces the default allow-all egress rule
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[ALLOW_ALL_EGRESS])
            egress = [_permission(rule) for rule in props["SecurityGroupEgress"] or []]
            if egress:
                ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=egress)
        return Created(group_id, {"GroupId": group_id, "VpcId": props["VpcId"]})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").delete_security_group(GroupId=physical_id)


@register
class SecurityGroupIngress(ResourceType):
    type_name = "AWS::EC2::SecurityGroupIngress"

    def create(self, ctx: ResourceContext) -> Created:
        result = ctx.client("ec2").authorize_security_group_ingress(GroupId=ctx.properties["GroupId"],
                                                                    IpPermissions=[_permission(ctx.properties)])
        rules = result.get("SecurityGroupRules") or [{}]
        return Created(rules[0].get("SecurityGroupRuleId") or ctx.generated_name())

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").revoke_security_group_ingress(GroupId=ctx.properties["GroupId"],
                                                         IpPermissions=[_permission(ctx.properties)])


@register
class VpcEndpoint(ResourceType):
    type_name = "AWS::EC2::VPCEndpoint"
    create_seconds = 60.0

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        arguments = dict(VpcId=props["VpcId"], ServiceName=props["ServiceName"],
                         VpcEndpointType=props.get("VpcEndpointType", "Gateway"))
        arguments.update(ctx.present("RouteTableIds", "SubnetIds", "SecurityGroupIds"))
        if "PrivateDnsEnabled" in props:
            arguments["PrivateDnsEnabled"] = flag(props["PrivateDnsEnabled"])
        if props.get("PolicyDocument") is not None:
            arguments["PolicyDocument"] = ctx.json_text("PolicyDocument")
        endpoint = ctx.client("ec2").create_vpc_endpoint(**arguments)["VpcEndpoint"]
        return Created(endpoint["VpcEndpointId"], {"Id": endpoint["VpcEndpointId"],
                                                   "CreationTimestamp": str(endpoint.get("CreationTimestamp", ""))})

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        props, arguments = ctx.properties, {}
        if props.get("PolicyDocument") != old.get("PolicyDocument"):
            arguments["PolicyDocument"] = ctx.json_text("PolicyDocument") or json.dumps(
                {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
        for name, add, remove in (("RouteTableIds", "AddRouteTableIds", "RemoveRouteTableIds"),
                                  ("SubnetIds", "AddSubnetIds", "RemoveSubnetIds"),
                                  ("SecurityGroupIds", "AddSecurityGroupIds", "RemoveSecurityGroupIds")):
            new_ids, old_ids = set(props.get(name) or []), set(old.get(name) or [])
            if new_ids - old_ids:
                arguments[add] = sorted(new_ids - old_ids)
            if old_ids - new_ids:
                arguments[remove] = sorted(old_ids - new_ids)
        if arguments:
            ctx.client("ec2").modify_vpc_endpoint(VpcEndpointId=physical_id, **arguments)
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[physical_id])


@register
class FlowLog(ResourceType):
    type_name = "AWS::EC2::FlowLog"

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        arguments = dict(ResourceIds=[props["ResourceId"]], ResourceType=props["ResourceType"],
                         TrafficType=props.get("TrafficType", "ALL"),
                         LogDestinationType=props.get("LogDestinationType", "cloud-watch-logs"))
        arguments.update(ctx.present("LogGroupName", "LogDestination", "DeliverLogsPermissionArn"))
        result = ctx.client("ec2").create_flow_logs(**arguments)
        if result.get("Unsuccessful"):
            raise RuntimeError(result["Unsuccessful"][0]["Error"]["Message"])
        return Created(result["FlowLogIds"][0], {"Id": result["FlowLogIds"][0]})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").delete_flow_logs(FlowLogIds=[physical_id])


@register
class LaunchTemplate(ResourceType):
    type_name = "AWS::EC2::LaunchTemplate"

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        template = ctx.client("ec2").create_launch_template(
            LaunchTemplateName=props.get("LaunchTemplateName") or ctx.generated_name(max_length=128),
            LaunchTemplateData=props.get("LaunchTemplateData") or {})["LaunchTemplate"]
        return Created(template["LaunchTemplateId"], {
            "LaunchTemplateId": template["LaunchTemplateId"],
            "LatestVersionNumber": str(template["LatestVersionNumber"]),
            "DefaultVersionNumber": str(template["DefaultVersionNumber"])})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").delete_launch_template(LaunchTemplateId=physical_id)


@register
class Instance(ResourceType):
    """RunInstances, then CloudFormation waits for `running`; the host boots (rehearsal/host.py)."""
    type_name = "AWS::EC2::Instance"
    create_seconds = 45.0
    delete_seconds = 60.0

    def create(self, ctx: ResourceContext) -> Generator[float, None, Created]:
        props, ec2 = ctx.properties, ctx.client("ec2")
        arguments: dict = dict(MinCount=1, MaxCount=1, TagSpecifications=_tag_spec(ctx, "instance"))
        arguments.update(ctx.present("ImageId", "InstanceType", "SubnetId", "SecurityGroupIds", "UserData",
                                     "BlockDeviceMappings"))
        if props.get("AvailabilityZone"):
            arguments["Placement"] = {"AvailabilityZone": props["AvailabilityZone"]}
        if props.get("IamInstanceProfile"):
            arguments["IamInstanceProfile"] = {"Name": props["IamInstanceProfile"]}
        if props.get("LaunchTemplate"):
            arguments["LaunchTemplate"] = {key: str(value) for key, value in props["LaunchTemplate"].items()}
        if props.get("Monitoring") is not None:
            arguments["Monitoring"] = {"Enabled": flag(props["Monitoring"])}
        if props.get("NetworkInterfaces"):
            arguments["NetworkInterfaces"] = [{("Groups" if key == "GroupSet" else key): value
                                               for key, value in interface.items()}
                                              for interface in props["NetworkInterfaces"]]
            for interface in arguments["NetworkInterfaces"]:
                if "DeviceIndex" in interface:
                    interface["DeviceIndex"] = int(interface["DeviceIndex"])
                if "AssociatePublicIpAddress" in interface:
                    interface["AssociatePublicIpAddress"] = flag(interface["AssociatePublicIpAddress"])
        instance = ec2.run_instances(**arguments)["Instances"][0]
        instance_id = instance["InstanceId"]
        ctx.exists(instance_id)
        yield from ctx.cloud.wait(self.create_seconds)
        host.boot(ctx.cloud, instance_id, props.get("IamInstanceProfile"))
        return Created(instance_id, {"PrivateIp": instance.get("PrivateIpAddress", ""),
                                     "AvailabilityZone": instance["Placement"]["AvailabilityZone"],
                                     "InstanceId": instance_id})

    def delete(self, ctx: ResourceContext, physical_id: str) -> Generator[float, None, None]:
        ctx.client("ec2").terminate_instances(InstanceIds=[physical_id])
        yield from ctx.cloud.wait(self.delete_seconds)


@register
class SecurityGroupEgress(ResourceType):
    type_name = "AWS::EC2::SecurityGroupEgress"

    def create(self, ctx: ResourceContext) -> Created:
        result = ctx.client("ec2").authorize_security_group_egress(GroupId=ctx.properties["GroupId"],
                                                                   IpPermissions=[_permission(ctx.properties)])
        rules = result.get("SecurityGroupRules") or [{}]
        return Created(rules[0].get("SecurityGroupRuleId") or ctx.generated_name())

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").revoke_security_group_egress(GroupId=ctx.properties["GroupId"],
                                                        IpPermissions=[_permission(ctx.properties)])


@register
class VpcPeeringConnection(ResourceType):
    """CreateVpcPeeringConnection; in one account and Region CloudFormation accepts it itself
    (AWS CloudFormation User Guide, AWS::EC2::VPCPeeringConnection: PeerRoleArn and PeerOwnerId are
    needed only when the accepter VPC is in another account), so the connection is active when the
    resource completes. Another account is not modelled."""
    type_name = "AWS::EC2::VPCPeeringConnection"
    create_seconds = 15.0

    def create(self, ctx: ResourceContext) -> Created:
        props, ec2 = ctx.properties, ctx.client("ec2")
        if props.get("PeerOwnerId") not in (None, ctx.account) or props.get("PeerRoleArn"):
            raise ResourceFailed("a peering with another account's VPC is not modelled by the rehearsal")
        arguments = dict(VpcId=props["VpcId"], PeerVpcId=props["PeerVpcId"])
        if props.get("PeerRegion"):
            arguments["PeerRegion"] = props["PeerRegion"]
        connection = ec2.create_vpc_peering_connection(**arguments, TagSpecifications=_tag_spec(
            ctx, "vpc-peering-connection"))["VpcPeeringConnection"]
        connection_id = connection["VpcPeeringConnectionId"]
        ctx.exists(connection_id)
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=connection_id)
        return Created(connection_id, {"Id": connection_id})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ec2").delete_vpc_peering_connection(VpcPeeringConnectionId=physical_id)


ROUTE_TARGETS = ("VpcPeeringConnectionId", "GatewayId", "NatGatewayId", "TransitGatewayId", "NetworkInterfaceId",
                 "InstanceId", "EgressOnlyInternetGatewayId", "VpcEndpointId", "CarrierGatewayId", "LocalGatewayId")


@register
class Route(ResourceType):
    type_name = "AWS::EC2::Route"

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        arguments = dict(RouteTableId=props["RouteTableId"])
        arguments.update(ctx.present("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId",
                                     *ROUTE_TARGETS))
        ctx.client("ec2").create_route(**arguments)
        destination = (props.get("DestinationCidrBlock") or props.get("DestinationIpv6CidrBlock")
                       or props.get("DestinationPrefixListId"))
        return Created(f"{props['RouteTableId']}|{destination}")

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        arguments = dict(RouteTableId=ctx.properties["RouteTableId"])
        arguments.update(ctx.present("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"))
        ctx.client("ec2").delete_route(**arguments)
