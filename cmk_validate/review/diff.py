"""What a change does to access: cells turned from denied to allowed (new access) and back.

The offline counterpart of IAM Access Analyzer's check-no-new-access: a cell that does not exist in
the base (a new bucket or key) counts as denied there, so everything it allows is new access.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


def compare(base, new) -> Change:
    before = {r.cell.key: r for r in base.results}
    after = {r.cell.key: r for r in new.results}
    change = Change(subjects_added=[s for s in new.subjects() if s not in base.subjects()],
                    subjects_removed=[s for s in base.subjects() if s not in new.subjects()])
    for key in list(dict.fromkeys(list(before) + list(after))):
        old, now = before.get(key), after.get(key)
        was = bool(old and old.outcome.allowed)
        is_ = bool(now and now.outcome.allowed)
        if was == is_:
            continue
        cell = (now or old).cell
        flip = Flip(key, cell.subject, cell.who, cell.where, cell.tls, cell.what,
                    _describe(old), _describe(now))
        (change.opened if is_ else change.closed).append(flip)
    return change


def _describe(result) -> str:
    if result is None:
        return "absent"
    return f"{result.outcome.symbol}: {result.outcome.by}"
