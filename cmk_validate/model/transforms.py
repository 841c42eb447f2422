"""Template transforms: what CloudFormation rewrites at deploy time, the validator must see too.

`AWS::LanguageExtensions` (`Fn::ForEach`, `Fn::Length`, `Fn::ToJsonString`, intrinsic `DeletionPolicy`)
is expanded with cfn-lint's own implementation of the transform; the resolver evaluates `Fn::Length` and
`Fn::ToJsonString`. What no offline tool can expand (a macro, `AWS::Include`, the resources of
`AWS::Serverless`, an inline `Fn::Transform`) is listed as not checked, and the rule
`every_resource_checked` reports it at error severity: a resource the rules never read is not a pass.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from cmk_validate.findings import InputError
from cmk_validate.model.template_checks import functions

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
SAM = "AWS::Serverless-2016-10-31"
FOR_EACH = "Fn::ForEach::"


def declared(template: dict, path: str) -> list[str]:
    """The template's `Transform` names, in order."""
    value = template.get("Transform")
    if value is None:
        return []
    names = value if isinstance(value, list) else [value]
    for name in names:
        if isinstance(name, dict) and isinstance(name.get("Name"), str):
            continue  # {Name: AWS::Include, Parameters: {...}}
        if not isinstance(name, str):
            raise InputError(f"{path}: invalid template: Transform holds {json.dumps(name, default=str)[:60]}, "
                             "not a transform name")
    return [name["Name"] if isinstance(name, dict) else name for name in names]


def apply(template: dict, path: str) -> tuple[dict, list[tuple[tuple, str]]]:
    """(the template as deployed, [(template path, why it is not checked)])."""
    names = declared(template, path)
    unchecked: list[tuple[tuple, str]] = []
    for name in names:
        if name in (LANGUAGE_EXTENSIONS, SAM):
            continue
        unchecked.append((("Transform",), f"the {name} transform rewrites this template at deploy time and the "
                                          "validator cannot expand it offline, so what it deploys is not proved"))
    if SAM in names:
        for logical_id, resource in _resources(template).items():
            kind = resource.get("Type") if isinstance(resource, dict) else None
            if isinstance(kind, str) and kind.startswith("AWS::Serverless::"):
                unchecked.append((("Resources", logical_id), f"{logical_id} ({kind}) is expanded by the {SAM} "
                                  "transform at deploy time, into resources the rules do not see"))
    for where in _inline_transforms(template):
        unchecked.append((where, "an inline Fn::Transform (a macro) produces this value at deploy time"))
    if LANGUAGE_EXTENSIONS in names:
        template, undecided = _expand_language_extensions(template, path)
        unchecked += undecided
    elif _has_for_each(template):
        raise InputError(f"{path}: invalid template: Fn::ForEach needs the {LANGUAGE_EXTENSIONS} transform")
    return template, unchecked


def _expand_language_extensions(template: dict, path: str) -> tuple[dict, list[tuple[tuple, str]]]:
    """Expand with cfn-lint's transform, one loop at a time first: where a loop's collection cannot be
    resolved, cfn-lint invents random names, so a loop that expands differently under two seeds (or
    that cfn-lint cannot expand) is only known at deploy time. It is left out and reported as not
    checked, never expanded with invented values."""
    template = copy.deepcopy(template)
    unchecked = []
    for section in ("Resources", "Outputs", "Conditions"):
        for loop in _loops(template.get(section)):
            alone = {**template, section: {key: value for key, value in template[section].items()
                                           if key == loop or not key.startswith(FOR_EACH)}}
            try:
                differs = _cfn_lint_expand(alone, path, 1).get(section) != _cfn_lint_expand(alone, path, 2).get(section)
                reason = "its collection is only known at deploy time" if differs else ""
            except InputError as error:
                reason = f"cfn-lint cannot expand it ({str(error).split(': ', 1)[-1]})"
            if reason:
                unchecked.append(((section, loop), f"{loop}: {reason}, so the items it creates are not checked"))
                del template[section][loop]
    return _cfn_lint_expand(template, path, 1), unchecked


def _cfn_lint_expand(template: dict, path: str, seed: int) -> dict:
    from cfnlint.template import Template
    from cfnlint.template.transforms import Transform

    state = random.getstate()
    random.seed(seed)
    try:
        cfn = Template(path, copy.deepcopy(template), ["us-east-1"])
        matches = Transform().transform(cfn)
    except Exception as error:  # cfn-lint's transform on input it does not expect
        raise InputError(f"{path}: invalid template: {LANGUAGE_EXTENSIONS} cannot be expanded "
                         f"({error.__class__.__name__}: {' '.join(str(error).split())[:200]})") from None
    finally:
        random.setstate(state)
    if matches:
        raise InputError(f"{path}: invalid template: {str(matches[0].message).splitlines()[0]}")
    expanded = cfn.template
    if not isinstance(expanded, dict):
        raise InputError(f"{path}: invalid template: {LANGUAGE_EXTENSIONS} expanded to nothing")
    return expanded


def _resources(template: dict) -> dict:
    resources = template.get("Resources")
    return resources if isinstance(resources, dict) else {}


def _loops(section: Any) -> list[str]:
    return [key for key in section if isinstance(key, str) and key.startswith(FOR_EACH)] \
        if isinstance(section, dict) else []


def _has_for_each(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(isinstance(key, str) and key.startswith(FOR_EACH) for key in node):
                return True
            stack.extend(child for child in node.values() if isinstance(child, (dict, list)))
        elif isinstance(node, list):
            stack.extend(child for child in node if isinstance(child, (dict, list)))
    return False


def _inline_transforms(value: Any) -> list[tuple]:
    """Paths of inline Fn::Transform calls, outermost only (a macro's own parameters are its business)."""
    found = sorted((where for key, _, where in functions(value) if key == "Fn::Transform"),
                   key=lambda where: [str(part) for part in where])
    return [where for where in found if not any(where[:len(outer)] == outer and where != outer for outer in found)]
