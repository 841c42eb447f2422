"""The rules at synth time: CDK's validation report lists violations and errors fail the synth."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from cmk_validate.cdk_plugin import ArchitectureInvariantsPlugin


@pytest.fixture(scope="session")
def small_app(tmp_path_factory):
    """One synth of a small app with a bad bucket: CKE104 acknowledged through CDK (cmk_validate.acknowledge),
    CKE103 in template metadata. Returns (validation report, template, assembly directory)."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    from cmk_validate import acknowledge

    outdir = tmp_path_factory.mktemp("plugin")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Small", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    bucket = s3.Bucket(stack, "Bucket", enforce_ssl=True)
    acknowledge(bucket, "CKE104", "example bucket: versioning and access logs are out of scope here")
    bucket.node.default_child.add_metadata("ArchitectureInvariants", {"acknowledge": [
        {"id": "CKE103", "reason": "example bucket: encrypted with S3-managed keys on purpose"}]})
    cdk.Validations.of(app).add_plugins(ArchitectureInvariantsPlugin())
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((outdir / "validation-report.json").read_text())
    template = json.loads((outdir / "Small.template.json").read_text())
    return report, template, outdir


@pytest.fixture(scope="session")
def small_app_report(small_app):
    return small_app[:2]


def test_errors_fail_the_synth_and_are_reported(small_app_report):
    report, _ = small_app_report
    plugin = next(p for p in report["pluginReports"] if p["pluginName"] == "ArchitectureInvariants")
    assert plugin["conclusion"] == "failure"
    rules = {v["ruleName"] for v in plugin["violations"]}
    assert "CKE101" in rules
    assert "CKE102" not in rules            # enforce_ssl gives the TLS deny
    violation = next(v for v in plugin["violations"] if v["ruleName"] == "CKE101")
    assert violation["violatingConstructs"][0]["constructPath"] == "Small/Bucket/Resource"
    assert violation["suggestedFix"].startswith("Add a Deny statement")


