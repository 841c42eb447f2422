"""Each cell decided over every request it stands for, with the validator's z3 encoding (policy/prover.py).

A cell is a set of requests: its action, its subject (any object of the bucket for object actions), its
caller (one principal, or any role or user of an account, or any account), how the request comes (this
endpoint; any other VPC endpoint and any VPC; no endpoint; through a service on the caller's behalf), TLS
and the upload's encryption headers. Every other condition key takes any value, or none. The cell is
allowed when z3 finds one request of the set that IAM's combination of policies allows (the model is the
witness); denied when it proves that none is. The combination is decide.py's, written as formulas:
explicit denies of every policy, the endpoint policy, the resource policy with the caller's identity
policy, Block Public Access, BlockedEncryptionTypes and S3's call to KMS as the caller (a second request
of the same caller, with its own action, resource and keys).

Soundness: a condition the encoding cannot express (numeric, date, IP, case-insensitive) holds in an Allow
and never in a Deny, so the proof may find an allowed request that IAM would refuse, never miss one.
Multi-valued keys (aws:CalledVia) are single-valued here, as in the prover.

Condition keys and when AWS sets them:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import z3

from cmk_validate.policy.prover import Encoder
from cmk_validate.policy.statements import Effect, Statement
from cmk_validate.review import callers as who
from cmk_validate.review import matrix as m
from cmk_validate.review.matrix import Cell
from cmk_validate.review.subjects import Bucket, Inventory, Key

# z3 resource units per cell query (deterministic, unlike a timeout); the app's hardest cell needs far less.
CELL_STEPS = 5_000_000
ANY, ABSENT = object(), None
NAME = "[A-Za-z0-9+=,.@_-]"          # IAM user and role names (and their paths)
MAX_ROUNDS = 500
_CONNECTIVES = {z3.Z3_OP_AND, z3.Z3_OP_OR, z3.Z3_OP_NOT, z3.Z3_OP_IMPLIES, z3.Z3_OP_XOR, z3.Z3_OP_ITE,
                z3.Z3_OP_TRUE, z3.Z3_OP_FALSE}


@dataclass(frozen=True)
class Verdict:
    """`allowed` with a `witness` (the request, and S3's call to KMS when there is one), or proved denied;
    `undecided` when the solver gave up (counted as allowed: the review never calls unknown access denied)."""

    allowed: bool
    witness: dict | None = None
    undecided: str = ""


@dataclass
class _Policy:
    deny: object
    allow: object
    grants: list      # (rest of the statement without its principal, names directly, names the account, public)


class Space:
    """One z3 context for a review (or a change review): the cell's request and S3's KMS call as variables,
    policies encoded once and reused by every cell."""

    def __init__(self) -> None:
        self.ctx = z3.Context()
        self.main = Encoder(self.ctx, "", allow_unknown=True)
        self.leg = Encoder(self.ctx, "kms-call:", shares=self.main, allow_unknown=True)
        self.account = z3.String("principal-account", self.ctx)
        self.source_account = z3.String("source-account", self.ctx)
        self.solver = z3.Solver(ctx=self.ctx)
        self.solver.set("rlimit", CELL_STEPS)
        self._policies: dict = {}
        self._realised: dict = {}
        self._answers: dict = {}
        self._formulas: dict = {}
        self._variables_of: dict = {}
        self._texts: dict = {}
        self._T, self._F = z3.BoolVal(True, self.ctx), z3.BoolVal(False, self.ctx)
        self._specialised: dict = {}
        self._arn_regexes: dict = {}
        ctx = self.ctx
        self._anything = z3.Star(z3.AllChar(z3.ReSort(z3.StringSort(ctx))))
        self._digits = z3.Loop(z3.Range("0", "9", ctx), 12, 12)
        self._role_or_user = z3.Concat(z3.Union(z3.Re("role/", ctx), z3.Re("user/", ctx)),
                                       z3.Plus(z3.Union(z3.Range("a", "z", ctx), z3.Range("A", "Z", ctx),
                                                        z3.Range("0", "9", ctx), *[z3.Re(c, ctx) for c in "+=,.@_-"])))
        part = z3.Star(z3.Diff(z3.AllChar(z3.ReSort(z3.StringSort(ctx))), z3.Re(":", ctx)))
        self._arn_head = z3.Concat(z3.Re("arn:", ctx), part, z3.Re(":", ctx), part, z3.Re(":", ctx), part, z3.Re(":", ctx))
        self._fixed: dict = {}
        self._printable = z3.Star(z3.Union(*[z3.Range(low, high, self.ctx) for low, high in (("a", "z"), ("A", "Z"), ("0", "9"))],
                                           *[z3.Re(char, self.ctx) for char in ":/-._{}#@=+,*"]))

    # -- queries -------------------------------------------------------------------------------
    def decide(self, cell: Cell, inv: Inventory, cells_of: Inventory | None = None) -> Verdict:
        """Whether `inv` allows a request of the cell; `cells_of`: the inventory the cell was built from
        (its endpoint, keys and break-glass principals), when another version is asked about it."""
        return self._solve(cell, cells_of or inv, lambda: self._allowed_cached(cell, inv))

    def opens(self, cell: Cell, new: Inventory, base: Inventory) -> Verdict:
        """A request of the cell that `new` allows and `base` does not (the new allowed region), if any."""
        return self._solve(cell, new, lambda: z3.And(self._allowed_cached(cell, new), z3.Not(self._allowed_cached(cell, base))),
                           base)

    def narrows(self, cell: Cell, new: Inventory, base: Inventory) -> Verdict:
        """A request of the cell (as `new` builds it) that `base` allowed and `new` does not, if any."""
        return self._solve(cell, new, lambda: z3.And(self._allowed_cached(cell, base), z3.Not(self._allowed_cached(cell, new))),
                           base)

    def _allowed_cached(self, cell: Cell, inv: Inventory):
        """`allowed`, built once per question: cells that differ only in where the request comes from (or
        TLS) share the formula; their constraints differ."""
        caller = cell.caller
        specialised_to = tuple(self._fixed[v.get_id()][1].get_id() if v.get_id() in self._fixed else None
                               for v in (self.main.action, self.main.resource, self.leg.action, self.leg.resource))
        cache_key = (id(inv), cell.kind, cell.subject, caller.kind, caller.principal.id, caller.account,
                     tuple(id(s) for s in caller.identity), cell.what, cell.via_endpoint, cell.where == m.THIS_ENDPOINT,
                     cell.endpoint, specialised_to)
        found = self._formulas.get(cache_key)
        if found is None or found[0] is not inv:
            found = self._formulas[cache_key] = (inv, self.allowed(cell, inv))
        return found[1]

    def _solve(self, cell: Cell, inv: Inventory, goal, base: Inventory | None = None) -> Verdict:
        """The cell's fixed values are substituted first: most of a policy then simplifies to true or false.
        What is left is solved lazily: its string comparisons become propositions, a SAT solver picks an
        assignment, and each string variable's comparisons are checked on their own (cached); an
        impossible combination is excluded by its unsat core and the search goes on. The same answer as
        z3's string solver on the whole formula, in a fraction of the time.

        `base`, in a change review: where `inv` makes no KMS call for the request and `base` did (a switch
        to SSE-C), `base`'s call is the one S3 made then, so it is pinned as `base` would make it; left
        free, the solver could pick a call `base`'s key policy refuses and report a read as newly opened."""
        self._fixed = {}
        constraints = self.constraints(cell, inv)
        if base is not None and self._leg_call(cell, inv) is None:
            constraints += self._leg_constraints(cell, base)
        formula = _conjunction([goal(), *constraints])   # built after the constraints: policies specialised to them
        formula = z3.simplify(_substitute(formula, self._pairs()) if self._fixed else formula)
        if z3.is_false(formula):
            return Verdict(False)
        # Many cells leave the same question once their values are in; z3 shares equal terms, so the id
        # names the question (the formula is kept, so that its id is not reused).
        cache_key = formula.get_id()
        if cache_key not in self._answers:
            self._answers[cache_key] = (formula, self._search(formula))
        allowed, truths, values, undecided = self._answers[cache_key][1]
        if undecided or not allowed:
            return Verdict(allowed, undecided=undecided)
        return Verdict(True, self._witness(cell, truths, values))

    def _search(self, formula) -> tuple:
        """(allowed, the propositions' values, the string variables' values, why undecided)."""
        atoms: dict = {}
        self._collect(formula, atoms)
        abstract = _substitute(formula, [(atom, literal) for atom, literal, _ in atoms.values()]) if atoms else formula
        groups = _components(list(atoms.values()))
        booleans = z3.Solver(ctx=self.ctx)
        booleans.add(abstract)
        for _ in range(MAX_ROUNDS):   # groups: atoms linked by the variables they share
            result = booleans.check()
            if result == z3.unsat:
                return False, {}, {}, ""
            if result == z3.unknown:
                return True, {}, {}, "the propositional search gave up"
            choice = booleans.model()
            values: dict = {}
            conflict = False
            for members in groups:
                chosen = tuple((atom, z3.is_true(choice.eval(literal, model_completion=True))) for atom, literal in members)
                found = self._realise(chosen)
                if found is None:
                    return True, {}, {}, f"the solver gave up after {CELL_STEPS:,} steps"
                if isinstance(found, list):      # unsat core: these comparisons cannot hold together
                    booleans.add(z3.Or(*[z3.Not(members[number][1]) if chosen[number][1] else members[number][1]
                                         for number in found]))
                    conflict = True
                    continue
                values |= found
            if not conflict:
                truths = {str(d): z3.is_true(choice[d]) for d in choice.decls() if d.range() == z3.BoolSort(self.ctx)}
                return True, truths, values, ""
        return True, {}, {}, f"no answer after {MAX_ROUNDS} rounds"

    def _collect(self, formula, atoms: dict) -> None:
        """Each string comparison of `formula` (an atom under its Boolean connectives), with a proposition."""
        stack, seen = [formula], set()
        while stack:
            expression = stack.pop()
            key = expression.get_id()
            if key in seen:
                continue
            seen.add(key)
            kind = expression.decl().kind() if z3.is_app(expression) else None
            if z3.is_bool(expression) and (kind in _CONNECTIVES or (kind == z3.Z3_OP_EQ and z3.is_bool(expression.arg(0)))):
                stack.extend(expression.children())
            elif not (z3.is_const(expression) and z3.is_bool(expression)):   # not a key's presence
                known = self._variables_of.get(key)
                if known is None:   # the atom is kept with its variables, so that its id is not reused
                    known = self._variables_of[key] = (expression, frozenset(v.get_id() for v in _string_variables(expression)))
                atoms[key] = (expression, z3.Bool(f"atom{len(atoms)}", self.ctx), known[1])

    def _regex(self, atom):
        """(variable, regular expression) equivalent to a comparison of one string variable with constants."""
        ctx = self.ctx
        anything = z3.Star(z3.AllChar(z3.ReSort(z3.StringSort(ctx))))
        kind = atom.decl().kind()
        args = atom.children()
        if kind == z3.Z3_OP_SEQ_IN_RE and _is_variable(args[0]):
            return args[0], args[1]
        if kind == z3.Z3_OP_EQ and len(args) == 2:
            variable, constant = (args[0], args[1]) if _is_variable(args[0]) else (args[1], args[0])
            if _is_variable(variable) and z3.is_string_value(constant):
                return variable, z3.Re(constant.as_string(), ctx)
        if kind in (z3.Z3_OP_SEQ_PREFIX, z3.Z3_OP_SEQ_SUFFIX) and z3.is_string_value(args[0]) and _is_variable(args[1]):
            text = z3.Re(args[0].as_string(), ctx)
            return args[1], z3.Concat(text, anything) if kind == z3.Z3_OP_SEQ_PREFIX else z3.Concat(anything, text)
        if kind == z3.Z3_OP_SEQ_CONTAINS and _is_variable(args[0]) and z3.is_string_value(args[1]):
            return args[0], z3.Concat(anything, z3.Re(args[1].as_string(), ctx), anything)
        if kind in (z3.Z3_OP_LE, z3.Z3_OP_GE) and len(args) == 2:
            length, bound, at_most = args[0], args[1], kind == z3.Z3_OP_LE
            if z3.is_int_value(length):
                length, bound, at_most = bound, length, not at_most
            if z3.is_int_value(bound) and length.decl().kind() == z3.Z3_OP_SEQ_LENGTH and _is_variable(length.arg(0)):
                limit = bound.as_long()
                one = z3.AllChar(z3.ReSort(z3.StringSort(ctx)))
                if at_most:
                    return length.arg(0), z3.Loop(one, 0, limit) if limit >= 0 else z3.Complement(anything)
                return length.arg(0), z3.Concat(z3.Loop(one, limit, limit), anything) if limit > 0 else anything
        return None

    def _realise(self, chosen: tuple):
        """Values for one group of string variables making each comparison hold or not as chosen; a list
        (the unsat core) when impossible; None when the solver gives up. Cached: cells share comparisons."""
        cache_key = tuple((atom.get_id(), holds) for atom, holds in chosen)
        if cache_key in self._realised:
            return self._realised[cache_key][1]
        solver = self.solver
        solver.push()
        try:
            markers = []
            variables = set()
            for number, (atom, holds) in enumerate(chosen):
                marker = z3.Bool(f"choice{number}", self.ctx)
                as_regex = self._regex(atom)   # z3 decides regular membership far faster than prefix and length
                if as_regex is not None:
                    variable, regex = as_regex
                    variables.add(variable)
                    solver.add(z3.Implies(marker, z3.InRe(variable, regex if holds else z3.Complement(regex))))
                else:
                    solver.add(z3.Implies(marker, atom if holds else z3.Not(atom)))
                markers.append(marker)
            for variable in variables:
                solver.add(z3.InRe(variable, self._printable))
            result = solver.check(*markers)
            if result == z3.sat:
                model = solver.model()
                answer: object = {}
                for atom, _ in chosen:
                    for variable in _string_variables(atom):
                        value = model.eval(variable, model_completion=True)
                        answer[str(variable)] = value.as_string() if hasattr(value, "as_string") else str(value)
            elif result == z3.unsat:
                core = {str(marker) for marker in solver.unsat_core()}
                answer = [number for number, marker in enumerate(markers) if str(marker) in core] or list(range(len(chosen)))
            else:
                answer = None
        finally:
            solver.pop()
        self._realised[cache_key] = (chosen, answer)   # the atoms are kept, so that their ids are not reused
        return answer

    def _pairs(self) -> list:
        """The substitution, a key fixed to another variable (kms:CallerAccount -> the principal's account)
        resolved to that variable's value when it has one."""
        pairs = []
        for variable, value in self._fixed.values():
            while value.get_id() in self._fixed:   # only variables are fixed: a constant ends the chain
                value = self._fixed[value.get_id()][1]
            pairs.append((variable, value))
        return pairs

    def _t(self, value: str):
        found = self._texts.get(value)
        if found is None:
            found = self._texts[value] = z3.StringVal(value, self.ctx)
        return found

    def _fix(self, variable, value) -> list:
        """Substitute `variable` by `value` in the cell's query; a second, different value makes it empty."""
        known = self._fixed.get(variable.get_id())
        if known is not None:
            return [] if known[1].eq(value) else [self._F]
        self._fixed[variable.get_id()] = (variable, value)
        return []

    def _strings(self) -> list:
        variables = [self.main.action, self.main.resource, self.main.principal, self.leg.resource]
        for encoder in (self.main, self.leg):
            variables += [value for value, _ in encoder.keys.values()]
        return variables + [value for value, _ in self.main.principal_keys.values()]

    def _witness(self, cell: Cell, truths: dict, values: dict) -> dict:
        """The allowed request: fixed values, the propositional model's presences, the strings found."""
        fixed = {variable.get_id(): value for variable, value in self._fixed.values()}

        def text(variable) -> str:
            for _ in range(3):       # a key fixed to another variable, itself maybe fixed
                value = fixed.get(variable.get_id())
                if value is None:
                    break
                if z3.is_string_value(value):
                    return value.as_string()
                variable = value
            return values.get(str(variable), "")

        def truth(variable) -> bool:
            value = fixed.get(variable.get_id())
            return z3.is_true(value) if value is not None else truths.get(str(variable), False)

        def context(encoder: Encoder) -> dict:
            keys = dict(encoder.keys)
            if encoder is self.main:
                keys |= encoder.principal_keys
            return {name: text(value) for name, (value, present) in sorted(keys.items()) if truth(present)}

        witness = {"principal": text(self.main.principal) if truth(self.main.authenticated) else "anonymous",
                   "action": cell.request.action, "resource": text(self.main.resource), "context": context(self.main)}
        if self._uses_leg(cell) and self.leg.action.get_id() in fixed:   # S3 calls KMS for this request
            witness["kms call"] = {"resource": text(self.leg.resource), "context": context(self.leg)}
        return witness

    # -- policies ------------------------------------------------------------------------------
    def policy(self, encoder: Encoder, statements) -> _Policy:
        """The policy's formulas with the cell's action and resource in, when the cell fixes them (cached:
        the same policy meets the same action in many cells, and small formulas simplify fast)."""
        general = self._policy(encoder, statements)
        pairs = [self._fixed[v.get_id()] for v in (encoder.action, encoder.resource) if v.get_id() in self._fixed]
        if not pairs:
            return general
        cache_key = (id(general), tuple(value.as_string() for _, value in pairs))
        found = self._specialised.get(cache_key)
        if found is None:
            def special(formula):
                return z3.simplify(_substitute(formula, pairs))
            found = self._specialised[cache_key] = _Policy(
                special(general.deny), special(general.allow),
                [(special(rest), direct, account, public) for rest, direct, account, public in general.grants])
        return found

    def _policy(self, encoder: Encoder, statements) -> _Policy:
        statements = list(statements)
        cache_key = (encoder.namespace, tuple(id(s) for s in statements))
        found = self._policies.get(cache_key)
        if found is not None:
            return found[0]
        denies, allows, grants = [], [], []
        for statement in statements:
            if statement.unresolved or statement.effect not in (Effect.ALLOW, Effect.DENY):
                continue
            if statement.effect == Effect.DENY:
                denies.append(encoder.statement(statement))
                continue
            allows.append(encoder.statement(statement))
            if statement.principals is not None or statement.not_principals is not None:
                rest = encoder.statement(dataclasses.replace(statement, principals=None, not_principals=None))
                if statement.not_principals is not None:
                    direct, account = z3.Not(encoder._left_out(statement.not_principals)), encoder.false()
                else:
                    direct, account = self._named(encoder, statement.principals)
                grants.append((rest, direct, account, _is_public(statement)))
        policy = _Policy(encoder.any_of(denies), encoder.any_of(allows), grants)
        self._policies[cache_key] = (policy, statements)   # the statements stay alive while their ids are keys
        return policy

    def _named(self, encoder: Encoder, principals: dict) -> tuple:
        """(names the caller or everyone, names only the caller's account): as evaluate.principal_match_kind."""
        direct, account = [], []
        for kind, ids in principals.items():
            for value in ids:
                if not isinstance(value, str):
                    continue
                if kind == "AWS" and value == "*":
                    direct.append(encoder.true())
                elif kind == "AWS" and (value.isdigit() or value.endswith(":root")):
                    number = value if value.isdigit() else value[len("arn:aws:iam::"):-len(":root")]
                    # a principal of the account: by its ARN, or a role of the assembly (its ARN a token
                    # resolved at deploy time) in that account
                    account.append(z3.And(encoder.authenticated, z3.Or(
                        z3.PrefixOf(self._t(f"arn:aws:iam::{number}:"), encoder.principal),
                        z3.And(z3.PrefixOf(self._t("{{"), encoder.principal), self.account == self._t(number)))))
                else:
                    direct.append(z3.And(encoder.authenticated, encoder.principal == self._t(value)))
        return encoder.any_of(direct), encoder.any_of(account)

    # -- what IAM allows, as a formula (decide.py's combination) ---------------------------------
    def allowed(self, cell: Cell, inv: Inventory):
        """Whether `inv`'s policies allow a request of the cell (a change review also asks the base's
        policies about the new version's cells: same variables, same request)."""
        caller = _caller_in(cell.caller, inv)
        if cell.kind == "s3":
            bucket = inv.subject_of(cell)
            return self.false() if bucket is None else \
                self._s3(self.main, caller, bucket, inv, cell.via_endpoint, cell.what,
                         endpoint_token=_endpoint_token(cell, inv))
        if cell.kind == "endpoint":
            endpoint = inv.subject_of(cell)
            if endpoint is None:
                return self.false()
            if endpoint.policy is None:
                return self.main.true()
            policy = self.policy(self.main, endpoint.policy)
            return z3.And(z3.Not(policy.deny), policy.allow)
        key = inv.subject_of(cell)
        if key is None:
            return self.false()
        if not cell.what.endswith(m.VIA_S3) or caller.kind in (who.SERVICE, who.SERVICE_FOR_OTHER):
            return self._kms(self.main, caller, key, inv)
        bucket = inv.bucket_using(key)
        if bucket is None:
            return self._kms(self.main, caller, key, inv)
        s3_what = m.READ if cell.what.startswith(m.DECRYPT) else m.UPLOAD_DATA_KEY
        return z3.And(self._s3(self.main, caller, bucket, inv, cell.where == m.THIS_ENDPOINT, s3_what, with_kms=False),
                      self._kms(self.leg, caller, key, inv))

    def false(self):
        return self.main.false()

    def _s3(self, encoder: Encoder, caller, bucket: Bucket, inv: Inventory, via_endpoint: bool, what: str,
            with_kms: bool = True, endpoint_token: str | None = None):
        if what == m.UPLOAD_SSE_C and "SSE-C" in bucket.blocked_encryption:
            return self.false()
        identity = self.policy(encoder, caller.identity)
        resource = self.policy(encoder, bucket.policy)
        parts = [z3.Not(identity.deny), z3.Not(resource.deny)]
        endpoint = inv.gateway_endpoint(endpoint_token) if via_endpoint else None
        if endpoint is not None and endpoint.policy is not None:
            policy = self.policy(encoder, endpoint.policy)
            parts += [z3.Not(policy.deny), policy.allow]
        blocked = bucket.restrict_public and caller.outside
        parts.append(self._grant(encoder, caller, resource, identity, inv.account, kms=False, public_blocked=blocked))
        if with_kms:
            parts.append(self._kms_leg(caller, bucket, inv, what))
        return z3.And(*parts)

    def _kms_leg(self, caller, bucket: Bucket, inv: Inventory, what: str):
        """S3's call to KMS as the caller (decide._kms_leg): true when no call is made or the key is not
        in the assembly (its policy is assumed to allow)."""
        key = _leg_key(bucket, inv, what)
        return self.main.true() if key is None else self._kms(self.leg, caller, key, inv)

    def _kms(self, encoder: Encoder, caller, key: Key, inv: Inventory):
        if caller.kind == who.ANONYMOUS:
            return self.false()
        identity = self.policy(encoder, caller.identity)
        policy = self.policy(encoder, key.policy)
        return z3.And(z3.Not(identity.deny), z3.Not(policy.deny),
                      self._grant(encoder, caller, policy, identity, inv.account, kms=True, public_blocked=False))

    def _grant(self, encoder: Encoder, caller, policy: _Policy, identity: _Policy, account: str, kms: bool,
               public_blocked: bool):
        identity_allows = identity.allow if caller.identity else encoder.false()
        same_account = caller.kind in (who.IN_ACCOUNT, who.BREAK_GLASS, who.ASSEMBLY_ROLE) and \
            (caller.principal.account == account or "{{" in account)
        direct = encoder.any_of([z3.And(rest, names) for rest, names, _, public in policy.grants
                                 if not (public and public_blocked)])
        to_account = encoder.any_of([z3.And(rest, names) for rest, _, names, _ in policy.grants])
        direct_suffices = same_account or caller.kind not in who.PRINCIPAL_KINDS
        options = [z3.And(direct, z3.BoolVal(direct_suffices, self.ctx) if direct_suffices else identity_allows),
                   z3.And(to_account, identity_allows)]
        if same_account and not kms:
            options.append(identity_allows)
        return z3.Or(*options)

    # -- the cell's requests -------------------------------------------------------------------
    def constraints(self, cell: Cell, inv: Inventory) -> list:
        caller, main = cell.caller, self.main
        out = self._caller(caller, inv)
        service = caller.kind in (who.SERVICE, who.SERVICE_FOR_OTHER)
        if cell.kind == "kms":
            key = inv.subject_of(cell)
            bucket = inv.bucket_using(key)
            via_s3 = cell.what.endswith(m.VIA_S3) and not service
            if via_s3 and bucket is not None:   # the caller's S3 request, then S3's call to KMS
                s3_what = m.READ if cell.what.startswith(m.DECRYPT) else m.UPLOAD_DATA_KEY
                action, _ = m.S3_ACTIONS[s3_what]
                out += self._fix(main.action, self._t(action.lower()))
                out += self._objects(main, bucket.arn, caller.object_prefix)
                out += self._s3_context(main, cell, inv, s3_what, _endpoint_token(cell, inv))
                out += self._leg(cell.request.action, key, bucket.arn, inv)
                return out
            out += self._fix(main.action, self._t(cell.request.action.lower())) + self._fix(main.resource, self._t(key.arn))
            out += self._network(main, cell.where, inv.kms_interface_endpoint, caller, inv)
            out += self._pin(main, {"aws:securetransport": "true"})
            out += self._absent_prefix(main, "s3:")
            out += self._pin_value(main, "kms:calleraccount", self.account)
            if via_s3:
                out += self._pin(main, {"kms:viaservice": f"s3.{inv.region}.amazonaws.com"})
            elif cell.where == m.VIA_SERVICE:
                value, present = main.key("kms:viaservice")
                out += [present, value != self._t(f"s3.{inv.region}.amazonaws.com")]
            else:
                out += self._pin(main, {"kms:viaservice": ABSENT})
            return out
        out += self._fix(main.action, self._t(cell.request.action.lower()))
        if cell.kind == "endpoint":
            endpoint = inv.subject_of(cell)
            targets = {f"to {b.name}": b.arn for b in inv.buckets}
            _, on_objects = m.S3_ACTIONS[m.UPLOAD_DATA_KEY if cell.what == "upload" else cell.what]
            if cell.where in targets:
                arn = targets[cell.where]
                out += self._objects(main, arn) if on_objects else self._fix(main.resource, self._t(arn))
            else:   # any bucket but the data buckets
                ctx = self.ctx
                name = z3.Plus(z3.Union(z3.Range("a", "z", ctx), z3.Range("0", "9", ctx), z3.Re("-", ctx), z3.Re(".", ctx)))
                pattern = z3.Concat(z3.Re("arn:aws:s3:::", ctx), name)
                if on_objects:
                    pattern = z3.Concat(pattern, z3.Re("/", ctx), z3.Plus(z3.AllChar(z3.ReSort(z3.StringSort(ctx)))))
                out.append(z3.InRe(main.resource, pattern))
                for bucket in inv.buckets:
                    out += [main.resource != self._t(bucket.arn), z3.Not(z3.PrefixOf(self._t(bucket.arn + "/"), main.resource))]
            out += self._network(main, m.THIS_ENDPOINT, endpoint.token, caller, inv)
            out += self._pin(main, {"aws:securetransport": "true"})
            out += self._absent_prefix(main, "kms:")
            return out
        bucket = inv.subject_of(cell)
        _, on_objects = m.S3_ACTIONS[cell.what]
        out += self._objects(main, bucket.arn, caller.object_prefix) if on_objects else \
            self._fix(main.resource, self._t(bucket.arn))
        if caller.object_prefix and not on_objects:   # a caller granted one prefix lists that prefix
            out += self._pin(main, {"s3:prefix": caller.object_prefix})
        out += self._s3_context(main, cell, inv, cell.what, _endpoint_token(cell, inv))
        return out + self._leg_constraints(cell, inv)

    def _leg_call(self, cell: Cell, inv: Inventory) -> tuple | None:
        """(action, key, bucket ARN) of S3's call to KMS for a request of an S3 cell as `inv` makes it;
        None when it makes none."""
        if cell.kind != "s3":
            return None
        bucket = inv.subject_of(cell)
        key = None if bucket is None else _leg_key(bucket, inv, cell.what)
        if key is None:
            return None
        return "kms:Decrypt" if cell.what == m.READ else "kms:GenerateDataKey", key, bucket.arn

    def _leg_constraints(self, cell: Cell, inv: Inventory) -> list:
        """The constraints of that call ([] when there is none)."""
        call = self._leg_call(cell, inv)
        return [] if call is None else self._leg(*call, inv)

    def _uses_leg(self, cell: Cell) -> bool:
        if cell.kind == "s3":
            return cell.what in (m.READ, m.UPLOAD_DATA_KEY, m.UPLOAD_NO_HEADER)
        return cell.kind == "kms" and cell.what.endswith(m.VIA_S3) and cell.caller.kind not in (who.SERVICE, who.SERVICE_FOR_OTHER)

    def _s3_context(self, encoder: Encoder, cell: Cell, inv: Inventory, what: str, endpoint: str | None) -> list:
        where = m.THIS_ENDPOINT if cell.via_endpoint else cell.where   # each of this assembly's endpoints
        out = self._network(encoder, where, endpoint, cell.caller, inv)
        out += self._pin(encoder, {"aws:securetransport": "true" if cell.tls else "false"})
        out += self._absent_prefix(encoder, "kms:")
        bucket = inv.subject_of(cell) if cell.kind == "s3" else inv.bucket_using(inv.subject_of(cell))
        headers = {"s3:x-amz-server-side-encryption": ABSENT, "s3:x-amz-server-side-encryption-aws-kms-key-id": ABSENT,
                   "s3:x-amz-server-side-encryption-customer-algorithm": ABSENT}
        if what == m.UPLOAD_DATA_KEY:
            headers |= {"s3:x-amz-server-side-encryption": "aws:kms",
                        "s3:x-amz-server-side-encryption-aws-kms-key-id": bucket.default_key or "(no default key)"}
        elif what == m.UPLOAD_OTHER_KEY:
            headers["s3:x-amz-server-side-encryption"] = "aws:kms"
            value, present = encoder.key("s3:x-amz-server-side-encryption-aws-kms-key-id")
            out += [present, value != self._t(bucket.default_key or "(no default key)")]
            del headers["s3:x-amz-server-side-encryption-aws-kms-key-id"]
        elif what == m.UPLOAD_SSE_C:
            headers["s3:x-amz-server-side-encryption-customer-algorithm"] = "AES256"
        elif what == m.UPLOAD_SSE_S3:
            headers["s3:x-amz-server-side-encryption"] = "AES256"
        return out + self._pin(encoder, headers)

    def _leg(self, action: str, key: Key, bucket_arn: str, inv: Inventory) -> list:
        """S3's call to KMS for the caller: a forward access session from S3, with S3's encryption context."""
        leg = self.leg
        out = self._fix(leg.action, self._t(action.lower())) + self._fix(leg.resource, self._t(key.arn))
        out += self._pin(leg, {"aws:securetransport": "true", "kms:viaservice": f"s3.{inv.region}.amazonaws.com",
                               "kms:encryptioncontext:aws:s3:arn": bucket_arn, "aws:viaawsservice": "true",
                               "aws:calledvia": "s3.amazonaws.com", "aws:calledviafirst": "s3.amazonaws.com",
                               "aws:calledvialast": "s3.amazonaws.com", "aws:sourcevpce": ABSENT, "aws:sourcevpc": ABSENT,
                               "aws:sourceaccount": ABSENT, "aws:sourcearn": ABSENT, "aws:sourceowner": ABSENT})
        out += self._pin_value(leg, "kms:calleraccount", self.account)
        return out + self._absent_prefix(leg, "s3:")

    def _network(self, encoder: Encoder, where: str, endpoint: str | None, caller, inv: Inventory) -> list:
        """How the request arrives: the endpoint and VPC keys, and whether a service asks for the caller.
        "Another VPC endpoint" is any id but `endpoint` and this assembly's gateway endpoints."""
        via = where == m.VIA_SERVICE
        values: dict = {"aws:viaawsservice": "true" if via else "false",
                        "aws:calledvia": ANY if via else ABSENT, "aws:calledviafirst": ANY if via else ABSENT,
                        "aws:calledvialast": ANY if via else ABSENT}
        out = []
        if where == m.THIS_ENDPOINT and endpoint:
            values |= {"aws:sourcevpce": endpoint, "aws:sourcevpc": ANY}
        elif where == m.OTHER_ENDPOINT:
            value, present = encoder.key("aws:sourcevpce")
            ours = sorted({endpoint, *(e.token for e in inv.endpoints)} - {None})
            out += [present] + [value != self._t(token) for token in ours]
            values["aws:sourcevpc"] = ANY
        else:
            values |= {"aws:sourcevpce": ABSENT, "aws:sourcevpc": ABSENT}
        return out + self._pin(encoder, values)

    def _caller(self, caller, inv: Inventory) -> list:
        """The principal (shared by the request and S3's KMS call), its account and the service context."""
        main, ctx = self.main, self.ctx
        account = inv.account
        digits, role_or_user = self._digits, self._role_or_user
        kind = caller.kind
        out = []
        principal_keys = {"aws:principalisawsservice": "true" if kind in (who.SERVICE, who.SERVICE_FOR_OTHER) else
                          ABSENT if kind == who.ANONYMOUS else "false",
                          "aws:principalservicename": caller.principal.id if kind in (who.SERVICE, who.SERVICE_FOR_OTHER)
                          else ABSENT}
        if kind == who.ANONYMOUS:
            out += self._fix(main.authenticated, self._F) + self._fix(main.principal, self._t("")) + \
                self._fix(self.account, self._t(""))
            principal_keys |= {"aws:principalaccount": ABSENT, "aws:principalorgid": ABSENT, "aws:principalorgpaths": ABSENT}
        elif kind in (who.SERVICE, who.SERVICE_FOR_OTHER):
            out += self._fix(main.authenticated, self._T) + \
                self._fix(main.principal, self._t(caller.principal.id))
            out += [self.account == self.source_account]
            principal_keys |= {"aws:principalaccount": ABSENT, "aws:principalorgid": ABSENT, "aws:principalorgpaths": ABSENT}
            if kind == who.SERVICE:
                out += self._fix(self.source_account, self._t(account)) + self._fix(self.account, self._t(account))
            else:
                out += [z3.InRe(self.source_account, digits), self.source_account != self._t(account)]
            out += self._pin_value(main, "aws:sourceaccount", self.source_account)
            out += self._pin_value(main, "aws:sourceowner", self.source_account)
            for name in ["aws:sourcearn"] + [k for k in main.keys if k.startswith("kms:encryptioncontext:") and k.endswith(":arn")]:
                out += self._arn_of_account(main, name, account, kind == who.SERVICE)
        else:
            out += self._fix(main.authenticated, self._T)
            principal_keys["aws:principalaccount"] = self.account
            if kind in (who.OTHER, who.ORGANISATION):
                # The principal's account and aws:PrincipalAccount are each any other account, not tied to
                # one another: more requests than IAM sees, never fewer (ties cost the solver seconds).
                out += [z3.InRe(self.account, digits), self.account != self._t(account),
                        z3.InRe(main.principal, z3.Concat(z3.Re("arn:aws:iam::", ctx), digits, z3.Re(":", ctx), role_or_user)),
                        z3.Not(z3.PrefixOf(self._t(f"arn:aws:iam::{account}:"), main.principal))]
                if kind == who.OTHER:
                    principal_keys |= {"aws:principalorgid": ABSENT, "aws:principalorgpaths": ABSENT}
                else:
                    principal_keys["aws:principalorgid"] = ANY
            elif kind == who.IN_ACCOUNT:
                principal_keys["aws:principalaccount"] = account
                out += self._fix(self.account, self._t(account)) + [
                        z3.InRe(main.principal, z3.Concat(z3.Re(f"arn:aws:iam::{account}:", ctx), role_or_user))]
                named = list(inv.break_glass) + [r.arn for r in inv.roles if isinstance(r.arn, str)]
                out += [main.principal != self._t(arn) for arn in dict.fromkeys(named)]
            else:
                principal_keys["aws:principalaccount"] = caller.principal.account or account
                out += self._fix(main.principal, self._t(caller.principal.id)) + \
                    self._fix(self.account, self._t(caller.principal.account or account))
            out += self._pin(main, {"aws:sourceaccount": ABSENT, "aws:sourcearn": ABSENT, "aws:sourceowner": ABSENT})
        for name, value in principal_keys.items():
            out += self._pin_value(main, name, value)
        return out

    def _arn_of_account(self, encoder: Encoder, name: str, account: str, same: bool) -> list:
        """A service's source ARN (or the ARN in its encryption context) names the account it acts for:
        this one (`same`), or any other one."""
        ctx = self.ctx
        value, present = encoder.key(name)
        if account not in self._arn_regexes:
            self._arn_regexes[account] = z3.Concat(self._arn_head, z3.Re(account + ":", ctx), self._anything)
        ours = z3.InRe(value, self._arn_regexes[account])
        if same:
            return self._fix(present, self._T) + [ours]
        other = z3.InRe(value, z3.Concat(self._arn_head, self._digits, z3.Re(":", ctx), self._anything))
        return self._fix(present, self._T) + [other, z3.Not(ours)]

    def _objects(self, encoder: Encoder, bucket_arn: str, key_prefix: str = "") -> list:
        """Any object of the bucket (under `key_prefix`, for a caller granted only that prefix)."""
        prefix = bucket_arn + "/" + key_prefix
        return [z3.PrefixOf(self._t(prefix), encoder.resource), z3.Length(encoder.resource) > len(prefix)]

    def _pin(self, encoder: Encoder, values: dict) -> list:
        out = []
        for name, value in values.items():
            out += self._pin_value(encoder, name, value)
        return out

    def _pin_value(self, encoder: Encoder, name: str, value) -> list:
        """Fix a key: absent, present with any value, or one value (text or z3 string)."""
        variable, present = encoder.key(name)
        if value is ABSENT:
            return self._fix(present, self._F)
        if value is ANY:
            return self._fix(present, self._T)
        if isinstance(value, str):
            return self._fix(present, self._T) + self._fix(variable, self._t(value))
        return self._fix(present, self._T) + self._fix(variable, value)

    def _absent_prefix(self, encoder: Encoder, prefix: str) -> list:
        """Keys of another service (s3: in a KMS request, kms: in an S3 request) are never in the request."""
        out = []
        for name, (_, present) in list(encoder.keys.items()):
            if name.startswith(prefix):
                out += self._fix(present, self._F)
        return out


def _string_variables(expression) -> list:
    """The uninterpreted string constants in `expression`."""
    found, stack, seen = [], [expression], set()
    while stack:
        node = stack.pop()
        if node.get_id() in seen:
            continue
        seen.add(node.get_id())
        if z3.is_const(node) and node.decl().kind() == z3.Z3_OP_UNINTERPRETED and z3.is_string(node):
            found.append(node)
        stack.extend(node.children())
    return found


def _substitute(formula, pairs: list):
    """`z3.substitute(formula, *pairs)` without its argument checks in Python, which cost more than the
    substitution itself here (a review substitutes thousands of times); the pairs are built by this
    module from variables and values of the same sort, and z3 checks the sorts again in C."""
    count = len(pairs)
    sources, targets = (z3.Ast * count)(), (z3.Ast * count)()
    for index, (source, target) in enumerate(pairs):
        sources[index], targets[index] = source.as_ast(), target.as_ast()
    return z3.ExprRef(z3.Z3_substitute(formula.ctx.ref(), formula.as_ast(), count, sources, targets), formula.ctx)


def _conjunction(terms: list):
    """`z3.And(*terms)` of z3 Booleans without its per-argument coercion in Python (see `_substitute`)."""
    count = len(terms)
    arguments = (z3.Ast * count)()
    for index, term in enumerate(terms):
        arguments[index] = term.as_ast()
    context = terms[0].ctx
    return z3.BoolRef(z3.Z3_mk_and(context.ref(), count, arguments), context)


def _components(atoms: list) -> list[list]:
    """The atoms grouped so that no string variable appears in two groups: [(atom, literal), ...] each."""
    parent: dict = {}

    def root(item):
        while parent.setdefault(item, item) != item:
            item = parent[item]
        return item

    for _, _, variables in atoms:
        first = next(iter(variables), None)
        for variable in variables:
            parent[root(variable)] = root(first)
    groups: dict = {}
    for atom, literal, variables in atoms:
        anchor = root(next(iter(variables))) if variables else ("none", atom.get_id())
        groups.setdefault(anchor, []).append((atom, literal))
    return list(groups.values())


def _is_variable(expression) -> bool:
    return z3.is_const(expression) and expression.decl().kind() == z3.Z3_OP_UNINTERPRETED and z3.is_string(expression)


def _caller_in(caller, inv: Inventory):
    """The caller as `inv` knows it: an assembly role carries that version's identity policies."""
    if caller.kind != who.ASSEMBLY_ROLE:
        return caller
    role = next((r for r in inv.roles if r.arn == caller.principal.id), None)
    return dataclasses.replace(caller, identity=tuple(role.policy) if role else ())


def _leg_key(bucket: Bucket, inv: Inventory, what: str) -> Key | None:
    """The assembly's key S3 calls as the caller for this request, or None (no call, or a key outside)."""
    if bucket.sse_c_required and what in (m.READ, m.UPLOAD_NO_HEADER):
        return None
    if what not in (m.READ, m.UPLOAD_DATA_KEY, m.UPLOAD_NO_HEADER):
        return None
    return inv.key_by_arn(bucket.default_key)


def _is_public(statement: Statement) -> bool:
    from cmk_validate.review.decide import _is_public as public

    return public(statement)


def _endpoint_token(cell: Cell, inv: Inventory) -> str | None:
    """The id token of the gateway endpoint of `inv` a request of the cell comes through."""
    endpoint = inv.gateway_endpoint(cell.endpoint)
    return endpoint.token if endpoint else None
