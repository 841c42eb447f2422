"""CKE107: two or more HSMs in two or more AZs, cluster subnets in two or more AZs, FIPS, retained."""

from __future__ import annotations

from cmk_validate.architecture import as_list
from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule

# The policies that keep the cluster: on stack deletion, and when an update replaces it.
RETAINED = {"DeletionPolicy": ("RetainExceptOnCreate", "Retain"), "UpdateReplacePolicy": ("Retain",)}


class HsmClusterResilience(Rule):
    id = "CKE107"
    title = "CloudHSM cluster: at least 2 HSMs in 2 AZs, FIPS mode, retained"
    rationale = ("One HSM, or HSMs in one AZ, means one failure makes every key in the custom key store "
                 "unusable (and KMS requires two active HSMs in different AZs to connect a key store). "
                 "FIPS mode is what the compliance claim rests on. The cluster holds the key material and "
                 "its backups: a stack delete or a replacing update must retain it. RetainExceptOnCreate "
                 "retains it as well, and deletes it only when its own first create rolls back, before it "
                 "held any key.")
    fix = ("Create at least two HSMs (Custom::CloudHsmFirstHsm + Custom::CloudHsmHsm) whose AvailabilityZone "
           "values differ, on a cluster whose SubnetIds span at least two AZs; set Mode FIPS; set "
           "DeletionPolicy to RetainExceptOnCreate (or Retain) and UpdateReplacePolicy to Retain on the cluster.")
    source_url = "https://docs.aws.amazon.com/kms/latest/developerguide/create-keystore.html#before-keystore"
    tags = ("cloudhsm", "availability")

    def check(self, ctx):
        facts = ctx.facts
        for stack, lid, props in facts.clusters:
            base = ("Resources", lid)
            resource = stack.resources[lid]
            mode = props.get("Mode")
            if isinstance(mode, Unresolved):
                yield self.cannot_prove(stack, base + ("Properties", "Mode"), mode.reason)
            elif mode != "FIPS":
                yield self.finding(stack, base + ("Properties", "Mode"),
                                   f"cluster {lid} is not in FIPS mode (Mode = {mode!r})", fix="Set Mode: FIPS.")
            for policy, kept in RETAINED.items():
                value = ctx.resolve(stack, resource.get(policy))  # an expression under AWS::LanguageExtensions
                if isinstance(value, Unresolved):
                    yield self.cannot_prove(stack, base + (policy,), value.reason)
                elif value not in kept:
                    yield self.finding(stack, base + (policy,) if policy in resource else base,
                                       f"cluster {lid} is not retained ({policy} = {value or 'Delete'!r})",
                                       fix=f"Set {policy}: {kept[0]} (CDK: apply_removal_policy("
                                           "RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)).")
            yield from self._subnet_zones(ctx, facts, stack, lid, props)
            yield from self._hsms(ctx, facts, stack, lid)

    def _subnet_zones(self, ctx, facts, stack, lid, props):
        path = ("Resources", lid, "Properties", "SubnetIds")
        subnet_ids = props.get("SubnetIds")
        if isinstance(subnet_ids, Unresolved):
            yield self.cannot_prove(stack, path, subnet_ids.reason)
            return
        zones = set()
        for subnet in as_list(subnet_ids):
            known = facts.subnets.get(subnet) if isinstance(subnet, str) else None
            zone = known.props.get("AvailabilityZone") if known else None
            if not isinstance(zone, str):
                yield self.cannot_prove(stack, path, f"cannot tell the AZ of subnet {subnet!r}")
                return
            zones.add(zone)
        if len(zones) < 2:
            yield self.finding(stack, path, f"cluster {lid} subnets span {len(zones)} AZ(s); at least 2 needed")

    def _hsms(self, ctx, facts, stack, lid):
        zones: dict[str, str] = {}
        count = 0
        for hsm_stack, hsm_lid, hsm_props in facts.hsms:
            cluster = facts.cluster_of(hsm_props.get("ClusterId"))
            if cluster is None or cluster[1] != lid or cluster[0] is not stack:
                continue
            count += 1
            zone = hsm_props.get("AvailabilityZone")
            if isinstance(zone, Unresolved) or not isinstance(zone, str):
                yield self.cannot_prove(hsm_stack, ("Resources", hsm_lid, "Properties", "AvailabilityZone"),
                                        f"cannot tell the AZ of HSM {hsm_lid}")
                return
            zones[zone] = hsm_lid
        if count < 2:
            yield self.finding(stack, ("Resources", lid), f"cluster {lid} has {count} HSM(s); at least 2 needed")
        elif len(zones) < 2:
            yield self.finding(stack, ("Resources", lid), f"cluster {lid} has {count} HSMs but all in "
                               f"{', '.join(zones)}; at least 2 distinct AZs needed")
