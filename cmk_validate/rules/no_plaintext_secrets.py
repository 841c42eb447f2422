"""CKE109: no password, key or token in plain text anywhere in a template."""

from __future__ import annotations

import re
from typing import Any, Iterator

from cmk_validate.rules import Rule

SECRET_NAME = re.compile(r"(pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|private[-_]?key|"
                         r"access[-_]?key|credential|auth[-_]?key)$|^(pass(word)?|secret|token)", re.I)
# Names that mention a secret but hold a pointer or a setting, never the secret itself.
POINTER_NAME = re.compile(r"(arn|name|id|ids|length|template|policy|rotation|type|ttl|enabled|version|"
                          r"parametername|path|uri|url|key[-_]?id|include|exclude|requirements?)$", re.I)
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
DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):")


def _looks_literal_secret(value: Any) -> bool:
    if not isinstance(value, str) or len(value) < 6:
        return False
    if DYNAMIC_REFERENCE.search(value) or "{{" in value or value.startswith(("arn:", "/", "s3://", "http")):
        return False
    return value.lower() not in ("true", "false", "none", "null", "required", "optional")


class NoPlaintextSecrets(Rule):
    id = "CKE109"
    title = "No secret in plain text in a template"
    rationale = ("Templates are stored in S3 by CloudFormation, shown in the console, kept in cdk.out and in "
                 "git. A password, private key or token in a property, a parameter default, an output, a tag "
                 "or user data is readable by everyone who can read any of those.")
    fix = ("Generate the secret in AWS Secrets Manager (GenerateSecretString) and pass its ARN, or use a "
           "dynamic reference {{resolve:secretsmanager:...}}; mark secret parameters NoEcho without a default.")
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/security-best-practices.html#creds"
    tags = ("secrets",)

    def check(self, ctx):
        for stack in ctx.stacks:
            for name, definition in stack.parameters.items():
                if isinstance(definition, dict) and "Default" in definition and SECRET_NAME.search(name) \
                        and not POINTER_NAME.search(name) and _looks_literal_secret(definition["Default"]):
                    yield self.finding(stack, ("Parameters", name, "Default"),
                                       f"parameter {name} has a secret-looking default value")
            for lid, resource in stack.resources.items():
                if not isinstance(resource, dict) or not ctx.present(stack, resource):
                    continue
                props = ctx.props(stack, lid)
                for path, message in _scan(props, ("Properties",)):
                    yield self.finding(stack, ("Resources", lid) + path, message)
                metadata = resource.get("Metadata")
                if isinstance(metadata, dict):
                    for path, message in _scan(metadata, ("Metadata",), names=False):
                        yield self.finding(stack, ("Resources", lid) + path, message)
            mappings = stack.template.get("Mappings")
            if isinstance(mappings, dict):   # a mapping's values are literal by definition
                for path, message in _scan(mappings, ("Mappings",)):
                    yield self.finding(stack, path, message)
            for name, output in stack.outputs.items():
                if isinstance(output, dict):
                    value = ctx.resolve(stack, output.get("Value"))
                    for path, message in _scan({name: value}, ()):
                        yield self.finding(stack, ("Outputs", name, "Value"), message)


# The member that names a pair's Value: {Key, Value} in tags, {Name, Value} in container, CodeBuild and
# Batch environment variables, {ParameterKey, ParameterValue}-like shapes use their own names.
PAIR_NAMES = (("Key", "Value"), ("Name", "Value"), ("ParameterKey", "ParameterValue"), ("Name", "ValueFrom"))


def _named_pair(value: dict) -> tuple[str, str] | None:
    for name_member, value_member in PAIR_NAMES:
        if isinstance(value.get(name_member), str) and value_member in value:
            return value[name_member], value_member
    return None


def _scan(value: Any, path: tuple, names: bool = True, key: str = "") -> Iterator[tuple[tuple, str]]:
    if isinstance(value, dict):
        pair = _named_pair(value) if names else None
        if pair is not None and value.get("Type") not in ("SECRETS_MANAGER", "PARAMETER_STORE"):
            name, value_member = pair
            if SECRET_NAME.search(name) and not POINTER_NAME.search(name) and _looks_literal_secret(value[value_member]):
                yield path + (value_member,), f"{name} holds a literal secret"
        for child_key, child in value.items():
            yield from _scan(child, path + (child_key,), names, str(child_key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _scan(child, path + (index,), names, key)
    elif isinstance(value, str):
        if names and key and SECRET_NAME.search(key) and not POINTER_NAME.search(key) and _looks_literal_secret(value):
            yield path, f"{key} holds a literal secret"
            return
        for pattern, label in CONTENT_PATTERNS:
            if pattern.search(value):
                yield path, f"{key or 'value'} contains {label}"
                return
