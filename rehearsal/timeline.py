"""What the rehearsal shows: CloudFormation's events on the simulated clock, per phase, and the bill.

Each phase (a deploy, an update, a destroy) lists its stacks with their start and duration, the
resources that took a minute or more (the critical path is made of those), every failure with
the reason CloudFormation would show, and what was retained. The bill is the HSM-hours the model
billed (every started hour of every HSM, as CloudHSM bills) at the price in `pricing.json`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rehearsal.clock import CLOCK

SLOW_SECONDS = 60.0
NOTE = "note"


@dataclass
class Event:
    time: float
    stack: str
    logical_id: str
    resource_type: str
    status: str
    reason: str = ""
    seconds: float = 0.0
    action: str = ""


@dataclass
class Phase:
    title: str
    started: float
    finished: float | None = None
    events: list[Event] = field(default_factory=list)
    outcome: str = ""


class Timeline:
    def __init__(self) -> None:
        self.phases: list[Phase] = []
        self.retained_resources: list[tuple[str, str, str, str | None]] = []  # stack, logical id, type, physical id

    def begin(self, title: str) -> Phase:
        phase = Phase(title, CLOCK.now())
        self.phases.append(phase)
        return phase

    def end(self, outcome: str) -> None:
        self.phases[-1].finished, self.phases[-1].outcome = CLOCK.now(), outcome

    def _add(self, event: Event) -> None:
        if not self.phases:
            self.begin("Deploy")
        self.phases[-1].events.append(event)

    def stack_event(self, stack: str, status: str, reason: str = "") -> None:
        self._add(Event(CLOCK.now(), stack, stack, "AWS::CloudFormation::Stack", status, reason))

    def resource(self, stack: str, logical_id: str, resource_type: str, status: str, started: float,
                 finished: float, reason: str = "", action: str = "") -> None:
        self._add(Event(finished, stack, logical_id, resource_type, status, reason, finished - started, action))

    def note(self, text: str) -> None:
        """Something the rehearsal did or saw besides CloudFormation's events (always shown)."""
        self._add(Event(CLOCK.now(), "", "", NOTE, "", text))

    def retained(self, stack: str, resource) -> None:
        self.retained_resources.append((stack, resource.logical_id, resource.resource_type, resource.physical_id))

    def render(self, verbose: bool = False) -> str:
        lines: list[str] = []
        origin = self.phases[0].started if self.phases else CLOCK.now()
        for phase in self.phases:
            took = (phase.finished or CLOCK.now()) - phase.started
            lines.append(f"\n{phase.title}  (t+{duration(phase.started - origin)}, {duration(took)}"
                         f"{', ' + phase.outcome if phase.outcome else ''})")
            for event in phase.events:
                if verbose or _worth_showing(event):
                    lines.append(_line(event, origin))
        return "\n".join(lines).lstrip("\n") + "\n"


def _worth_showing(event: Event) -> bool:
    if event.resource_type == NOTE:
        return True
    if event.resource_type == "AWS::CloudFormation::Stack":
        return not event.status.endswith("IN_PROGRESS") or "ROLLBACK" in event.status
    if event.status.endswith("FAILED") or event.status == "DELETE_SKIPPED" and event.reason == "retained":
        return True
    return event.status.endswith("COMPLETE") and event.seconds >= SLOW_SECONDS


def _line(event: Event, origin: float) -> str:
    at = f"t+{duration(event.time - origin):>9}"
    if event.resource_type == NOTE:
        return f"  {at}    {event.reason}"
    if event.resource_type == "AWS::CloudFormation::Stack":
        text = f"  {at}  {event.stack:<24} {event.status}"
    else:
        took = f"{duration(event.seconds):>8}" if event.seconds else " " * 8
        text = f"  {at}    {event.logical_id:<44} {event.resource_type:<38} {event.status:<18} {took}"
    return text + (f"\n{' ' * 17}reason: {event.reason}" if event.reason else "")


def duration(seconds: float) -> str:
    seconds = round(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
    return f"{days}d{text}" if days else text


@dataclass
class HsmBill:
    hours: int
    price_per_hour: float | None
    hsm_count: int
    currency: str
    price_origin: str

    @property
    def cost(self) -> float | None:
        return None if self.price_per_hour is None else self.hours * self.price_per_hour


def billed_hours(hsm) -> int:
    """Every started hour of one HSM, from CreateHsm until it is gone (or now), as CloudHSM bills."""
    ended = hsm.deleted_at if hsm.deleted_at is not None else CLOCK.now()
    return max(1, math.ceil((ended - hsm.created_at) / 3600 - 1e-9))


def hsm_bill(region: str) -> HsmBill:
    """Every started HSM-hour of every HSM the model created, priced from pricing.json."""
    from cmk_validate.review.cost import load_prices
    from rehearsal.services.cloudhsm import LEDGER

    prices = load_prices()
    hours, types = 0, set()
    for hsm in LEDGER:
        hours += billed_hours(hsm)
        types.add(hsm.hsm_type)
    table = ((prices.region(region) or {}).get("hsmHour") or {})
    price = table.get(types.pop()) if len(types) == 1 else None
    return HsmBill(hours, price, len(LEDGER), prices.table.get("currency", "USD"), prices.origin)
