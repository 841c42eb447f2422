"""Concrete evaluation of one request against policies, as IAM does it."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from cmk_validate.policy import not_principal, variables
from cmk_validate.policy.glob import Pattern, arn_like, glob_match, pattern_of, resource_match, text_of
from cmk_validate.policy.statements import Condition, Effect, Statement

NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
           "DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike"}


@dataclass(frozen=True)
class Principal:
    """Who asks. `kind` is AWS, Service, Federated, CanonicalUser or Anonymous.

    A role session is known by two ARNs: `id`, its role's ARN (what aws:PrincipalArn holds and what a
    Principal element naming the role matches), and `session`, the assumed-role ARN (what a Principal
    element naming the session matches) (IAM User Guide, "AWS global condition context keys",
    aws:PrincipalArn; "AWS JSON policy elements: Principal", role sessions)."""

    kind: str = "AWS"
    id: str = ""          # ARN for AWS principals (a session's role), service name for services
    account: str = ""
    session: str = ""     # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION for a role session
    org_id: str = ""      # aws:PrincipalOrgID, when the account is in an organization

    @classmethod
    def aws(cls, arn: str, org_id: str = "") -> "Principal":
        session = _SESSION.fullmatch(arn)
        if session:
            role = f"arn:{session['partition']}:iam::{session['account']}:role/{session['role']}"
            return cls("AWS", role, session["account"], arn, org_id)
        parts = arn.split(":")
        return cls("AWS", arn, parts[4] if len(parts) > 4 else "", "", org_id)

    @classmethod
    def anonymous(cls) -> "Principal":
        return cls("Anonymous", "", "")

    @property
    def type(self) -> str | None:
        """aws:PrincipalType: Account, User, FederatedUser, AssumedRole or Anonymous."""
        if self.kind == "Anonymous":
            return "Anonymous"
        if self.kind != "AWS":
            return None
        if self.session:
            return "AssumedRole"
        if self.id.endswith(":root"):
            return "Account"
        return "FederatedUser" if ":federated-user/" in self.id else "User" if ":user/" in self.id else None


_SESSION = re.compile(r"arn:(?P<partition>[^:]+):sts::(?P<account>[^:]+):assumed-role/(?P<role>[^/]+)/.+")
# Keys every request carries that come from who asks, not from what is asked (IAM User Guide, "AWS global
# condition context keys", principal properties; KMS Developer Guide, kms:CallerAccount).
_FROM_PRINCIPAL = {
    "aws:principalarn": lambda p: p.id if p.kind == "AWS" else None,
    "aws:principalaccount": lambda p: p.account or None if p.kind == "AWS" else None,
    "kms:calleraccount": lambda p: p.account or None if p.kind == "AWS" else None,
    "aws:principalorgid": lambda p: p.org_id or None if p.kind == "AWS" else None,
    "aws:principaltype": lambda p: p.type,
    "aws:principalisawsservice": lambda p: None if p.kind == "Anonymous" else
    "true" if p.kind == "Service" else "false",
    "aws:principalservicename": lambda p: p.id if p.kind == "Service" else None,
    "aws:username": lambda p: p.id.rsplit("/", 1)[-1] if p.kind == "AWS" and ":user/" in p.id else None,
}


@dataclass
class Request:
    action: str
    resource: str
    principal: Principal = field(default_factory=Principal.anonymous)
    context: dict = field(default_factory=dict)   # condition key -> str or list of str

    def value(self, key: str) -> Any:
        """Context value by case-insensitive key; the keys that describe the caller come from the principal."""
        lowered = key.lower()
        for name, value in self.context.items():
            if name.lower() == lowered:
                return value
        derived = _FROM_PRINCIPAL.get(lowered)
        return derived(self.principal) if derived else None


@dataclass(frozen=True)
class Decision:
    effect: Effect
    statement: Statement | None = None   # the deciding statement, None for an implicit deny

    @property
    def allowed(self) -> bool:
        return self.effect == Effect.ALLOW


def evaluate(request: Request, policies: Iterable[Iterable[Statement]]) -> Decision:
    """Explicit Deny in any policy wins; otherwise any Allow; otherwise implicit deny."""
    allow: Statement | None = None
    for policy in policies:
        for statement in policy:
            if not statement_matches(statement, request):
                continue
            if statement.effect == Effect.DENY:
                return Decision(Effect.DENY, statement)
            if statement.effect == Effect.ALLOW and allow is None:
                allow = statement
    return Decision(Effect.ALLOW, allow) if allow else Decision(Effect.IMPLICIT_DENY, None)


def statement_matches(statement: Statement, request: Request) -> bool:
    if statement.actions is not None and not _any_glob(statement.actions, request.action, True):
        return False
    if statement.not_actions is not None and _any_glob(statement.not_actions, request.action, True):
        return False
    if statement.resources is not None and not _any_resource(statement, statement.resources, request):
        return False
    if statement.not_resources is not None and _any_resource(statement, statement.not_resources, request):
        return False
    if statement.principals is not None and not principal_matches(statement.principals, request.principal):
        return False
    if statement.not_principals is not None and left_out(statement.not_principals, request.principal):
        return False
    return all(condition_holds(condition, request, statement.variables) for condition in statement.conditions)


def _any_glob(patterns: list, text: str, ignore_case: bool = False) -> bool:
    return any(isinstance(p, str) and glob_match(p, text, ignore_case) for p in patterns)


def _any_resource(statement: Statement, patterns: list, request: Request) -> bool:
    """Resource entries, with policy variables filled from the request (an entry whose variable has no
    value matches nothing) and wildcards within ARN segments."""
    for entry in patterns:
        if not isinstance(entry, str):
            continue
        pattern = variables.substitute(entry, request.value) if statement.variables else pattern_of(entry)
        if pattern is not None and resource_match(pattern, request.resource):
            return True
    return False


def left_out(not_principals: dict, principal: Principal) -> bool:
    """Whether a NotPrincipal list leaves `principal` out of its statement (policy/not_principal.py): a
    role session only when its own session ARN is listed too."""
    if not_principal.everyone(not_principals):
        return True
    if principal.kind == "AWS":
        if principal.id not in not_principal.exempt_aws_principals(not_principals):
            return False
        return not principal.session or principal.session in not_principals.get("AWS", [])
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
            if value == principal.id or (principal.session and value == principal.session):
                return "direct"
            if kind == "AWS" and principal.account and value in (principal.account,
                                                                 f"arn:aws:iam::{principal.account}:root"):
                return "account"
    return None


def condition_holds(condition: Condition, request: Request, with_variables: bool = False) -> bool:
    """One condition, as the IAM User Guide's condition operator pages define it: a key the request
    lacks fails a positive operator and passes a negated one, unless IfExists (then it passes);
    ForAllValues passes with no value, ForAnyValue fails with none unless IfExists
    (reference_policies_condition-single-vs-multi-valued-context-keys.html)."""
    value = request.value(condition.key)
    present = value is not None and value != []
    values = value if isinstance(value, list) else [value]
    base, qualifier = condition.base, condition.qualifier
    if base == "Null":
        wants_absent = _text(condition.values[0]).lower() == "true" if condition.values else True
        return (not present) == wants_absent
    expected = _expected(condition.values, request, with_variables)
    if qualifier == "ForAllValues":
        return (not present) or all(_single(base, v, expected) for v in values)
    if qualifier == "ForAnyValue":
        if value is None:   # absent; an empty set is present, and no value of it matches
            return condition.if_exists
        return any(_single(base, v, expected) for v in values if v is not None)
    if not present:
        return condition.if_exists or base in NEGATED
    return any(_single(base, v, expected) for v in values)


def _text(value: Any) -> str:
    """A condition value as IAM reads it: JSON true/false unquoted are the strings "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _expected(values: tuple, request: Request, with_variables: bool) -> list[Pattern]:
    """The condition's values as patterns, policy variables filled; a value whose variable has no value
    is left out, since nothing is equal to or like it."""
    out = []
    for value in values:
        if _is_unresolved(value):
            continue
        text = _text(value)
        pattern = variables.substitute(text, request.value) if with_variables else pattern_of(text)
        if pattern is not None:
            out.append(pattern)
    return out


