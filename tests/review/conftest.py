"""Inputs of the policy-review tests: hand-made fixtures (mutated per test) and the app synthesised once
per test run (tests/support/synth_cache.py)."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
MODES = ("reference", "dev-kms", "sse-c")
ACCOUNT = "111122223333"

os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"


def base_template() -> dict:
    return copy.deepcopy(json.loads((FIXTURES / "base.template.json").read_text()))


def write_assembly(directory: Path, template: dict) -> Path:
    """A one-stack cloud assembly (manifest with account and region) around `template`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Fixture.template.json").write_text(json.dumps(template))
    (directory / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"Fixture": {
        "type": "aws:cloudformation:stack", "environment": f"aws://{ACCOUNT}/eu-west-1",
        "properties": {"templateFile": "Fixture.template.json"}}}}))
    return directory


def statement(template: dict, resource: str, sid: str, document_key: str = "PolicyDocument") -> dict:
    statements = template["Resources"][resource]["Properties"][document_key]["Statement"]
    return next(s for s in statements if s.get("Sid") == sid)


def review_of(template: dict, tmp_path: Path, name: str = "fixture"):
    from cmk_validate.review.cost import load_prices
    from cmk_validate.review.report import review_path

    return review_path(str(write_assembly(tmp_path / name, template)), prices=load_prices())


def find(review, subject: str, who: str, what: str, where: str | None = None, tls: bool = True):
    """The one result whose subject and who start with the given texts."""
    from cmk_validate.review.matrix import THIS_ENDPOINT

    where = THIS_ENDPOINT if where is None else where
    found = [r for r in review.results if r.cell.subject.startswith(subject) and r.cell.who.startswith(who)
             and r.cell.what == what and r.cell.where == where and r.cell.tls == tls]
    assert len(found) == 1, f"{len(found)} cells for {subject}/{who}/{where}/{tls}/{what}"
    return found[0]


@pytest.fixture
def template() -> dict:
    return base_template()


@pytest.fixture(scope="session")
def app_assemblies() -> dict[str, Path]:
    """mode -> the reference deployment synthesised in that mode: cdk.json's environment of that name
    without its own 'name', so that two modes compare as a change of one deployment (cdk-nag off: the
    review does not need it)."""
    from tests.support import synth_cache

    environments = json.loads((ROOT / "cdk.json").read_text())["context"]["environments"]
    assemblies = {}
    for mode in MODES:
        settings = {key: value for key, value in environments[mode].items() if key != "name"}
        # reference's application VPCs need its HSMs: a mode without them leaves them out, as
        # `-c hsmPeering=null` does on the command line
        settings.setdefault("hsmPeering", "null")
        assemblies[mode] = synth_cache.assembly({"environment": "reference", **settings}, nag=False)
    return assemblies
