"""CKE115: the S3 gateway endpoint's policy lets requests reach only this assembly's buckets, AWS-owned
buckets (read only) and named objects (read only), never a bucket wildcard; and it passes only this
account's principals to the data buckets.

A gateway endpoint passes every request its policy allows, to any bucket of any account (Amazon VPC
User Guide, "Gateway endpoints for Amazon S3", "Control access using endpoint policies"): a workload
in the isolated subnets that may write to `arn:aws:s3:::*` can copy the data out to a bucket of
another account. So each Allow must name its buckets: those the assembly defines, the AWS-owned
buckets the SSM and Amazon Linux guides list (for reads), or exact objects of another bucket (for
reads, e.g. the CloudHSM client package). A wildcard is accepted only where the statement's condition
pins the bucket owner to this account (aws:ResourceAccount or s3:ResourceAccount StringEquals).

The data buckets are the other half of the data perimeter (AWS whitepaper "Building a data perimeter on
AWS", "only trusted identities are allowed from my network"): the endpoint passes them requests of this
account's principals only, so credentials of another account used inside the VPC reach none of them.
That is proved over every caller (policy.prover.passes_from_outside), as the bucket rule proves its lock.
"""

from __future__ import annotations

import re

from cmk_validate.model.resolver import Unresolved
from cmk_validate.policy import parse_policy
from cmk_validate.policy.prover import passes_from_outside
from cmk_validate.policy.statements import Effect
from cmk_validate.rules import Rule

S3_ARN = "arn:aws:s3:::"
# Buckets AWS owns that a host without internet reads through the endpoint: SSM User Guide, "SSM Agent
# communications with AWS managed S3 buckets"; Amazon Linux 2023 and Amazon Linux 2 User Guides,
# package repositories without internet access.
AWS_OWNED_BUCKETS = (
    "al2023-repos-{region}-de612dc2", "amazonlinux-2-repos-{region}", "amazonlinux.{region}.amazonaws.com",
    "repo.{region}.amazonaws.com", "packages.{region}.amazonaws.com",
    "amazon-ssm-{region}", "aws-ssm-{region}", "amazon-ssm-packages-{region}", "{region}-birdwatcher-prod",
    "aws-ssm-distributor-file-{region}", "aws-ssm-document-attachments-{region}",
    "patch-baseline-snapshot-{region}", "aws-patchmanager-macos-{region}", "aws-windows-downloads-{region}",
)
# A Region, or the template's own Region when only deploy time knows it.
_REGION = r"(?:[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d|\{\{AWS::Region\}\})"
_AWS_OWNED = re.compile("|".join("(?:" + re.escape(name).replace(re.escape("{region}"), _REGION) + ")"
                                 for name in AWS_OWNED_BUCKETS))
READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
OWNER_KEYS = ("aws:resourceaccount", "s3:resourceaccount")


def aws_owned(bucket: str) -> bool:
    return _AWS_OWNED.fullmatch(bucket) is not None


