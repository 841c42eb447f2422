"""CKE116: the hosts that reach the HSMs (EC2 instances in a security group the cluster's group admits)
are hardened as such hosts should be.

A client host holds the CloudHSM CLI and, while it runs them, the admin and crypto-user sessions; it is
the one machine with a network path to the HSMs. What that takes, from AWS's and CIS's guidance:
- IMDSv2 only (HttpTokens required on the instance's launch template): a request forged through the
  host cannot read its role's credentials (EC2 User Guide, "Use IMDSv2"; CIS AWS Foundations, EC2
  "Ensure that EC2 Metadata Service only allows IMDSv2");
- no public IP address, and no SSH key pair: it is reached through Systems Manager only (CloudHSM
  User Guide, "Connect the client instance to the cluster"; CIS: no remote administration ports open);
- no ingress rule on its security groups: nothing needs to connect to it;
- encrypted EBS volumes (CIS: "Ensure EBS volume encryption is enabled"): an explicit `Encrypted: true`
  on each block device, as account-wide default encryption is not visible in a template (a warning);
- it runs in a subnet of the cluster's VPC.
"""

from __future__ import annotations

from cmk_validate.architecture import as_list
from cmk_validate.findings import Severity
from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule

HSM_PORT = 2223


class HsmClientHostHardened(Rule):
    id = "CKE116"
    title = "Hosts that reach the HSMs: IMDSv2 only, no public IP, no SSH key, no ingress, encrypted disks, in the cluster's VPC"
    rationale = ("The client host is the only machine with a network path to the HSMs and runs the CloudHSM CLI "
                 "with the cluster's admin and crypto-user sessions. A metadata service that answers IMDSv1, a "
                 "public address, an SSH key, an open security group or an unencrypted disk each gives an attacker "
                 "a way to that path or to what the host held.")
    fix = ("Give the instance a launch template with MetadataOptions HttpTokens required (CDK: require_imdsv2=True), "
           "AssociatePublicIpAddress false, no KeyName (use Systems Manager), a security group without ingress "
           "rules, BlockDeviceMappings with Ebs Encrypted true, and a subnet of the cluster's VPC.")
    source_url = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html"
    tags = ("cloudhsm", "ec2", "hardening")

    def check(self, ctx):
        facts = ctx.facts
        if not facts.clusters:
            return
        client_groups = _groups_admitted_by_clusters(ctx)
        cluster_vpcs = _cluster_vpcs(ctx)
        for stack, lid, _ in ctx.resources("AWS::EC2::Instance"):
            props = ctx.props(stack, lid)
            groups = _instance_groups(props)
            if not groups & client_groups:
                continue
            base = ("Resources", lid, "Properties")
            template = _launch_template(ctx, stack, props)
            data = template[2].get("LaunchTemplateData") if template else None
            data = data if isinstance(data, dict) else {}
            metadata = data.get("MetadataOptions")
            tokens = metadata.get("HttpTokens") if isinstance(metadata, dict) else None
            if isinstance(tokens, Unresolved):
                yield self.cannot_prove(stack, base + ("LaunchTemplate",), tokens.reason)
            elif tokens != "required":
                yield self.finding(stack, base + ("LaunchTemplate",) if template else base,
                                   f"client host {lid} answers IMDSv1 requests (no launch template with "
                                   "MetadataOptions HttpTokens required)")
            for key_holder, where in ((props, base), (data, base + ("LaunchTemplate",))):
                if key_holder.get("KeyName"):
                    yield self.finding(stack, where + ("KeyName",) if key_holder is props else where,
                                       f"client host {lid} has an SSH key pair ({key_holder.get('KeyName')!r}); reach "
                                       "it through Systems Manager instead")
            yield from self._address(ctx, stack, lid, base, props, cluster_vpcs)
            yield from self._ingress(ctx, stack, lid, base, groups)
            yield from self._disks(stack, lid, base, props, data)

    def _address(self, ctx, stack, lid, base, props, cluster_vpcs):
        interfaces = [i for i in as_list(props.get("NetworkInterfaces")) if isinstance(i, dict)]
        for index, interface in enumerate(interfaces):
            if interface.get("AssociatePublicIpAddress") in (True, "true"):
                yield self.finding(stack, base + ("NetworkInterfaces", index, "AssociatePublicIpAddress"),
                                   f"client host {lid} gets a public IP address")
        subnets = [props.get("SubnetId")] + [interface.get("SubnetId") for interface in interfaces]
        for subnet in [s for s in subnets if s is not None]:
            if isinstance(subnet, Unresolved):
                yield self.cannot_prove(stack, base, subnet.reason)
                continue
            found = ctx.facts.subnets.get(subnet)
            if found is None:
                yield self.cannot_prove(stack, base, f"subnet {subnet} of client host {lid} is not in this assembly")
                continue
            subnet_props = found.props
            if subnet_props.get("MapPublicIpOnLaunch") in (True, "true") and not interfaces:
                yield self.finding(stack, base + ("SubnetId",), f"client host {lid} runs in subnet {found.logical_id}, which "
                                   "gives every instance a public IP address (MapPublicIpOnLaunch)")
            if cluster_vpcs and subnet_props.get("VpcId") not in cluster_vpcs:
                yield self.finding(stack, base, f"client host {lid} runs outside the cluster's VPC (subnet {found.logical_id})")

    def _ingress(self, ctx, stack, lid, base, groups):
        for group_stack, group_lid, _ in ctx.resources("AWS::EC2::SecurityGroup"):
            if ctx.ref(group_stack, group_lid, "GroupId") in groups and ctx.props(group_stack, group_lid).get("SecurityGroupIngress"):
                yield self.finding(group_stack, ("Resources", group_lid, "Properties", "SecurityGroupIngress"),
                                   f"security group {group_lid} of client host {lid} admits inbound traffic")
        for rule_stack, rule_lid, _ in ctx.resources("AWS::EC2::SecurityGroupIngress"):
            if ctx.props(rule_stack, rule_lid).get("GroupId") in groups:
                yield self.finding(rule_stack, ("Resources", rule_lid), f"ingress rule {rule_lid} opens a security "
                                   f"group of client host {lid}")

    def _disks(self, stack, lid, base, props, data):
        mappings = [(base + ("BlockDeviceMappings", index), mapping)
                    for index, mapping in enumerate(as_list(props.get("BlockDeviceMappings")))]
        mappings += [(base + ("LaunchTemplate",), mapping) for mapping in as_list(data.get("BlockDeviceMappings"))]
        if not mappings:
            yield self.finding(stack, base, f"client host {lid}'s root volume is encrypted only if the account's EBS "
                               "default encryption is on, which the template cannot show", severity=Severity.WARNING)
        for path, mapping in mappings:
            ebs = mapping.get("Ebs") if isinstance(mapping, dict) else None
            if isinstance(ebs, dict) and ebs.get("Encrypted") not in (True, "true"):
                yield self.finding(stack, path, f"client host {lid} has an EBS volume without Encrypted: true")


