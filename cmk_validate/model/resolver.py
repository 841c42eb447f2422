"""Resolve CloudFormation intrinsics to plain values, or to `Unresolved` when only deploy time knows.

Resources referenced by `Ref`/`Fn::GetAtt` become stable token strings (for example
`arn:aws:s3:::my-bucket` or `{{Stack/Endpoint}}`) so policies can be evaluated as strings;
`Assembly.tokens` maps each token back to `(stack, logical id, attribute)`. Tokens contain `{{`,
which makes them *symbolic*: never equal to a literal an attacker could choose.

Given a `Deployment` (the deploy rehearsal's view of what is deployed), the same resolver gives
deploy-time values instead: physical ids and attributes, parameter values, exports and the
region's zones, so the project has one intrinsic-function evaluator, not two.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

NO_VALUE = type("NoValue", (), {"__repr__": lambda self: "AWS::NoValue"})()
PSEUDO_DEFAULTS = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


class Unresolved:
    """A value the validator cannot know statically; rules report it as 'cannot prove'."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unresolved({self.reason})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unresolved) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(self.reason)


def is_symbolic(value: Any) -> bool:
    """True for values that stand for a resource or deploy-time value rather than a literal."""
    return isinstance(value, str) and "{{" in value


def find_unresolved(value: Any) -> Unresolved | None:
    """The first Unresolved anywhere inside a resolved value."""
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, dict):
        for child in value.values():
            found = find_unresolved(child)
            if found:
                return found
    elif isinstance(value, list):
        for child in value:
            found = find_unresolved(child)
            if found:
                return found
    return None


class Deployment(Protocol):
    """Deploy-time values; each returns an `Unresolved` when the value does not exist (yet)."""

    def attribute(self, stack: Any, logical_id: str, attribute: str) -> Any: ...
    def parameter(self, stack: Any, name: str) -> Any: ...
    def pseudo(self, stack: Any, name: str) -> Any: ...
    def availability_zones(self, region: str) -> list[str]: ...
    def import_value(self, name: str) -> Any: ...


