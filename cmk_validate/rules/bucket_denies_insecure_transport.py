"""CKE102: every bucket refuses requests made without TLS."""

from __future__ import annotations

from cmk_validate.policy.prover import Scope, deny_covers
from cmk_validate.rules import Rule


class BucketDeniesInsecureTransport(Rule):
    id = "CKE102"
    title = "Bucket denies requests without TLS"
    rationale = ("S3 accepts plain HTTP unless the bucket policy denies aws:SecureTransport = false for every "
                 "action, principal and object; a gap on any action or on the bucket ARN itself leaks data or "
                 "metadata in clear text.")
    fix = ("Add a Deny statement: Principal \"*\", Action \"s3:*\", Resource [bucket ARN, bucket ARN/*], "
           "Condition Bool aws:SecureTransport \"false\" (CDK: enforceSSL: true).")
    source_url = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html"
    tags = ("s3", "tls")

    def check(self, ctx):
        facts = ctx.facts
        for stack, lid, name in facts.buckets:
            policies = facts.policy_of(name)
            if not policies:
                if facts.unresolved_bucket_policies:
                    policy_stack, policy_lid = facts.unresolved_bucket_policies[0][:2]
                    yield self.cannot_prove(policy_stack, ("Resources", policy_lid, "Properties", "Bucket"),
                                            f"bucket {name} has no policy of its own, and bucket policy "
                                            f"{policy_lid} names a bucket the validator cannot resolve")
                    continue
                yield self.finding(stack, ("Resources", lid), f"bucket {name} has no bucket policy denying "
                                   "requests without TLS")
                continue
            statements = [s for policy in policies for s in policy.statements]
            arn = f"arn:aws:s3:::{name}"
            proof = deny_covers(statements, Scope(action_prefixes=["s3:"], resources=[arn, arn + "/*"],
                                                  equals={"aws:securetransport": "false"}))
            if proof.proven:
                continue
            policy_stack, policy_lid = policies[0][:2]
            path = ("Resources", policy_lid, "Properties", "PolicyDocument")
            unresolved = [s for s in statements if s.unresolved]
            if proof.undecided:
                yield self.cannot_prove(policy_stack, path, f"policy of {name}: {proof.undecided}")
            elif unresolved:
                yield self.cannot_prove(policy_stack, path, f"policy of {name}: {unresolved[0].unresolved}")
            else:
                example = proof.counterexample or {}
                yield self.finding(policy_stack, path, f"bucket {name} serves requests without TLS, e.g. "
                                   f"{example.get('action')} on {example.get('resource')}")
