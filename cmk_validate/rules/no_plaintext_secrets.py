"""CKE109: no password, key or token in plain text anywhere in a template.

Two kinds of place. A property the resource schema says takes a secret (cmk_validate.model.
secret_slots) must get it from Secrets Manager or a SecureString, or from a NoEcho parameter
with no default: any literal there is a finding, however short. Everywhere else (free-form
objects such as environment variables, tags, mappings, metadata, outputs, parameter defaults,
user data, conditions, descriptions) names are the template's own, so a secret is recognised by
its name and a literal-looking value, or by its content (a PEM key, an access key id).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from cmk_validate.model.resolver import Unresolved, is_symbolic
from cmk_validate.model.secret_slots import names_secret, secret_slots
from cmk_validate.rules import Rule

CONTENT_PATTERNS = [
    (re.compile(r"-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----"), "a PEM private key"),
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*[A-Za-z0-9/+=]{40}"), "an AWS secret access key"),
    (re.compile(r"(?i)\b(password|passwd|pwd|secret|token|api[-_]?key)\b['\"]?\s*[=:]\s*['\"](?!\$|\{\{|<)[^\s'\"]{6,}['\"]"),
     "an assignment of a secret"),
    (re.compile(r"\b\w*(PASSWORD|SECRET|TOKEN)\w*=(?!\$|\{\{|<)[^\s'\"$]{6,}"), "a secret in a shell variable"),
    (re.compile(r"(?i)--(password|pass|secret|token)[= ]+['\"]?(?!\$|\{\{|<)[^\s'\"$]{6,}"),
     "a secret passed on a command line"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"), "a GitHub token"),
    (re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
]
SECURE_REFERENCE = re.compile(r"^\{\{resolve:(secretsmanager|ssm-secure):")
PLAIN_SSM_REFERENCE = re.compile(r"\{\{resolve:ssm:")
# The member that names a pair's value: {Key, Value} in tags, {Name, Value} in container, CodeBuild and
# Batch environment variables, {ParameterKey, ParameterValue} in parameter lists.
PAIR_NAMES = (("Key", "Value"), ("Name", "Value"), ("ParameterKey", "ParameterValue"))
# Pair types whose value is a reference to a secret store, not the secret.
REFERENCE_PAIR_TYPES = ("SECRETS_MANAGER", "PARAMETER_STORE")
NOT_SECRETS = {"true", "false", "none", "null", "required", "optional", "changeme"}


def _looks_literal_secret(value: Any) -> bool:
    """For places that only a name marks as secret: a value that could be the secret itself."""
    if not isinstance(value, str) or len(value) < 6:
        return False
    if "{{" in value or value.startswith(("arn:", "/", "s3://", "http")):
        return False
    return value.lower() not in NOT_SECRETS


class NoPlaintextSecrets(Rule):
    id = "CKE109"
    title = "No secret in plain text in a template"
    rationale = ("Templates are stored in S3 by CloudFormation, shown in the console, kept in cdk.out and in "
                 "git. A password, private key or token in a property, a parameter default, an output, a tag "
                 "or user data is readable by everyone who can read any of those; a parameter without NoEcho "
                 "is shown by the console and DescribeStacks.")
    fix = ("Generate the secret in AWS Secrets Manager (GenerateSecretString) and pass its ARN, or use a "
           "dynamic reference {{resolve:secretsmanager:...}} or {{resolve:ssm-secure:...}}; mark secret "
           "parameters NoEcho without a default.")
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/security-best-practices.html#creds"
    tags = ("secrets",)

    def check(self, ctx):
        for stack in ctx.stacks:
            reported: set[tuple] = set()
            for path, message in self._stack_findings(ctx, stack):
                if path not in reported:
                    reported.add(path)
                    yield self.finding(stack, path, message)
            # Content in the template as written: the sections read by name above do not hold descriptions,
            # conditions, rules, resource attributes or transforms, and an intrinsic that does not resolve
            # (a Fn::Sub of a parameter with no default) still carries its literal text.
            for path, message in _content(stack.template, ()):
                if not any(path[:len(done)] == done for done in reported):
                    reported.add(path)
                    yield self.finding(stack, path, message)

    def _stack_findings(self, ctx, stack) -> Iterator[tuple[tuple, str]]:
        for lid, resource in stack.resources.items():
            if not isinstance(resource, dict) or not ctx.present(stack, resource):
                continue
            kind = resource.get("Type") if isinstance(resource.get("Type"), str) else ""
            raw = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
            yield from _properties(stack, ("Resources", lid, "Properties"), kind, raw, ctx.props(stack, lid))
            metadata = resource.get("Metadata")
            if isinstance(metadata, dict):
                for path, message in _named(metadata, ("Metadata",)):
                    yield ("Resources", lid) + path, message
        for name, definition in stack.parameters.items():
            if isinstance(definition, dict) and "Default" in definition and names_secret(name) \
                    and _looks_literal_secret(definition["Default"]):
                yield ("Parameters", name, "Default"), f"parameter {name} has a secret-looking default value"
        mappings = stack.template.get("Mappings")
        if isinstance(mappings, dict):   # a mapping's values are literal by definition
            yield from _named(mappings, ("Mappings",))
        for name, output in stack.outputs.items():
            if isinstance(output, dict):
                value = ctx.resolve(stack, output.get("Value"))
                for _, message in _named({name: value}, ()):
                    yield ("Outputs", name, "Value"), message


def _properties(stack, where: tuple, kind: str, raw: dict, resolved: dict) -> Iterator[tuple[tuple, str]]:
    """Findings in one resource's Properties: its schema's secret slots first, then names and content."""
    slots = secret_slots(kind)
    for path, raw_value, value in _at_slots(slots.secrets, raw, resolved):
        name = path[-1] if not isinstance(path[-1], int) else path[-2]
        problem = _slot_problem(stack, name, kind, raw_value, value)
        if problem:
            yield problem[0] or where + path, problem[1]
    free = (lambda general: True) if not slots.known else (lambda general: general in slots.free_form)
    yield from _walk(resolved, where, (), free)


def _slot_problem(stack, name: str, kind: str, raw_value: Any, value: Any) -> tuple[tuple | None, str] | None:
    """(where, message) when a secret slot's value is readable: the where is a parameter's Default when
    the secret is written there (None: the property itself)."""
    parameter = raw_value.get("Ref") if isinstance(raw_value, dict) and len(raw_value) == 1 else None
    if isinstance(parameter, str) and isinstance(stack.parameters.get(parameter), dict):
        definition = stack.parameters[parameter]
        if "Default" in definition and isinstance(value, str) and value and not _is_reference(value):
            return (("Parameters", parameter, "Default"),
                    f"parameter {parameter} is passed to {name}, a secret, and its Default writes the secret "
                    "into the template")
        if str(definition.get("NoEcho")).lower() != "true" and \
                not str(definition.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            return None, (f"{name} takes parameter {parameter}, which is not NoEcho: the console and "
                          "DescribeStacks show the secret")
        return None
    if isinstance(value, str) and PLAIN_SSM_REFERENCE.search(value):
        return None, f"{name} reads a plain String SSM parameter; a secret belongs in ssm-secure or Secrets Manager"
    if isinstance(value, str) and value and not _is_reference(value):
        return None, f"{name} is a secret ({kind} schema) and holds a literal value"
    return None


def _is_reference(value: str) -> bool:
    return bool(SECURE_REFERENCE.match(value)) or is_symbolic(value)


def _at_slots(slots, raw: Any, resolved: Any) -> Iterator[tuple[tuple, Any, Any]]:
    """(concrete path, raw value, resolved value) for every value at one of the slot paths."""
    for slot in slots:
        yield from _follow(slot, (), raw, resolved)


def _follow(rest: tuple, path: tuple, raw: Any, resolved: Any) -> Iterator[tuple[tuple, Any, Any]]:
    if resolved is None or (rest and isinstance(resolved, Unresolved)):
        return
    if not rest:   # an unresolved value is yielded too: a Ref to a parameter with no default is one
        if isinstance(resolved, list):   # a slot that takes a list of secrets ("Passwords")
            for index, item in enumerate(resolved):
                yield path + (index,), _item(raw, index), item
        else:
            yield path, raw, resolved
        return
    head, tail = rest[0], rest[1:]
    if head == "*":
        if isinstance(resolved, list):
            for index, item in enumerate(resolved):
                yield from _follow(tail, path + (index,), _item(raw, index), item)
        elif isinstance(resolved, dict):
            for key, item in resolved.items():
                yield from _follow(tail, path + (key,), _member(raw, key), item)
    elif isinstance(resolved, dict) and head in resolved:
        yield from _follow(tail, path + (head,), _member(raw, head), resolved[head])


def _item(raw: Any, index: int) -> Any:
    return raw[index] if isinstance(raw, list) and index < len(raw) else None


def _member(raw: Any, key: str) -> Any:
    return raw.get(key) if isinstance(raw, dict) else None


def _walk(value: Any, path: tuple, general: tuple, free) -> Iterator[tuple[tuple, str]]:
    """Names and content in resolved properties; `general` is the schema path (lists and free-form
    members as "*"), `free(general)` says whether the object there takes names of the template's own."""
    if isinstance(value, dict):
        yield from _pair(value, path)
        names_are_own = free(general)
        for key, child in value.items():
            child_general = general + ("*" if names_are_own else key,)
            if names_are_own and isinstance(key, str) and names_secret(key) and _looks_literal_secret(child):
                yield path + (key,), f"{key} holds a literal secret"
            else:
                yield from _walk(child, path + (key,), child_general, free)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, path + (index,), general + ("*",), free)
    elif isinstance(value, str):
        yield from _content(value, path)


def _pair(value: dict, path: tuple) -> Iterator[tuple[tuple, str]]:
    if value.get("Type") in REFERENCE_PAIR_TYPES:
        return
    for name_member, value_member in PAIR_NAMES:
        name = value.get(name_member)
        if isinstance(name, str) and value_member in value:
            if names_secret(name) and _looks_literal_secret(value[value_member]):
                yield path + (value_member,), f"{name} holds a literal secret"
            return


def _named(value: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    """Names and content in a part of the template whose names are all the template's own."""
    yield from _walk(value, path, (), lambda general: True)


def _content(value: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    """Secrets recognisable by their content, in any string anywhere under `value`."""
    stack = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            stack.extend((child, where + (key,)) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, where + (index,)) for index, child in enumerate(node))
        elif isinstance(node, str):
            for pattern, label in CONTENT_PATTERNS:
                if pattern.search(node):
                    key = next((p for p in reversed(where) if isinstance(p, str)), "value")
                    yield where, f"{key} contains {label}"
                    break