def _groups_admitted_by_clusters(ctx) -> set:
    """Security groups the clusters' groups admit on the HSM ports."""
    cluster_groups = {ctx.ref(stack, lid, "SecurityGroup") for stack, lid, _ in ctx.facts.clusters}
    admitted = set()
    for stack, lid, _ in ctx.resources("AWS::EC2::SecurityGroupIngress"):
        props = ctx.props(stack, lid)
        if props.get("GroupId") in cluster_groups and isinstance(props.get("SourceSecurityGroupId"), str):
            admitted.add(props["SourceSecurityGroupId"])
    return admitted


def _instance_groups(props: dict) -> set:
    groups = set(as_list(props.get("SecurityGroupIds"))) | set(as_list(props.get("SecurityGroups")))
    for interface in as_list(props.get("NetworkInterfaces")):
        if isinstance(interface, dict):
            groups |= set(as_list(interface.get("GroupSet")))
    return {group for group in groups if isinstance(group, str)}


def _launch_template(ctx, stack, props: dict):
    """(stack, logical id, props) of the instance's launch template, by id or by name."""
    reference = props.get("LaunchTemplate")
    if not isinstance(reference, dict):
        return None
    for template_stack, template_lid, _ in ctx.resources("AWS::EC2::LaunchTemplate"):
        template_props = ctx.props(template_stack, template_lid)
        if reference.get("LaunchTemplateId") == ctx.ref(template_stack, template_lid) or \
                (reference.get("LaunchTemplateName") and
                 reference.get("LaunchTemplateName") == template_props.get("LaunchTemplateName")):
            return template_stack, template_lid, template_props
    return None


def _cluster_vpcs(ctx) -> set:
    """VPCs of the clusters' subnets."""
    vpcs = set()
    for _, _, props in ctx.facts.clusters:
        for subnet in as_list(props.get("SubnetIds")):
            found = ctx.facts.subnets.get(subnet) if isinstance(subnet, str) else None
            if found is not None and isinstance(found.props.get("VpcId"), str):
                vpcs.add(found.props["VpcId"])
    return vpcs
