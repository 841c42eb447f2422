"""The app synthesised as `cdk synth [-c key=value]` would, once per configuration per session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from app import build_app
from validators.model import Assembly, load


@pytest.fixture(scope="session")
def assembly_dir(tmp_path_factory):
    """`assembly_dir("reference", hsmCount=4)`: the directory of that synthesis (the same environment
    with command-line settings, so only what the settings change differs between two of them)."""
    cache: dict[str, Path] = {}

    def synthesise(environment: str = "reference", **settings: Any) -> Path:
        key = json.dumps([environment, settings], sort_keys=True)
        if key not in cache:
            outdir = tmp_path_factory.mktemp(f"{environment}-assembly")
            build_app({"environment": environment, **settings}, outdir=str(outdir), nag=False).synth()
            cache[key] = outdir
        return cache[key]

    return synthesise


@pytest.fixture
def copied_assembly(assembly_dir, tmp_path):
    """A private copy of a synthesis that a test may change (a template, an asset)."""
    def copy(environment: str = "reference", **settings: Any) -> Path:
        target = tmp_path / "cdk.out"
        shutil.copytree(assembly_dir(environment, **settings), target)
        return target
    return copy


def loaded(path: Path) -> Assembly:
    return load(str(path))
