"""Normalised policy statements: every field a list, principals a dict, conditions a flat list."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cmk_validate.model.property_types import kind_of
from cmk_validate.model.resolver import Unresolved, find_unresolved
from cmk_validate.policy.variables import VERSION_WITH_VARIABLES


class Effect(StrEnum):
    """A statement's effect and a request's decision: one type for the evaluator, the prover, the rules
    and the review. The text is IAM's ("Allow", "Deny"); "ImplicitDeny" when no statement applies."""

    ALLOW = "Allow"
    DENY = "Deny"
    IMPLICIT_DENY = "ImplicitDeny"
    UNKNOWN = "Unknown"   # a statement whose Effect IAM refuses


@dataclass(frozen=True)
class Condition:
    """One `operator: {key: values}` entry; `key` is lower-cased (IAM keys are case-insensitive)."""

    operator: str          # as written, e.g. "ForAnyValue:StringNotLikeIfExists"
    key: str
    values: tuple

    @property
    def qualifier(self) -> str:
        return self.operator.split(":", 1)[0] if ":" in self.operator else ""

    @property
    def base(self) -> str:
        """Operator without set qualifier and IfExists, e.g. 'StringNotLike'."""
        name = self.operator.split(":", 1)[-1]
        return name[: -len("IfExists")] if name.endswith("IfExists") else name

    @property
    def if_exists(self) -> bool:
        return self.operator.endswith("IfExists")


@dataclass
class Statement:
    """One statement; `unresolved` names why part of it is only known at deploy time."""

    effect: str
    sid: str = ""
    actions: list | None = None
    not_actions: list | None = None
    resources: list | None = None
    not_resources: list | None = None
    principals: dict | None = None       # None: identity policy (no Principal element)
    not_principals: dict | None = None
    conditions: list = field(default_factory=list)
    index: int = 0
    unresolved: str = ""
    raw: Any = None
    variables: bool = False              # Version 2012-10-17: ${...} are policy variables (policy/variables.py)

    @property
    def label(self) -> str:
        return self.sid or f"statement {self.index}"


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_map(value: Any) -> dict:
    if value == "*":
        return {"AWS": ["*"]}
    if isinstance(value, dict):
        return {str(kind): [str(v) if not isinstance(v, Unresolved) else v for v in _as_list(ids)]
                for kind, ids in value.items()}
    return {"AWS": _as_list(value)}


