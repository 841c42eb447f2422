"""What every resource type of the rehearsal implements, and the context CloudFormation gives it.

A native type makes the API calls CloudFormation's resource handler would make, with the
template's (resolved) properties, through boto3 into moto and the project's model; it returns the
physical id and the attributes `Fn::GetAtt` can read. CloudFormation itself acts as the deploying
role (the CDK bootstrap's execution role), so its own calls are not authorised call by call.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Generator

from rehearsal.clock import CLOCK


class ResourceFailed(Exception):
    """The reason CloudFormation shows for a failed resource operation."""


class NeedsReplacement(Exception):
    """The change cannot be made in place: CloudFormation creates a new resource and deletes the old one."""


class NotModelled(Exception):
    """The rehearsal has no model of this operation: it says so instead of guessing."""


@dataclass
class Created:
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResourceContext:
    """One resource operation: who, where, and the resolved properties."""

    stack_name: str
    logical_id: str
    resource_type: str
    properties: dict
    metadata: dict
    account: str
    region: str
    cloud: Any  # rehearsal.cloudformation.engine.Cloud: clients, assets, functions, clock
    # Told the physical id as soon as the resource exists, before CloudFormation reports it complete,
    # so a rollback deletes what a cancelled operation had already made.
    exists: Callable[[str], None] = lambda physical_id: None
    # On delete: the resource's DeletionPolicy ("Snapshot" asks a snapshot-capable type for a final one).
    deletion_policy: str = "Delete"

    def client(self, service: str):
        return self.cloud.client(service)

    def generated_name(self, max_length: int = 64, lowercase: bool = False, separator: str = "-") -> str:
        """CloudFormation's name for a resource the template does not name: stack-logicalid-suffix.

        The suffix is derived from the stack and logical id (and the clock, so a replacement gets a
        new name), which keeps a rehearsal deterministic."""
        digest = hashlib.sha256(f"{self.stack_name}/{self.logical_id}/{CLOCK.now()}".encode()).hexdigest()
        suffix = digest[:12].upper() if not lowercase else digest[:12]
        room = max_length - len(suffix) - 2 * len(separator)
        stack_part = self.stack_name[: max(1, room // 2)]
        logical_part = self.logical_id[: max(1, room - len(stack_part))]
        name = separator.join((stack_part, logical_part, suffix))
        return name.lower() if lowercase else name

    def json_text(self, name: str) -> str | None:
        """A property that CloudFormation accepts as an object or as JSON text, as text."""
        value = self.properties.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def present(self, *names: str) -> dict:
        """The named properties the template sets (CloudFormation passes only those to the API)."""
        return {name: self.properties[name] for name in names if self.properties.get(name)}

    def tags(self, key_name: str = "Key", value_name: str = "Value") -> list[dict]:
        return [{key_name: tag["Key"], value_name: tag["Value"]} for tag in self.properties.get("Tags") or []]


class ResourceType:
    """A CloudFormation resource type: create, update in place (or ask for replacement), delete."""

    type_name: ClassVar[str]
    # How long CloudFormation typically takes to create / delete one (seconds, simulated).
    create_seconds: ClassVar[float] = 5.0
    delete_seconds: ClassVar[float] = 5.0

    def create(self, ctx: ResourceContext) -> Created | Generator[float, None, Created]:
        raise NotImplementedError

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> dict | None:
        """Apply `ctx.properties` in place; new attributes, or None to keep the old ones.

        Create-only properties (from the resource schema) never reach here: the engine replaces."""
        raise NotModelled(f"updating {self.type_name} in place is not modelled by the rehearsal")

    def delete(self, ctx: ResourceContext, physical_id: str) -> None | Generator[float, None, None]:
        raise NotImplementedError


REGISTRY: dict[str, ResourceType] = {}


def register(cls: type[ResourceType]) -> type[ResourceType]:
    REGISTRY[cls.type_name] = cls()
    return cls


def flag(value: Any) -> bool:
    """CloudFormation booleans arrive as true/false or as "true"/"false"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
