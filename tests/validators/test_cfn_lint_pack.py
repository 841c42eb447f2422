"""The cfn-lint rule pack (`cfn-lint --append-rules cmk_validate.cfn_lint_rules`) reports what `cmk-validate`
reports: the same project rule ids on the same templates, under cfn-lint ids that map to them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from cmk_validate.cfn_lint_rules import _adapter
from cmk_validate.cli import main
from cmk_validate.findings import Severity
from cmk_validate.rules import discover
from tests.validators.fixtures.mutations import FIXTURES as TABLE
from tests.validators.fixtures.mutations import fixture_path, fixture_template

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
PACK_MODULE = "cmk_validate.cfn_lint_rules"
PACK_DIRECTORY = ROOT / "cmk_validate" / "cfn_lint_rules"
PACK_ID = re.compile(r"^[EWI]9\d{3}$")
BROKEN = fixture_path("data_bucket_endpoint_only", "bad_no_endpoint_deny")
GOOD = fixture_path("data_bucket_endpoint_only", "good_base")


@pytest.fixture(autouse=True)
def outside_the_repository(tmp_path, monkeypatch):
    """Run where no settings file of the validator is found (the pack reads it from the working directory)."""
    monkeypatch.chdir(tmp_path)


def _sample() -> list[Path]:
    """Each rule's first bad fixture and first good fixture other than the shared base: every rule fires
    somewhere, and every rule stays silent on a correct-but-unusual template."""
    chosen = [FIXTURES / "base_architecture.yaml"]
    for folder, named in TABLE.items():
        names = list(named)   # in the order of their file names
        chosen += [fixture_path(folder, n) for n in [n for n in names if n.startswith("bad_")][:1]]
        chosen += [fixture_path(folder, n) for n in [n for n in names if n.startswith("good_") and n != "good_base"][:1]]
    return chosen


def cli_rule_ids(path: Path, capsys) -> set[str]:
    """The project rule ids `cmk-validate PATH` fails on (its default threshold: warnings and errors)."""
    code = main([str(path), "--no-cfn-lint", "--no-config", "-f", "json"])
    report = json.loads(capsys.readouterr().out)
    ids = {f["ruleId"] for f in report["findings"] if not f["suppressed"] and f["severity"] != "info"}
    assert code == (1 if ids else 0)
    return ids


def pack_rule_ids(matches) -> set[str]:
    """The project rule ids in the pack's matches, each checked against its cfn-lint id."""
    ids = set()
    for match in matches:
        if not PACK_ID.match(match.rule.id):
            continue
        project_id = match.message.split(":")[0]
        severity = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO}[match.rule.id[0]]
        assert _adapter.cfn_lint_id(project_id, severity) == match.rule.id, match
        ids.add(project_id)
    return ids


def lint(path: Path, **settings):
    return lint_file(path, config=ManualArgs(append_rules=[PACK_MODULE], **settings))


