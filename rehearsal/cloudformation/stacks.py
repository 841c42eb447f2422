"""A stack's deployed state, and the deploy-time values the template resolver reads from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmk_validate.model import Stack
from cmk_validate.model.resolver import Unresolved

RETAIN_POLICIES = ("Retain", "RetainExceptOnCreate")


@dataclass
class ResourceState:
    logical_id: str
    resource_type: str
    definition: dict                  # the resource's template entry (DeletionPolicy and so on)
    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict = field(default_factory=dict)  # resolved, as last applied
    status: str = "CREATE_IN_PROGRESS"
    created_in_this_operation: bool = True

    @property
    def deletion_policy(self) -> str:
        return str(self.definition.get("DeletionPolicy", "Delete"))

    @property
    def update_replace_policy(self) -> str:
        return str(self.definition.get("UpdateReplacePolicy", "Delete"))


@dataclass
class StackState:
    name: str
    stack_id: str
    template: dict
    status: str = "CREATE_IN_PROGRESS"
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    exports: dict[str, Any] = field(default_factory=dict)


class DeployedValues:
    """What `Ref`, `Fn::GetAtt`, parameters, pseudo parameters and imports mean at deploy time."""

    def __init__(self, cloud: Any, state: StackState) -> None:
        self.cloud = cloud
        self.state = state

    def attribute(self, stack: Stack, logical_id: str, attribute: str) -> Any:
        resource = self.state.resources.get(logical_id)
        if resource is None or resource.physical_id is None:
            return Unresolved(f"{logical_id} does not exist (yet)")
        if attribute == "Ref":
            return resource.physical_id
        if attribute not in resource.attributes:
            return Unresolved(f"Template error: resource {logical_id} does not support attribute type "
                              f"{attribute} in Fn::GetAtt")
        return resource.attributes[attribute]

    def parameter(self, stack: Stack, name: str) -> Any:
        definition = stack.parameters.get(name) or {}
        if "Default" not in definition:
            return Unresolved(f"Parameters: [{name}] must have values")
        value, kind = definition["Default"], str(definition.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter::Value"):
            ssm = self.cloud.client("ssm")
            try:
                value = ssm.get_parameter(Name=value)["Parameter"]["Value"]
            except ssm.exceptions.ParameterNotFound:
                return Unresolved(f"Unable to fetch parameters [{value}] from parameter store for this account.")
            kind = kind[len("AWS::SSM::Parameter::Value<"):-1]
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            return value.split(",") if isinstance(value, str) else value
        return value

    def pseudo(self, stack: Stack, name: str) -> Any:
        values = {"AWS::AccountId": self.cloud.account, "AWS::Region": self.cloud.region,
                  "AWS::StackName": self.state.name, "AWS::StackId": self.state.stack_id,
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NotificationARNs": []}
        return values.get(name, Unresolved(f"unknown pseudo parameter {name}"))

    def availability_zones(self, region: str) -> list[str]:
        return self.cloud.availability_zones()

    def import_value(self, name: str) -> Any:
        exported = self.cloud.exports.get(name)
        if exported is None:
            return Unresolved(f"No export named {name} found")
        return exported[1]
