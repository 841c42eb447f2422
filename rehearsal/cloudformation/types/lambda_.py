"""AWS::Lambda::Function, AWS::Lambda::LayerVersion and AWS::Lambda::Permission.

The code is the function's asset in the cloud assembly: the rehearsal publishes it to the CDK
bootstrap's asset bucket as the CDK CLI does, CloudFormation creates the function from it, and the
rehearsal's Lambda runtime runs that same directory (rehearsal/lambda_runtime.py).
"""

from __future__ import annotations

from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceType, register


def _code(ctx: ResourceContext, property_name: str) -> dict:
    code = ctx.properties[property_name]
    if "ZipFile" in code:
        return {"ZipFile": ctx.cloud.inline_zip(code["ZipFile"], ctx.properties.get("Runtime", ""))}
    return {"S3Bucket": code["S3Bucket"], "S3Key": code["S3Key"]}


@register
class Function(ResourceType):
    type_name = "AWS::Lambda::Function"
    create_seconds = 10.0

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        name = props.get("FunctionName") or ctx.generated_name(max_length=64)
        arguments = dict(FunctionName=name, Runtime=props.get("Runtime", ""), Role=props["Role"],
                         Handler=props.get("Handler", ""), Code=_code(ctx, "Code"),
                         Timeout=int(props.get("Timeout", 3)), MemorySize=int(props.get("MemorySize", 128)),
                         Description=props.get("Description", ""),
                         Environment={"Variables": (props.get("Environment") or {}).get("Variables") or {}},
                         Layers=props.get("Layers") or [], Architectures=props.get("Architectures") or ["x86_64"])
        arn = ctx.client("lambda").create_function(**arguments)["FunctionArn"]
        ctx.cloud.register_function(arn, name, ctx)
        return Created(name, {"Arn": arn})

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> dict:
        props, client = ctx.properties, ctx.client("lambda")
        if props.get("Code") != old.get("Code"):
            client.update_function_code(FunctionName=physical_id, **_code(ctx, "Code"))
        client.update_function_configuration(
            FunctionName=physical_id, Role=props["Role"], Handler=props.get("Handler", ""),
            Timeout=int(props.get("Timeout", 3)), MemorySize=int(props.get("MemorySize", 128)),
            Environment={"Variables": (props.get("Environment") or {}).get("Variables") or {}},
            Layers=props.get("Layers") or [])
        arn = client.get_function(FunctionName=physical_id)["Configuration"]["FunctionArn"]
        ctx.cloud.register_function(arn, physical_id, ctx)
        return {"Arn": arn}

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("lambda").delete_function(FunctionName=physical_id)
        ctx.cloud.forget_function(physical_id)


@register
class LayerVersion(ResourceType):
    type_name = "AWS::Lambda::LayerVersion"

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        name = props.get("LayerName") or ctx.generated_name(max_length=64)
        content = props["Content"]
        arn = ctx.client("lambda").publish_layer_version(
            LayerName=name, Description=props.get("Description", ""),
            Content={"S3Bucket": content["S3Bucket"], "S3Key": content["S3Key"]},
            CompatibleRuntimes=props.get("CompatibleRuntimes") or [])["LayerVersionArn"]
        ctx.cloud.register_layer(arn, ctx)
        return Created(arn, {"LayerVersionArn": arn})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        name, version = physical_id.rsplit(":", 2)[-2:]
        ctx.client("lambda").delete_layer_version(LayerName=name, VersionNumber=int(version))


@register
class Permission(ResourceType):
    type_name = "AWS::Lambda::Permission"

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        statement_id = ctx.generated_name(max_length=100)
        arguments = dict(FunctionName=props["FunctionName"], StatementId=statement_id, Action=props["Action"],
                         Principal=props["Principal"])
        arguments.update(ctx.present("SourceArn", "SourceAccount"))
        ctx.client("lambda").add_permission(**arguments)
        return Created(statement_id)

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("lambda").remove_permission(FunctionName=ctx.properties["FunctionName"], StatementId=physical_id)
