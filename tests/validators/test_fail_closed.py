"""The CI gate fails closed: no input turns a finding into a pass, and the same content gets the same verdict."""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cmk_validate.cli import main
from cmk_validate.engine import run
from cmk_validate.findings import InputError, Severity
from cmk_validate.model import load
from cmk_validate.policy import prover
from cmk_validate.rules import discover
from tests.validators.fixtures.mutations import FIXTURES as TABLE
from tests.validators.fixtures.mutations import fixture_path, fixture_template
from tests.validators.hostile import deeply_nested, put, value_paths

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "base_architecture.yaml"
ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = ("error", "warning", "info")


# Values of the wrong type or shape, as an attacker would put them anywhere in a template.
HOSTILE = {"infinite number": float("inf"), "list of lists": [["x"]], "object": {"a": {"b": 1}},
           "deeply nested": deeply_nested(60)}


@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("rule", discover(), ids=lambda rule: rule.id)
def test_a_rule_that_fails_internally_fails_the_run_at_every_threshold(rule, threshold, monkeypatch, capsys):
    def broken(self, ctx):
        raise TypeError("unhashable type: 'list'")
        yield  # pragma: no cover - a generator, as rules are

    monkeypatch.setattr(rule, "check", broken)
    code = main([str(GOOD), "--no-cfn-lint", "--min-severity", threshold, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    failed = [f for f in report["findings"] if f["ruleId"] == rule.id]
    assert len(failed) == 1 and failed[0]["undecided"] is True
    assert failed[0]["severity"] == "warning"   # nothing wrong was found; undecided is what fails the run
    assert "cannot prove: the rule failed internally" in failed[0]["message"]


def _first_bad_fixture_per_rule() -> list[Path]:
    return [fixture_path(rule.module_name(), next(n for n in TABLE[rule.module_name()] if n.startswith("bad_")))
            for rule in discover() if rule.module_name() != "every_resource_checked"]


@pytest.mark.parametrize("fixture", _first_bad_fixture_per_rule(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hostile_values_never_turn_a_broken_template_into_a_pass(fixture, tmp_path):
    """Every property of the resources a bad fixture's findings name, replaced by each hostile value:
    the verdict stays an error (or the input is refused), never a pass at `--min-severity error`."""
    template = json.loads(fixture.read_text())
    named = {f.resource for f in run(load(str(fixture)), with_lines=False).active(Severity.ERROR)}
    assert named, "a bad fixture must fail as it is"
    path = tmp_path / fixture.name
    passed = []
    for logical_id in sorted(named):
        for where in value_paths(template["Resources"][logical_id].get("Properties", {})):
            for label, value in HOSTILE.items():
                mutated = copy.deepcopy(template)
                put(mutated["Resources"][logical_id]["Properties"], where, copy.deepcopy(value))
                path.write_text(json.dumps(mutated))
                try:
                    report = run(load(str(path)), with_lines=False)
                except InputError:
                    continue
                if not report.active(Severity.ERROR):
                    passed.append(f"{logical_id}/{'/'.join(map(str, where))} = {label}")
    assert passed == []


def test_a_deep_unrelated_value_in_a_broken_template_still_fails_under_min_severity_error(tmp_path):
    template = fixture_template("data_bucket_endpoint_only", "bad_no_endpoint_deny")
    template["Resources"]["DataBucket"]["Properties"]["Tags"] = [{"Key": "owner", "Value": deeply_nested(400)}]
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(template))
    result = subprocess.run([sys.executable, "-m", "cmk_validate", str(path), "--no-cfn-lint", "--min-severity",
                             "error"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode in (1, 2), result.stdout
    assert "Traceback" not in result.stderr
    if result.returncode == 1:
        assert "CKE101" in result.stdout


@pytest.mark.parametrize("condition, code", [(float("inf"), 2), (["StringNotEquals"], 1), ("aws:sourceVpce", 1),
                                             ({"Bool": "x"}, 1), ({"Bool": {"aws:SecureTransport": {"a": 1}}}, 1)])
def test_a_malformed_condition_does_not_turn_a_deny_into_a_deny_of_everything(condition, code, tmp_path, capsys):
    """Read without its condition, a Deny would deny every request and prove every deny claim. An infinite
    number cannot be in a template at all (input error); the other shapes make the claim unprovable."""
    template = fixture_template("bucket_denies_insecure_transport", "bad_no_tls_deny")
    for statement in template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]:
        if "Condition" in statement:
            statement["Condition"] = condition
    path = tmp_path / "malformed.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint", "--min-severity", "error", "--rule", "CKE102"]) == code
    captured = capsys.readouterr()
    assert ("CKE102" in captured.out) if code == 1 else ("infinite number" in captured.err)


def test_a_ref_of_a_list_is_an_input_error(tmp_path, capsys):
    template = fixture_template("bucket_denies_insecure_transport", "bad_log_bucket_without_tls")
    template["Resources"]["AccessLogsPolicy"]["Properties"]["Bucket"] = {"Ref": ["AccessLogs"]}
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint"]) == 2
    assert "Ref at Resources/AccessLogsPolicy/Properties/Bucket takes a name (a string), not a list" in \
        capsys.readouterr().err


# -- deterministic verdicts ---------------------------------------------------------------------------

def _verdict(path: Path, capsys) -> tuple[int, list]:
    code = main([str(path), "--no-cfn-lint", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    return code, [(f["ruleId"], f["severity"], f["undecided"], f["path"],
                   re.sub(r"\{\{[^{}/]+/", "{{STACK/", f["message"])) for f in report["findings"]]


def _burn(seconds: float) -> None:
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.parametrize("fixture", ["data_bucket_endpoint_only/bad_foreign_endpoint.json",
                                     "data_bucket_hsm_key_encryption/good_policy_blocks_sse_c.json",
                                     "base_architecture.yaml"])
def test_the_same_content_gets_the_same_verdict_under_any_name_and_load(fixture, tmp_path, capsys):
    source = fixture_path(*fixture.split("/")) if "/" in fixture else FIXTURES / fixture
    names = ["t" + source.suffix, "a-much-longer-file-name-with-digits-0123456789" + source.suffix,
             "Zz_9" + source.suffix]
    verdicts = []
    for name in names:
        copy_path = tmp_path / name
        copy_path.write_bytes(source.read_bytes())
        prover._PROOFS.clear()
        verdicts.append(_verdict(copy_path, capsys))
    burners = [multiprocessing.Process(target=_burn, args=(30,)) for _ in range(os.cpu_count() or 2)]
    for burner in burners:
        burner.start()
    try:
        prover._PROOFS.clear()
        verdicts.append(_verdict(tmp_path / names[0], capsys))
    finally:
        for burner in burners:
            burner.terminate()
            burner.join()
    assert all(v == verdicts[0] for v in verdicts), verdicts


def test_the_solver_budget_is_counted_in_steps_and_running_out_fails_closed(monkeypatch, capsys):
    monkeypatch.setattr(prover, "SOLVER_STEPS", 1)
    monkeypatch.setattr(prover, "_PROOFS", {})
    code = main([str(GOOD), "--no-cfn-lint", "--min-severity", "error", "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    gave_up = [f for f in findings if "gave up after its budget" in f["message"]]
    assert gave_up and all(f["severity"] == "warning" and f["undecided"] for f in gave_up)


def test_stack_name_of_a_lone_template_is_unknown(tmp_path):
    template = fixture_template("bucket_protection", "bad_no_access_logs")
    template["Resources"]["DataBucket"]["Properties"]["BucketName"] = {"Fn::Sub": "${AWS::StackName}-data"}
    path = tmp_path / "named-after-the-file.json"
    path.write_text(json.dumps(template))
    messages = [f.message for f in run(load(str(path)), with_lines=False).findings]
    assert any("{{AWS::StackName}}-data" in m for m in messages) and not any("named-after" in m for m in messages)


# -- confined input -----------------------------------------------------------------------------------

def _assembly(directory: Path, template_file: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"Stack": {
        "type": "aws:cloudformation:stack", "environment": "aws://111122223333/eu-west-1",
        "properties": {"templateFile": template_file}}}}))
    return directory


@pytest.mark.parametrize("entry", ["../../../../../../etc/passwd", "/proc/self/status", "/dev/zero", "../outside.json"])
def test_a_manifest_entry_outside_the_assembly_is_an_input_error(entry, tmp_path, capsys):
    (tmp_path / "outside.json").write_text(GOOD.read_text())
    assembly = _assembly(tmp_path / "cdk.out", entry)
    assert main([str(assembly), "--no-cfn-lint"]) == 2
    err = capsys.readouterr().err
    assert "artifact Stack: templateFile" in err and "resolves outside the assembly directory" in err
    assert err.count("\n") == 1


def test_a_symbolic_link_out_of_the_assembly_is_an_input_error(tmp_path, capsys):
    (tmp_path / "secret.json").write_text(GOOD.read_text())
    assembly = _assembly(tmp_path / "cdk.out", "Stack.template.json")
    os.symlink(tmp_path / "secret.json", assembly / "Stack.template.json")
    assert main([str(assembly), "--no-cfn-lint"]) == 2
    assert "resolves outside the assembly directory" in capsys.readouterr().err


def test_a_fifo_in_the_assembly_is_refused_without_blocking(tmp_path):
    assembly = _assembly(tmp_path / "cdk.out", "Stack.template.json")
    os.mkfifo(assembly / "Stack.template.json")
    result = subprocess.run([sys.executable, "-m", "cmk_validate", str(assembly), "--no-cfn-lint"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "not a regular file (a named pipe)" in result.stderr


def test_a_device_given_as_the_template_is_refused(capsys):
    assert main(["/dev/zero", "--no-cfn-lint"]) == 2
    assert "not a regular file (a device)" in capsys.readouterr().err


def test_the_size_limit_counts_the_bytes_read(tmp_path, monkeypatch, capsys):
    from cmk_validate.model import assembly

    monkeypatch.setattr(assembly, "MAX_TEMPLATE_BYTES", 1024)
    path = tmp_path / "large.yaml"
    path.write_text(GOOD.read_text())
    assert main([str(path), "--no-cfn-lint"]) == 2
    assert "too large" in capsys.readouterr().err


# -- what a template is -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, content, verdict", [
    ("buildspec.yml", "version: 0.2\nphases:\n  build:\n    commands: [make]\n", "CodeBuild buildspec"),
    ("plan.json", json.dumps({"format_version": "1.2", "terraform_version": "1.9.0", "resource_changes": []}),
     "Terraform plan"),
    ("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n", "Kubernetes manifest"),
    ("manifest.json", json.dumps({"version": "36.0.0", "artifacts": {}}), "cloud assembly manifest"),
    ("package.json", json.dumps({"name": "x", "version": "1.0.0", "dependencies": {}}), "package.json"),
    ("policy.json", json.dumps({"Version": "2012-10-17", "Statement": []}), "IAM policy document"),
    ("other.yaml", "colour: blue\nsize: 3\n", "top-level keys: colour, size"),
    ("nothing.json", json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}), "'Resources' is empty"),
])
def test_a_file_that_is_not_a_template_is_an_input_error_saying_what_it_looks_like(name, content, verdict,
                                                                                     tmp_path, capsys):
    path = tmp_path / name
    path.write_text(content)
    assert main([str(path), "--no-cfn-lint"]) == 2
    err = capsys.readouterr().err
    assert verdict in err and err.count("\n") == 1


# -- transforms and defaults --------------------------------------------------------------------------

def test_a_public_bucket_made_by_fn_for_each_is_checked(capsys):
    fixture = fixture_path("bucket_protection", "bad_public_bucket_in_for_each")
    assert main([str(fixture), "--no-cfn-lint", "--min-severity", "error"]) == 1
    assert re.search(r"CKE104 \[error\] bucket customer-keys-accesslogs-.*BlockPublicPolicy", capsys.readouterr().out)


def test_the_review_sees_resources_made_by_fn_for_each(capsys):
    from cmk_validate.review.cli import main as review

    fixture = fixture_path("bucket_protection", "bad_public_bucket_in_for_each")
    review([str(fixture)])
    out = capsys.readouterr().out
    assert "Nothing to review" not in out


@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("fixture", [fixture_path("every_resource_checked", n) for n in TABLE["every_resource_checked"]
                                     if n.startswith("bad_")],
                         ids=lambda p: p.stem)
def test_what_the_validator_cannot_expand_fails_at_every_threshold(fixture, threshold, capsys):
    assert main([str(fixture), "--no-cfn-lint", "--min-severity", threshold]) == 1
    assert "CKE113" in capsys.readouterr().out


def test_block_public_access_left_to_the_default_says_so(tmp_path, capsys):
    template = fixture_template("bucket_protection", "bad_no_access_logs")
    template["Resources"]["DataBucket"]["Properties"].pop("PublicAccessBlockConfiguration")
    template["Resources"]["DataBucket"]["Properties"]["LoggingConfiguration"] = {
        "DestinationBucketName": {"Ref": "AccessLogs"}}
    path = tmp_path / "default.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint", "--min-severity", "error"]) == 0
    capsys.readouterr()
    assert main([str(path), "--no-cfn-lint", "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["ruleId"], f["severity"]) for f in findings] == [("CKE104", "warning")]
    assert "left to S3's default, which turns all four Block Public Access settings on" in findings[0]["message"]


def test_the_review_names_what_it_could_not_see(capsys):
    from cmk_validate.review.cli import main as review

    review([str(fixture_path("every_resource_checked", "bad_sam_resource"))])
    assert "Handler: not reviewed: Handler (AWS::Serverless::Function)" in capsys.readouterr().out


def _base() -> dict:
    return fixture_template("every_resource_checked", "good_language_extensions_for_each")


@pytest.mark.parametrize("drop_endpoint_deny, code", [(False, 0), (True, 1)])
def test_a_policy_given_through_fn_to_json_string_is_proved(drop_endpoint_deny, code, tmp_path, capsys):
    template = _base()
    policy = template["Resources"]["DataBucketPolicy"]["Properties"]
    if drop_endpoint_deny:
        policy["PolicyDocument"]["Statement"] = [s for s in policy["PolicyDocument"]["Statement"]
                                                 if s.get("Sid") != "DenyRequestsOutsideGatewayEndpoint"]
    policy["PolicyDocument"] = {"Fn::ToJsonString": policy["PolicyDocument"]}
    path = tmp_path / "to_json_string.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint", "--rule", "CKE101"]) == code
    assert ("CKE101" in capsys.readouterr().out) == drop_endpoint_deny


