"""AWS::Logs::LogGroup."""

from __future__ import annotations

from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceFailed, ResourceType, register


@register
class LogGroup(ResourceType):
    type_name = "AWS::Logs::LogGroup"

    def create(self, ctx: ResourceContext) -> Created:
        props, logs = ctx.properties, ctx.client("logs")
        name = props.get("LogGroupName") or ctx.generated_name(max_length=512)
        arguments = {"logGroupName": name}
        if props.get("KmsKeyId"):
            arguments["kmsKeyId"] = props["KmsKeyId"]
        try:
            logs.create_log_group(**arguments)
        except logs.exceptions.ResourceAlreadyExistsException:
            raise ResourceFailed(f"Resource of type 'AWS::Logs::LogGroup' with identifier '{name}' already exists.") from None
        self._retention(ctx, name)
        return Created(name, {"Arn": f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:{name}:*"})

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        self._retention(ctx, physical_id)
        return None

    @staticmethod
    def _retention(ctx: ResourceContext, name: str) -> None:
        days = ctx.properties.get("RetentionInDays")
        if days is not None:
            ctx.client("logs").put_retention_policy(logGroupName=name, retentionInDays=int(days))
        else:
            ctx.client("logs").delete_retention_policy(logGroupName=name)

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("logs").delete_log_group(logGroupName=physical_id)
