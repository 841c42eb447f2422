"""Shared by the fail-closed and fuzz tests: where a value can go in a template, and hostile values."""

from __future__ import annotations

from typing import Any, Iterator


def value_paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every key and index path inside `value`, parents before children."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield path + (key,)
            yield from value_paths(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield path + (index,)
            yield from value_paths(child, path + (index,))


def put(document: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


def deeply_nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"k": [value]}
    return value
