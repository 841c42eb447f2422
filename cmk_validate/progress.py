"""Progress of long runs (rules over many scenarios, rehearsal phases and scenarios, benchmarks) on
stderr, with tqdm: shown only when stderr is a terminal, so CI logs and piped or redirected output
stay exactly as they were."""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TextIO, TypeVar

from tqdm import tqdm

Item = TypeVar("Item")


def steps(items: Iterable[Item], description: str, *, total: int | None = None, unit: str = "step",
          stream: TextIO | None = None) -> Iterator[Item]:
    """`items`, one by one, with a progress bar while they are consumed (none when `stream` is not a TTY)."""
    stream = stream or sys.stderr
    shown = _is_terminal(stream)
    yield from tqdm(items, desc=description, total=total, unit=unit, file=stream, disable=not shown, leave=False,
                    dynamic_ncols=True)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
