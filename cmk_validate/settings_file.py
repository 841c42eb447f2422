"""The validator's settings from a file, as cfn-lint (.cfnlintrc) and checkov (.checkov.yaml) read theirs.

A repository keeps its choices next to its code: `.cmk-validate.yaml` or the `[tool.cmk-validate]` table of
`pyproject.toml`, found in the working directory or the nearest parent up to the repository root (the
first directory holding `.git`); `--config FILE` names one, `--no-config` ignores them. Keys are the
command line's long options without the dashes (`break-glass`, `skip`, `min-severity`, `format`, ...);
a value given on the command line wins over the file's. An unknown key or a value of the wrong type is
an input error that names the file and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

from cmk_validate.findings import InputError

DOT_FILE = ".cmk-validate.yaml"
PYPROJECT_TABLE = "cmk-validate"
# Key -> (argparse destination, kind): "list" of strings, "str", or "bool" (a switch).
KEYS = {
    "break-glass": ("break_glass", "list"),
    "key-admin": ("key_admin", "list"),
    "rule": ("rule", "list"),
    "skip": ("skip", "list"),
    "min-severity": ("min_severity", "str"),
    "format": ("format", "list"),
    "bucket-encryption": ("bucket_encryption", "str"),
    "no-cfn-lint": ("no_cfn_lint", "bool"),
    "cfn-lint-config": ("cfn_lint_config", "str"),
    "cfn-lint-ignore": ("cfn_lint_ignore", "list"),
    "source-root": ("source_root", "str"),
    "rules-doc-url": ("rules_doc_url", "str"),
}


def find(start: Path) -> Path | None:
    """The settings file for a run started in `start`: the dot-file first, then pyproject.toml's table."""
    for directory in (start, *start.parents):
        dot_file = directory / DOT_FILE
        if dot_file.is_file():
            return dot_file
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            try:
                if PYPROJECT_TABLE in _tool_tables(pyproject):
                    return pyproject
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                raise InputError(f"{pyproject}: cannot read it to look for [tool.{PYPROJECT_TABLE}]: "
                                 f"{' '.join(str(error).split())}") from None
        if (directory / ".git").exists():
            return None
    return None


def read(path: Path) -> dict[str, Any]:
    """Argparse destination -> value, from `path` (a dot-file or a pyproject.toml)."""
    try:
        if path.name == "pyproject.toml":
            table = _tool_tables(path).get(PYPROJECT_TABLE, {})
        else:
            table = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path}: cannot read the validator's settings: {' '.join(str(error).split())}") from None
    if not isinstance(table, dict):
        raise InputError(f"{path}: the validator's settings must be a mapping of option names to values")
    settings = {}
    for key, value in table.items():
        if key not in KEYS:
            raise InputError(f"{path}: unknown setting {key!r}; known: {', '.join(KEYS)}")
        destination, kind = KEYS[key]
        if kind == "list" and isinstance(value, str):
            value = [value]
        valid = {"list": isinstance(value, list) and all(isinstance(item, str) for item in value),
                 "str": isinstance(value, str), "bool": isinstance(value, bool)}[kind]
        if not valid:
            expected = {"list": "a list of strings", "str": "a string", "bool": "true or false"}[kind]
            raise InputError(f"{path}: setting {key!r} must be {expected}, not {value!r}")
        settings[destination] = value
    return settings


def apply(args, defaults: dict[str, Any], settings: dict[str, Any]) -> None:
    """Set each setting the command line left at its default."""
    for destination, value in settings.items():
        if getattr(args, destination) == defaults[destination]:
            setattr(args, destination, value)


def _tool_tables(pyproject: Path) -> dict:
    with pyproject.open("rb") as handle:
        tool = tomllib.load(handle).get("tool", {})
    return tool if isinstance(tool, dict) else {}