@pytest.mark.parametrize("path", _sample(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_pack_reports_the_rule_ids_the_cli_reports(path, capsys):
    expected = cli_rule_ids(path, capsys)
    assert (path.name.startswith("bad_")) == bool(expected), "fixture naming and verdict disagree"
    assert pack_rule_ids(lint(path)) == expected


def test_a_template_cfn_lint_expands_is_read_as_written(capsys):
    """cfn-lint expands Fn::ForEach with values of its own before any rule runs; the rules must still see
    the loop over a list only deploy time knows, and say they cannot check it, as the CLI does."""
    path = fixture_path("every_resource_checked", "bad_for_each_over_deploy_time_list")
    assert pack_rule_ids(lint(path)) == cli_rule_ids(path, capsys) == {"CKE113"}


def test_a_warning_finding_is_a_w_rule_and_can_be_ignored_alone(tmp_path, capsys):
    template = fixture_template("data_bucket_endpoint_only", "good_split_statements")
    del template["Resources"]["DataBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    path = tmp_path / "implicit_block_public_access.json"
    path.write_text(json.dumps(template, indent=1))
    assert cli_rule_ids(path, capsys) == {"CKE104"}
    matches = [m for m in lint(path) if PACK_ID.match(m.rule.id)]
    assert [(m.rule.id, m.rule.severity) for m in matches] == [("W9104", "warning")]
    assert matches[0].message.startswith("CKE104: ") and matches[0].linenumber == 567
    assert [m for m in lint(path, ignore_checks=["W9104"]) if PACK_ID.match(m.rule.id)] == []


def test_a_template_the_validator_cannot_read_is_an_error(tmp_path, capsys):
    path = tmp_path / "unknown_intrinsic.json"
    path.write_text(json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket",
                                                         "Properties": {"BucketName": {"Fn::Frobnicate": "x"}}}}}))
    assert main([str(path), "--no-cfn-lint", "--no-config"]) == 2
    reason = capsys.readouterr().err.strip().removeprefix("cmk-validate: error: ")
    matches = [m for m in lint(path) if PACK_ID.match(m.rule.id)]
    assert [(m.rule.id, m.message) for m in matches] == [
        ("E9000", f"cmk-validate cannot read this template: {reason}")]


def test_every_project_rule_has_its_cfn_lint_ids():
    classes = _adapter.rule_classes()
    expected = {"E9000"}
    for rule in discover():
        number = rule.id[-3:]
        ids = {f"E9{number}", f"W9{number}", f"I9{number}"}
        assert {_adapter.cfn_lint_id(rule.id, severity) for severity in Severity} == ids
        own = f"{rule.id[2]}9{number}"
        assert classes[own].runs and classes[own].project_rule is rule
        assert classes[own].shortdesc.startswith(f"{rule.id}: ") and classes[own].source_url == rule.source_url
        assert set(classes[own]().child_rules) == ids - {own}
        expected |= ids
    assert set(classes) == expected
    with pytest.raises(ValueError):
        _adapter.cfn_lint_id("E3012", Severity.ERROR)