def test_a_deletion_policy_expression_is_evaluated_on_every_branch(tmp_path, capsys):
    template = _base()
    template.setdefault("Parameters", {})["Stage"] = {"Type": "String", "AllowedValues": ["prod", "test"]}
    template.setdefault("Conditions", {})["IsProd"] = {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    template["Resources"]["Cluster"]["DeletionPolicy"] = {"Fn::If": ["IsProd", "Retain", "Delete"]}
    path = tmp_path / "deletion_policy.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint", "--rule", "CKE107"]) == 1
    out = capsys.readouterr().out
    assert "cluster Cluster is not retained (DeletionPolicy = 'Delete')" in out and "IsProd=false" in out


# -- bounded input --------------------------------------------------------------------------------------

def test_a_dependency_cycle_is_an_input_error_naming_it(tmp_path, capsys):
    template = fixture_template("data_bucket_endpoint_only", "bad_no_endpoint_deny")
    names = [f"Link{i}" for i in range(3000)]   # deeper than any recursion limit
    for index, name in enumerate(names):
        template["Resources"][name] = {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Value": {"Fn::Sub": "${%s.Value}" % names[(index + 1) % len(names)]}}}
    template["Resources"]["DataBucket"]["DependsOn"] = "Link0"
    template["Resources"]["Link0"]["DependsOn"] = "DataBucket"
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint"]) == 2
    err = capsys.readouterr().err
    assert "circular dependency between resources:" in err and err.count("\n") == 1


@pytest.mark.parametrize("suffix, text", [
    (".yaml", "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Metadata: " + "[" * 100000 + "]" * 100000 + "\n"),
    (".json", '{"Resources": {"A": {"Type": "AWS::S3::Bucket", "Metadata": ' + "[" * 5000 + "]" * 5000 + "}}}"),
    (".yaml", "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Metadata:\n" +
     "".join(" " * (6 + level) + "k:\n" for level in range(300)) + " " * 306 + "x: 1\n"),
])
def test_deep_nesting_is_refused_with_the_bound_and_never_crashes(suffix, text, tmp_path):
    path = tmp_path / ("deep" + suffix)
    path.write_text(text)
    result = subprocess.run([sys.executable, "-m", "cmk_validate", str(path), "--no-cfn-lint"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "nested more than 200 levels deep (the validator's limit)" in result.stderr


@pytest.mark.parametrize("attribute", ["KeyId", "x"])
def test_a_key_named_by_another_attribute_does_not_skip_the_upload_check(attribute, tmp_path, capsys):
    """The upload policy check used to be skipped when the bucket named its key other than by ARN."""
    template = fixture_template("data_bucket_hsm_key_encryption", "bad_other_key_uploads_allowed")
    default = template["Resources"]["DataBucket"]["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    default["KMSMasterKeyID"]["Fn::GetAtt"][1] = attribute
    path = tmp_path / "attribute.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint", "--rule", "CKE103", "--min-severity", "error"]) == 1
    out = capsys.readouterr().out
    assert ("other than the HSM-backed key" in out) if attribute == "KeyId" else ("neither the key's ARN" in out)


def test_an_intrinsic_argument_that_is_a_plain_object_is_an_input_error(tmp_path, capsys):
    template = fixture_template("hsm_cluster_resilience", "bad_one_az_subnets")
    template["Resources"]["SubnetA"]["Properties"]["AvailabilityZone"] = {"Fn::Select": [1, {"Fn::GetAZs": {"a": 1}}]}
    path = tmp_path / "getazs.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint"]) == 2
    assert "Fn::GetAZs at Resources/SubnetA/Properties/AvailabilityZone/Fn::Select/1 takes a region" in \
        capsys.readouterr().err


def test_a_condition_operator_iam_does_not_know_leaves_the_claim_unproved(tmp_path, capsys):
    """An unknown operator would make IAM refuse the policy; read as a condition it could hide an open Allow."""
    template = fixture_template("kms_key_policy", "bad_open_allow_negated_condition")
    statement = template["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"][1]
    statement["Condition"] = {"StringEqualz": {"aws:PrincipalAccount": "111122223333"}}
    path = tmp_path / "operator.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint", "--rule", "CKE110", "--min-severity", "error", "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert any(f["undecided"] and "StringEqualz is not one IAM knows" in f["message"] for f in findings)


def test_an_inline_macro_is_reported_once_at_its_outermost_call(tmp_path, capsys):
    template = fixture_template("data_bucket_endpoint_only", "bad_no_endpoint_deny")
    template["Resources"]["DataBucket"]["Properties"]["Tags"] = {"Fn::Transform": {
        "Name": "Outer", "Parameters": {"x": {"Fn::Transform": {"Name": "Inner"}}}}}
    path = tmp_path / "inline.json"
    path.write_text(json.dumps(template))
    assert main([str(path), "--no-cfn-lint", "--rule", "CKE113", "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["path"] for f in findings] == ["Resources/DataBucket/Properties/Tags"]
