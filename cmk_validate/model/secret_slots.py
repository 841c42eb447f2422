"""Where each resource type takes a secret, read from its CloudFormation resource schema.

A list of property names (cfn-lint's W2501 keeps nine) misses the types it does not name:
`AWS::Events::Connection`'s `ApiKeyValue`, `AWS::DMS::Endpoint`'s `MongoDbSettings/Password`,
`AWS::ElastiCache::User`'s `Passwords`. The resource provider schemas (cfn-lint ships them) describe
every property of every type, so the places are found by walking them. A property is a secret slot
when it holds text (not an enumeration, and not a pointer: the schema's `format` or
`relationshipRef` says it names another resource) and either its own name ends in a word that means
a secret, or the schema marks it write-only (CloudFormation never returns it) and its description
says it is one. Free-form objects (`additionalProperties`, `patternProperties`, untyped `object`)
are where a template chooses its own names, such as environment variables: the rule reads those
names itself. Everything the schema names and does not call a secret is not one, so an enumerated
`HttpTokens` or an idempotency `ClientToken` is never reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cmk_validate.model.property_types import resolve_ref, resource_schema

MAX_DEPTH = 24
# Final words of a property name that mean the value is itself a secret.
SECRET_WORDS = {"password", "passwords", "passwd", "passphrase", "secret", "secrets"}
# "...Key" and "...Token" are secrets only with one of these words before them ("PrivateKey",
# "AuthToken"); alone, "KmsKey", "ClientToken" (idempotency) or "VersionToken" are not.
KEY_QUALIFIERS = {"private", "api", "auth", "secret", "signing", "hmac", "shared", "license"}
TOKEN_QUALIFIERS = {"auth", "access", "oauth", "refresh", "secret", "api", "bearer", "hec", "session",
                    "security", "id", "github", "personal", "bot"}
SECRET_DESCRIPTION = re.compile(r"\b(password|passphrase|private key|secret key|shared secret|api key|"
                                r"client secret|access token|auth(entication)? token)\b", re.I)
# A description that opens "The ARN of ..." or "The name of ..." describes a pointer to a secret.
POINTER_DESCRIPTION = re.compile(r"^\s*(the\s+)?(amazon resource name|arn\b|(name|id|identifier|key) (of|for)\b)", re.I)
# Last words of names that hold a pointer or a setting about a secret, whatever the description says.
POINTER_WORDS = {"arn", "name", "id", "ids", "identifier", "path", "uri", "url", "length", "characters",
                 "type", "key", "enabled", "required", "pem", "certificate"}
WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|\d+")


@dataclass(frozen=True)
class SecretSlots:
    """The secret properties of one resource type (paths under Properties, "*" for a list item
    or a map value) and the free-form objects whose member names the template chooses."""

    secrets: frozenset[tuple[str, ...]]
    free_form: frozenset[tuple[str, ...]]
    known: bool   # False: no schema (custom resources, unknown types); every name is the template's own


def words(name: str) -> list[str]:
    """'DomainSigningPrivateKey' -> ['domain', 'signing', 'private', 'key']; 'HECToken' -> ['hec', 'token']."""
    return [w.lower() for w in WORD.findall(name.replace("-", "_"))]


def names_secret(name: str) -> bool:
    """True for a name whose last words say the value is a secret, not a pointer to one."""
    parts = words(name)
    if not parts:
        return False
    last, before = parts[-1], set(parts[-3:-1])   # "SecretAccessKey": a qualifier one or two words back
    if last == "value" and len(parts) > 1:   # "ApiKeyValue", "SecretValue"
        return names_secret(name[: len(name) - len("Value")].rstrip("_-"))
    if last in SECRET_WORDS:
        return True
    if last in ("key", "keys"):
        return bool(before & KEY_QUALIFIERS)
    if last in ("token", "tokens"):
        return bool(before & TOKEN_QUALIFIERS) or len(parts) == 1
    return False


@lru_cache(maxsize=512)
def secret_slots(resource_type: str) -> SecretSlots:
    schema = resource_schema(resource_type)
    if schema is None:
        return SecretSlots(frozenset(), frozenset(), known=False)
    write_only, read_only = (_paths(schema, "writeOnlyProperties"), _paths(schema, "readOnlyProperties"))
    secrets: set[tuple[str, ...]] = set()
    free_form: set[tuple[str, ...]] = set()
    _walk({"type": "object", "properties": schema.get("properties", {})}, schema, (), "", False,
          write_only, secrets, free_form, 0)
    # A read-only property is an output: a template cannot set it.
    secrets = {path for path in secrets if not any(_strip(path)[:len(r)] == r for r in read_only)}
    return SecretSlots(frozenset(secrets), frozenset(free_form), known=True)


def _paths(schema: dict, keyword: str) -> set[tuple[str, ...]]:
    """'/properties/A/B' entries of a schema keyword as ('A', 'B')."""
    return {tuple(p.split("/")[2:]) for p in schema.get(keyword, ()) if isinstance(p, str) and p.startswith("/properties/")}


def _walk(node: Any, root: dict, path: tuple, name: str, under_write_only: bool,
          write_only: set, secrets: set, free_form: set, depth: int, seen: frozenset = frozenset()) -> None:
    if not isinstance(node, dict):
        return
    reference = node.get("$ref")
    if reference in seen or depth > MAX_DEPTH:
        return   # a recursive definition: its slots are already found one level up
    seen = seen | {reference} if reference else seen
    node = resolve_ref(node, root)
    if not isinstance(node, dict):
        return
    hidden = under_write_only or _strip(path) in write_only
    properties = node.get("properties")
    if isinstance(properties, dict):
        for child_name, child in properties.items():
            _walk(child, root, path + (child_name,), child_name, hidden, write_only, secrets, free_form, depth + 1, seen)
    items = node.get("items")
    if isinstance(items, dict):
        _walk(items, root, path + ("*",), name, hidden, write_only, secrets, free_form, depth + 1, seen)
    if _free_form(node, properties):
        free_form.add(path)
        values = node.get("additionalProperties")
        if isinstance(values, dict):
            _walk(values, root, path + ("*",), "", hidden, write_only, secrets, free_form, depth + 1, seen)
        for pattern_values in (node.get("patternProperties") or {}).values():
            _walk(pattern_values, root, path + ("*",), "", hidden, write_only, secrets, free_form, depth + 1, seen)
    if name and _holds_text(node) and _is_secret(name, node, hidden):
        secrets.add(path)


def _strip(path: tuple) -> tuple:
    return tuple(p for p in path if p != "*")


def _is_secret(name: str, node: dict, hidden: bool) -> bool:
    if node.get("relationshipRef") or "enum" in node or "const" in node:
        return False
    form = node.get("format")
    if isinstance(form, str) and form.startswith("AWS::"):
        return False   # cfn-lint's format for "the id/ARN/name of a resource of that type"
    description = node.get("description") if isinstance(node.get("description"), str) else ""
    if POINTER_DESCRIPTION.match(description):
        return False
    if names_secret(name):
        return True
    return hidden and bool(SECRET_DESCRIPTION.search(description)) and not set(words(name)[-1:]) & POINTER_WORDS


def _holds_text(node: dict) -> bool:
    kinds = node.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    return "string" in kinds or (kinds == {None} and "properties" not in node and "items" not in node)


def _free_form(node: dict, properties: Any) -> bool:
    if node.get("patternProperties"):
        return True
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) or extra is True:
        return True
    kinds = node.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    return "object" in kinds and not isinstance(properties, dict) and extra is not False
