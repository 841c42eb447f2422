"""AWS::SSM::Document and AWS::SSM::Parameter."""

from __future__ import annotations

from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceType, register


@register
class Document(ResourceType):
    type_name = "AWS::SSM::Document"

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        name = props.get("Name") or ctx.generated_name(max_length=128)
        ctx.client("ssm").create_document(Name=name, Content=ctx.json_text("Content"),
                                          DocumentType=props.get("DocumentType", "Command"),
                                          DocumentFormat=props.get("DocumentFormat", "JSON"), Tags=ctx.tags())
        return Created(name)

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        if ctx.properties.get("UpdateMethod") != "NewVersion":
            return super().update(ctx, physical_id, old)
        ssm = ctx.client("ssm")
        version = ssm.update_document(Name=physical_id, Content=ctx.json_text("Content"), DocumentVersion="$LATEST",
                                      DocumentFormat=ctx.properties.get("DocumentFormat", "JSON"))
        ssm.update_document_default_version(Name=physical_id,
                                            DocumentVersion=version["DocumentDescription"]["DocumentVersion"])
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ssm").delete_document(Name=physical_id)


@register
class Parameter(ResourceType):
    type_name = "AWS::SSM::Parameter"

    def create(self, ctx: ResourceContext) -> Created:
        name = ctx.properties.get("Name") or ctx.generated_name(max_length=128)
        self._put(ctx, name, overwrite=False)
        return Created(name, {"Type": ctx.properties["Type"], "Value": ctx.properties["Value"]})

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> dict:
        self._put(ctx, physical_id, overwrite=True)
        return {"Type": ctx.properties["Type"], "Value": ctx.properties["Value"]}

    @staticmethod
    def _put(ctx: ResourceContext, name: str, overwrite: bool) -> None:
        props = ctx.properties
        arguments = dict(Name=name, Value=props["Value"], Type=props["Type"], Overwrite=overwrite,
                         Description=props.get("Description", ""), Tier=props.get("Tier", "Standard"))
        ctx.client("ssm").put_parameter(**arguments)

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("ssm").delete_parameter(Name=physical_id)
