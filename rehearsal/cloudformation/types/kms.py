"""AWS::KMS::Key and AWS::KMS::Alias."""

from __future__ import annotations

from rehearsal.cloudformation.types.base import Created, NeedsReplacement, ResourceContext, ResourceType, flag, register


@register
class Key(ResourceType):
    type_name = "AWS::KMS::Key"
    create_seconds = 20.0

    def create(self, ctx: ResourceContext) -> Created:
        props, kms = ctx.properties, ctx.client("kms")
        arguments = dict(Description=props.get("Description", ""), KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
                         KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"), Tags=ctx.tags("TagKey", "TagValue"))
        if props.get("KeyPolicy") is not None:
            arguments["Policy"] = ctx.json_text("KeyPolicy")
        metadata = kms.create_key(**arguments)["KeyMetadata"]
        if flag(props.get("EnableKeyRotation")):
            kms.enable_key_rotation(KeyId=metadata["KeyId"])
        return Created(metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]})

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        props, kms = ctx.properties, ctx.client("kms")
        for name in ("KeySpec", "KeyUsage", "MultiRegion"):
            if props.get(name) != old.get(name):
                raise NeedsReplacement()
        if props.get("KeyPolicy") != old.get("KeyPolicy"):
            kms.put_key_policy(KeyId=physical_id, PolicyName="default", Policy=ctx.json_text("KeyPolicy"))
        if props.get("Description") != old.get("Description"):
            kms.update_key_description(KeyId=physical_id, Description=props.get("Description", ""))
        if flag(props.get("EnableKeyRotation")) != flag(old.get("EnableKeyRotation")):
            (kms.enable_key_rotation if flag(props.get("EnableKeyRotation")) else kms.disable_key_rotation)(KeyId=physical_id)
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("kms").schedule_key_deletion(KeyId=physical_id,
                                                PendingWindowInDays=int(ctx.properties.get("PendingWindowInDays", 30)))


@register
class Alias(ResourceType):
    type_name = "AWS::KMS::Alias"

    def create(self, ctx: ResourceContext) -> Created:
        ctx.client("kms").create_alias(AliasName=ctx.properties["AliasName"], TargetKeyId=ctx.properties["TargetKeyId"])
        return Created(ctx.properties["AliasName"])

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        if ctx.properties["AliasName"] != old.get("AliasName"):
            raise NeedsReplacement()
        ctx.client("kms").update_alias(AliasName=physical_id, TargetKeyId=ctx.properties["TargetKeyId"])
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("kms").delete_alias(AliasName=physical_id)
