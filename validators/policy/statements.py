"""Normalised policy statements: every field a list, principals a dict, conditions a flat list."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from validators.model.resolver import Unresolved, find_unresolved


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


def parse_policy(document: Any) -> list[Statement]:
    """Statements of a (resolved) policy document; a lone statement object is accepted too."""
    if isinstance(document, Unresolved):
        return [Statement(effect="Unknown", unresolved=document.reason)]
    if isinstance(document, str):  # some properties take the policy as a JSON string
        try:
            document = json.loads(document)
        except ValueError:
            return [Statement(effect="Unknown", unresolved="the policy is a string that is not JSON")]
    if not isinstance(document, dict):
        return [Statement(effect="Unknown", unresolved="the policy is not an object")] if document else []
    raw_statements = document.get("Statement", [])
    statements = []
    for index, raw in enumerate(_as_list(raw_statements)):
        if isinstance(raw, Unresolved):
            statements.append(Statement(effect="Unknown", index=index, unresolved=raw.reason, raw=raw))
            continue
        if not isinstance(raw, dict):
            continue
        unresolved = find_unresolved(raw)
        effect = raw.get("Effect")
        statement = Statement(
            effect=effect if isinstance(effect, str) else "Unknown",
            sid=str(raw.get("Sid", "")) if not isinstance(raw.get("Sid"), Unresolved) else "",
            actions=_as_list(raw["Action"]) if "Action" in raw else None,
            not_actions=_as_list(raw["NotAction"]) if "NotAction" in raw else None,
            resources=_as_list(raw["Resource"]) if "Resource" in raw else None,
            not_resources=_as_list(raw["NotResource"]) if "NotResource" in raw else None,
            principals=_principal_map(raw["Principal"]) if "Principal" in raw else None,
            not_principals=_principal_map(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
            conditions=_conditions(raw.get("Condition")),
            index=index,
            unresolved=unresolved.reason if unresolved else "",
            raw=raw,
        )
        statements.append(statement)
    return statements


def _conditions(block: Any) -> list[Condition]:
    if not isinstance(block, dict):
        return []
    out = []
    for operator, entries in block.items():
        if not isinstance(entries, dict):
            continue
        for key, values in entries.items():
            out.append(Condition(str(operator), str(key).lower(), tuple(_as_list(values))))
    return out
