"""Output formats, one module each behind one function `render(report, min_severity) -> str`."""

from __future__ import annotations

import importlib

FORMATS = ("text", "json", "sarif", "junit")


def render(name: str, report, min_severity) -> str:
    module = importlib.import_module(f"cmk_validate.formatters.{name}_format")
    return module.render(report, min_severity)