class Resolver:
    """Resolves values of one stack under one assignment of its conditions (`Fn::If` branches)."""

    def __init__(self, assembly: Any, stack: Any, conditions: dict[str, bool] | None = None,
                 _depth: int = 0, deployment: Deployment | None = None) -> None:
        self.assembly = assembly
        self.stack = stack
        self.conditions = conditions or {}
        self._depth = _depth
        self.deployment = deployment

    # -- public -------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                (key,) = value.keys()
                if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
                    return self._intrinsic(key, value[key])
            out = {}
            for key, child in value.items():
                resolved = self.resolve(child)
                if resolved is not NO_VALUE:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            return [r for r in (self.resolve(child) for child in value) if r is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool | None:
        """Value of a named condition in this scenario; None when it depends on deploy time."""
        if name in self.conditions:
            return self.conditions[name]
        definition = self.stack.conditions.get(name)
        if definition is None:
            return None
        return self._evaluate_condition(definition, set())

    def resource_token(self, logical_id: str, attribute: str = "Ref") -> str:
        """The stand-in string for a resource's Ref or attribute (registered in assembly.tokens)."""
        if self.deployment is not None:
            return self.deployment.attribute(self.stack, logical_id, attribute)
        stack = self.stack
        resource = stack.resources.get(logical_id) or {}
        kind = resource.get("Type", "") if isinstance(resource, dict) else ""
        props = resource.get("Properties") if isinstance(resource, dict) else None
        props = props if isinstance(props, dict) else {}
        generic = "{{%s/%s}}" % (stack.name, logical_id)
        token: str
        if kind == "AWS::S3::Bucket":
            name = self.resolve(props.get("BucketName")) if "BucketName" in props else None
            name = name if isinstance(name, str) else generic
            token = {"Ref": name, "Arn": f"arn:{self._partition()}:s3:::{name}"}.get(
                attribute, "{{%s/%s.%s}}" % (stack.name, logical_id, attribute))
        elif kind in ("AWS::KMS::Key", "Custom::HsmBackedKmsKey"):
            key_id = "{{%s/%s.KeyId}}" % (stack.name, logical_id)
            arn = f"arn:{self._partition()}:kms:{self._region()}:{self._account()}:key/{key_id}"
            token = {"Ref": key_id, "KeyId": key_id, "Arn": arn, "KeyArn": arn}.get(
                attribute, "{{%s/%s.%s}}" % (stack.name, logical_id, attribute))
        elif attribute == "Ref":
            token = generic
        else:
            token = "{{%s/%s.%s}}" % (stack.name, logical_id, attribute)
        self.assembly.tokens.setdefault(token, (stack.name, logical_id, attribute))
        return token

    # -- intrinsics ---------------------------------------------------------------------
    def _intrinsic(self, name: str, arg: Any) -> Any:
        handler = getattr(self, "_fn_" + name.replace("Fn::", "").replace("::", "_"), None)
        if handler is None:
            return Unresolved(f"{name} is not evaluated statically")
        try:
            return handler(arg)
        except RecursionError:
            return Unresolved(f"{name}: reference cycle")
        except (TypeError, ValueError, IndexError, KeyError, AttributeError) as error:
            return Unresolved(f"{name}: malformed ({error.__class__.__name__})")

    def _fn_Ref(self, arg: Any) -> Any:
        if not isinstance(arg, str):
            return Unresolved("Ref to a non-string")
        if arg.startswith("AWS::"):
            return self._pseudo(arg)
        if arg in self.stack.parameters:
            return self._parameter(arg)
        if arg in self.stack.resources:
            return self.resource_token(arg, "Ref")
        return Unresolved(f"Ref to unknown name {arg}")

    def _fn_GetAtt(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not isinstance(arg, list) or len(arg) != 2:
            return Unresolved("malformed Fn::GetAtt")
        logical_id, attribute = arg[0], self.resolve(arg[1])
        if not isinstance(logical_id, str) or not isinstance(attribute, str):
            return Unresolved("Fn::GetAtt with a computed name")
        resource = self.stack.resources.get(logical_id)
        if not isinstance(resource, dict):
            return Unresolved(f"Fn::GetAtt of unknown resource {logical_id}")
        if resource.get("Type") == "AWS::CloudFormation::Stack" and attribute.startswith("Outputs."):
            return self._nested_output(logical_id, attribute[len("Outputs."):])
        return self.resource_token(logical_id, attribute)

    def _fn_Sub(self, arg: Any) -> Any:
        variables: dict = {}
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], dict):
                return Unresolved("malformed Fn::Sub")
            arg, variables = arg[0], arg[1]
        if not isinstance(arg, str):
            return Unresolved("Fn::Sub of a non-string")
        out: list[str] = []
        index = 0
        while index < len(arg):
            start = arg.find("${", index)
            if start < 0:
                out.append(arg[index:])
                break
            out.append(arg[index:start])
            end = arg.find("}", start)
            if end < 0:
                out.append(arg[start:])
                break
            name = arg[start + 2:end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            else:
                if name in variables:
                    value = self.resolve(variables[name])
                elif "." in name and not name.startswith("AWS::"):
                    value = self._fn_GetAtt(name.split(".", 1))
                else:
                    value = self._fn_Ref(name)
                if isinstance(value, Unresolved):
                    return value
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    value = str(value)
                if not isinstance(value, str):
                    return Unresolved(f"Fn::Sub variable {name} is not a string")
                out.append(value)
            index = end + 1
        return "".join(out)

    def _fn_Join(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            return Unresolved("malformed Fn::Join")
        delimiter, parts = self.resolve(arg[0]), self.resolve(arg[1])
        if not isinstance(delimiter, str):
            return Unresolved("Fn::Join delimiter is not a string")
        if isinstance(parts, Unresolved):
            return parts
        if not isinstance(parts, list):
            return Unresolved("Fn::Join of a non-list")
        texts = []
        for part in parts:
            if isinstance(part, Unresolved):
                return part
            if isinstance(part, bool) or not isinstance(part, (str, int, float)):
                return Unresolved("Fn::Join of a non-string part")
            texts.append(str(part))
        return delimiter.join(texts)

    def _fn_Select(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            return Unresolved("malformed Fn::Select")
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        if isinstance(items, Unresolved):
            return items
        if isinstance(index, bool) or not isinstance(index, int) or not isinstance(items, list):
            return Unresolved("Fn::Select with a computed index or list")
        if not 0 <= index < len(items):
            return Unresolved("Fn::Select index out of range")
        return items[index]

    def _fn_Split(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            return Unresolved("malformed Fn::Split")
        delimiter, text = self.resolve(arg[0]), self.resolve(arg[1])
        if isinstance(text, Unresolved):
            return text
        if not isinstance(delimiter, str) or not isinstance(text, str) or is_symbolic(text):
            return Unresolved("Fn::Split of a deploy-time value")
        return text.split(delimiter)

    def _fn_GetAZs(self, arg: Any) -> Any:
        region = self.resolve(arg) or self._region()
        if self.deployment is not None:
            return self.deployment.availability_zones(region)
        # Distinct stand-ins: Fn::Select of different indexes gives different zones.
        return ["{{%s:az%d}}" % (region, index) for index in range(3)]

    def _fn_ImportValue(self, arg: Any) -> Any:
        name = self.resolve(arg)
        if not isinstance(name, str):
            return Unresolved("Fn::ImportValue of a computed name")
        if self.deployment is not None:
            return self.deployment.import_value(name)
        exported = self.assembly.exports().get(name)
        if exported is None:
            return Unresolved(f"import {name} is not exported by any stack of this assembly")
        stack, value = exported
        if self._depth > 20:
            return Unresolved(f"import {name}: too deep")
        return Resolver(self.assembly, stack, {}, self._depth + 1).resolve(value)

    def _fn_If(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 3 or not isinstance(arg[0], str):
            return Unresolved("malformed Fn::If")
        value = self.condition(arg[0])
        if value is None:
            return Unresolved(f"condition {arg[0]} is decided at deploy time")
        return self.resolve(arg[1] if value else arg[2])

    def _fn_FindInMap(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) < 3:
            return Unresolved("malformed Fn::FindInMap")
        keys = [self.resolve(part) for part in arg[:3]]
        if not all(isinstance(key, str) for key in keys):
            return Unresolved("Fn::FindInMap with a computed key")
        try:
            return self.resolve(self.stack.template["Mappings"][keys[0]][keys[1]][keys[2]])
        except (KeyError, TypeError):
            if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return self.resolve(arg[3]["DefaultValue"])
            return Unresolved("Fn::FindInMap: no such entry")

    def _fn_Base64(self, arg: Any) -> Any:
        return self.resolve(arg)  # rules care about the text before encoding

    def _fn_ToJsonString(self, arg: Any) -> Any:
        value = self.resolve(arg)
        unresolved = find_unresolved(value)
        return unresolved or json.dumps(value, separators=(",", ":"))

    def _fn_Length(self, arg: Any) -> Any:
        value = self.resolve(arg)
        return len(value) if isinstance(value, list) else Unresolved("Fn::Length of a non-list")

    def _fn_Cidr(self, arg: Any) -> Any:
        return Unresolved("Fn::Cidr is not evaluated statically")

    # -- helpers ------------------------------------------------------------------------
    def _pseudo(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if self.deployment is not None:
            return self.deployment.pseudo(self.stack, name)
        if name == "AWS::AccountId":
            return self._account()
        if name == "AWS::Region":
            return self._region()
        if name == "AWS::StackName":
            return self.stack.name if self.stack.name_is_deployed else "{{AWS::StackName}}"
        if name == "AWS::NotificationARNs":
            return []
        if name in PSEUDO_DEFAULTS:
            return PSEUDO_DEFAULTS[name]
        return "{{%s}}" % name

    def _account(self) -> str:
        return self.stack.account or "{{AWS::AccountId}}"

    def _region(self) -> str:
        return self.stack.region or "{{AWS::Region}}"

    def _partition(self) -> str:
        return "aws"

    def _parameter(self, name: str) -> Any:
        stack = self.stack
        if self.deployment is not None:
            return self.deployment.parameter(stack, name)
        if stack.parent is not None and stack.parent_resource:
            passed = ((stack.parent.resources.get(stack.parent_resource) or {}).get("Properties") or {}) \
                .get("Parameters") or {}
            if isinstance(passed, dict) and name in passed:
                return Resolver(self.assembly, stack.parent, {}, self._depth + 1).resolve(passed[name])
        definition = stack.parameters.get(name) or {}
        if not isinstance(definition, dict) or "Default" not in definition:
            return Unresolved(f"parameter {name} has no default")
        value = definition["Default"]
        kind = str(definition.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter::Value"):
            return "{{ssm:%s}}" % value  # the value lives in SSM; the name is only a pointer
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            return value.split(",") if isinstance(value, str) else value
        return value

    def _nested_output(self, logical_id: str, output: str) -> Any:
        for nested in self.assembly.stacks:
            if nested.parent is self.stack and nested.parent_resource == logical_id:
                definition = nested.outputs.get(output)
                if isinstance(definition, dict):
                    return Resolver(self.assembly, nested, {}, self._depth + 1).resolve(definition.get("Value"))
        return self.resource_token(logical_id, f"Outputs.{output}")

    def _evaluate_condition(self, definition: Any, seen: set[str]) -> bool | None:
        if not isinstance(definition, dict) or len(definition) != 1:
            return None
        (fn, arg), = definition.items()
        if fn == "Condition" and isinstance(arg, str):
            if arg in seen:
                return None
            if arg in self.conditions:
                return self.conditions[arg]
            return self._evaluate_condition(self.stack.conditions.get(arg), seen | {arg})
        if not isinstance(arg, list):
            return None
        if fn == "Fn::Equals" and len(arg) == 2:
            left, right = self.resolve(arg[0]), self.resolve(arg[1])
            if any(isinstance(v, Unresolved) or is_symbolic(v) for v in (left, right)):
                return None
            return str(left) == str(right)
        parts = [self._evaluate_condition(part, seen) for part in arg]
        if fn == "Fn::Not" and len(parts) == 1:
            return None if parts[0] is None else not parts[0]
        if fn == "Fn::And":
            return False if False in parts else (None if None in parts else True)
        if fn == "Fn::Or":
            return True if True in parts else (None if None in parts else False)
        return None
