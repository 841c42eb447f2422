"""Run several resource operations at once on the simulated clock, as CloudFormation does.

An operation is a generator: it does its work in steps and yields the simulated time at which it
next wants to run (a poll, a stabilisation wait); it returns its result. The scheduler always
steps the operation that wakes first, so independent resources overlap in simulated time and the
timeline shows the deployment's real critical path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generator, Hashable

from rehearsal.clock import CLOCK

Operation = Generator[float, None, Any]


@dataclass
class Outcome:
    key: Hashable
    started: float
    finished: float
    result: Any = None
    error: BaseException | None = None


def run(start: Callable[[Hashable], Operation | None], ready: Callable[[], list[Hashable]],
        on_done: Callable[[Outcome], bool]) -> None:
    """Start every key `ready()` names, step them in wake-time order, report each to `on_done`.

    `start(key)` gives the key's operation (None when it has nothing to do); `on_done(outcome)`
    returns False to stop: the operations still running are closed (CloudFormation cancels them)
    and reported with a `Cancelled` error.
    """
    running: dict[Hashable, tuple[Operation, float, float]] = {}  # key -> (operation, wakes at, started)
    finished: set[Hashable] = set()
    order = 0
    sequence: dict[Hashable, int] = {}

    def launch() -> bool:
        """Start everything that is ready, all at the same moment (each runs its first step now);
        again while operations that finished at once made others ready."""
        nonlocal order
        while True:
            batch = [key for key in ready() if key not in running and key not in finished]
            if not batch:
                return True
            outcomes = []
            for key in batch:
                started = CLOCK.now()
                try:
                    operation = start(key)
                    wake = operation.send(None) if operation is not None else None
                except StopIteration as done:
                    outcomes.append(Outcome(key, started, CLOCK.now(), result=done.value))
                except Exception as error:  # could not begin (bad properties), or its first step failed
                    outcomes.append(Outcome(key, started, CLOCK.now(), error=error))
                else:
                    if operation is None:
                        outcomes.append(Outcome(key, started, CLOCK.now()))
                        continue
                    running[key] = (operation, max(wake, CLOCK.now()), started)
                    sequence[key] = order
                    order += 1
            for outcome in outcomes:
                finished.add(outcome.key)
                if not on_done(outcome):
                    return False

    def cancel_the_rest() -> None:
        for other, (pending, _, other_started) in list(running.items()):
            pending.close()
            del running[other]
            on_done(Outcome(other, other_started, CLOCK.now(), error=Cancelled()))

    if not launch():
        cancel_the_rest()
        return
    while running:
        key = min(running, key=lambda k: (running[k][1], sequence[k]))
        operation, wakes, started = running[key]
        CLOCK.advance_to(wakes)
        try:
            wake = operation.send(None)
        except StopIteration as done:
            del running[key]
            finished.add(key)
            keep_going = on_done(Outcome(key, started, CLOCK.now(), result=done.value))
        except Exception as error:
            del running[key]
            finished.add(key)
            keep_going = on_done(Outcome(key, started, CLOCK.now(), error=error))
        else:
            running[key] = (operation, max(wake, CLOCK.now()), started)
            continue
        if not keep_going or not launch():
            cancel_the_rest()
            return


class Cancelled(Exception):
    """CloudFormation stopped waiting for this resource because another one failed."""

    def __init__(self) -> None:
        super().__init__("Resource creation cancelled")
