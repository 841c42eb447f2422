"""CKE108: the cluster's security group admits only TCP 2223-2225, only from security groups, and only
from groups of the HSM VPC or of a VPC peered with it.

Over a same-Region peering, the cluster's group may name the peer VPC's client group (Amazon VPC Peering
Guide, "Update your security groups to reference peer security groups"); a group of any other VPC has
no path to the HSMs, so naming it is a mistake that hides which hosts were meant."""

from __future__ import annotations

from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule

HSM_PORTS = (2223, 2225)


class HsmSecurityGroupIngress(Rule):
    id = "CKE108"
    title = "HSM security group ingress only TCP 2223-2225 from security groups"
    rationale = ("The HSM ENIs speak to clients on TCP 2223-2225 only. A CIDR source admits every host in a "
                 "range (including ones added later); a wider port range or another protocol exposes more "
                 "than the HSM protocol.")
    fix = ("Use AWS::EC2::SecurityGroupIngress with GroupId = the cluster's SecurityGroup attribute, IpProtocol "
           "tcp, FromPort >= 2223, ToPort <= 2225 and SourceSecurityGroupId of the client security group (in the "
           "HSM VPC or in an application VPC peered with it).")
    source_url = "https://docs.aws.amazon.com/cloudhsm/latest/userguide/configure-sg.html"
    tags = ("cloudhsm", "network")

    def check(self, ctx):
        cluster_groups = {ctx.ref(stack, lid, "SecurityGroup"): lid for stack, lid, _ in ctx.facts.clusters}
        for stack, lid, _ in ctx.resources("AWS::EC2::SecurityGroupIngress"):
            props = ctx.props(stack, lid)
            group = props.get("GroupId")
            if isinstance(group, Unresolved):
                yield self.cannot_prove(stack, ("Resources", lid, "Properties", "GroupId"), group.reason)
                continue
            if group in cluster_groups:
                yield from self._check_rule(ctx, stack, ("Resources", lid, "Properties"), props, cluster_groups[group])

    def _check_source_vpc(self, ctx, stack, path, source, cluster: str):
        """A source group the assembly defines must be in the HSM VPC or a VPC peered with it."""
        origin = ctx.origin(source) if isinstance(source, str) else None
        if not origin or origin[2].get("Type") != "AWS::EC2::SecurityGroup":
            return
        vpc = ctx.props(origin[0], origin[1]).get("VpcId")
        if isinstance(vpc, Unresolved):
            yield self.cannot_prove(stack, path + ("SourceSecurityGroupId",), vpc.reason)
            return
        facts = ctx.facts
        peered = {facts.peer_of_cluster_vpc(props) for _, _, props in facts.peering_connections.values()}
        if vpc is not None and facts.cluster_vpcs and vpc not in facts.cluster_vpcs and vpc not in peered:
            yield self.finding(stack, path + ("SourceSecurityGroupId",), f"ingress to the HSMs of {cluster} from "
                               f"security group {origin[1]}, whose VPC is neither the HSM VPC nor peered with it")

    def _check_rule(self, ctx, stack, path, rule: dict, cluster: str):
        protocol = str(rule.get("IpProtocol", "")).lower()
        for source in ("CidrIp", "CidrIpv6", "SourcePrefixListId"):
            if source in rule:
                yield self.finding(stack, path + (source,), f"ingress to the HSMs of {cluster} from {source} "
                                   f"{rule[source]!r}; only security groups may be sources")
        if "SourceSecurityGroupId" not in rule and "SourceSecurityGroupName" not in rule and \
                not any(s in rule for s in ("CidrIp", "CidrIpv6", "SourcePrefixListId")):
            yield self.finding(stack, path, f"ingress to the HSMs of {cluster} names no source security group")
        yield from self._check_source_vpc(ctx, stack, path, rule.get("SourceSecurityGroupId"), cluster)
        if protocol not in ("tcp", "6"):
            yield self.finding(stack, path + ("IpProtocol",), f"ingress to the HSMs of {cluster} allows protocol "
                               f"{rule.get('IpProtocol')!r}; only tcp 2223-2225 is needed")
            return
        low, high = rule.get("FromPort"), rule.get("ToPort")
        if isinstance(low, Unresolved) or isinstance(high, Unresolved):
            yield self.cannot_prove(stack, path + ("FromPort",), "port range is decided at deploy time")
            return
        try:
            low, high = int(low), int(high)
        except (TypeError, ValueError):
            yield self.finding(stack, path + ("FromPort",), f"ingress to the HSMs of {cluster} has no port range")
            return
        if low < HSM_PORTS[0] or high > HSM_PORTS[1] or low > high:
            yield self.finding(stack, path + ("FromPort",), f"ingress to the HSMs of {cluster} opens ports "
                               f"{low}-{high}; only 2223-2225 are needed")
