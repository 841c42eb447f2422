"""cfn-lint runs through its Python API with an explicit configuration: the rule settings of the cfn-lint
configuration a user expects to apply, never its template globs, and one list of acknowledged checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cmk_validate.cli import main
from tests.validators.fixtures.mutations import fixture_path

ROOT = Path(__file__).resolve().parents[2]
BAD = fixture_path("bucket_protection", "bad_no_access_logs")

# One subnet with a literal AZ (W3010) and a DependsOn that its Ref already implies (W3005).
LINTED = {
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "DependsOn": "Vpc",
                   "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.0.0/24",
                                  "AvailabilityZone": "eu-west-1a"}},
    },
}


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A working directory and home with no cfn-lint configuration of their own."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    (work / "t.json").write_text(json.dumps(LINTED))
    return work


def _cfn_lint_ids(capsys, argv) -> tuple[int, set[str]]:
    code = main([*argv, "--format", "json", "--rule", "CKE104"])
    out = capsys.readouterr().out
    return code, {finding["ruleId"] for finding in json.loads(out)["findings"]
                  if finding["source"] == "cfn-lint"}


def test_a_template_glob_that_matches_nothing_does_not_lose_the_project_findings(elsewhere, capsys):
    (elsewhere / ".cfnlintrc.yaml").write_text("templates:\n  - cdk.out/*.template.json\n")
    code = main([str(BAD), "--format", "json"])
    captured = capsys.readouterr()
    assert "E0003" not in captured.out + captured.err
    assert code == 1
    assert "CKE104" in {finding["ruleId"] for finding in json.loads(captured.out)["findings"]}


def test_without_configuration_cfn_lint_reports_both_checks(elsewhere, capsys):
    code, ids = _cfn_lint_ids(capsys, ["t.json"])
    assert {"W3005", "W3010"} <= ids and code == 1


def test_the_working_directory_configuration_is_honoured_as_cfn_lint_does(elsewhere, capsys):
    (elsewhere / ".cfnlintrc").write_text("ignore_checks:\n  - W3010\n")
    _, ids = _cfn_lint_ids(capsys, ["t.json"])
    assert "W3010" not in ids and "W3005" in ids


def test_the_home_configuration_is_honoured_as_cfn_lint_does(elsewhere, capsys, tmp_path):
    (tmp_path / "home" / ".cfnlintrc.yml").write_text("ignore_checks:\n  - W3005\n")
    _, ids = _cfn_lint_ids(capsys, ["t.json"])
    assert "W3005" not in ids and "W3010" in ids


def test_an_explicit_configuration_file_wins_over_the_working_directory(elsewhere, capsys, tmp_path):
    (elsewhere / ".cfnlintrc").write_text("ignore_checks:\n  - W3010\n")
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text("ignore_checks:\n  - W3005\n")
    _, ids = _cfn_lint_ids(capsys, ["t.json", "--cfn-lint-config", str(explicit)])
    assert "W3005" not in ids and "W3010" in ids


def test_command_line_ignores_add_to_the_configuration(elsewhere, capsys):
    (elsewhere / ".cfnlintrc").write_text("ignore_checks:\n  - W3010\n")
    code, ids = _cfn_lint_ids(capsys, ["t.json", "--cfn-lint-ignore", "W3005"])
    assert not ids & {"W3005", "W3010"}


def test_a_template_own_cfn_lint_metadata_is_honoured(elsewhere, capsys):
    template = dict(LINTED, Metadata={"cfn-lint": {"config": {"ignore_checks": ["W3010", "W3005"]}}})
    (elsewhere / "t.json").write_text(json.dumps(template))
    _, ids = _cfn_lint_ids(capsys, ["t.json"])
    assert not ids & {"W3005", "W3010"}


def test_the_project_configuration_is_the_one_list_of_acknowledged_checks(monkeypatch, tmp_path):
    """From the project root (as `make validate` runs) the validator leaves out exactly .cfnlintrc.yaml's list."""
    from cmk_validate.cfn_lint_bridge import CfnLint

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(ROOT)
    listed = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text())["ignore_checks"]
    assert CfnLint().ignored == listed


@pytest.mark.parametrize("content, expected", [
    (None, "cfn-lint configuration file not found"),
    ("ignore_chekcs:\n  - W3010\n", "Invalid configuration key 'ignore_chekcs'"),
    ("ignore_checks: W3010\n", "cfn-lint configuration:"),
    ("ignore_checks: [W3010\n", "cfn-lint configuration:"),
])
def test_a_bad_configuration_file_is_one_input_error_line(elsewhere, capsys, tmp_path, content, expected):
    config = tmp_path / "bad.yaml"
    if content is not None:
        config.write_text(content)
    assert main(["t.json", "--cfn-lint-config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith("cmk-validate: error: ") and expected in captured.err
