"""AWS::S3::Bucket and AWS::S3::BucketPolicy."""

from __future__ import annotations

from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceFailed, ResourceType, flag, register


def _rules(encryption: dict) -> list[dict]:
    """CloudFormation's ServerSideEncryptionConfiguration as PutBucketEncryption's Rules."""
    rules = []
    for rule in encryption.get("ServerSideEncryptionConfiguration") or []:
        out: dict = {}
        if rule.get("ServerSideEncryptionByDefault"):
            out["ApplyServerSideEncryptionByDefault"] = rule["ServerSideEncryptionByDefault"]
        if "BucketKeyEnabled" in rule:
            out["BucketKeyEnabled"] = flag(rule["BucketKeyEnabled"])
        if rule.get("BlockedEncryptionTypes"):
            out["BlockedEncryptionTypes"] = rule["BlockedEncryptionTypes"]
        rules.append(out)
    return rules


@register
class Bucket(ResourceType):
    type_name = "AWS::S3::Bucket"
    create_seconds = 20.0

    def create(self, ctx: ResourceContext) -> Created:
        props, s3 = ctx.properties, ctx.client("s3")
        name = props.get("BucketName") or ctx.generated_name(max_length=63, lowercase=True)
        arguments: dict = {"Bucket": name}
        if ctx.region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        try:
            s3.create_bucket(**arguments)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            raise ResourceFailed(f"{name} already exists") from None
        self._configure(ctx, name)
        return Created(name, self._attributes(ctx, name))

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> dict:
        self._configure(ctx, physical_id)
        return self._attributes(ctx, physical_id)

    @staticmethod
    def _attributes(ctx: ResourceContext, name: str) -> dict:
        return {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com"}

    @staticmethod
    def _configure(ctx: ResourceContext, name: str) -> None:
        props, s3 = ctx.properties, ctx.client("s3")
        if props.get("BucketEncryption"):
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                "Rules": _rules(props["BucketEncryption"])})
        if props.get("PublicAccessBlockConfiguration"):
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                key: flag(value) for key, value in props["PublicAccessBlockConfiguration"].items()})
        if props.get("VersioningConfiguration"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={
                "Status": props["VersioningConfiguration"]["Status"]})
        if props.get("OwnershipControls"):
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        if props.get("LoggingConfiguration"):
            logging = props["LoggingConfiguration"]
            enabled = {"TargetBucket": logging.get("DestinationBucketName", name),
                       "TargetPrefix": logging.get("LogFilePrefix", "")}
            s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": enabled})
        if props.get("LifecycleConfiguration"):
            rules = []
            for rule in props["LifecycleConfiguration"].get("Rules") or []:
                out = {"ID": rule.get("Id", "rule"), "Status": rule.get("Status", "Enabled"),
                       "Filter": {"Prefix": rule.get("Prefix", "")}}
                if "ExpirationInDays" in rule:
                    out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
                if "NoncurrentVersionExpiration" in rule:
                    out["NoncurrentVersionExpiration"] = {
                        "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
                if "AbortIncompleteMultipartUpload" in rule:
                    out["AbortIncompleteMultipartUpload"] = {
                        "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
                rules.append(out)
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        if props.get("Tags"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": ctx.tags()})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        s3 = ctx.client("s3")
        listing = s3.list_object_versions(Bucket=physical_id)
        if listing.get("Versions") or listing.get("DeleteMarkers"):
            raise ResourceFailed(f"The bucket you tried to delete is not empty (Bucket: {physical_id})")
        s3.delete_bucket(Bucket=physical_id)


@register
class BucketPolicy(ResourceType):
    type_name = "AWS::S3::BucketPolicy"

    def create(self, ctx: ResourceContext) -> Created:
        ctx.client("s3").put_bucket_policy(Bucket=ctx.properties["Bucket"], Policy=ctx.json_text("PolicyDocument"))
        return Created(ctx.generated_name())

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        self.create(ctx)
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("s3").delete_bucket_policy(Bucket=ctx.properties["Bucket"])
