"""Is this a CloudFormation template the rules can read safely? Refused with one line (InputError) if not.

What another kind of file looks like, nesting and size bounds, intrinsic functions the resolver does not
know or whose argument has a shape CloudFormation refuses, and circular dependencies between resources.
Each check walks the template without recursion, so no input can exhaust the stack.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from cmk_validate.findings import InputError
from cmk_validate.model import property_types
from cmk_validate.model.property_types import is_function, kind_of

# Nesting deeper than this is refused: templates of this architecture nest about 15 levels, and libyaml's
# C parser overflows the stack (a segmentation fault, not an exception) somewhere past 10,000.
MAX_NESTING = 200
MAX_RESOURCES = 10_000  # 20 times CloudFormation's quota of 500 per template; the benchmark times 5,000 (linear)
KNOWN_INTRINSICS = frozenset({
    "Ref", "Condition", "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt", "Fn::GetAZs",
    "Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub", "Fn::Transform", "Fn::If",
    "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Fn::Length", "Fn::ToJsonString",
    "Fn::GetStackOutput", "Fn::RefAll", "Fn::ValueOf", "Fn::ValueOfAll", "Fn::EachMemberEquals",
    "Fn::EachMemberIn", "Fn::Contains",
})


def refuse_deep(path: str, template: Any) -> None:
    """After parsing, before anything walks the template recursively (the transforms, the resolver)."""
    if _depth_exceeds(template, MAX_NESTING):
        raise InputError(f"{path}: nested more than {MAX_NESTING} levels deep (the validator's limit)")


def check(path: str, template: dict, unchecked: list) -> None:
    """Everything after parsing and transforms; raises InputError naming the first problem."""
    resources = template.get("Resources")
    if resources is None:
        raise InputError(f"{path}: not a CloudFormation template: {_looks_like(template)}")
    if not isinstance(resources, dict):
        raise InputError(f"{path}: 'Resources' must be an object, not {kind_of(resources)}")
    if len(resources) > MAX_RESOURCES:
        raise InputError(f"{path}: {len(resources)} resources, more than the validator's limit of {MAX_RESOURCES} "
                         "(CloudFormation accepts 500 per template)")
    if not resources and not unchecked:
        raise InputError(f"{path}: invalid template: 'Resources' is empty (CloudFormation requires at least one)")
    edges: dict[str, list[str]] = {}
    for section, value in template.items():    # one walk: intrinsic shapes, and references between resources
        parts = value.items() if section == "Resources" and isinstance(value, dict) else [(None, value)]
        for logical_id, part in parts:
            references: list[str] = []
            unknown = _find_bad_intrinsic(part, (section,) if logical_id is None else (section, logical_id),
                                          references)
            if unknown:
                raise InputError(f"{path}: {unknown}")
            if logical_id is not None and isinstance(part, dict):
                edges[logical_id] = [target for target in _depends_on(part) + references if target in resources]
    misshapen = property_types.problem(template) or _dependency_cycle(edges)
    if misshapen:
        raise InputError(f"{path}: invalid template: {misshapen}")


# Top-level keys that tell what another kind of file is: (keys that must all be there, what it is).
OTHER_FORMATS = (
    ({"version", "artifacts"}, "it looks like a cloud assembly manifest; pass its directory instead"),
    ({"phases"}, "it looks like a CodeBuild buildspec"),
    ({"format_version", "terraform_version"}, "it looks like a Terraform plan or state (terraform show -json)"),
    ({"resource_changes"}, "it looks like a Terraform plan (terraform show -json)"),
    ({"apiVersion", "kind"}, "it looks like a Kubernetes manifest"),
    ({"services"}, "it looks like a Docker Compose file"),
    ({"jobs"}, "it looks like a CI workflow (GitHub Actions or similar)"),
    ({"openapi"}, "it looks like an OpenAPI definition"),
    ({"swagger"}, "it looks like a Swagger definition"),
    ({"Version", "Statement"}, "it looks like an IAM policy document"),
    ({"name", "dependencies"}, "it looks like a package.json"),
    ({"AWSTemplateFormatVersion"}, "it has no 'Resources' section, which CloudFormation requires"),
)


def _looks_like(document: dict) -> str:
    keys = {str(key) for key in document}
    for needed, verdict in OTHER_FORMATS:
        if needed <= keys:
            return verdict
    shown = ", ".join(sorted(keys)[:6]) + (", ..." if len(keys) > 6 else "")
    return f"it has no 'Resources' object (top-level keys: {shown or 'none'})"


def refuse_deep_yaml(path: str, text: str) -> None:
    """Count nesting on libyaml's event stream (a state machine with its own stack) before the decoder
    builds nodes (recursively, in C: a deep enough file kills the process instead of raising)."""
    import yaml

    depth = 0
    try:
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_NESTING:
                    raise InputError(f"{path}: nested more than {MAX_NESTING} levels deep (the validator's limit)")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # the decoder reports it, with its line


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, (dict, list)))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return False


def functions(value: Any, path: tuple = ()) -> Iterator[tuple[Any, Any, tuple]]:
    """(function name, argument, path) of every one-key object under `value`, without recursion."""
    stack = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            if len(node) == 1:
                (key, arg), = node.items()
                yield key, arg, where
            stack.extend((child, where + (key,)) for key, child in node.items() if isinstance(child, (dict, list)))
        elif isinstance(node, list):
            stack.extend((child, where + (index,)) for index, child in enumerate(node)
                         if isinstance(child, (dict, list)))


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_string_or_function(value: Any) -> bool:
    return isinstance(value, str) or is_function(value)


def _is_list_or_function(value: Any) -> bool:
    return isinstance(value, list) or is_function(value)


def _pair(first, second):
    return lambda arg: isinstance(arg, list) and len(arg) == 2 and first(arg[0]) and second(arg[1])


# The argument shapes CloudFormation accepts for the functions the resolver reads
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
# Anything else is a template format error at deploy time; read loosely it could hide a finding.
INTRINSIC_SHAPES = {
    "Ref": (_is_string, "a name (a string)"),
    "Fn::GetAtt": (lambda a: (isinstance(a, str) and "." in a) or _pair(_is_string, _is_string_or_function)(a),
                   "[logical id, attribute] or \"LogicalId.Attribute\""),
    "Fn::Sub": (lambda a: isinstance(a, str) or _pair(_is_string, lambda v: isinstance(v, dict))(a),
                "a string or [string, {variables}]"),
    "Fn::Join": (_pair(_is_string, _is_list_or_function), "[delimiter, list]"),
    "Fn::Select": (_pair(lambda i: (isinstance(i, (str, int)) and not isinstance(i, bool)) or is_function(i),
                         _is_list_or_function),
                   "[index, list]"),
    "Fn::Split": (_pair(_is_string, _is_string_or_function), "[delimiter, string]"),
    "Fn::If": (lambda a: isinstance(a, list) and len(a) == 3 and isinstance(a[0], str),
               "[condition name, value if true, value if false]"),
    "Fn::FindInMap": (lambda a: isinstance(a, list) and len(a) in (3, 4), "[map, top-level key, second-level key]"),
    "Fn::GetAZs": (_is_string_or_function, "a region (a string)"),
    "Fn::ImportValue": (_is_string_or_function, "an export name"),
    "Fn::Equals": (lambda a: isinstance(a, list) and len(a) == 2, "[value, value]"),
    "Fn::Not": (lambda a: isinstance(a, list) and len(a) == 1, "[condition]"),
    "Fn::And": (lambda a: isinstance(a, list) and 2 <= len(a) <= 10, "[2 to 10 conditions]"),
    "Fn::Or": (lambda a: isinstance(a, list) and 2 <= len(a) <= 10, "[2 to 10 conditions]"),
    "Fn::Cidr": (lambda a: isinstance(a, list) and len(a) == 3, "[block, count, bits]"),
}


_SUB_NAME = re.compile(r"\$\{(?!!)([^}.]+)(?:\.[^}]*)?\}")


def _dependency_cycle(edges: dict[str, list[str]]) -> str | None:
    """'circular dependency: A -> B -> A' when Ref, Fn::GetAtt, Fn::Sub or DependsOn between resources form a
    cycle (CloudFormation refuses such a template), so the resolver never follows one. An iterative
    depth-first search, linear in the references: a long chain cannot exhaust the stack."""
    cycle = _find_cycle(edges)
    if cycle is None:
        return None
    names = cycle + [cycle[0]]
    shown = " -> ".join(names) if len(names) <= 10 else " -> ".join(names[:8]) + f" -> ... ({len(cycle)} resources)"
    return f"circular dependency between resources: {shown}"


def _depends_on(resource: dict) -> list[str]:
    depends_on = resource.get("DependsOn")
    return [target for target in (depends_on if isinstance(depends_on, list) else [depends_on])
            if isinstance(target, str)]


def _referenced(name: Any, arg: Any) -> Iterator[str]:
    """The logical ids one intrinsic call refers to (Ref, Fn::GetAtt, the names in Fn::Sub)."""
    if name == "Ref" and isinstance(arg, str):
        yield arg
    elif name == "Fn::GetAtt":
        target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0] if isinstance(arg, list) and arg else None
        if isinstance(target, str):
            yield target
    elif name == "Fn::Sub":
        text, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
        if isinstance(text, str):
            yield from (m.group(1) for m in _SUB_NAME.finditer(text)
                        if not (isinstance(variables, dict) and m.group(1) in variables))


def _find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}          # absent: unvisited, 1: on the current path, 2: done
    for start in edges:
        if start in state:
            continue
        path, iterators = [start], [iter(edges[start])]
        state[start] = 1
        while path:
            target = next(iterators[-1], None)
            if target is None:
                state[path.pop()] = 2
                iterators.pop()
            elif state.get(target) == 1:
                return path[path.index(target):]
            elif target not in state:
                state[target] = 1
                path.append(target)
                iterators.append(iter(edges.get(target, ())))
    return None


def _find_bad_intrinsic(value: Any, path: tuple, references: list[str]) -> str | None:
    """An intrinsic the resolver does not know would be silently misread, and one whose argument has the
    wrong shape ('Ref at Resources/X/Properties/Bucket takes a name (a string), not a list') is a template
    format error at deploy time: both are input errors. Collects the logical ids referred to on the way."""
    for key, arg, where in functions(value, path):
        if not isinstance(key, str):
            continue
        if key.startswith("Fn::") and key not in KNOWN_INTRINSICS and not key.startswith("Fn::ForEach::"):
            return f"unknown intrinsic function {key!r} at {'/'.join(map(str, where))}"
        shape = INTRINSIC_SHAPES.get(key)
        if shape is not None and not shape[0](arg):
            return f"invalid template: {key} at {'/'.join(map(str, where))} takes {shape[1]}, not {kind_of(arg)}"
        references.extend(_referenced(key, arg))
    return None