def test_a_cdk_acknowledgement_is_honoured_at_synth_and_by_the_command_line(small_app, capsys):
    from cmk_validate.cli import main

    report, _, outdir = small_app
    plugin = next(p for p in report["pluginReports"] if p["pluginName"] == "ArchitectureInvariants")
    assert "CKE104" not in {v["ruleName"] for v in plugin["violations"]}
    waived = [v for v in plugin["suppressedViolations"] if v["ruleName"] == "CKE104"]
    assert waived and waived[0]["acknowledgedId"] == "ArchitectureInvariants::CKE104"
    assert waived[0]["acknowledgedAt"] == "Small/Bucket"
    assert main([str(outdir), "--no-cfn-lint", "--rule", "CKE104", "--format", "json"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert findings and all(f["suppressed"] and f["suppressedBy"] == "CDK" for f in findings)
    assert findings[0]["suppressionReason"].startswith("example bucket: versioning")


def test_a_template_metadata_acknowledgement_is_honoured_at_synth_and_by_the_command_line(small_app, capsys):
    from cmk_validate.cli import main

    report, template, outdir = small_app
    bucket = next(r for r in template["Resources"].values() if r["Type"] == "AWS::S3::Bucket")
    assert bucket["Metadata"]["ArchitectureInvariants"]["acknowledge"][0]["id"] == "CKE103"
    plugin = next(p for p in report["pluginReports"] if p["pluginName"] == "ArchitectureInvariants")
    assert "CKE103" not in {v["ruleName"] for v in plugin["violations"]}
    assert main([str(outdir), "--no-cfn-lint", "--rule", "CKE103", "--format", "json"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert findings and all(f["suppressed"] and f["suppressedBy"] == "template metadata" for f in findings)


def test_a_cdk_acknowledgement_with_a_short_reason_is_reported_and_ignored(tmp_path, capsys):
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    from cmk_validate.cli import main

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Short", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    bucket = s3.Bucket(stack, "Bucket", enforce_ssl=True)
    cdk.Validations.of(bucket).acknowledge(cdk.Acknowledgment(id="ArchitectureInvariants::CKE104", reason="ok"))
    app.synth()
    assert main([str(tmp_path), "--no-cfn-lint", "--rule", "CKE104", "--rule", "CKE100", "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert any(f["ruleId"] == "CKE100" and "too short" in f["message"] for f in findings)
    assert any(f["ruleId"] == "CKE104" and not f["suppressed"] for f in findings)


def test_acknowledge_requires_a_reason():
    from cmk_validate import acknowledge

    with pytest.raises(ValueError, match="reason"):
        acknowledge(object(), "CKE104", " ")


def test_reference_app_passes_the_plugin(reference_dir):
    paths = sorted(str(p) for p in reference_dir.glob("*.template.json"))
    report = ArchitectureInvariantsPlugin().validate(SimpleNamespace(template_paths=paths))
    assert report.success and list(report.violations) == []


def test_report_carries_metadata(small_app_report, reference_dir):
    """Rule and stack counts travel with the plugin's report (CDK shows them with the findings)."""
    report, _ = small_app_report
    plugin = next(p for p in report["pluginReports"] if p["pluginName"] == "ArchitectureInvariants")
    assert plugin["metadata"]["stacks"] == "1"
    assert int(plugin["metadata"]["rules"]) >= 13 and "CKE101" in plugin["metadata"]["ruleIds"].split(",")
    paths = sorted(str(p) for p in reference_dir.glob("*.template.json"))
    passing = ArchitectureInvariantsPlugin(skip=["CKE109"]).validate(SimpleNamespace(template_paths=paths))
    assert passing.success and passing.metadata["stacks"] == str(len(paths))
    assert passing.metadata["findings"] == "0" and "CKE109" not in passing.metadata["ruleIds"]
    assert passing.metadata["rules"] == str(len(passing.metadata["ruleIds"].split(",")))


def test_a_passing_run_leaves_no_plugin_entry(tmp_path):
    """CDK 2.x writes a plugin into validation-report.json only when it failed or has violations
    (metadata does not change that), so "it ran" cannot be read from that file after a clean pass.
    If a CDK upgrade starts listing passing plugins, the entry must carry the metadata."""
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    app = cdk.App(outdir=str(tmp_path))
    sqs.Queue(cdk.Stack(app, "Clean"), "Queue")
    plugin = ArchitectureInvariantsPlugin(rules=["CKE102", "CKE104", "CKE109"])   # nothing for them in a queue
    cdk.Validations.of(app).add_plugins(plugin)
    app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    entries = [p for p in report["pluginReports"] if p["pluginName"] == "ArchitectureInvariants"]
    assert entries == [] or entries[0]["metadata"]["stacks"] == "1"


def test_a_clean_synth_says_that_the_rules_ran(tmp_path, capfd):
    """CDK omits a passing plugin from validation-report.json; the plugin's own line shows it ran."""
    from app import build_app
    from cmk_validate.rules import discover

    build_app({"environment": "dev-kms"}, outdir=str(tmp_path), nag=False).synth()
    line = [text for text in capfd.readouterr().err.splitlines() if text.startswith("ArchitectureInvariants:")]
    assert line == [f"ArchitectureInvariants: {len(discover())} rule(s) on 4 stack(s): 0 error(s), 0 warning(s), "
                    "0 acknowledged"]


def test_cannot_prove_is_a_warning_that_fails_the_synth(capfd):
    """Nothing wrong was found, so the violation is a warning; but the synth fails closed on it."""
    from tests.validators.fixtures.mutations import fixture_path

    path = fixture_path("data_bucket_endpoint_only", "bad_endpoint_known_only_at_deploy")
    report = ArchitectureInvariantsPlugin().validate(SimpleNamespace(template_paths=[str(path)]))
    assert not report.success
    assert [(v.rule_name, v.severity) for v in report.violations] == [("CKE101", "warning")]
    assert "cannot prove" in report.violations[0].description
    line = [text for text in capfd.readouterr().err.splitlines() if text.startswith("ArchitectureInvariants:")]
    assert line and line[0].endswith("0 error(s), 1 warning(s), 0 acknowledged, "
                                     "1 undecided (cannot prove: the synth fails closed)")
