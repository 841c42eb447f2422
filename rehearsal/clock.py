"""A simulated clock with a timeline of future state changes.

The model schedules each AWS state transition (HSM becomes ACTIVE, key store
connects) at a simulated time; advancing the clock runs them in order. Tests take
milliseconds while the timeline still adds up to the real deployment's wall time.
"""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime, timezone
from typing import Callable

SIMULATION_EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc).timestamp()


class SimulatedClock:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._now = SIMULATION_EPOCH
        self._timeline: list[tuple[float, int, str, Callable[[], None]]] = []
        self._sequence = itertools.count()

    def now(self) -> float:
        return self._now

    def elapsed(self) -> float:
        return self._now - SIMULATION_EPOCH

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self._now, tz=timezone.utc)

    def schedule(self, delay_seconds: float, label: str, action: Callable[[], None]) -> float:
        """Run `action` when the clock reaches now + delay; returns that time."""
        due = self._now + delay_seconds
        heapq.heappush(self._timeline, (due, next(self._sequence), label, action))
        return due

    def advance_to(self, moment: float) -> None:
        """Move to `moment`, running every transition due on the way at its own time."""
        while self._timeline and self._timeline[0][0] <= moment:
            due, _, _, action = heapq.heappop(self._timeline)
            self._now = max(self._now, due)
            action()
        self._now = max(self._now, moment)

    def next_due(self) -> float | None:
        """When the next scheduled transition happens, if any."""
        return self._timeline[0][0] if self._timeline else None

    def advance(self, seconds: float) -> None:
        self.advance_to(self._now + seconds)

    def run_until_idle(self) -> None:
        """Run every scheduled transition (e.g. to let a deletion finish)."""
        while self._timeline:
            self.advance_to(self._timeline[0][0])


CLOCK = SimulatedClock()
