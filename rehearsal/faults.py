"""Errors injected at moto's request dispatch: throttling bursts and one-off failures; and what the
model cannot know of AWS's side and a rehearsal arms: how long each HSM takes, and Availability
Zones without HSM capacity.

Dispatch faults are injected below botocore, so the handlers' real retry configuration is what copes.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass

from rehearsal import durations


@dataclass
class _Fault:
    code: str
    message: str
    remaining: int
    after: int = 0  # let this many calls through first
    status: int = 400
    lost_response: bool = False  # the call takes effect, its response is lost (a 5xx or a timeout)


class FaultInjector:
    def __init__(self) -> None:
        self._faults: dict[tuple[str, str], list[_Fault]] = defaultdict(list)
        self.calls: list[tuple[str, str, str]] = []  # (handler running, service, action)
        self.reset()

    def reset(self) -> None:
        self._faults.clear()
        self.calls.clear()
        self.current_handler = ""
        self._hsm_spread: random.Random | None = None
        self._slow_hsms: list[float] = []
        self._no_capacity: dict[str, int] = {}
        self._short_pages: dict[tuple[str, str], int] = {}
        self.audit_log_with_cluster = False

    def calls_by(self, handler: str) -> set[tuple[str, str]]:
        return {(service, action) for who, service, action in self.calls if who == handler}

    def throttle(self, service: str, action: str, times: int = 2) -> None:
        self.fail(service, action, "ThrottlingException", "Rate exceeded", times)

    def fail(self, service: str, action: str, code: str, message: str, times: int = 1, after: int = 0) -> None:
        self._faults[(service, action)].append(_Fault(code, message, times, after))

    def lose_response(self, service: str, action: str) -> None:
        """`action` happens, but the caller gets a 500: did it happen? (CreateHsm has no idempotency token.)"""
        self._faults[(service, action)].append(_Fault("InternalFailure", "We encountered an internal error", 1,
                                                       status=500, lost_response=True))

    # --- CloudHSM capacity and timing (the model's create_hsm asks) -------------------------------

    def spread_hsm_creation(self, seed: int) -> None:
        """From now on each HSM takes its own time in durations.HSM_CREATE_RANGE, the same for the same
        seed (without it every HSM takes the typical durations.HSM_CREATE)."""
        self._hsm_spread = random.Random(seed)

    def slow_hsm_creation(self, seconds: float | None = None, times: int = 1) -> None:
        """The next `times` HSMs created take `seconds` (default durations.HSM_CREATE_SLOW)."""
        self._slow_hsms += [durations.HSM_CREATE_SLOW if seconds is None else seconds] * times

    def no_hsm_capacity(self, zone: str, times: int = 1) -> None:
        """The next `times` CreateHsm calls in `zone` find no HSM capacity there."""
        self._no_capacity[zone] = self._no_capacity.get(zone, 0) + times

    def hsm_create_seconds(self) -> float:
        """How long the HSM being created takes: an armed slow one, a spread draw, or the typical figure."""
        if self._slow_hsms:
            return self._slow_hsms.pop(0)
        if self._hsm_spread is not None:
            return durations.hsm_create_seconds(self._hsm_spread)
        return durations.HSM_CREATE

    def take_no_capacity(self, zone: str) -> bool:
        """Whether this CreateHsm in `zone` meets an armed capacity shortfall (and uses it up)."""
        if self._no_capacity.get(zone, 0) <= 0:
            return False
        self._no_capacity[zone] -= 1
        return True

    def audit_log_group_with_cluster(self) -> None:
        """CloudHSM creates a cluster's audit log group with the cluster, not when its first HSM is ACTIVE
        (the CloudHSM User Guide says neither): the earliest it could, for a rehearsal that checks a
        template still deploys if so (see rehearsal.services.cloudhsm.models.audit_log)."""
        self.audit_log_with_cluster = True

    # --- pages shorter than asked ----------------------------------------------------------------

    def short_pages(self, service: str, action: str, size: int) -> None:
        """`action` returns at most `size` items a page, whatever the caller asks: the APIs that page
        say a response may hold fewer items than the limit, so a caller must follow the token."""
        self._short_pages[(service, action)] = size

    def page(self, service: str, action: str, items: list, token: str | None, limit: int | None,
             maximum: int) -> tuple[list, str | None]:
        """One page of `items` from `token` (None: the first), of at most `limit` (None: `maximum`,
        where the API reference gives no default) and of no more than an armed short page; with the
        token of the next page, or None on the last. ValueError for a token this call did not issue."""
        start = 0
        if token is not None:
            try:
                start = int(token.removeprefix(f"{action}:"))
            except ValueError:
                raise ValueError(f"{token!r} is not a pagination token of {action}") from None
            if not token.startswith(f"{action}:") or not 0 <= start <= len(items):
                raise ValueError(f"{token!r} is not a pagination token of {action}")
        size = min(limit or maximum, self._short_pages.get((service, action), maximum))
        end = start + size
        return items[start:end], (f"{action}:{end}" if end < len(items) else None)

    def take(self, service: str, action: str) -> tuple[tuple[int, dict, str], bool] | None:
        """(the error response to send, whether the action still runs first), if a fault is armed."""
        self.calls.append((self.current_handler, service, action))
        faults = self._faults.get((service, action))
        if not faults:
            return None
        fault = faults[0]
        if fault.after > 0:
            fault.after -= 1
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
        body = json.dumps({"__type": fault.code, "message": fault.message})
        return (fault.status, {"status": fault.status, "x-amzn-ErrorType": fault.code}, body), fault.lost_response


FAULTS = FaultInjector()
