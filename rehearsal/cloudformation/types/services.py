"""AWS::CloudTrail::Trail, AWS::StepFunctions::StateMachine and AWS::CDK::Metadata."""

from __future__ import annotations

from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceType, flag, register


@register
class Trail(ResourceType):
    type_name = "AWS::CloudTrail::Trail"
    create_seconds = 10.0

    def create(self, ctx: ResourceContext) -> Created:
        props, trail = ctx.properties, ctx.client("cloudtrail")
        name = props.get("TrailName") or ctx.generated_name(max_length=128)
        arguments = dict(Name=name, S3BucketName=props["S3BucketName"],
                         IncludeGlobalServiceEvents=flag(props.get("IncludeGlobalServiceEvents", True)),
                         IsMultiRegionTrail=flag(props.get("IsMultiRegionTrail")),
                         EnableLogFileValidation=flag(props.get("EnableLogFileValidation")))
        arguments.update(ctx.present("S3KeyPrefix", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"))
        if props.get("KMSKeyId"):
            arguments["KmsKeyId"] = props["KMSKeyId"]
        arn = trail.create_trail(**arguments)["TrailARN"]
        if props.get("EventSelectors"):
            trail.put_event_selectors(TrailName=name, EventSelectors=[
                {**selector, "IncludeManagementEvents": flag(selector.get("IncludeManagementEvents", True))}
                for selector in props["EventSelectors"]])
        if flag(props.get("IsLogging")):
            trail.start_logging(Name=name)
        return Created(name, {"Arn": arn})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("cloudtrail").delete_trail(Name=physical_id)


@register
class StateMachine(ResourceType):
    type_name = "AWS::StepFunctions::StateMachine"

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        name = props.get("StateMachineName") or ctx.generated_name(max_length=80)
        arn = ctx.client("stepfunctions").create_state_machine(
            name=name, definition=props["DefinitionString"], roleArn=props["RoleArn"],
            tags=ctx.tags("key", "value"))["stateMachineArn"]
        return Created(arn, {"Arn": arn, "Name": name})

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        ctx.client("stepfunctions").update_state_machine(stateMachineArn=physical_id,
                                                         definition=ctx.properties["DefinitionString"],
                                                         roleArn=ctx.properties["RoleArn"])
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("stepfunctions").delete_state_machine(stateMachineArn=physical_id)


@register
class CdkMetadata(ResourceType):
    """CDK's usage metadata: CloudFormation records it and creates nothing."""
    type_name = "AWS::CDK::Metadata"
    create_seconds = delete_seconds = 1.0

    def create(self, ctx: ResourceContext) -> Created:
        return Created(ctx.generated_name())

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        return None