class GatewayEndpointNamesBuckets(Rule):
    id = "CKE115"
    title = "S3 gateway endpoint policy names its buckets: this assembly's, AWS-owned (read), exact objects (read)"
    rationale = ("The endpoint is the isolated subnets' only way to S3: whatever its policy allows, a workload "
                 "there can do to any bucket of any account. A bucket wildcard, or write access to a bucket the "
                 "assembly does not own, is a path for the data out of the VPC that the data bucket's own "
                 "endpoint lock does not close.")
    fix = ("Allow only the assembly's buckets (arn:aws:s3:::<name> and arn:aws:s3:::<name>/*), AWS-owned "
           "buckets the hosts need (read actions), and exact object ARNs of other buckets (s3:GetObject); or pin "
           "a wildcard with Condition StringEquals aws:ResourceAccount = this account. Give each statement on the "
           "data buckets Condition StringEquals aws:PrincipalAccount = this account.")
    source_url = "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html"
    tags = ("network", "s3", "data-perimeter")

    def check(self, ctx):
        own = {name for _, _, name in ctx.facts.buckets if isinstance(name, str)}
        for stack, lid, _, props in ctx.facts.gateway_endpoints:
            path = ("Resources", lid, "Properties", "PolicyDocument")
            document = props.get("PolicyDocument")
            if document is None:
                yield self.finding(stack, ("Resources", lid, "Properties"), "the S3 gateway endpoint has no policy, "
                                   "so it allows every action on every bucket of every account")
                continue
            if isinstance(document, Unresolved):
                yield self.cannot_prove(stack, path, document.reason)
                continue
            statements = parse_policy(document)
            account = ctx.resolve(stack, {"Ref": "AWS::AccountId"})
            unproved = False
            for statement in statements:
                where = path + ("Statement", statement.index)
                if statement.unresolved and statement.effect != Effect.DENY:  # a part IAM refuses, or deploy-time values
                    unproved = True
                    yield self.cannot_prove(stack, where, f"endpoint policy {statement.label}: {statement.unresolved}")
                    continue
                if statement.effect != Effect.ALLOW:
                    continue
                yield from self._statement(stack, where, statement, own, account)
            if not unproved and isinstance(account, str):
                yield from self._outside_callers(ctx, stack, path, statements, account)

    def _outside_callers(self, ctx, stack, path, statements, account: str):
        for _, _, bucket in ctx.facts.data_buckets:
            if not isinstance(bucket, str):
                continue
            proof = passes_from_outside(statements, account, [S3_ARN + bucket, S3_ARN + bucket + "/*"])
            if proof.undecided:
                yield self.cannot_prove(stack, path, f"whether the endpoint passes other accounts to {bucket}: "
                                        f"{proof.undecided}")
            elif not proof.proven:
                example = proof.counterexample or {}
                caller = example.get("principal", "a caller")
                caller = "an anonymous caller" if caller == "anonymous" else \
                    f"{caller} (aws:PrincipalAccount {example.get('aws:principalaccount', '?')})"
                yield self.finding(stack, path, f"the endpoint passes requests to data bucket {bucket} from outside "
                                   f"this account: e.g. {example.get('action', '?')} on "
                                   f"{example.get('resource', '?')} by {caller}")

    def _statement(self, stack, where, statement, own: set[str], account):
        if statement.not_resources is not None:
            yield self.finding(stack, where, f"endpoint policy {statement.label} allows every resource but those it "
                               "lists (NotResource), any bucket of any account among them")
            return
        owner_pinned = _owner_pinned(statement, account)
        read_only = statement.not_actions is None and all(
            isinstance(action, str) and action.startswith(("s3:Get", "s3:List")) for action in statement.actions or [])
        object_reads = statement.not_actions is None and all(action in READ_ACTIONS for action in statement.actions or [])
        for resource in statement.resources or []:
            if isinstance(resource, Unresolved):
                yield self.cannot_prove(stack, where + ("Resource",), resource.reason)
                continue
            if not isinstance(resource, str):
                continue
            bucket, _, key = resource[len(S3_ARN):].partition("/") if resource.startswith(S3_ARN) else ("*", "", "")
            if "*" in bucket or "?" in bucket:
                if not owner_pinned:
                    yield self.finding(stack, where + ("Resource",), f"endpoint policy {statement.label} allows "
                                       f"{resource}: every bucket whose name matches, of any account")
            elif bucket in own:
                continue
            elif aws_owned(bucket):
                if not read_only:
                    yield self.finding(stack, where + ("Action",), f"endpoint policy {statement.label} allows more "
                                       f"than reads on the AWS-owned bucket {bucket}")
            elif not (key and "*" not in key and "?" not in key and object_reads) and not owner_pinned:
                yield self.finding(stack, where + ("Resource",), f"endpoint policy {statement.label} allows "
                                   f"{_actions(statement)} on {resource}, a bucket this assembly does not define and "
                                   "AWS does not own: only reads of exact objects may go to such a bucket")


def _owner_pinned(statement, account) -> bool:
    """Whether the statement's condition limits it to buckets this account owns."""
    if not isinstance(account, str):
        return False
    for condition in statement.conditions:
        if condition.key.lower() in OWNER_KEYS and condition.base == "StringEquals" and not condition.if_exists \
                and condition.values and all(value == account for value in condition.values):
            return True
    return False


def _actions(statement) -> str:
    if statement.not_actions is not None:
        return "every action but " + ", ".join(map(str, statement.not_actions))
    return ", ".join(map(str, statement.actions or []))
