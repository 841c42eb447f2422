"""The app synthesised as `cdk synth [-c key=value]` would, once per configuration per session."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from cmk_validate.model import Assembly, load
from rehearsal.scenarios import Syntheses


@pytest.fixture(scope="session")
def assembly_dir(tmp_path_factory):
    """`assembly_dir("reference", hsmCount=4)`: the directory of that synthesis (the same environment
    with command-line settings, so only what the settings change differs between two of them)."""
    return Syntheses(tmp_path_factory.mktemp("assemblies")).path


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
