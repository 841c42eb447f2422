"""CKE101: data buckets answer only requests that come through this assembly's S3 gateway endpoint."""

from __future__ import annotations

from cmk_validate.architecture import named_exceptions
from cmk_validate.policy.prover import Scope, deny_covers
from cmk_validate.rules import Rule


class DataBucketEndpointOnly(Rule):
    id = "CKE101"
    title = "Data bucket denies every request not arriving through the S3 gateway endpoint"
    rationale = ("The data may only be reached from the isolated subnets. The bucket policy must deny every "
                 "S3 action on the bucket and all its objects, to every principal, unless aws:sourceVpce is "
                 "one of this assembly's S3 gateway endpoints; only listed break-glass principals may be "
                 "excepted. Proved for every request with z3, not by sampling.")
    fix = ("Add a Deny statement: Principal \"*\", Action \"s3:*\", Resource [bucket ARN, bucket ARN/*], "
           "Condition StringNotEquals aws:sourceVpce = Ref of the S3 gateway endpoint (ArnNotLike "
           "aws:PrincipalArn = break-glass role ARNs, no wildcards).")
    source_url = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies-vpc-endpoint.html"
    tags = ("s3", "network", "policy")

    def check(self, ctx):
        facts = ctx.facts
        for stack, lid, name in facts.data_buckets:
            path = ("Resources", lid)
            policies = facts.policy_of(name)
            if not policies:
                if facts.unresolved_bucket_policies:
                    policy_stack, policy_lid = facts.unresolved_bucket_policies[0][:2]
                    yield self.cannot_prove(policy_stack, ("Resources", policy_lid, "Properties", "Bucket"),
                                            f"bucket policy {policy_lid} names a bucket the validator cannot resolve")
                    continue
                yield self.finding(stack, path, f"data bucket {name} has no bucket policy, so requests from "
                                   "outside the S3 gateway endpoint are not denied")
                continue
            if not facts.endpoint_ids:
                yield self.finding(stack, path, f"no S3 gateway endpoint in the assembly; data bucket {name} "
                                   "cannot be pinned to one")
                continue
            statements = [s for policy in policies for s in policy.statements]
            bucket_arn = f"arn:aws:s3:::{name}"
            excepted = sorted(named_exceptions(statements))
            scope = Scope(action_prefixes=["s3:"], resources=[bucket_arn, bucket_arn + "/*"],
                          excepted_principals=excepted,
                          absent_or_not_in={"aws:sourcevpce": list(facts.endpoint_ids)})
            proof = deny_covers(statements, scope)
            policy_stack, policy_lid = policies[0].stack, policies[0].logical_id
            policy_path = ("Resources", policy_lid, "Properties", "PolicyDocument")
            if proof.proven:
                for arn in self._bad_exceptions(ctx, excepted):
                    yield self.finding(policy_stack, policy_path,
                                       f"bucket {name} excepts {arn!r}, which is not a declared break-glass principal")
                continue
            if proof.undecided:
                yield self.cannot_prove(policy_stack, policy_path, f"policy of {name}: {proof.undecided}")
                continue
            unresolved = [s for s in statements if s.unresolved]
            if unresolved:
                yield self.cannot_prove(policy_stack, policy_path + ("Statement", unresolved[0].index),
                                        f"{unresolved[0].label} of the policy of {name}: {unresolved[0].unresolved}")
                continue
            yield self.finding(policy_stack, policy_path,
                               f"bucket {name}: a request outside the gateway endpoint is not denied, e.g. "
                               f"{_describe(proof.counterexample)}")

    @staticmethod
    def _bad_exceptions(ctx, excepted: list[str]) -> list[str]:
        allowed = ctx.options.break_glass_principals
        if allowed is None:
            return [arn for arn in excepted if not (":role/" in arn or ":user/" in arn)]
        return [arn for arn in excepted if arn not in allowed]


def _describe(example: dict | None) -> str:
    if not example:
        return "(no example)"
    parts = [f"{key}={value}" for key, value in example.items()]
    return "{" + ", ".join(parts) + "}"
