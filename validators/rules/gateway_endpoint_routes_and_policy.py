"""CKE105: the S3 gateway endpoint serves every route table of the HSM and client subnets, with a narrow policy."""

from __future__ import annotations

from validators.architecture import as_list
from validators.model.resolver import Unresolved
from validators.policy import parse_policy
from validators.rules import Rule


class GatewayEndpointRoutesAndPolicy(Rule):
    id = "CKE105"
    title = "S3 gateway endpoint on every route table of HSM and client subnets, with a restricted policy"
    rationale = ("Without the endpoint's route, S3 traffic from the isolated subnets has no path (or a path "
                 "that does not carry aws:sourceVpce), so the data bucket is unreachable or the pinning is "
                 "moot. An endpoint policy that allows every action on every resource lets a workload copy "
                 "data to any bucket in the world.")
    fix = ("List every route table of the HSM and client subnets in the endpoint's RouteTableIds; give the "
           "endpoint a PolicyDocument that allows only the needed actions on named buckets.")
    source_url = "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html"
    tags = ("network", "s3")

    def check(self, ctx):
        facts = ctx.facts
        if not facts.gateway_endpoints:
            if facts.clusters or facts.data_buckets:
                stack = ctx.stacks[0]
                yield self.finding(stack, ("Resources",), "the assembly has no S3 gateway endpoint")
            return
        served: set[str] = set()
        for stack, lid, _, props in facts.gateway_endpoints:
            tables = props.get("RouteTableIds")
            for table in as_list(tables):
                if isinstance(table, str):
                    served.add(table)
            yield from self._check_policy(stack, lid, props)
        subnets = [(s, st, lid, ("Properties", "SubnetIds", i)) for s, st, lid, i in facts.hsm_subnets]
        subnets += facts.client_subnets + facts.kms_mode_subnets
        seen = set()
        for subnet, stack, lid, path in subnets:
            full_path = ("Resources", lid) + tuple(path)
            if isinstance(subnet, Unresolved):
                yield self.cannot_prove(stack, full_path, subnet.reason)
                continue
            if not isinstance(subnet, str) or subnet in seen:
                continue
            seen.add(subnet)
            tables = facts.route_tables_of_subnet.get(subnet)
            if not tables:
                if subnet in facts.subnets:
                    yield self.cannot_prove(stack, full_path, f"subnet {subnet} has no route table association "
                                            "in the assembly (it uses the VPC's main route table)")
                else:
                    yield self.cannot_prove(stack, full_path, f"subnet {subnet} is not defined in this assembly")
                continue
            for table in tables:
                if table not in served:
                    yield self.finding(stack, full_path, f"route table {table} of subnet {subnet} (used by "
                                       f"{lid}) is not served by the S3 gateway endpoint")

    def _check_policy(self, stack, lid, props):
        path = ("Resources", lid, "Properties", "PolicyDocument")
        document = props.get("PolicyDocument")
        if document is None:
            yield self.finding(stack, ("Resources", lid, "Properties"), "the S3 gateway endpoint has no policy, "
                               "so it allows every action on every bucket")
            return
        if isinstance(document, Unresolved):
            yield self.cannot_prove(stack, path, document.reason)
            return
        for statement in parse_policy(document):
            if statement.unresolved and statement.effect != "Deny":
                yield self.cannot_prove(stack, path, f"endpoint policy {statement.label}: {statement.unresolved}")
                continue
            if statement.effect != "Allow" or statement.conditions:
                continue
            open_actions = statement.not_actions is not None or any(
                a in ("*", "s3:*") for a in statement.actions or [] if isinstance(a, str))
            open_resources = statement.not_resources is not None or "*" in (statement.resources or [])
            if open_actions and open_resources:
                yield self.finding(stack, path + ("Statement", statement.index),
                                   f"endpoint policy {statement.label} allows every S3 action on every resource")
