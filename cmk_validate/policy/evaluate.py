"""Concrete evaluation of one request against policies, as IAM does it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from cmk_validate.policy import not_principal
from cmk_validate.policy.glob import arn_like, glob_match
from cmk_validate.policy.statements import Condition, Statement

NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
           "DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike"}


@dataclass(frozen=True)
class Principal:
    """Who asks. `kind` is AWS, Service, Federated, CanonicalUser or Anonymous."""

    kind: str = "AWS"
    id: str = ""          # ARN for AWS principals, service name for services
    account: str = ""

    @classmethod
    def aws(cls, arn: str) -> "Principal":
        parts = arn.split(":")
        return cls("AWS", arn, parts[4] if len(parts) > 4 else "")

    @classmethod
    def anonymous(cls) -> "Principal":
        return cls("Anonymous", "", "")


@dataclass
class Request:
    action: str
    resource: str
    principal: Principal = field(default_factory=Principal.anonymous)
    context: dict = field(default_factory=dict)   # condition key -> str or list of str

    def value(self, key: str) -> Any:
        """Context value by case-insensitive key; aws:PrincipalArn/Account come from the principal."""
        lowered = key.lower()
        for name, value in self.context.items():
            if name.lower() == lowered:
                return value
        if self.principal.kind == "AWS":
            if lowered == "aws:principalarn":
                return self.principal.id
            if lowered == "aws:principalaccount":
                return self.principal.account
        if self.principal.kind == "Service" and lowered == "aws:principalservicename":
            return self.principal.id
        return None


@dataclass(frozen=True)
class Decision:
    effect: str                          # "Allow", "Deny" or "ImplicitDeny"
    statement: Statement | None = None   # the deciding statement, None for an implicit deny

    @property
    def allowed(self) -> bool:
        return self.effect == "Allow"


def evaluate(request: Request, policies: Iterable[Iterable[Statement]]) -> Decision:
    """Explicit Deny in any policy wins; otherwise any Allow; otherwise implicit deny."""
    allow: Statement | None = None
    for policy in policies:
        for statement in policy:
            if not statement_matches(statement, request):
                continue
            if statement.effect == "Deny":
                return Decision("Deny", statement)
            if statement.effect == "Allow" and allow is None:
                allow = statement
    return Decision("Allow", allow) if allow else Decision("ImplicitDeny", None)


def statement_matches(statement: Statement, request: Request) -> bool:
    if statement.actions is not None and not _any_glob(statement.actions, request.action, True):
        return False
    if statement.not_actions is not None and _any_glob(statement.not_actions, request.action, True):
        return False
    if statement.resources is not None and not _any_glob(statement.resources, request.resource):
        return False
    if statement.not_resources is not None and _any_glob(statement.not_resources, request.resource):
        return False
    if statement.principals is not None and not principal_matches(statement.principals, request.principal):
        return False
    if statement.not_principals is not None and left_out(statement.not_principals, request.principal):
        return False
    return all(condition_holds(condition, request) for condition in statement.conditions)


def _any_glob(patterns: list, text: str, ignore_case: bool = False) -> bool:
    return any(isinstance(p, str) and glob_match(p, text, ignore_case) for p in patterns)


def left_out(not_principals: dict, principal: Principal) -> bool:
    """Whether a NotPrincipal list leaves `principal` out of its statement (policy/not_principal.py)."""
    if not_principal.everyone(not_principals):
        return True
    if principal.kind == "AWS":
        return principal.id in not_principal.exempt_aws_principals(not_principals)
    return principal.id in not_principal.exempt_others(not_principals, principal.kind)


def principal_matches(principals: dict, principal: Principal) -> bool:
    return principal_match_kind(principals, principal) is not None


def principal_match_kind(principals: dict, principal: Principal) -> str | None:
    """'direct' when `principals` names the caller (or everyone), 'account' when only its account
    (root), which for KMS key policies means "delegated to the account's IAM policies"."""
    for kind, ids in principals.items():
        for value in ids:
            if not isinstance(value, str):
                continue
            if kind == "AWS" and value == "*":
                return "direct"
            if kind != principal.kind:
                continue
            if value == principal.id:
                return "direct"
            if kind == "AWS" and principal.account and value in (principal.account,
                                                                 f"arn:aws:iam::{principal.account}:root"):
                return "account"
    return None


def condition_holds(condition: Condition, request: Request) -> bool:
    value = request.value(condition.key)
    present = value is not None and value != []
    values = value if isinstance(value, list) else [value]
    base, qualifier = condition.base, condition.qualifier
    if base == "Null":
        wants_absent = str(condition.values[0]).lower() == "true" if condition.values else True
        return (not present) == wants_absent
    if qualifier == "ForAllValues":
        return (not present) or all(_single(base, v, condition.values) for v in values)
    if qualifier == "ForAnyValue":
        return present and any(_single(base, v, condition.values) for v in values)
    if not present:
        return condition.if_exists or base in NEGATED
    return any(_single(base, v, condition.values) for v in values)


def _single(base: str, actual: Any, expected: tuple) -> bool:
    """One request value against the condition's values (OR), negated for Not operators."""
    negated = base in NEGATED
    positive = _POSITIVE.get(base.replace("Not", "", 1) if negated else base)
    if positive is None:
        return False   # unknown operator: IAM treats the condition as not met
    hit = any(_safe(positive, str(actual), e) for e in expected if not _is_unresolved(e))
    return not hit if negated else hit


def _is_unresolved(value: Any) -> bool:
    return type(value).__name__ == "Unresolved"


def _safe(function, actual: str, expected: Any) -> bool:
    try:
        return function(actual, expected)
    except (ValueError, TypeError):
        return False


def _numeric(compare):
    return lambda a, e: compare(float(a), float(e))


def _date(compare):
    def parse(text: Any) -> float:
        text = str(text)
        return float(text) if text.replace(".", "", 1).isdigit() else \
            datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    return lambda a, e: compare(parse(a), parse(e))


_POSITIVE = {
    "StringEquals": lambda a, e: a == str(e),
    "StringEqualsIgnoreCase": lambda a, e: a.lower() == str(e).lower(),
    "StringLike": lambda a, e: glob_match(str(e), a),
    "NumericEquals": _numeric(lambda a, e: a == e),
    "NumericLessThan": _numeric(lambda a, e: a < e),
    "NumericLessThanEquals": _numeric(lambda a, e: a <= e),
    "NumericGreaterThan": _numeric(lambda a, e: a > e),
    "NumericGreaterThanEquals": _numeric(lambda a, e: a >= e),
    "DateEquals": _date(lambda a, e: a == e),
    "DateLessThan": _date(lambda a, e: a < e),
    "DateLessThanEquals": _date(lambda a, e: a <= e),
    "DateGreaterThan": _date(lambda a, e: a > e),
    "DateGreaterThanEquals": _date(lambda a, e: a >= e),
    "Bool": lambda a, e: a.lower() == str(e).lower(),
    "BinaryEquals": lambda a, e: a == str(e),
    "IpAddress": lambda a, e: ipaddress.ip_address(a) in ipaddress.ip_network(str(e), strict=False),
    "ArnEquals": lambda a, e: arn_like(str(e), a),
    "ArnLike": lambda a, e: arn_like(str(e), a),
}
