"""One review: every cell decided and compared with the expectation, plus the summary and costs."""

from __future__ import annotations

from dataclasses import dataclass

from cmk_validate.model import load
from cmk_validate.review import expectations as ex
from cmk_validate.review.cost import CostEstimate, estimate
from cmk_validate.review.decide import Outcome, decide
from cmk_validate.review.matrix import Cell, build
from cmk_validate.review.subjects import Inventory, inventory
from cmk_validate.review.symbolic import Space


@dataclass
class Result:
    cell: Cell
    outcome: Outcome
    expectation: ex.Expectation
    # The cell's allowed request comes from an account the policies name while the assembly does not say
    # its own: whether it contradicts depends on the deploying account, so it is reported apart.
    account_dependent: bool = False

    @property
    def contradiction(self) -> bool:
        return ex.contradicts(self.expectation, self.outcome.allowed) and not self.account_dependent


@dataclass
class Review:
    inventory: Inventory
    results: list[Result]
    cost: CostEstimate | None = None
    diff: "object | None" = None          # diff.Change, set for a change review
    base_inventory: Inventory | None = None

    @property
    def contradictions(self) -> list[Result]:
        return [r for r in self.results if r.contradiction]

    @property
    def account_dependent(self) -> list[Result]:
        return [r for r in self.results if r.account_dependent]

    def broken_clauses(self) -> list[str]:
        return list(dict.fromkeys(r.expectation.clause for r in self.contradictions))

    def summary(self) -> str:
        line = ex.summary_line(self.inventory, len(self.results), len(self.contradictions), self.broken_clauses())
        if self.account_dependent:
            accounts = ", ".join(self.inventory.named_accounts)
            if line.startswith("OK: "):
                line = "UNDECIDED: " + line[len("OK: "):]
            line += (f" {len(self.account_dependent)} more cells contradict it unless account {accounts} is the "
                     "deploying account: the template does not say its own (review the synthesised assembly, "
                     "whose stacks carry their account, to decide them).")
        return line

    @property
    def needs_attention(self) -> bool:
        """Contradictions, or cells only the deploying account decides: the review does not pass them."""
        return bool(self.contradictions or self.account_dependent)

    def subjects(self) -> list[str]:
        return list(dict.fromkeys(r.cell.subject for r in self.results))


def review_inventory(inv: Inventory, break_glass: list[str] | None = None, prices=None, space: Space | None = None) -> Review:
    space = space or Space()
    results = []
    for cell in build(inv, break_glass):
        outcome, expectation = decide(cell, inv, space), ex.expect(cell, inv)
        results.append(Result(cell, outcome, expectation,
                              ex.contradicts(expectation, outcome.allowed) and _from_named_account(outcome, inv)))
    return Review(inv, results, estimate(inv, prices) if prices is not None else None)


def _from_named_account(outcome: Outcome, inv: Inventory) -> bool:
    """Whether the allowed request is made by a principal of an account the policies name, when the
    assembly's own account is unknown (that account may be the deploying one)."""
    principal = (outcome.witness or {}).get("principal", "")
    account = principal.split(":")[4] if principal.count(":") >= 5 else ""
    return not inv.account_known and account in inv.named_accounts


def review_path(path: str, break_glass: list[str] | None = None, prices=None) -> Review:
    return review_inventory(inventory(load(path), source=path), break_glass, prices)


def review_change(base_path: str, new_path: str, prices=None) -> Review:
    """The new version's review (the same cells as reviewed alone), and per cell whether a request is
    allowed now that was not before, proved in one z3 context holding both versions' policies."""
    from cmk_validate.review.diff import compare

    base_inv = inventory(load(base_path), source=base_path)
    new_inv = inventory(load(new_path), source=new_path)
    space = Space()
    new = review_inventory(new_inv, prices=prices, space=space)
    new.diff = compare(base_inv, new, space, build(base_inv))
    new.base_inventory = base_inv
    if prices is not None:
        new.diff.base_cost = estimate(base_inv, prices)
    return new