def _single(base: str, actual: Any, expected: list[Pattern]) -> bool:
    """One request value against the condition's values (OR), negated for Not operators."""
    negated = base in NEGATED
    positive = _POSITIVE.get(base.replace("Not", "", 1) if negated else base)
    if positive is None:
        return False   # unknown operator: IAM treats the condition as not met
    hit = any(_safe(positive, _text(actual), e) for e in expected)
    return not hit if negated else hit


def _is_unresolved(value: Any) -> bool:
    return type(value).__name__ == "Unresolved"


def _safe(function, actual: str, expected: Pattern) -> bool:
    try:
        return function(actual, expected)
    except (ValueError, TypeError, OverflowError):
        return False


def _numeric(compare):
    return lambda a, e: compare(float(a), float(text_of(e)))


def _date(compare):
    def parse(text: str) -> float:
        return float(text) if text.replace(".", "", 1).isdigit() else \
            datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    return lambda a, e: compare(parse(a), parse(text_of(e)))


_POSITIVE = {
    "StringEquals": lambda a, e: a == text_of(e),
    "StringEqualsIgnoreCase": lambda a, e: a.lower() == text_of(e).lower(),
    "StringLike": lambda a, e: glob_match(e, a),
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
    "Bool": lambda a, e: a.lower() == text_of(e).lower(),
    "BinaryEquals": lambda a, e: a == text_of(e),
    "IpAddress": lambda a, e: ipaddress.ip_address(a) in ipaddress.ip_network(text_of(e), strict=False),
    "ArnEquals": lambda a, e: arn_like(e, a),
    "ArnLike": lambda a, e: arn_like(e, a),
}
