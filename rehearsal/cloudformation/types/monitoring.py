"""Alarms and the schedule: AWS::CloudWatch::Alarm, AWS::Events::Rule, AWS::SNS::Topic and its policy."""

from __future__ import annotations

from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceType, register


@register
class Alarm(ResourceType):
    type_name = "AWS::CloudWatch::Alarm"

    def create(self, ctx: ResourceContext) -> Created:
        name = ctx.properties.get("AlarmName") or ctx.generated_name(max_length=255)
        self._put(ctx, name)
        return Created(name, {"Arn": f"arn:aws:cloudwatch:{ctx.region}:{ctx.account}:alarm:{name}"})

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        self._put(ctx, physical_id)
        return None

    @staticmethod
    def _put(ctx: ResourceContext, name: str) -> None:
        props = ctx.properties
        arguments = dict(AlarmName=name, ComparisonOperator=props["ComparisonOperator"],
                         EvaluationPeriods=int(props["EvaluationPeriods"]), Threshold=float(props["Threshold"]),
                         AlarmDescription=props.get("AlarmDescription", ""),
                         AlarmActions=props.get("AlarmActions") or [], OKActions=props.get("OKActions") or [],
                         TreatMissingData=props.get("TreatMissingData", "missing"), Tags=ctx.tags())
        arguments.update(ctx.present("MetricName", "Namespace", "Statistic"))
        if props.get("Period"):
            arguments["Period"] = int(props["Period"])
        if props.get("Dimensions"):
            arguments["Dimensions"] = props["Dimensions"]
        ctx.client("cloudwatch").put_metric_alarm(**arguments)

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("cloudwatch").delete_alarms(AlarmNames=[physical_id])


@register
class Rule(ResourceType):
    type_name = "AWS::Events::Rule"

    def create(self, ctx: ResourceContext) -> Created:
        props, events = ctx.properties, ctx.client("events")
        name = props.get("Name") or ctx.generated_name(max_length=64)
        arguments = dict(Name=name, State=props.get("State", "ENABLED"), Description=props.get("Description", ""))
        if props.get("ScheduleExpression"):
            arguments["ScheduleExpression"] = props["ScheduleExpression"]
        if props.get("EventPattern"):
            arguments["EventPattern"] = ctx.json_text("EventPattern")
        arn = events.put_rule(**arguments)["RuleArn"]
        targets = [{key: value for key, value in target.items()} for target in props.get("Targets") or []]
        if targets:
            events.put_targets(Rule=name, Targets=targets)
        return Created(name, {"Arn": arn})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        events = ctx.client("events")
        ids = [target["Id"] for target in ctx.properties.get("Targets") or []]
        if ids:
            events.remove_targets(Rule=physical_id, Ids=ids)
        events.delete_rule(Name=physical_id)


@register
class Topic(ResourceType):
    type_name = "AWS::SNS::Topic"

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        attributes = {name: str(props[name]) for name in ("DisplayName", "KmsMasterKeyId") if props.get(name)}
        arn = ctx.client("sns").create_topic(Name=props.get("TopicName") or ctx.generated_name(max_length=256),
                                             Attributes=attributes, Tags=ctx.tags())["TopicArn"]
        return Created(arn, {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[1]})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("sns").delete_topic(TopicArn=physical_id)


@register
class TopicPolicy(ResourceType):
    type_name = "AWS::SNS::TopicPolicy"

    def create(self, ctx: ResourceContext) -> Created:
        for topic in ctx.properties["Topics"]:
            ctx.client("sns").set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                                   AttributeValue=ctx.json_text("PolicyDocument"))
        return Created(ctx.generated_name())

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        self.create(ctx)
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        pass  # the topic keeps its policy until it is deleted itself, as in CloudFormation
