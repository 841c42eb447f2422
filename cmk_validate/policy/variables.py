"""IAM policy variables, as the IAM User Guide defines them ("IAM policy elements: Variables and tags",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html):

- `${key}` in the Resource element and in condition values is replaced by the request's value of
  that condition key (key names are case-insensitive);
- `${key, 'default'}` uses the default when the key has no value (`''` in it is one quote);
- `${*}`, `${?}` and `${$}` are the literal characters, never wildcards;
- a variable whose key has no value (absent from the request, or multi-valued) and no default leaves
  the value with nothing to be equal to or like: it matches no request;
- only policies of Version 2012-10-17 have variables; in older ones `${...}` is literal text.

A value from the request is literal text: a `*` in a user name is not a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from cmk_validate.policy.glob import Pattern, literal, pattern_of

VERSION_WITH_VARIABLES = "2012-10-17"
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_REFERENCE = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class Reference:
    """`${key}` or `${key, 'default'}`; `key` lower-cased, '' when the braces hold no valid key."""
    key: str
    default: str | None = None


Piece = Pattern | Reference


def has_variables(text: Any) -> bool:
    return isinstance(text, str) and "${" in text


@lru_cache(maxsize=4096)
def pieces(text: str) -> tuple[Piece, ...]:
    """`text` split into policy text (a Pattern, wildcards live) and references to request values."""
    out: list[Piece] = []
    position = 0
    for found in _VARIABLE.finditer(text):
        if found.start() > position:
            out.append(pattern_of(text[position:found.start()]))
        inside = found.group(1)
        if inside in _ESCAPES:
            out.append(literal(_ESCAPES[inside]))
        else:
            reference = _REFERENCE.fullmatch(inside)
            out.append(Reference(reference.group(1).lower(), None if reference.group(2) is None
                                 else reference.group(2).replace("''", "'")) if reference else Reference(""))
        position = found.end()
    if position < len(text):
        out.append(pattern_of(text[position:]))
    return tuple(out)


def substitute(text: str, value_of: Callable[[str], Any]) -> Pattern | None:
    """The pattern `text` stands for in a request whose condition keys `value_of` gives; None when a
    variable has no value (the policy value then matches nothing)."""
    result: list = []
    for piece in pieces(text):
        if not isinstance(piece, Reference):
            result.extend(piece)
            continue
        value = value_of(piece.key) if piece.key else None
        if isinstance(value, list):   # a multi-valued key cannot fill a variable
            value = value[0] if len(value) == 1 else None
        if isinstance(value, bool):
            value = "true" if value else "false"
        if value is None or not isinstance(value, (str, int)):
            if piece.default is None:
                return None
            value = piece.default
        result.extend(literal(str(value)))
    return tuple(result)
