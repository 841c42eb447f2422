"""CKE104: Block Public Access fully on, versioning on, server access logging on."""

from __future__ import annotations

from cmk_validate.findings import Severity
from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule

BPA_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
BPA_FIX = ("Set all four PublicAccessBlockConfiguration flags to true "
           "(CDK: block_public_access=BlockPublicAccess.BLOCK_ALL).")
# Defaults, from the S3 User Guide: Block Public Access is on for new buckets since April 2023
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html,
# https://aws.amazon.com/blogs/aws/heads-up-amazon-s3-security-changes-are-coming-in-april-of-2023/);
# a new bucket is unversioned (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html).


class BucketProtection(Rule):
    id = "CKE104"
    title = "Bucket blocks public access, keeps versions and logs access"
    rationale = ("All four Block Public Access flags stop a later ACL or policy from publishing data; "
                 "versioning keeps overwritten and deleted objects recoverable; server access logs record "
                 "who touched what. The bucket that receives server access logs is exempt from logging to "
                 "itself.")
    fix = ("PublicAccessBlockConfiguration with all four flags true (CDK: BlockPublicAccess.BLOCK_ALL), "
           "VersioningConfiguration Status Enabled, LoggingConfiguration DestinationBucketName = the "
           "access-log bucket.")
    source_url = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"
    tags = ("s3",)

    def check(self, ctx):
        facts = ctx.facts
        access_log_targets = set()
        for stack, lid, _ in facts.buckets:
            logging = ctx.props(stack, lid).get("LoggingConfiguration")
            if isinstance(logging, dict) and isinstance(logging.get("DestinationBucketName"), str):
                access_log_targets.add(logging["DestinationBucketName"])
        for stack, lid, name in facts.buckets:
            props = ctx.props(stack, lid)
            base = ("Resources", lid, "Properties")
            block = props.get("PublicAccessBlockConfiguration")
            if isinstance(block, Unresolved):
                yield self.cannot_prove(stack, base + ("PublicAccessBlockConfiguration",), block.reason)
            elif block is None:
                yield self.finding(stack, base, f"bucket {name}: PublicAccessBlockConfiguration is left to S3's "
                                   "default, which turns all four Block Public Access settings on for a new bucket "
                                   "(since April 2023); but removing the property from the template of an existing "
                                   "bucket deletes its configuration, so state it", severity=Severity.WARNING,
                                   fix=BPA_FIX)
            else:
                block = block if isinstance(block, dict) else {}
                off = [flag for flag in BPA_FLAGS if block.get(flag) not in (True, "true")]
                if off:
                    yield self.finding(stack, base + ("PublicAccessBlockConfiguration",),
                                       f"bucket {name}: Block Public Access not fully on ({', '.join(off)} not true; "
                                       "a flag the configuration leaves out is false)", fix=BPA_FIX)
            versioning = props.get("VersioningConfiguration")
            status = versioning.get("Status") if isinstance(versioning, dict) else versioning
            if isinstance(status, Unresolved):
                yield self.cannot_prove(stack, base + ("VersioningConfiguration",), status.reason)
            elif status != "Enabled":
                state = f"Status {status!r}" if versioning is not None else \
                    "VersioningConfiguration is left to S3's default, which is unversioned"
                yield self.finding(stack, base + ("VersioningConfiguration",) if versioning is not None else base,
                                   f"bucket {name}: versioning is not enabled ({state})",
                                   fix="VersioningConfiguration: {Status: Enabled} (CDK: versioned=True).")
            if name in access_log_targets:
                continue
            logging = props.get("LoggingConfiguration")
            if isinstance(logging, Unresolved):
                yield self.cannot_prove(stack, base + ("LoggingConfiguration",), logging.reason)
            elif not isinstance(logging, dict) or "DestinationBucketName" not in logging:
                yield self.finding(stack, base + ("LoggingConfiguration",) if logging is not None else base,
                                   f"bucket {name}: server access logging is off",
                                   fix="LoggingConfiguration: {DestinationBucketName: <access-log bucket>} "
                                       "(CDK: server_access_logs_bucket=...).")
            elif isinstance(logging["DestinationBucketName"], Unresolved):
                yield self.cannot_prove(stack, base + ("LoggingConfiguration", "DestinationBucketName"),
                                        logging["DestinationBucketName"].reason)
