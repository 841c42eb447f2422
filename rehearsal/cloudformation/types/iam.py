"""AWS::IAM::Role, AWS::IAM::Policy and AWS::IAM::InstanceProfile."""

from __future__ import annotations

import json

from rehearsal.cloudformation.types.base import Created, NeedsReplacement, ResourceContext, ResourceType, register


def _document(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@register
class Role(ResourceType):
    type_name = "AWS::IAM::Role"
    create_seconds = 15.0  # IAM is eventually consistent: CloudFormation waits before reporting

    def create(self, ctx: ResourceContext) -> Created:
        props, iam = ctx.properties, ctx.client("iam")
        name = props.get("RoleName") or ctx.generated_name()
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=_document(props["AssumeRolePolicyDocument"]),
                               Path=props.get("Path", "/"), Description=props.get("Description", ""),
                               Tags=ctx.tags())["Role"]
        for arn in props.get("ManagedPolicyArns") or []:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        for policy in props.get("Policies") or []:
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=_document(policy["PolicyDocument"]))
        return Created(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        props, iam = ctx.properties, ctx.client("iam")
        if props.get("RoleName", old.get("RoleName")) != old.get("RoleName") or props.get("Path") != old.get("Path"):
            raise NeedsReplacement()
        iam.update_assume_role_policy(RoleName=physical_id, PolicyDocument=_document(props["AssumeRolePolicyDocument"]))
        for arn in set(old.get("ManagedPolicyArns") or []) - set(props.get("ManagedPolicyArns") or []):
            iam.detach_role_policy(RoleName=physical_id, PolicyArn=arn)
        for arn in props.get("ManagedPolicyArns") or []:
            iam.attach_role_policy(RoleName=physical_id, PolicyArn=arn)
        kept = {policy["PolicyName"] for policy in props.get("Policies") or []}
        for policy in old.get("Policies") or []:
            if policy["PolicyName"] not in kept:
                iam.delete_role_policy(RoleName=physical_id, PolicyName=policy["PolicyName"])
        for policy in props.get("Policies") or []:
            iam.put_role_policy(RoleName=physical_id, PolicyName=policy["PolicyName"],
                                PolicyDocument=_document(policy["PolicyDocument"]))
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        iam = ctx.client("iam")
        for arn in ctx.properties.get("ManagedPolicyArns") or []:
            iam.detach_role_policy(RoleName=physical_id, PolicyArn=arn)
        for name in iam.list_role_policies(RoleName=physical_id)["PolicyNames"]:
            iam.delete_role_policy(RoleName=physical_id, PolicyName=name)
        iam.delete_role(RoleName=physical_id)


@register
class Policy(ResourceType):
    """An inline policy put on each named role (CloudFormation's AWS::IAM::Policy)."""
    type_name = "AWS::IAM::Policy"
    create_seconds = 15.0

    def create(self, ctx: ResourceContext) -> Created:
        self._put(ctx)
        return Created(ctx.generated_name(max_length=64))

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> None:
        self._remove(ctx, old, keep=set(ctx.properties.get("Roles") or []))
        self._put(ctx)
        return None

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        self._remove(ctx, ctx.properties, keep=set())

    @staticmethod
    def _put(ctx: ResourceContext) -> None:
        document = _document(ctx.properties["PolicyDocument"])
        for role in ctx.properties.get("Roles") or []:
            ctx.client("iam").put_role_policy(RoleName=role, PolicyName=ctx.properties["PolicyName"],
                                              PolicyDocument=document)

    @staticmethod
    def _remove(ctx: ResourceContext, props: dict, keep: set[str]) -> None:
        iam = ctx.client("iam")
        for role in props.get("Roles") or []:
            if role in keep and props.get("PolicyName") == ctx.properties.get("PolicyName"):
                continue
            try:
                iam.delete_role_policy(RoleName=role, PolicyName=props["PolicyName"])
            except iam.exceptions.NoSuchEntityException:
                pass  # the role is gone already (deleted in the same stack operation)


@register
class InstanceProfile(ResourceType):
    type_name = "AWS::IAM::InstanceProfile"
    create_seconds = 120.0  # CloudFormation waits for the profile to propagate

    def create(self, ctx: ResourceContext) -> Created:
        iam = ctx.client("iam")
        name = ctx.properties.get("InstanceProfileName") or ctx.generated_name()
        profile = iam.create_instance_profile(InstanceProfileName=name, Path=ctx.properties.get("Path", "/"))
        for role in ctx.properties.get("Roles") or []:
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
        return Created(name, {"Arn": profile["InstanceProfile"]["Arn"]})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        iam = ctx.client("iam")
        for role in ctx.properties.get("Roles") or []:
            iam.remove_role_from_instance_profile(InstanceProfileName=physical_id, RoleName=role)
        iam.delete_instance_profile(InstanceProfileName=physical_id)
