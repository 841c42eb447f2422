"""IAM policy semantics, reusable on their own (the policy review builds on them).

- `parse_policy(document)` -> statements, normalised (`"*"` principal = `{"AWS": "*"}`, strings = lists of one).
- `evaluate(request, policies)` -> `Decision(effect, statement)`, the way IAM decides: an explicit
  Deny wins, then an Allow, else an implicit deny.
- `prover.deny_covers(...)` proves with z3 that Deny statements cover *every* request of a scope;
  `prover.passes_from_outside(...)` that a policy passes no caller from outside an account.
- `Effect`: a statement's effect and a decision's, one type everywhere.
"""

from cmk_validate.policy.evaluate import Decision, Principal, Request, evaluate, principal_match_kind, statement_matches
from cmk_validate.policy.statements import Condition, Effect, Statement, parse_policy

__all__ = ["Decision", "Principal", "Request", "evaluate", "principal_match_kind", "statement_matches",
           "Condition", "Effect", "Statement", "parse_policy"]
