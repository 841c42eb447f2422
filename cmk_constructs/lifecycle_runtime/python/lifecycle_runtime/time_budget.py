"""How long a resource has been waiting, against the budget its Provider allows.

The Provider stops polling at its total timeout and fails the resource with a bare
"Operation timed out". Each handler checks a slightly smaller budget itself so the
failure says what it was waiting for and what to do; the construct declares both once
(cmk_constructs.lifecycle_provider.ProviderContract) and passes the budget in the
function's environment. on_event records its start time as a top-level field of its
response, which the Provider passes to every is_complete call (top-level fields do not
become resource attributes).
"""

from __future__ import annotations

import os
import time

from lifecycle_runtime.errors import LifecycleError

STARTED_AT = "LifecycleStartedAt"
BUDGET_VARIABLE = "LIFECYCLE_BUDGET_SECONDS"


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


def budget_seconds() -> float:
    """This function's budget, from its environment (set by the construct's ProviderContract)."""
    value = os.environ.get(BUDGET_VARIABLE, "")
    try:
        return float(value)
    except ValueError:
        raise LifecycleError(f"environment variable {BUDGET_VARIABLE} is {value!r}, not a number of seconds; "
                             "the construct sets it") from None


def ensure_within(event: dict, waiting_for: str, what_next: str) -> None:
    """Raise TimeBudgetExhausted once the resource has waited its budget."""
    budget = budget_seconds()
    waited = elapsed(event)
    if waited >= budget:
        raise TimeBudgetExhausted(
            f"gave up after {waited / 60:.0f} min waiting for {waiting_for} (budget {budget / 60:.0f} min): {what_next}")
