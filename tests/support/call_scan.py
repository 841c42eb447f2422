"""The AWS API calls a handler's code can make, read from its source.

Every call goes through `client("<service>").<method>(...)` (or a paginator, or
`create_once("<service>", "<method>", ...)`), in the
handler's runtime folder or in a shared-layer module it imports, so an AST walk
finds them all; the end-to-end test checks the calls actually made are among them.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAYER_DIR = REPO / "cmk_constructs" / "lifecycle_runtime" / "python"

LAYER_PACKAGE = LAYER_DIR / "lifecycle_runtime"


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text())


def _direct_calls(tree: ast.AST) -> set[tuple[str, str]]:
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "create_once":
            service, operation = (argument.value for argument in node.args[:2])
            calls.add((service, "".join(part.capitalize() for part in operation.split("_"))))
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call)):
            continue
        inner = node.func.value
        if getattr(inner.func, "id", None) != "client" or not inner.args or not isinstance(inner.args[0], ast.Constant):
            continue
        method = node.func.attr
        if method == "get_paginator":
            method = node.args[0].value
        calls.add((inner.args[0].value, "".join(part.capitalize() for part in method.split("_"))))
    return calls


def _layer_imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "lifecycle_runtime":
                names |= {alias.name for alias in node.names}
            elif node.module.startswith("lifecycle_runtime."):
                names.add(node.module.split(".", 1)[1])
    return names


def calls_of(resource: str) -> set[tuple[str, str]]:
    """(service, Operation) pairs, e.g. ("cloudhsmv2", "CreateHsm"), of a handler and what it imports."""
    pending = list((REPO / "cmk_constructs" / resource / "runtime").glob("*.py"))
    seen: set[Path] = set()
    calls: set[tuple[str, str]] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = _tree(path)
        calls |= _direct_calls(tree)
        pending += [LAYER_PACKAGE / f"{name}.py" for name in _layer_imports(tree) if (LAYER_PACKAGE / f"{name}.py").is_file()]
    return calls
