"""CKE111: VPC flow logs, CloudTrail with validation and encryption, log groups with retention."""

from __future__ import annotations

import os

from cmk_validate.findings import Severity
from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule


class AuditLogging(Rule):
    id = "CKE111"
    title = "Audit trail: VPC flow logs, validated and encrypted CloudTrail, log retention"
    rationale = ("Who used the keys and reached the data is only answerable with a trail: flow logs for "
                 "network paths, CloudTrail (digest-validated, encrypted) for API calls, and log groups that "
                 "keep records for a known period instead of forever or not at all.")
    fix = ("Add AWS::EC2::FlowLog with ResourceId = the VPC; AWS::CloudTrail::Trail with "
           "EnableLogFileValidation true, KMSKeyId set and IsLogging true; RetentionInDays on every log group.")
    source_url = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html"
    tags = ("audit", "logging")

    def check(self, ctx):
        flow_logged = set()
        for stack, lid, _ in ctx.resources("AWS::EC2::FlowLog"):
            props = ctx.props(stack, lid)
            for target in (props.get("ResourceId"), *(props.get("ResourceIds") or [])):
                if isinstance(target, str):
                    flow_logged.add(target)
        for stack, lid, _ in ctx.resources("AWS::EC2::VPC"):
            if ctx.ref(stack, lid) not in flow_logged:
                yield self.finding(stack, ("Resources", lid), f"VPC {lid} has no flow log",
                                   fix="Add an AWS::EC2::FlowLog with ResourceId = Ref of the VPC (CDK: vpc.add_flow_log).")
        trails = list(ctx.resources("AWS::CloudTrail::Trail"))
        if not trails and ctx.stacks:
            yield self._no_trail(ctx)
        for stack, lid, _ in trails:
            props = ctx.props(stack, lid)
            base = ("Resources", lid, "Properties")
            if props.get("EnableLogFileValidation") not in (True, "true"):
                yield self.finding(stack, base + ("EnableLogFileValidation",),
                                   f"trail {lid} does not validate log files",
                                   fix="Set EnableLogFileValidation: true on the trail (CDK: enable_file_validation=True).")
            key = props.get("KMSKeyId")
            if isinstance(key, Unresolved):
                yield self.cannot_prove(stack, base + ("KMSKeyId",), key.reason)
            elif not key:
                yield self.finding(stack, base, f"trail {lid} is not encrypted with a KMS key (KMSKeyId)",
                                   fix="Set KMSKeyId on the trail to a KMS key whose policy lets CloudTrail encrypt "
                                       "(CDK: encryption_key=...).")
            if props.get("IsLogging") in (False, "false"):
                yield self.finding(stack, base + ("IsLogging",), f"trail {lid} is not logging",
                                   fix="Set IsLogging: true on the trail (or remove the property: CDK trails log).")
        for stack, lid, _ in ctx.resources("AWS::Logs::LogGroup"):
            retention = ctx.props(stack, lid).get("RetentionInDays")
            if retention is None:
                yield self.finding(stack, ("Resources", lid, "Properties"),
                                   f"log group {lid} keeps logs forever (no RetentionInDays)",
                                   fix="Set RetentionInDays (CDK: retention=RetentionDays....).")
            elif isinstance(retention, Unresolved):
                yield self.cannot_prove(stack, ("Resources", lid, "Properties", "RetentionInDays"), retention.reason)

    def _no_trail(self, ctx):
        """The trail is an assembly-wide invariant: an error for a whole assembly of this architecture; for one
        template, or an assembly without the architecture's parts, say what was not checked (information)."""
        facts = ctx.facts
        whole = os.path.isdir(ctx.assembly.source or "")
        if whole and (facts.uses_cloudhsm or facts.gateway_endpoints):
            return self.finding(ctx.stacks[0], ("Resources",), "the assembly has no CloudTrail trail",
                                fix="Add an AWS::CloudTrail::Trail with EnableLogFileValidation true, KMSKeyId set "
                                    "and IsLogging true (CDK: cloudtrail.Trail(..., enable_file_validation=True, "
                                    "encryption_key=...)).")
        scope = ("an assembly without this architecture's CloudHSM cluster, custom key store or S3 gateway endpoint"
                 if whole else "one template, and the trail may be in another stack")
        return self.finding(ctx.stacks[0], ("Resources",), f"not checked: a CloudTrail trail is an assembly-wide "
                            f"invariant, and the input is {scope}", severity=Severity.INFO,
                            fix="Validate the app's whole cloud assembly (cmk-validate cdk.out) to check it.")
