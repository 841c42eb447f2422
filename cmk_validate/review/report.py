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

    @property
    def contradiction(self) -> bool:
        return ex.contradicts(self.expectation, self.outcome.allowed)


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

    def broken_clauses(self) -> list[str]:
        return list(dict.fromkeys(r.expectation.clause for r in self.contradictions))

    def summary(self) -> str:
        return ex.summary_line(self.inventory, len(self.results), len(self.contradictions), self.broken_clauses())

    def subjects(self) -> list[str]:
        return list(dict.fromkeys(r.cell.subject for r in self.results))


def review_inventory(inv: Inventory, break_glass: list[str] | None = None, prices=None, space: Space | None = None) -> Review:
    space = space or Space()
    results = [Result(cell, decide(cell, inv, space), ex.expect(cell, inv)) for cell in build(inv, break_glass)]
    return Review(inv, results, estimate(inv, prices) if prices is not None else None)


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
