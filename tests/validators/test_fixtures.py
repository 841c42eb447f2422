"""Every rule's good fixtures are silent; each bad fixture makes exactly the expected rules fail.

The fixtures are built from the mutation table (fixtures/mutations.py) into a temporary directory and
validated from there; what the validator reports on each must equal its committed snapshot."""

from __future__ import annotations

import json

import pytest

from cmk_validate.engine import run
from cmk_validate.findings import Severity
from cmk_validate.model import load
from cmk_validate.rules import discover
from tests.validators.fixtures.mutations import FIXTURES, SNAPSHOTS, Fixture, fixtures

RULE_FOLDERS = {rule.module_name(): rule.id for rule in discover()}


@pytest.fixture(scope="session")
def fixture_directory(tmp_path_factory):
    return tmp_path_factory.mktemp("rule-fixtures")


def test_every_rule_has_good_and_bad_fixtures():
    for folder in RULE_FOLDERS:
        names = list(FIXTURES.get(folder, {}))
        assert any(n.startswith("good") for n in names), f"{folder} has no good fixture"
        assert any(n.startswith("bad") for n in names), f"{folder} has no bad fixture"


def test_the_snapshots_are_those_of_the_tables_fixtures():
    """No snapshot is left of a fixture the table no longer has (docs/rules.md lists them by name)."""
    assert sorted(p.relative_to(SNAPSHOTS).as_posix() for p in SNAPSHOTS.glob("*/*")) == \
        sorted(f"{f.folder}/{f.name}.json" for f in fixtures()), "run python -m tests.validators.fixtures.make_fixtures"


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda f: f.id)
def test_fixture(fixture: Fixture, fixture_directory):
    path = fixture.write(fixture_directory)
    report = run(load(str(path)))
    snapshot = fixture.snapshot
    assert snapshot.is_file(), "run python -m tests.validators.fixtures.make_fixtures"
    assert [{"ruleId": f.rule_id, "severity": f.severity.label, "path": f.path_text, "line": f.line,
             "message": f.message} for f in report.findings] == json.loads(snapshot.read_text()), \
        f"findings differ from {snapshot.name}; if intended, rerun make_fixtures.py and review the diff"
    raised = {f.rule_id for f in report.findings if f.severity >= Severity.WARNING}
    if fixture.good:
        assert raised == set(), [f.message for f in report.findings]
    else:
        declared = json.loads(path.read_text()).get("Metadata", {}).get("ExpectedFindings")
        expected = set(declared or [RULE_FOLDERS[fixture.folder]])
        failing = {f.rule_id for f in report.findings if f.severity == Severity.ERROR or f.undecided}
        assert failing == expected, [f"{f.rule_id}: {f.message}" for f in report.findings]
        assert raised == expected
