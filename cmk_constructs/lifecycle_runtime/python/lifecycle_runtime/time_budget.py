"""How long a resource has been waiting, against the budget its Provider allows.

The Provider stops polling at its total timeout and fails the resource with a bare
"Operation timed out". Each handler checks a slightly smaller budget itself so the
failure says what it was waiting for and what to do. on_event records its start
time as a top-level field of its response, which the Provider passes to every
is_complete call (top-level fields do not become resource attributes).
"""

from __future__ import annotations

import time
from lifecycle_runtime.errors import LifecycleError

STARTED_AT = "LifecycleStartedAt"

def now() -> float:
    """The time, read when called: the deploy rehearsal runs handlers on a simulated clock."""
    return time.time()


class TimeBudgetExhausted(LifecycleError):
    """The resource waited longer than its budget."""


def started(response: dict) -> dict:
    """`response` (an on_event result) stamped with the current time."""
    return {**response, STARTED_AT: now()}


def elapsed(event: dict) -> float:
    """Seconds since on_event ran for this request (0 if it did not stamp the event)."""
    return max(0.0, now() - float(event.get(STARTED_AT, now())))


def ensure_within(event: dict, budget_seconds: float, waiting_for: str, what_next: str) -> None:
    """Raise TimeBudgetExhausted once the resource has waited `budget_seconds`."""
    waited = elapsed(event)
    if waited >= budget_seconds:
        raise TimeBudgetExhausted(
            f"gave up after {waited / 60:.0f} min waiting for {waiting_for} (budget {budget_seconds / 60:.0f} min): {what_next}")
