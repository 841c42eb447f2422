"""IAM wildcards: `*` any run of characters, `?` one character; nothing else is special.

A pattern is a sequence of (character, is a wildcard) pairs, so that a `*` that came from a policy
variable's value or from `${*}` stays a literal character (policy/variables.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

Pattern = tuple[tuple[str, bool], ...]


def pattern_of(text: str) -> Pattern:
    """A pattern as written in a policy: every `*` and `?` is a wildcard."""
    return tuple((char, char in "*?") for char in text)


def literal(text: str) -> Pattern:
    return tuple((char, False) for char in text)


def has_wildcard(pattern: Pattern) -> bool:
    return any(wild for _, wild in pattern)


def text_of(pattern: Pattern) -> str:
    return "".join(char for char, _ in pattern)


@lru_cache(maxsize=4096)
def compile_pattern(pattern: Pattern, ignore_case: bool = False, arn_segments: bool = False) -> re.Pattern:
    """`arn_segments`: the Resource element's rule (IAM User Guide, "IAM JSON policy elements: Resource",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html): wildcards
    work within the colon-separated segments of an ARN, and only a `*` that is the last character of its
    segment may expand beyond the colon."""
    parts = []
    for index, (char, wild) in enumerate(pattern):
        if not wild:
            parts.append(re.escape(char))
        elif not arn_segments:
            parts.append(".*" if char == "*" else ".")
        elif char == "?":
            parts.append("[^:]")
        else:
            ends_segment = index + 1 == len(pattern) or pattern[index + 1] == (":", False)
            parts.append(".*" if ends_segment else "[^:]*")
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@lru_cache(maxsize=4096)
def compile_glob(text: str, ignore_case: bool = False) -> re.Pattern:
    return compile_pattern(pattern_of(text), ignore_case)


def glob_match(pattern: str | Pattern, text: str, ignore_case: bool = False) -> bool:
    if isinstance(pattern, str):
        return compile_glob(pattern, ignore_case).fullmatch(text) is not None
    return compile_pattern(pattern, ignore_case).fullmatch(text) is not None


def resource_match(pattern: str | Pattern, arn: str) -> bool:
    """A Resource element entry against the request's resource ARN (segment-aware wildcards)."""
    pattern = pattern_of(pattern) if isinstance(pattern, str) else pattern
    return compile_pattern(pattern, arn_segments=True).fullmatch(arn) is not None


def split_arn(pattern: Pattern) -> list[Pattern]:
    """The six colon-separated parts of an ARN pattern (the last keeps its colons), or one part."""
    parts: list[list] = [[]]
    for char, wild in pattern:
        if char == ":" and not wild and len(parts) < 6:
            parts.append([])
        else:
            parts[-1].append((char, wild))
    return [tuple(part) for part in parts] if len(parts) == 6 else [pattern]


def arn_like(pattern: str | Pattern, arn: str) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated parts is matched on its own (IAM User Guide,
    condition operators, "Amazon Resource Name (ARN) condition operators")."""
    pattern = pattern_of(pattern) if isinstance(pattern, str) else pattern
    pattern_parts = split_arn(pattern)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return glob_match(pattern, arn)
    return all(glob_match(p, a) for p, a in zip(pattern_parts, arn_parts))