POLICY_ELEMENTS = ("Version", "Id", "Statement")  # the top-level elements IAM accepts
# Condition operators IAM knows (reference_policies_elements_condition_operators.html), before the optional
# ForAllValues:/ForAnyValue: prefix and IfExists suffix; IAM refuses a policy with any other.
OPERATORS = frozenset(
    [f"String{n}{e}" for n in ("", "Not") for e in ("Equals", "EqualsIgnoreCase", "Like")]
    + [f"Numeric{c}" for c in ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")]
    + [f"Date{c}" for c in ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")]
    + ["Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null"])


def parse_policy(document: Any) -> list[Statement]:
    """Statements of a (resolved) policy document; a lone statement object is accepted too.

    A part IAM would reject (a Condition that is not an object, an Effect other than Allow or Deny, an
    action that is not a string...) makes its statement `unresolved` with the reason, so that every rule
    reports it instead of reading the statement without that part (a Deny without its condition would
    deny everything, and prove too much)."""
    if isinstance(document, Unresolved):
        return [Statement(effect="Unknown", unresolved=document.reason)]
    if isinstance(document, str):  # some properties take the policy as a JSON string
        try:
            document = json.loads(document)
        except ValueError:
            return [Statement(effect="Unknown", unresolved="the policy is a string that is not JSON")]
    if not isinstance(document, dict):
        return [Statement(effect="Unknown", unresolved="the policy is not an object")] if document else []
    unknown = [str(key) for key in document if key not in POLICY_ELEMENTS]
    if unknown or "Statement" not in document:
        return [Statement(effect="Unknown", unresolved=f"malformed policy: {'unknown element ' + unknown[0] if unknown else 'no Statement'}")]
    raw_statements = document.get("Statement", [])
    if not isinstance(raw_statements, (list, dict, Unresolved)):
        return [Statement(effect="Unknown", unresolved=f"malformed policy: Statement is {kind_of(raw_statements)}, "
                                                       "not a list or an object")]
    statements = []
    with_variables = document.get("Version") == VERSION_WITH_VARIABLES
    for index, raw in enumerate(_as_list(raw_statements)):
        if isinstance(raw, Unresolved):
            statements.append(Statement(effect="Unknown", index=index, unresolved=raw.reason, raw=raw))
            continue
        if not isinstance(raw, dict):
            statements.append(Statement(effect=Effect.UNKNOWN, index=index, raw=raw,
                                        unresolved=f"malformed policy: statement {index} is {kind_of(raw)}, "
                                                   "not an object"))
            continue
        unresolved = find_unresolved(raw)
        effect = raw.get("Effect")
        # "Condition": null is not an absent condition: IAM refuses it, so the statement is undecided
        # (read as absent, a Deny would apply to every request and prove too much).
        conditions, condition_problem = (_conditions(raw["Condition"]) if raw.get("Condition") is not None else
                                         ([], "Condition is null, not an object") if "Condition" in raw else ([], ""))
        problem = _malformed(raw) or condition_problem
        statement = Statement(
            effect=Effect(effect) if effect in (Effect.ALLOW, Effect.DENY) else Effect.UNKNOWN,
            sid=str(raw.get("Sid", "")) if isinstance(raw.get("Sid"), (str, int)) else "",
            actions=_as_list(raw["Action"]) if "Action" in raw else None,
            not_actions=_as_list(raw["NotAction"]) if "NotAction" in raw else None,
            resources=_as_list(raw["Resource"]) if "Resource" in raw else None,
            not_resources=_as_list(raw["NotResource"]) if "NotResource" in raw else None,
            principals=_principal_map(raw["Principal"]) if "Principal" in raw else None,
            not_principals=_principal_map(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
            conditions=conditions,
            index=index,
            unresolved=(unresolved.reason if unresolved else "") or
                       (f"malformed policy: statement {index}: {problem}" if problem else ""),
            raw=raw,
            variables=with_variables,
        )
        statements.append(statement)
    return statements


def _malformed(raw: dict) -> str:
    """What IAM would reject in a statement's Effect, actions, resources and principals ('' if nothing)."""
    effect = raw.get("Effect")
    if not isinstance(effect, Unresolved) and effect not in (Effect.ALLOW, Effect.DENY):
        return f"Effect is {effect!r}, not Allow or Deny"
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        if element in raw and not all(isinstance(v, (str, Unresolved)) for v in _as_list(raw[element])):
            return f"{element} holds something other than strings"
    for element in ("Principal", "NotPrincipal"):
        if element not in raw or raw[element] == "*" or isinstance(raw[element], Unresolved):
            continue
        value = raw[element]
        if not isinstance(value, dict) or not all(
                isinstance(v, (str, Unresolved)) for ids in value.values() for v in _as_list(ids)):
            return f"{element} is not \"*\" or an object of principal lists"
    return ""


def _conditions(block: Any) -> tuple[list[Condition], str]:
    """(conditions, what is malformed in the block or '')."""
    if block is None or isinstance(block, Unresolved):
        return [], ""
    if not isinstance(block, dict):
        return [], f"Condition is {kind_of(block)}, not an object"
    out = []
    for operator, entries in block.items():
        if not _known_operator(str(operator)):
            return out, f"Condition operator {operator} is not one IAM knows"
        if isinstance(entries, Unresolved):
            continue
        if not isinstance(entries, dict):
            return out, f"Condition operator {operator} holds {kind_of(entries)}, not an object"
        for key, values in entries.items():
            listed = _as_list(values)
            if not all(_is_condition_value(v) for v in listed):
                return out, f"Condition {operator} {key} holds a value that is not a string, number or boolean"
            out.append(Condition(str(operator), str(key).lower(), tuple(listed)))
    return out, ""


def _known_operator(operator: str) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        return False
    base = name[: -len("IfExists")] if name.endswith("IfExists") and name != "NullIfExists" else name
    return base in OPERATORS


def _is_condition_value(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int, bool, Unresolved))
