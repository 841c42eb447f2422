"""The app synthesised as `cdk synth [-c key=value]` would, once per configuration per test run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from cmk_validate.model import Assembly, load
from rehearsal.scenarios import Syntheses
from tests.support import synth_cache


class SharedSyntheses(Syntheses):
    """The rehearsal's syntheses, each from the run's one cache of assemblies (shared with the other
    fixtures and workers: a test that changes one works on a copy)."""

    def __init__(self) -> None:
        super().__init__(synth_cache.ROOT)   # no directory of its own: nothing is written through it

    def path(self, environment: str = "reference", **settings: Any) -> Path:
        return synth_cache.assembly({"environment": environment, **settings}, nag=False)


@pytest.fixture(scope="session")
def assembly_dir():
    """`assembly_dir("reference", hsmCount=4)`: the directory of that synthesis (the same environment
    with command-line settings, so only what the settings change differs between two of them)."""
    return SharedSyntheses().path


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
