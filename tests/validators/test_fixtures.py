"""Every rule's good fixtures are silent; each bad fixture makes exactly the expected rules fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmk_validate.engine import run
from cmk_validate.findings import Severity
from cmk_validate.model import load
from cmk_validate.rules import discover

FIXTURES = Path(__file__).parent / "fixtures"
RULE_FOLDERS = {rule.module_name(): rule.id for rule in discover()}
FILES = sorted(p for p in FIXTURES.glob("*/*") if p.suffix in (".json", ".yaml", ".yml")
               and p.parent.name != "snapshots")


def test_every_rule_has_good_and_bad_fixtures():
    for folder in RULE_FOLDERS:
        names = [p.name for p in (FIXTURES / folder).glob("*")]
        assert any(n.startswith("good") for n in names), f"{folder} has no good fixture"
        assert any(n.startswith("bad") for n in names), f"{folder} has no bad fixture"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path):
    report = run(load(str(path)))
    snapshot = FIXTURES / "snapshots" / path.parent.name / (path.stem + ".json")
    assert snapshot.is_file(), "run tests/validators/fixtures/make_fixtures.py"
    assert [{"ruleId": f.rule_id, "severity": f.severity.label, "path": f.path_text, "line": f.line,
             "message": f.message} for f in report.findings] == json.loads(snapshot.read_text()), \
        f"findings differ from {snapshot.name}; if intended, rerun make_fixtures.py and review the diff"
    raised = {f.rule_id for f in report.findings if f.severity >= Severity.WARNING}
    if path.name.startswith("good"):
        assert raised == set(), [f.message for f in report.findings]
    else:
        declared = json.loads(path.read_text()).get("Metadata", {}).get("ExpectedFindings")
        expected = set(declared or [RULE_FOLDERS[path.parent.name]])
        errors = {f.rule_id for f in report.findings if f.severity == Severity.ERROR}
        assert errors == expected, [f"{f.rule_id}: {f.message}" for f in report.findings]
        assert raised == expected
