"""What rules see: the assembly under one scenario (one truth value per undecided condition)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

from cmk_validate.model import Assembly, Resolver, Stack


@dataclass
class Options:
    """Settings a rule may need that the template cannot say."""

    break_glass_principals: tuple[str, ...] | None = None   # None: any explicit role/user ARN may be excepted
    bucket_encryption: str = "auto"                          # auto | sse-kms | sse-c
    key_administrators: tuple[str, ...] | None = None       # None: any explicit role/user ARN may administer


class Context:
    def __init__(self, assembly: Assembly, scenario: dict[str, dict[str, bool]] | None = None,
                 options: Options | None = None) -> None:
        self.assembly = assembly
        self.scenario = scenario or {}
        self.options = options or Options()
        self._resolvers: dict[str, Resolver] = {}
        self._props: dict[tuple[str, str], Any] = {}

    @property
    def stacks(self) -> list[Stack]:
        return self.assembly.stacks

    def resolver(self, stack: Stack) -> Resolver:
        resolver = self._resolvers.get(stack.name)
        if resolver is None:
            resolver = Resolver(self.assembly, stack, self.scenario.get(stack.name, {}))
            self._resolvers[stack.name] = resolver
        return resolver

    def resolve(self, stack: Stack, value: Any) -> Any:
        return self.resolver(stack).resolve(value)

    def present(self, stack: Stack, resource: dict) -> bool:
        """False when the resource's Condition is false in this scenario."""
        condition = resource.get("Condition")
        if not isinstance(condition, str):
            return True
        return self.resolver(stack).condition(condition) is not False

    def resources(self, *types: str) -> Iterator[tuple[Stack, str, dict]]:
        for stack, logical_id, resource in self.assembly.iter_resources(*types):
            if self.present(stack, resource):
                yield stack, logical_id, resource

    def props(self, stack: Stack, logical_id: str) -> dict:
        """Resolved Properties of a resource (cached for the scenario)."""
        key = (stack.name, logical_id)
        if key not in self._props:
            resource = stack.resources.get(logical_id) or {}
            raw = resource.get("Properties") if isinstance(resource, dict) else None
            resolved = self.resolve(stack, raw) if isinstance(raw, dict) else {}
            self._props[key] = resolved if isinstance(resolved, dict) else {}
        return self._props[key]

    def origin(self, value: Any) -> tuple[Stack, str, dict, str] | None:
        """The resource a token stands for: (stack, logical id, resource, attribute)."""
        if not isinstance(value, str):
            return None
        found = self.assembly.tokens.get(value)
        if not found:
            return None
        stack_name, logical_id, attribute = found
        stack = self.assembly.stack(stack_name)
        if stack is None:
            return None
        return stack, logical_id, stack.resources.get(logical_id) or {}, attribute

    def ref(self, stack: Stack, logical_id: str, attribute: str = "Ref") -> str:
        return self.resolver(stack).resource_token(logical_id, attribute)

    @cached_property
    def facts(self):
        from cmk_validate.architecture import Facts

        return Facts(self)

