"""Errors injected at moto's request dispatch: throttling bursts and one-off failures.

Injected below botocore, so the handlers' real retry configuration is what copes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass


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
        self.current_handler = ""

    def reset(self) -> None:
        self._faults.clear()
        self.calls.clear()
        self.current_handler = ""

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
