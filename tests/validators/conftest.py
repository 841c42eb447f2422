"""Shared, session-scoped inputs: the reference app synthesised once per mode per run (synth costs seconds)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
MODES = {"reference": None, "dev-kms": {"environment": "dev-kms"}, "sse-c": {"environment": "sse-c"},
         "analytics": {"environment": "analytics"}}

NODE_BIN = ROOT / "node_modules" / ".bin"   # the project's Node 22 and CDK CLI (make setup)
if NODE_BIN.is_dir() and str(NODE_BIN) not in os.environ.get("PATH", ""):
    os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def _synth(mode: str) -> Path:
    from tests.support import synth_cache

    try:
        outdir = synth_cache.assembly(MODES[mode], nag=False)
    except RuntimeError:
        outdir = synth_cache.assembly_directory(MODES[mode], nag=False)  # a failed validation still writes the templates
    if not (outdir / "manifest.json").is_file():
        pytest.skip(f"the reference app did not synthesise in mode {mode}")
    return outdir


@pytest.fixture(scope="session")
def synthesised():
    """mode -> cloud assembly directory of the reference app (skipped when app.py cannot build)."""
    try:
        import app  # noqa: F401
        app.build_app  # noqa: B018
    except Exception as error:  # the lead's app may not be importable in a partial checkout
        pytest.skip(f"reference app not importable: {error}")
    return {mode: _synth(mode) for mode in MODES}


@pytest.fixture(scope="session")
def reference_dir(synthesised) -> Path:
    return synthesised["reference"]
