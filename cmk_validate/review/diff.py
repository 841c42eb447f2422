"""What a change does to access: requests of a cell the new version allows and the base did not.

The offline counterpart of IAM Access Analyzer's check-no-new-access, proved per cell: a cell opens
when some request of it is allowed by the new policies and not by the base's (`Space.opens`, over all
values the cell leaves open), so widening a list of allowed values (a second endpoint id, an account, an
action) opens the cell even when it was allowed before for other requests. The witness is that request;
`before` and `after` name the statements that decide it in each version. A cell of a subject the base
does not have counts as denied there. Symmetrically, a cell is closed when some request of it that the
base allowed is not allowed now (with that request as witness). The change is reviewed on the new version's cells, so it reports the same cells as a
review of the new version alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cmk_validate.review.decide import decide, explain, outcome


@dataclass
class Flip:
    key: tuple
    subject: str
    who: str
    where: str
    tls: bool
    what: str
    before: str        # e.g. 'deny: bucket policy "DenyX"' or 'absent'
    after: str
    witness: dict | None = None   # opened: a request allowed now and not before


@dataclass
class Change:
    opened: list[Flip] = field(default_factory=list)
    closed: list[Flip] = field(default_factory=list)
    subjects_added: list[str] = field(default_factory=list)
    subjects_removed: list[str] = field(default_factory=list)
    base_cost: object = None

    @property
    def opens_access(self) -> bool:
        return bool(self.opened)


def compare(base_inv, new, space, base_cells) -> Change:
    """`new`: the new version's review, decided in `space`; `base_cells`: the base's own cells."""
    base_subjects = _subjects(base_inv)
    new_subjects = new.subjects()
    change = Change(subjects_added=[s for s in new_subjects if s not in base_subjects],
                    subjects_removed=[s for s in base_subjects if s not in new_subjects])
    for result in new.results:
        cell, now = result.cell, result.outcome
        present = cell.subject in base_subjects
        if now.allowed and not present:
            change.opened.append(_flip(cell, "absent", f"allow: {now.by}", now.witness))
        elif now.allowed:
            gained = space.opens(cell, new.inventory, base_inv)
            if gained.allowed:
                after = explain(cell, new.inventory, gained.witness) if gained.witness else outcome(cell, new.inventory, gained)
                before = _describe(explain(cell, base_inv, gained.witness)) if gained.witness else "undecided"
                change.opened.append(_flip(cell, before, f"allow: {after.by}" if after.allowed else _describe(after),
                                           gained.witness))
        if present:
            lost = space.narrows(cell, new.inventory, base_inv)
            if lost.allowed:
                before = explain(cell, base_inv, lost.witness) if lost.witness else outcome(cell, base_inv, lost)
                after = explain(cell, new.inventory, lost.witness) if lost.witness else now
                change.closed.append(_flip(cell, _describe(before), _describe(after), lost.witness))
    new_keys = {r.cell.key for r in new.results}
    for cell in base_cells:
        if cell.key not in new_keys:
            was = decide(cell, base_inv, space)
            if was.allowed:
                change.closed.append(_flip(cell, _describe(was), "absent", was.witness))
    return change


def _subjects(inv) -> list[str]:
    return [b.label for b in inv.buckets] + [k.label for k in inv.keys] + [e.label for e in inv.endpoints]


def _flip(cell, before: str, after: str, witness) -> Flip:
    return Flip(cell.key, cell.subject, cell.who, cell.where, cell.tls, cell.what, before, after, witness)


def _describe(outcome) -> str:
    return f"{outcome.symbol}: {outcome.by}"
