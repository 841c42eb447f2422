"""Refuse property values of a shape CloudFormation would refuse, before any rule reads them.

A rule that looks for a string and finds an object sees "not this security group" or "no route", and
an invariant could pass on a template that cannot even deploy. The shapes come from cfn-lint's copy of
the CloudFormation resource provider schemas (`type`, `properties`, `items`, `$ref`), so no list of
properties is kept here. Only the shape is checked, as CloudFormation does: a number where a string
is expected is converted, not refused; an object or a list where a scalar is expected is refused, as
is a scalar where an object or a list is expected. An intrinsic function may stand for any value.
"""

from __future__ import annotations

import math
from typing import Any

SCALARS = {"string", "number", "integer", "boolean"}
MAX_DEPTH = 64


def problem(template: dict) -> str | None:
    """'Resources/X/Properties/GroupId is an object; the AWS::EC2::SecurityGroupIngress schema says string', or None."""
    found = _non_finite(template)
    if found:
        return f"{found} is an infinite number or NaN, which a CloudFormation template cannot carry"
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        return None
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            return f"Resources/{logical_id} is not an object"
        kind, properties = resource.get("Type"), resource.get("Properties")
        if not isinstance(kind, str):
            return f"Resources/{logical_id}/Type is not a string"
        if properties is None or is_function(properties):
            continue
        if not isinstance(properties, dict):
            return f"Resources/{logical_id}/Properties is not an object"
        schema = resource_schema(kind)
        if schema is None:
            continue
        wrong = _check(properties, schema, schema, ("Resources", logical_id, "Properties"), 0)
        if wrong:
            where, expected, actual = wrong
            return f"{'/'.join(map(str, where))} is {actual}; the {kind} schema says {expected}"
    return None


def resource_schema(kind: str) -> dict | None:
    """cfn-lint's copy of the CloudFormation resource provider schema of a type, or None."""
    if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
        return None
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        return PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind).schema
    except Exception:  # a type cfn-lint does not know: cfn-lint reports it (E3006), not this check
        return None


def _check(value: Any, node: dict, root: dict, where: tuple, depth: int):
    if depth > MAX_DEPTH or is_function(value):
        return None
    node = resolve_ref(node, root)
    types = node.get("type")
    expected = set(types if isinstance(types, list) else [types]) if types else set()
    actual = _shape(value)
    if expected:
        fits = actual in expected or (actual in SCALARS and expected & SCALARS) or \
            (actual == "integer" and "number" in expected)
        if not fits:
            return where, " or ".join(sorted(expected)), kind_of(value)
    if isinstance(value, dict) and isinstance(node.get("properties"), dict):
        for key, child in value.items():
            child_schema = node["properties"].get(key)
            if isinstance(child_schema, dict):
                wrong = _check(child, child_schema, root, where + (key,), depth + 1)
                if wrong:
                    return wrong
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        for index, child in enumerate(value):
            wrong = _check(child, node["items"], root, where + (index,), depth + 1)
            if wrong:
                return wrong
    return None


def resolve_ref(node: dict, root: dict) -> dict:
    """The definition a local `$ref` points to ({} when it points nowhere)."""
    for _ in range(MAX_DEPTH):
        reference = node.get("$ref")
        if not isinstance(reference, str) or not reference.startswith("#/"):
            return node
        target: Any = root
        for part in reference[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            return {}
        node = target
    return {}


def _shape(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def kind_of(value: Any) -> str:
    """What a JSON/YAML value is, in words (the YAML decoder's node classes subclass these)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else "a value of another kind"


def is_function(value: Any) -> bool:
    """An intrinsic function call: an object with one key, Ref, Condition or Fn::*."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value.keys()
    return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))


def _non_finite(value: Any) -> str | None:
    stack = [(value, ())]
    while stack:
        node, where = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return "/".join(map(str, where)) or "the template"
        if isinstance(node, dict):
            stack.extend((child, where + (key,)) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, where + (index,)) for index, child in enumerate(node))
    return None
