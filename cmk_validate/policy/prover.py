"""Prove with z3 that Deny statements cover every request of a scope.

Sampling requests could miss the one that slips through, so the claim "for every request in
scope, some Deny applies" is checked by asking z3 for a counterexample. Each statement is
encoded exactly where its semantics are expressible (strings, wildcards, ARN parts, Null,
Bool and the IgnoreCase operators (every spelling), numeric operators on whole numbers, IfExists,
ForAnyValue/ForAllValues with IfExists, negation, absent keys, Resource wildcards by ARN segment,
policy variables whose filled value has no wildcard); where they are not (date, IP, numbers that are
not whole, a variable inside a wildcard pattern), the statement (or, for a numeric operator, the
request values it cannot read) is
under-approximated as *not applying*, which can only make a proof fail, never pass falsely.
Multi-valued keys are treated as single-valued.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from dataclasses import dataclass, field

import z3

from cmk_validate.policy import not_principal, variables
from cmk_validate.policy.evaluate import NEGATED
from cmk_validate.policy.glob import Pattern, has_wildcard, pattern_of, split_arn, text_of
from cmk_validate.policy.statements import Condition, Effect, Statement


def _glob_regex(pattern: str | Pattern, ctx: z3.Context, colon_free: bool = False, arn_segments: bool = False):
    """z3 regex of an IAM pattern. `colon_free`: no wildcard matches a colon (an ARN part of ArnLike);
    `arn_segments`: the Resource element's rule, where only a `*` ending its segment crosses a colon
    (policy/glob.compile_pattern says where that rule comes from)."""
    pattern = pattern_of(pattern) if isinstance(pattern, str) else pattern
    pieces = []
    literal = ""
    for index, (char, wild) in enumerate(pattern):
        if not wild:
            literal += char
            continue
        if literal:
            pieces.append(z3.Re(literal, ctx))
            literal = ""
        any_char = z3.AllChar(z3.ReSort(z3.StringSort(ctx)))
        spans_colon = not colon_free and (not arn_segments or (
            char == "*" and (index + 1 == len(pattern) or pattern[index + 1] == (":", False))))
        if not spans_colon:
            any_char = z3.Diff(any_char, z3.Re(":", ctx))
        pieces.append(z3.Star(any_char) if char == "*" else any_char)
    if literal:
        pieces.append(z3.Re(literal, ctx))
    if not pieces:
        return z3.Re("", ctx)
    return pieces[0] if len(pieces) == 1 else z3.Concat(*pieces)


def _arn_regex(pattern: str | Pattern, ctx: z3.Context):
    pattern = pattern_of(pattern) if isinstance(pattern, str) else pattern
    parts = split_arn(pattern)
    if len(parts) != 6:
        return _glob_regex(pattern, ctx)
    pieces = []
    for index, part in enumerate(parts):
        if index:
            pieces.append(z3.Re(":", ctx))
        pieces.append(_glob_regex(part, ctx, colon_free=index < 5))
    return z3.Concat(*pieces)


_NUMERIC = {
    "NumericEquals": lambda a, b: a == b, "NumericLessThan": lambda a, b: a < b,
    "NumericLessThanEquals": lambda a, b: a <= b, "NumericGreaterThan": lambda a, b: a > b,
    "NumericGreaterThanEquals": lambda a, b: a >= b,
}
_WHOLE_NUMBER = re.compile(r"[0-9]{1,15}")


@dataclass
class Scope:
    """The requests that must all be denied.

    - actions: the action must start with one of these prefixes (lower case, e.g. "s3:").
    - resources: exact ARNs, or ARNs ending in "/*" meaning "this prefix and any suffix".
    - excepted_principals: principal ARNs that may be let through (break-glass).
    - absent_or_not_in: condition key -> values the key must not take (it may be absent).
    - equals / present_and_not_in / absent: further constraints on condition keys.
    - exclusive: pairs of keys S3 never sends together (e.g. SSE-KMS and SSE-C headers).
    """

    action_prefixes: list[str]   # "s3:" = every S3 action; "s3:PutObject" = exactly that one
    resources: list[str]
    excepted_principals: list[str] = field(default_factory=list)
    absent_or_not_in: dict[str, list[str]] = field(default_factory=dict)
    equals: dict[str, str] = field(default_factory=dict)
    present_and_not_in: dict[str, list[str]] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    exclusive: list[tuple[str, str]] = field(default_factory=list)  # never both present in one request


@dataclass
class Proof:
    """`proven`, or a `counterexample`, or neither: `undecided` says why the solver could not tell."""

    proven: bool
    counterexample: dict | None = None
    undecided: str = ""


# The solver's budget per claim, in z3 resource units ("rlimit"), not seconds: the same claim gets the
# same verdict on any machine under any load. The hardest claim of this architecture's templates and
# fixtures costs about 170,000 units (0.07 s); 20 million is about 8 s on one core of this project's CI.
SOLVER_STEPS = 20_000_000
UNDECIDED = (f"the solver gave up after its budget of {SOLVER_STEPS:,} steps (the policy's conditions are "
             "too complex to decide)")


class Encoder:
    """Builds one proof's formulas in its own z3 context, so that a proof's cost in solver steps
    depends only on its own input, not on the queries that ran before it.

    The policy review encodes two requests of one caller in one context (the S3 request and S3's call
    to KMS): a second encoder made with `namespace` and `shares` has its own action, resource and
    condition keys, and the first one's principal and `aws:Principal*` keys (the same caller).
    `allow_unknown` makes a part the encoding cannot express hold in an Allow (the review must not
    miss a request an Allow may let through); in a Deny it never holds, as in a proof of coverage."""

    def __init__(self, ctx: z3.Context | None = None, namespace: str = "", shares: "Encoder | None" = None,
                 allow_unknown: bool = False) -> None:
        self.ctx = ctx or z3.Context()
        self.namespace = namespace
        self.allow_unknown = allow_unknown
        self.action = z3.String(namespace + "action", self.ctx)
        self.resource = z3.String(namespace + "resource", self.ctx)
        self.keys: dict[str, tuple] = {}
        if shares is None:
            self.principal = z3.String("principal", self.ctx)
            self.authenticated = z3.Bool("authenticated", self.ctx)
            self.principal_keys = self.keys
        else:
            self.principal, self.authenticated = shares.principal, shares.authenticated
            self.principal_keys = shares.principal_keys
        self._variables = False   # the statement being encoded has policy variables (Version 2012-10-17)

    def true(self):
        return z3.BoolVal(True, self.ctx)

    def false(self):
        return z3.BoolVal(False, self.ctx)

    def text(self, value: str):
        return z3.StringVal(value, self.ctx)

    def any_of(self, options: list):
        return z3.Or(*options) if options else self.false()

    def key(self, name: str):
        name = name.lower()
        if name == "aws:principalarn":
            return self.principal, self.authenticated
        keys = self.principal_keys if name.startswith("aws:principal") else self.keys
        if name not in keys:
            prefix = "" if keys is self.principal_keys else self.namespace
            keys[name] = (z3.String(prefix + "key:" + name, self.ctx), z3.Bool(prefix + "present:" + name, self.ctx))
        return keys[name]

    def statement(self, statement: Statement):
        if statement.unresolved or statement.effect not in (Effect.ALLOW, Effect.DENY):
            return self.false()
        self._variables = statement.variables
        parts = []
        if statement.actions is not None:
            parts.append(self._any(self.action, statement.actions, lower=True))
        if statement.not_actions is not None:
            parts.append(z3.Not(self._any(self.action, statement.not_actions, lower=True)))
        if statement.resources is not None:
            parts.append(self._any_resource(statement.resources))
        if statement.not_resources is not None:
            parts.append(z3.Not(self._any_resource(statement.not_resources)))
        if statement.principals is not None:
            parts.append(self._principal(statement.principals))
        if statement.not_principals is not None:
            parts.append(z3.Not(self._left_out(statement.not_principals)))
        unknown = self.true() if self.allow_unknown and statement.effect == Effect.ALLOW else self.false()
        for condition in statement.conditions:
            parts.append(self.condition(condition, unknown))
        # a part not expressible: in a Deny (or a proof), assume the statement does not apply
        parts = [unknown if part is None else part for part in parts]
        return z3.And(*parts) if parts else self.true()

    def _any(self, variable, patterns: list, lower: bool = False):
        options = []
        for pattern in patterns:
            if not isinstance(pattern, str):
                continue
            pattern = pattern.lower() if lower else pattern
            options.append(z3.InRe(variable, _glob_regex(pattern, self.ctx)) if "*" in pattern or "?" in pattern
                           else variable == self.text(pattern))
        return self.any_of(options)

    def _any_resource(self, patterns: list):
        """Resource entries: wildcards within ARN segments; policy variables where they are exact."""
        options = []
        for pattern in patterns:
            if not isinstance(pattern, str):
                continue
            if self._variables and variables.has_variables(pattern):
                filled = self._filled(pattern)
                if filled is None:
                    return None
                options.append(filled(self.resource))
            elif "*" in pattern or "?" in pattern:
                options.append(z3.InRe(self.resource, _glob_regex(pattern, self.ctx, arn_segments=True)))
            else:
                options.append(self.resource == self.text(pattern))
        return self.any_of(options)

    def _filled(self, text: str):
        """For a value with policy variables and no wildcard: `variable -> formula` that holds when the
        variable equals the value with each variable's key (or its default) in place, and no key without
        a default is absent (policy/variables.py). None when a wildcard remains (not encoded)."""
        terms, defined = [], []
        for piece in variables.pieces(text):
            if not isinstance(piece, variables.Reference):
                if has_wildcard(piece):
                    return None
                terms.append(self.text(text_of(piece)))
                continue
            if not piece.key:
                return lambda variable: self.false()
            value, present = self.key(piece.key)
            if piece.default is None:
                terms.append(value)
                defined.append(present)
            else:
                terms.append(z3.If(present, value, self.text(piece.default)))
        whole = terms[0] if len(terms) == 1 else z3.Concat(*terms) if terms else self.text("")
        return lambda variable: z3.And(*defined, variable == whole) if defined else variable == whole

    def _left_out(self, not_principals: dict):
        """The callers a NotPrincipal list leaves out (policy/not_principal.py): only fully named ones."""
        if not_principal.everyone(not_principals):
            return self.true()
        return self.any_of([z3.And(self.authenticated, self.principal == self.text(arn))
                            for arn in sorted(not_principal.exempt_aws_principals(not_principals))])

    def _principal(self, principals: dict):
        options = []
        for kind, ids in principals.items():
            for value in ids:
                if not isinstance(value, str):
                    continue
                if kind == "AWS" and value == "*":
                    return self.true()
                if kind == "AWS" and value.isdigit():
                    value = f"arn:aws:iam::{value}:root"
                if kind == "AWS" and value.endswith(":root"):
                    account_prefix = value[: -len("root")]
                    options.append(z3.And(self.authenticated,
                                          z3.PrefixOf(self.text(account_prefix), self.principal)))
                else:
                    options.append(z3.And(self.authenticated, self.principal == self.text(value)))
        return self.any_of(options)

    def condition(self, condition: Condition, unknown=None):
        """The condition as a formula; `unknown` (default false) where the encoding cannot express it."""
        base = condition.base
        value, present = self.key(condition.key)
        if base == "Null":
            wants_absent = str(condition.values[0]).lower() == "true" if condition.values else True
            return z3.Not(present) if wants_absent else present
        negated = base in NEGATED
        positive = base.replace("Not", "", 1) if negated else base
        hit = self._values(positive, value, condition.values)
        if hit is None:                # not expressible: in a Deny, assume it does not apply
            return self.false() if unknown is None else unknown
        single = z3.Not(hit) if negated else hit
        if positive in _NUMERIC:       # exact only for whole numbers; elsewhere it does not apply
            single = z3.And(self.numeric_domain(value), single)
        if condition.qualifier == "ForAllValues":
            return z3.Or(z3.Not(present), single)
        if condition.qualifier == "ForAnyValue":
            return z3.Or(z3.Not(present), single) if condition.if_exists else z3.And(present, single)
        if condition.if_exists or negated:
            return z3.Or(z3.Not(present), single)
        return z3.And(present, single)

    def _values(self, positive: str, variable, values: tuple):
        options = []
        for expected in values:
            if isinstance(expected, bool):
                expected = "true" if expected else "false"
            if not isinstance(expected, (str, int, float)):
                return None
            expected = str(expected)
            if self._variables and variables.has_variables(expected):
                if positive not in ("StringEquals", "StringLike", "ArnEquals", "ArnLike", "BinaryEquals"):
                    return None
                filled = self._filled(expected)
                if filled is None:
                    return None
                options.append(filled(variable))
            elif positive in ("StringEquals", "BinaryEquals"):
                options.append(variable == self.text(expected))
            elif positive in ("Bool", "StringEqualsIgnoreCase"):
                options.append(z3.InRe(variable, self._any_case(expected)))
            elif positive == "StringLike":
                options.append(z3.InRe(variable, _glob_regex(expected, self.ctx)))
            elif positive in ("ArnEquals", "ArnLike"):
                options.append(z3.InRe(variable, _arn_regex(expected, self.ctx)))
            elif positive in _NUMERIC and _WHOLE_NUMBER.fullmatch(expected):
                number = z3.StrToInt(variable)
                options.append(_NUMERIC[positive](number, z3.IntVal(int(expected), self.ctx)))
            else:
                return None
        return self.any_of(options)

    def _any_case(self, text: str):
        """Every spelling of `text` in upper and lower case (the IgnoreCase operators and Bool compare so)."""
        pieces = [z3.Union(z3.Re(c.lower(), self.ctx), z3.Re(c.upper(), self.ctx)) if c.lower() != c.upper()
                  else z3.Re(c, self.ctx) for c in text]
        return z3.Re("", self.ctx) if not pieces else pieces[0] if len(pieces) == 1 else z3.Concat(*pieces)

    def numeric_domain(self, variable):
        """The request values a numeric condition is encoded exactly for: whole numbers written in digits.
        IAM reads "10.0" or "-1" as numbers too; for those the condition counts as not applying."""
        return z3.InRe(variable, z3.Plus(z3.Range("0", "9", ctx=self.ctx)))


def deny_covers(statements: list[Statement], scope: Scope, steps: int | None = None) -> Proof:
    """True when, for every request in `scope`, at least one Deny statement applies.

    Typical requests are tried first with the concrete evaluator: a request that gets through is a
    real counterexample (and a readable one), found without the solver. Only when all are denied
    does z3 decide, for every request, with a budget of `steps` z3 resource units (default SOLVER_STEPS).
    """
    key, renames = _cache_key(statements, scope)
    cached = _PROOFS.get(key) if key else None
    if cached is None:
        proof = _typical_counterexample(statements, scope)
        proof = Proof(False, proof) if proof is not None else \
            _prove_canonical(statements, scope, steps or SOLVER_STEPS)
        if key:
            _PROOFS[key] = _rename(proof, {real: marker for marker, real in renames.items()})
        return proof
    return _rename(cached, renames)


def _prove_canonical(statements: list[Statement], scope: Scope, steps: int) -> Proof:
    """Prove with the stack part of every resource token renamed in order of appearance
    (`{{MyStack/Bucket}}` -> `{{#s0/Bucket}}`): a single template's stack name is its file name, and
    the solver's effort must not depend on it. Only the stack name changes, so no wildcard can tell
    the renamed strings apart differently."""
    stacks: dict[str, str] = {}
    renamed, renamed_scope = _rewritten(
        statements, scope, lambda text: _STACK_IN_TOKEN.sub(lambda m: "{{#s%d/" % _index(stacks, m.group(1)), text))
    proof = _prove(renamed, renamed_scope, steps)
    back = {"{{#s%d/" % number: "{{%s/" % name for name, number in stacks.items()}
    return _rename(proof, back)


def _rewritten(statements: list[Statement], scope: Scope, rewrite) -> tuple[list[Statement], Scope]:
    """The statements and scope with `rewrite(text)` applied to every string they hold."""
    def each(value):
        if isinstance(value, str):
            return rewrite(value)
        if isinstance(value, list):
            return [each(v) for v in value]
        if isinstance(value, tuple):
            return tuple(each(v) for v in value)
        if isinstance(value, dict):
            return {each(k): each(v) for k, v in value.items()}
        return value

    return ([dataclasses.replace(
        s, actions=each(s.actions), not_actions=each(s.not_actions), resources=each(s.resources),
        not_resources=each(s.not_resources), principals=each(s.principals), not_principals=each(s.not_principals),
        conditions=[dataclasses.replace(c, values=each(c.values)) for c in s.conditions]) for s in statements],
        Scope(**{name: each(value) for name, value in scope.__dict__.items()}))


def _index(names: dict[str, str], name: str) -> int:
    return names.setdefault(name, len(names))


_STACK_IN_TOKEN = re.compile(r"\{\{(?!#)([^{}/:]+)/")


_PROOFS: dict[str, Proof] = {}
_TOKEN = re.compile(r"\{\{(?!#)[^{}]*\}\}")


def _cache_key(statements: list[Statement], scope: Scope) -> tuple[str | None, dict[str, str]]:
    """Key for reusing a proof: the same policy shape on another bucket (or with another key) has the same
    answer. The scope's bucket ARN and every resource token are renamed to markers in order of appearance.

    Renaming is only sound when no wildcard can tell the names apart, so it is applied only when every
    wildcard string is "*", an action pattern, or has a whole marker before its first wildcard, and no
    marker is followed by more name characters (bucket-1 inside bucket-12). Otherwise the key is exact.
    """
    anchor = next((r for r in scope.resources if not r.endswith("/*")), None)
    if anchor is None and scope.resources:
        anchor = scope.resources[0][:-2] if scope.resources[0].endswith("/*") else scope.resources[0]
    try:
        text = json.dumps([[s.raw, s.unresolved, s.variables] for s in statements], sort_keys=True, default=repr) + \
            json.dumps(scope.__dict__, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return None, {}
    if len(_PROOFS) > 10000:
        _PROOFS.clear()
    renames: dict[str, str] = {}
    renamed = text
    if anchor and "{{#" not in text:
        renames["{{#R}}"] = anchor
        renamed = renamed.replace(anchor, "{{#R}}")
    markers: dict[str, str] = {}

    def marker(match: re.Match) -> str:
        token = match.group(0)
        if token not in markers:
            markers[token] = "{{#%d}}" % len(markers)
            renames[markers[token]] = token
        return markers[token]

    renamed = _TOKEN.sub(marker, renamed)
    return (renamed, renames) if _renaming_is_sound(renamed) else (text, {})


_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ACTION_PATTERN = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]*")


@functools.lru_cache(maxsize=4096)  # the same policy shape on many buckets renames to the same text
def _renaming_is_sound(renamed: str) -> bool:
    if re.search(r"\{\{#[^}]*\}\}[A-Za-z0-9_.-]", renamed):
        return False
    for match in _STRING.finditer(renamed):
        value = match.group(1)
        wildcard = min((i for i in (value.find("*"), value.find("?")) if i >= 0), default=-1)
        if wildcard < 0 or value == "*" or _ACTION_PATTERN.fullmatch(value):
            continue
        if "{{#" not in value[:wildcard]:
            return False
    return True


def _rename(proof: Proof, renames: dict[str, str]) -> Proof:
    if proof.counterexample is None or not renames:
        return proof
    example = {}
    for name, value in proof.counterexample.items():
        if isinstance(value, str):
            for old, new in renames.items():
                value = value.replace(old, new)
        example[name] = value
    return dataclasses.replace(proof, counterexample=example)


def _typical_counterexample(statements: list[Statement], scope: Scope) -> dict | None:
    from cmk_validate.policy.evaluate import Principal, Request, statement_matches

    denies = [s for s in statements if s.effect == Effect.DENY and not s.unresolved]
    actions = []
    for prefix in scope.action_prefixes:
        actions += ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:PutBucketPolicy"] \
            if prefix.lower() == "s3:" else [prefix]
    resources = [r[:-1] + "example-object" if r.endswith("/*") else r for r in scope.resources]
    principals = [Principal.aws("arn:aws:iam::999999999999:role/Outsider"), Principal.anonymous()]
    excepted = set(scope.excepted_principals)
    for statement in denies:   # principals a deny's own exceptions name or pattern-match
        for condition in statement.conditions:
            if condition.key != "aws:principalarn":
                continue
            for value in condition.values:
                if isinstance(value, str):
                    arn = value.replace("*", "x").replace("?", "x")
                    if arn not in excepted and arn.startswith("arn:"):
                        principals.append(Principal.aws(arn))
    base: dict = {}
    for key, forbidden in scope.absent_or_not_in.items():
        base[key] = None
    for key, value in scope.equals.items():
        base[key] = value
    for key, forbidden in scope.present_and_not_in.items():
        base[key] = "some-other-value"
    fixed = set(base) | {k.lower() for k in scope.absent}
    variants = [dict(base)]
    for key, forbidden in scope.absent_or_not_in.items():
        variants.append({**base, key: "vpce-0foreign000000000"})
        variants.append({**base, key: "unexpected-value"})
        for statement in denies:   # values the policy itself names for the key, e.g. a foreign endpoint
            for condition in statement.conditions:
                if condition.key == key:
                    variants += [{**base, key: v} for v in condition.values
                                 if isinstance(v, str) and v not in forbidden and "*" not in v]
    exclusive = {frozenset((a.lower(), b.lower())) for a, b in scope.exclusive}
    for statement in denies:
        for condition in statement.conditions:
            if condition.key in fixed or condition.key in ("aws:principalarn",):
                continue
            present = {k for k, v in base.items() if v is not None}
            if any(frozenset((condition.key, other)) in exclusive for other in present):
                continue
            for value in [*(v for v in condition.values if isinstance(v, str)), "other-value"]:
                variants.append({**base, condition.key: value})
    for action in actions:
        for resource in resources:
            for principal in principals:
                for context in variants:
                    request = Request(action, resource, principal,
                                      {k: v for k, v in context.items() if v is not None})
                    if not any(statement_matches(s, request) for s in denies):
                        example = {"action": action, "resource": resource,
                                   "principal": principal.id or "anonymous"}
                        example.update({k: v if v is not None else "(absent)" for k, v in context.items()})
                        return example
    return None


def passes_from_outside(statements: list[Statement], account: str, resources: list[str],
                        action_prefix: str = "s3:", steps: int | None = None) -> Proof:
    """Proven when no request on `resources` by a caller outside `account` (a principal of another
    account, or an anonymous caller) is let through: no Allow applies to it, or a Deny does.

    For a policy that passes requests on (a VPC endpoint's): it must let through only the account's
    own principals. The caller's account is `aws:PrincipalAccount`, and the principal ARN is not one
    of the account's (IAM User Guide, "AWS global condition context keys", aws:PrincipalAccount)."""
    # A deploy-time token such as {{AWS::AccountId}} inside an ARN is one value: its colons must not
    # count as ARN separators, or no wildcard within a segment could match it.
    tokens: dict[str, str] = {}

    def colon_free(text: str) -> str:
        def one(match: re.Match) -> str:
            token = match.group(0).replace(":", ".")
            tokens[token] = match.group(0)
            return token
        return _TOKEN.sub(one, text)

    statements, scope = _rewritten(statements, Scope([action_prefix.lower()], resources, equals={
        "aws:ResourceAccount": account, "s3:ResourceAccount": account}), colon_free)
    account = colon_free(account)
    example = _typical_pass(statements, scope, action_prefix)
    if example is None:
        def from_outside(encoder: Encoder) -> list:
            account_value, account_present = encoder.key("aws:principalaccount")
            own = z3.Or(*[z3.PrefixOf(encoder.text(f"arn:aws:{service}::{account}:"), encoder.principal)
                          for service in ("iam", "sts")])
            return [account_present == encoder.authenticated,
                    z3.Or(z3.Not(encoder.authenticated), z3.And(account_value != encoder.text(account), z3.Not(own)))]

        proof = _prove(statements, scope, steps or SOLVER_STEPS, through_allow=True, also=from_outside)
    else:
        proof = Proof(False, example)
    return _rename(proof, tokens)


def _typical_pass(statements: list[Statement], scope: Scope, action_prefix: str) -> dict | None:
    """A readable request from outside the account that an Allow lets through and no Deny stops, tried
    with the concrete evaluator before the solver: another account's role, or an anonymous caller,
    reading, writing or listing the scope's resources (and objects under any prefix a statement names),
    with the scope's fixed keys (the bucket's account)."""
    resources = scope.resources
    from cmk_validate.policy.evaluate import Principal, Request, statement_matches

    applicable = [s for s in statements if s.effect in (Effect.ALLOW, Effect.DENY) and not s.unresolved]
    objects = [r[:-1] + "example-object" if r.endswith("/*") else r for r in resources]
    for statement in applicable:   # objects under a narrower prefix a statement names
        for pattern in statement.resources or []:
            for resource in resources:
                if isinstance(pattern, str) and resource.endswith("/*") and pattern.startswith(resource[:-1]):
                    objects.append(pattern.replace("*", "x").replace("?", "x"))
    actions = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"] \
        if action_prefix.lower() == "s3:" else [action_prefix]
    outsider = "arn:aws:iam::999999999999:role/Outsider"
    callers = [(Principal.aws(outsider), {"aws:PrincipalAccount": "999999999999", **scope.equals}),
               (Principal.anonymous(), dict(scope.equals))]
    for action in actions:
        for resource in dict.fromkeys(objects):
            for principal, context in callers:
                request = Request(action, resource, principal, context)
                if any(statement_matches(s, request) for s in applicable if s.effect == Effect.ALLOW) and \
                        not any(statement_matches(s, request) for s in applicable if s.effect == Effect.DENY):
                    return {"action": action, "resource": resource, "principal": principal.id or "anonymous",
                            "aws:principalaccount": context.get("aws:PrincipalAccount", "(absent)")}
    return None


def _prove(statements: list[Statement], scope: Scope, steps: int, through_allow: bool = False,
           also=None) -> Proof:
    """Whether every request of `scope` is denied (proven) or, with `through_allow`, whether none is
    let through (some Allow applies and no Deny); `also(encoder)` adds constraints on the request."""
    encoder = Encoder(allow_unknown=through_allow)
    text = encoder.text
    denies = [encoder.statement(s) for s in statements if s.effect == Effect.DENY]
    solver = z3.Solver(ctx=encoder.ctx)
    if through_allow:
        solver.add(encoder.any_of([encoder.statement(s) for s in statements if s.effect == Effect.ALLOW]))
    if also is not None:
        solver.add(*also(encoder))
    solver.set("rlimit", steps)
    prefixes = [p.lower() for p in scope.action_prefixes]
    solver.add(encoder.any_of([z3.And(z3.PrefixOf(text(p), encoder.action), z3.Length(encoder.action) > len(p))
                               if p.endswith(":") else encoder.action == text(p) for p in prefixes]))
    resource_options = []
    for resource in scope.resources:
        if resource.endswith("/*"):
            prefix = resource[:-1]
            resource_options.append(z3.And(z3.PrefixOf(text(prefix), encoder.resource),
                                           z3.Length(encoder.resource) > len(prefix)))
        else:
            resource_options.append(encoder.resource == text(resource))
    solver.add(encoder.any_of(resource_options))
    for principal in scope.excepted_principals:
        solver.add(z3.Or(z3.Not(encoder.authenticated), encoder.principal != text(principal)))
    for key, forbidden in scope.absent_or_not_in.items():
        value, present = encoder.key(key)
        solver.add(z3.Or(z3.Not(present), *[] if not forbidden else
                         [z3.And(*[value != text(v) for v in forbidden])]))
    for key, expected in scope.equals.items():
        value, present = encoder.key(key)
        solver.add(present, value == text(expected))
    for key, forbidden in scope.present_and_not_in.items():
        value, present = encoder.key(key)
        solver.add(present, *[value != text(v) for v in forbidden])
    for key in scope.absent:
        solver.add(z3.Not(encoder.key(key)[1]))
    for first, second in scope.exclusive:
        solver.add(z3.Not(z3.And(encoder.key(first)[1], encoder.key(second)[1])))
    if denies:
        solver.add(z3.Not(z3.Or(*denies)))
    result = solver.check()
    if result == z3.unsat:
        return Proof(True)
    if result == z3.unknown:
        return Proof(False, undecided=UNDECIDED)
    model = solver.model()
    # A readable counterexample if one exists: the same request with printable values only.
    solver.push()
    solver.set("rlimit", steps // 10)
    readable = z3.Star(z3.Union(*[z3.Range(low, high, encoder.ctx) for low, high in (("a", "z"), ("A", "Z"), ("0", "9"))],
                                *[z3.Re(char, encoder.ctx) for char in ":/-._{}#"]))
    for variable in [encoder.action, encoder.resource, encoder.principal] + [v for v, _ in encoder.keys.values()]:
        solver.add(z3.InRe(variable, readable))
    if solver.check() == z3.sat:
        model = solver.model()
    solver.pop()

    def value_of(variable) -> str:
        evaluated = model.eval(variable, model_completion=True)
        return evaluated.as_string() if hasattr(evaluated, "as_string") else str(evaluated)

    example = {"action": value_of(encoder.action), "resource": value_of(encoder.resource)}
    example["principal"] = value_of(encoder.principal) if z3.is_true(
        model.eval(encoder.authenticated, model_completion=True)) else "anonymous"
    for name, (value, present) in encoder.keys.items():
        if z3.is_true(model.eval(present, model_completion=True)):
            example[name] = value_of(value)
        else:
            example[name] = "(absent)"
    return Proof(False, example)