def run_cfn_lint(*arguments: str) -> subprocess.CompletedProcess:
    """cfn-lint's own command, with this checkout's package importable (the venv's editable install may be
    another checkout's)."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), *arguments], capture_output=True, text=True,
                          timeout=300, env=environment, cwd=Path.cwd())


@pytest.mark.parametrize("pack", [PACK_MODULE, str(PACK_DIRECTORY)], ids=["module", "directory"])
def test_cfn_lint_command_line_with_the_pack(pack, capsys):
    broken = run_cfn_lint("--format", "json", "--append-rules", pack, "--", str(BROKEN))
    assert broken.returncode & 2, broken.stderr   # cfn-lint's exit code: bit 2 = an error
    found = {m["Message"].split(":")[0] for m in json.loads(broken.stdout) if PACK_ID.match(m["Rule"]["Id"])}
    assert found == cli_rule_ids(BROKEN, capsys) == {"CKE101"}
    good = run_cfn_lint("--format", "json", "--append-rules", pack, "--", str(GOOD))
    assert good.returncode == 0, good.stdout + good.stderr
    assert json.loads(good.stdout) == []


def test_the_settings_file_decides_what_runs_as_for_the_cli(tmp_path, capsys):
    """In a repository whose .cmk-validate.yaml skips CKE101, neither door reports it; a settings file
    the validator refuses is E9000, as it is exit 2 for the command line."""
    (tmp_path / ".git").mkdir()
    settings = tmp_path / ".cmk-validate.yaml"
    settings.write_text("skip: [data_bucket_endpoint_only]\n")
    assert main([str(BROKEN), "--no-cfn-lint", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []
    assert pack_rule_ids(lint(BROKEN)) == set()
    _adapter._settings.cache_clear()
    settings.write_text("bucket-encryption: sse-x\n")
    assert main([str(BROKEN), "--no-cfn-lint"]) == 2
    assert "bucket-encryption" in capsys.readouterr().err
    matches = [m for m in lint(BROKEN) if PACK_ID.match(m.rule.id)]
    assert [m.rule.id for m in matches] == ["E9000"] and "'bucket-encryption'" in matches[0].message
    _adapter._settings.cache_clear()


def _stack_templates(assembly: Path) -> list[Path]:
    manifest = json.loads((assembly / "manifest.json").read_text())
    return [assembly / artifact["properties"]["templateFile"] for artifact in manifest["artifacts"].values()
            if artifact.get("type") == "aws:cloudformation:stack"]


def test_a_template_of_a_cloud_assembly_is_checked_with_its_assembly(reference_dir, tmp_path, capsys):
    """cfn-lint lints `cdk.out/<stack>.template.json` one file at a time; the pack checks the whole assembly
    the file belongs to, so a stack that imports its key and endpoint from the others is not reported for
    lacking them, and a broken stack is reported on its own template, with what `cmk-validate cdk.out` says."""
    assembly = tmp_path / "cdk.out"
    shutil.copytree(reference_dir, assembly)
    templates = _stack_templates(assembly)
    assert len(templates) >= 5 and not cli_rule_ids(assembly, capsys)
    for template in templates:
        assert pack_rule_ids(lint(template)) == set(), template.name

    data = next(t for t in templates if "Data" in t.name)
    document = json.loads(data.read_text())
    policy = next(r for r in document["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    policy["Properties"]["PolicyDocument"]["Statement"] = [
        s for s in statements if s.get("Sid") != "DenyRequestsOutsideGatewayEndpoint"]
    assert len(policy["Properties"]["PolicyDocument"]["Statement"]) == len(statements) - 1
    data.write_text(json.dumps(document, indent=1))
    expected = cli_rule_ids(assembly, capsys)
    assert expected == {"CKE101"}
    found = {template.name: pack_rule_ids(lint(template)) for template in templates}
    assert found[data.name] == expected and not any(ids for name, ids in found.items() if name != data.name)


def test_cmk_validate_leaves_out_the_pack_when_its_cfn_lint_configuration_appends_it(tmp_path, capsys):
    """A repository may append the pack in .cfnlintrc for plain cfn-lint; cmk-validate reads that file for
    its own cfn-lint run, where the pack would report every finding a second time."""
    config = tmp_path / ".cfnlintrc.yaml"
    config.write_text(f"append_rules:\n  - {PACK_MODULE}\n")
    assert main([str(BROKEN), "--no-config", "--cfn-lint-config", str(config), "-f", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["ruleId"] for f in findings if f["source"] == "cmk-validate"] == ["CKE101"]
    assert not [f for f in findings if PACK_ID.match(f["ruleId"])]
    assert pack_rule_ids(lint(BROKEN)) == {"CKE101"}   # plain cfn-lint still runs it


def test_cannot_prove_is_a_warning_the_command_line_and_the_pack_fail_on(capsys):
    """An endpoint id known only at deploy time: nothing wrong is found, so a warning (W9101, not E9101), and
    cfn-lint at its default exit level still fails (bit 4 = a warning), as cmk-validate does at any threshold."""
    path = fixture_path("data_bucket_endpoint_only", "bad_endpoint_known_only_at_deploy")
    assert main([str(path), "--no-cfn-lint", "--no-config", "--min-severity", "error", "-f", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["ruleId"], f["severity"], f["undecided"]) for f in findings] == [("CKE101", "warning", True)]
    linted = run_cfn_lint("--format", "json", "--append-rules", PACK_MODULE, "--", str(path))
    assert linted.returncode & 4 and not linted.returncode & 2, linted.stdout + linted.stderr
    matches = [m for m in json.loads(linted.stdout) if PACK_ID.match(m["Rule"]["Id"])]
    assert [(m["Rule"]["Id"], m["Message"].split(": ")[:2]) for m in matches] == [("W9101", ["CKE101", "cannot prove"])]
