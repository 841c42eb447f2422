"""Input edge cases (empty template, non-object template, no rule selected), the README's examples,
and findings whose message and fix say exactly what is wrong."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from cmk_validate.cli import main
from tests.validators.fixtures.mutations import fixture_path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "base_architecture.yaml"
BAD = fixture_path("bucket_protection", "bad_no_access_logs")


def _one_line_exit_2(capsys, argv) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.count("\n") == 1 and captured.err.startswith("cmk-validate: error: ")
    return captured.err


@pytest.mark.parametrize("name, content", [
    ("empty.json", ""), ("blank.json", "  \n\t\n"), ("empty.yaml", ""), ("comments.yaml", "# nothing here\n"),
    ("null.json", "null"),
])
def test_empty_template_is_an_input_error(tmp_path, capsys, name, content):
    path = tmp_path / name
    path.write_text(content)
    err = _one_line_exit_2(capsys, [str(path), "--no-cfn-lint"])
    assert f"{path}: empty template" in err


def test_review_of_an_empty_template_is_an_input_error(tmp_path, capsys):
    from cmk_validate.review.cli import main as review

    path = tmp_path / "empty.json"
    path.write_text("   \n")
    assert review([str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "empty template" in captured.err and captured.err.count("\n") == 1
    assert "Nothing to review" not in captured.out + captured.err


@pytest.mark.parametrize("content, kind", [
    ('"str"', "a string"), ("42", "a number"), ("[1, 2]", "a list"), ("true", "true/false"),
])
def test_non_object_template_says_what_it_got_in_words(tmp_path, capsys, content, kind):
    path = tmp_path / "t.json"
    path.write_text(content)
    err = _one_line_exit_2(capsys, [str(path), "--no-cfn-lint"])
    assert err.rstrip().endswith(f"a template must be an object, got {kind}")


def test_yaml_scalar_template_does_not_leak_internal_type_names(tmp_path, capsys):
    path = tmp_path / "t.yaml"
    path.write_text("just a string\n")
    err = _one_line_exit_2(capsys, [str(path), "--no-cfn-lint"])
    assert "got a string" in err and "_node" not in err


@pytest.mark.parametrize("argv", [
    ["--rule", "CKE101", "--skip", "CKE101"],
    ["--rule", "data_bucket_endpoint_only", "--skip", "CKE101"],
])
def test_selecting_no_rule_is_a_usage_error(capsys, argv):
    err = _one_line_exit_2(capsys, [str(GOOD), "--no-cfn-lint", *argv])
    assert "no rule selected" in err


def test_json_input_is_the_path_given(capsys):
    assert main([str(BAD), "--no-cfn-lint", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["input"] == str(BAD)
    assert main([str(fixture_path("audit_logging", "bad_no_flow_log")), "--no-cfn-lint", "-f", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["input"].endswith("bad_no_flow_log.json")


def test_json_input_of_a_directory_is_the_directory(reference_dir, capsys):
    main([str(reference_dir), "--no-cfn-lint", "--format", "json", "--rule", "CKE104"])
    assert json.loads(capsys.readouterr().out)["input"] == str(reference_dir)


def test_readme_rule_and_break_glass_example_passes_on_the_reference_assembly(reference_dir, capsys):
    readme = (ROOT / "cmk_validate" / "README.md").read_text()
    block = readme[readme.index("## Run it"):readme.index("| option | meaning |")]
    command = next(c for c in block.replace("\\\n", " ").splitlines() if "--break-glass" in c and "--rule" in c)
    argv = shlex.split(command)
    assert argv[:2] == ["cmk-validate", "cdk.out"]
    # every principal the app's bucket policies except, as cdk.json's breakGlassPrincipals lists them
    context = json.loads((ROOT / "cdk.json").read_text())["context"]["defaults"]
    given = [argv[i + 1] for i, a in enumerate(argv) if a == "--break-glass"]
    assert sorted(given) == sorted(context["breakGlassPrincipals"])
    assert main([str(reference_dir), *argv[2:]]) == 0, capsys.readouterr().out


def test_readme_says_how_to_install_it_elsewhere():
    """The install commands test_packaging.py proves (a wheel of the checkout in a fresh environment)."""
    readme = (ROOT / "cmk_validate" / "README.md").read_text()
    run_it = readme[readme.index("## Run it"):readme.index("| option | meaning |")]
    assert "pip install /path/to/this/checkout" in run_it and "pipx install /path/to/this/checkout" in run_it
    assert "cmk-validate --version" in run_it


# CKE100: the message says which part of the acknowledgement is wrong

def _run(template: dict, tmp_path: Path, *rules: str):
    from cmk_validate.engine import run
    from cmk_validate.model import load
    from cmk_validate.rules import discover, select

    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    return run(load(str(path)), list(select(discover(), rules)), cfn_lint=False).findings


def _acknowledged(entry: dict) -> dict:
    return {"Resources": {"Queue": {"Type": "AWS::SQS::Queue",
                                    "Metadata": {"ArchitectureInvariants": {"acknowledge": [entry]}}}}}


@pytest.mark.parametrize("entry, says", [
    ({"id": "CKE104"}, "acknowledgement of CKE104 on Queue has no reason; it is ignored"),
    ({"id": "CKE104", "reason": "   "}, "acknowledgement of CKE104 on Queue has no reason; it is ignored"),
    ({"id": "CKE104", "reason": "ok"}, "acknowledgement of CKE104 on Queue has a reason too short to judge "
                                       "(2 characters, at least 10 needed); it is ignored"),
    ({"id": "CKE104", "reason": 12345678901}, "has a reason that is not text"),
    ({"reason": "a perfectly good reason"}, "acknowledgement of (no rule id) on Queue names no rule (no id); it is ignored"),
    ({"reason": "short"}, "names no rule (no id) and has a reason too short to judge"),
])
def test_cke100_says_what_is_wrong(tmp_path, entry, says):
    findings = [f for f in _run(_acknowledged(entry), tmp_path, "CKE100") if f.rule_id == "CKE100"]
    assert len(findings) == 1 and says in findings[0].message, findings[0].message


def test_cke100_is_silent_on_a_good_acknowledgement(tmp_path):
    entry = {"id": "CKE104", "reason": "a reason long enough to judge"}
    assert [f for f in _run(_acknowledged(entry), tmp_path, "CKE100") if f.rule_id == "CKE100"] == []


# CKE111: each finding's fix is about what is missing

def test_cke111_fixes_are_specific(tmp_path):
    template = {"Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}}}}
    fixes = {f.message: f.fix for f in _run(template, tmp_path, "CKE111")}
    assert "cmk-validate cdk.out" in fixes["not checked: a CloudTrail trail is an assembly-wide invariant, "
                                                   "and the input is one template, and the trail may be in another stack"]
    assert "FlowLog" in fixes["VPC Vpc has no flow log"] and "Trail" not in fixes["VPC Vpc has no flow log"]
    retention = fixes["log group Logs keeps logs forever (no RetentionInDays)"]
    assert "RetentionInDays" in retention and "FlowLog" not in retention

    trail = {"Resources": {"Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {
        "IsLogging": False, "S3BucketName": "b"}}}}
    fixes = {re.sub(r"\s+", " ", f.message): f.fix for f in _run(trail, tmp_path, "CKE111")}
    assert fixes["trail Trail does not validate log files"].startswith("Set EnableLogFileValidation: true")
    assert fixes["trail Trail is not encrypted with a KMS key (KMSKeyId)"].startswith("Set KMSKeyId")
    assert fixes["trail Trail is not logging"].startswith("Set IsLogging: true")
    for fix in fixes.values():
        assert "FlowLog" not in fix and "RetentionInDays" not in fix


def test_benchmark_figures_and_duration_are_documented_consistently():
    readme = (ROOT / "cmk_validate" / "README.md").read_text()
    bench = (ROOT / "bench" / "run.py").read_text()
    section = readme[readme.index("## Tests and benchmark"):readme.index("## Limits")]
    for row in ("| app `cdk.out` (5 stacks) | 0.08 s | 3.31 s | 4.04 s | 0.02x | 0.82x |",
                "| synthetic, 5,000 resources | 0.60 s | 205.8 s | 209.9 s | 0.00x | 0.98x |"):
        assert row in section
    assert "0.15 s / 0.29 s / 0.61 s at 1,250 / 2,500 / 5,000 resources" in section
    assert "1.10x and 1.27x" in section
    # one story about how long the benchmark takes, in both places
    for text in (section, bench):
        assert "~8 min" in text and "~3.5 min" in text and "~40 s" in text
    assert "~4 minutes" not in section


def _assembly_of(template: dict, directory: Path) -> Path:
    directory.mkdir()
    (directory / "S.template.json").write_text(json.dumps(template))
    (directory / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"S": {
        "type": "aws:cloudformation:stack", "environment": "aws://111122223333/eu-west-1",
        "properties": {"templateFile": "S.template.json"}}}}))
    return directory


@pytest.mark.parametrize("with_endpoint, severity", [(True, "error"), (False, "info")])
def test_no_trail_is_an_error_only_for_a_whole_assembly_of_this_architecture(tmp_path, with_endpoint, severity):
    from cmk_validate.engine import run
    from cmk_validate.model import load
    from cmk_validate.rules import discover, select

    resources = {"Topic": {"Type": "AWS::SNS::Topic"}}
    if with_endpoint:
        resources["S3Endpoint"] = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": "vpc-0123456789abcdef0", "ServiceName": "com.amazonaws.eu-west-1.s3",
            "VpcEndpointType": "Gateway", "RouteTableIds": ["rtb-0123456789abcdef0"]}}
    assembly = _assembly_of({"Resources": resources}, tmp_path / "cdk.out")
    findings = [f for f in run(load(str(assembly)), list(select(discover(), ["CKE111"])), cfn_lint=False).findings
                if "trail" in f.message.lower()]
    assert [f.severity.label for f in findings] == [severity]
    if severity == "error":
        no_trail = findings[0].fix
        assert "CloudTrail::Trail" in no_trail and "FlowLog" not in no_trail and "RetentionInDays" not in no_trail
    else:
        assert "assembly without this architecture's CloudHSM cluster" in findings[0].message
