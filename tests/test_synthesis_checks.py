"""Whole-app checks: cfn-lint clean, cdk-nag findings all acknowledged with reasons, deterministic and
offline synth, and the CDK CLI reading the assembly."""

import json
import os
import subprocess

import pytest
import yaml
from cfnlint.api import ManualArgs, lint_file

from tests.conftest import ROOT, context_for, synthesise

MODES = ["reference", "dev-kms", "sse-c"]


def _cfn_lint_settings() -> dict:
    """The project's .cfnlintrc.yaml, so the test and `cfn-lint` on the command line agree."""
    settings = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text())
    return {"ignore_checks": settings["ignore_checks"]}


@pytest.mark.parametrize("environment", MODES)
def test_cfn_lint_finds_nothing(synth, environment, config):
    app = synth(environment)
    args = ManualArgs(regions=[config.region], **_cfn_lint_settings())
    for name in app.templates:
        matches = lint_file(app.outdir / f"{name}.template.json", args)
        assert not matches, "\n".join(str(match) for match in matches)


def test_every_cfn_lint_exception_has_a_reason():
    text = (ROOT / ".cfnlintrc.yaml").read_text()
    for check in _cfn_lint_settings()["ignore_checks"]:
        comment = text[: text.index(f"- {check}")].rsplit("ignore_checks:", 1)[1]
        assert check in comment and len(comment) > 100, f"{check} is ignored without a reason"


@pytest.mark.parametrize("environment", MODES)
def test_cdk_nag_has_no_open_findings_and_every_acknowledgement_has_a_reason(synth, environment):
    report = json.loads((synth(environment).outdir / "validation-report.json").read_text())
    reports = {plugin["pluginName"]: plugin for plugin in report["pluginReports"]}
    if environment == "reference":  # CDK lists a plugin only when it has findings or acknowledgements
        assert "AwsSolutions" in reports
    for plugin in reports.values():
        assert plugin["violations"] == [], plugin["violations"][:3]
        for suppressed in plugin.get("suppressedViolations", []):
            assert len(suppressed["reason"]) >= 40, suppressed["acknowledgedId"]


def test_two_synths_are_byte_identical(reference, tmp_path):
    again = synthesise(tmp_path / "again", context_for("reference"), nag=True)
    for name in reference.templates:
        first = (reference.outdir / f"{name}.template.json").read_bytes()
        assert first == (again.outdir / f"{name}.template.json").read_bytes(), name


def test_synth_needs_no_lookups(reference):
    manifest = json.loads((reference.outdir / "manifest.json").read_text())
    assert "missing" not in manifest, manifest.get("missing")


@pytest.mark.skipif(not (ROOT / "node_modules" / ".bin" / "cdk").exists(), reason="CDK CLI not installed (make setup)")
def test_cdk_cli_synthesises_offline_without_credentials(tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", AWS_EC2_METADATA_DISABLED="true",
                       CDK_DISABLE_VERSION_CHECK="1")
    result = subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--no-notices", "--output", str(tmp_path / "out"),
         "-c", "environment=dev-kms"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Successfully synthesized" in result.stderr + result.stdout
    assert sorted(path.name for path in (tmp_path / "out").glob("*.template.json")) == [
        f"CustomerKeysDev-{suffix}.template.json" for suffix in ("Audit", "Data", "Keys", "Network")]


def test_cdk_nag_fails_the_synth_on_an_unacknowledged_finding(tmp_path):
    from aws_cdk import aws_s3 as s3

    from app import build_app
    app = build_app(context_for("dev-kms"), outdir=str(tmp_path), nag=True)
    s3.Bucket(app.node.find_child("CustomerKeysDev-Data"), "CarelessBucket")  # no TLS policy, no logs
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


@pytest.mark.parametrize("environment", MODES)
def test_architecture_invariants_run_at_synth_and_pass(environment, tmp_path, monkeypatch):
    """CDK lists a passing plugin nowhere in its report, so watch the plugin's own verdicts."""
    from cmk_validate.cdk_plugin import ArchitectureInvariantsPlugin
    verdicts = []
    original = ArchitectureInvariantsPlugin.validate

    def watched(plugin, context):
        report = original(plugin, context)
        verdicts.append((report.success, len(list(context.template_paths)), len(report.violations)))
        return report

    monkeypatch.setattr(ArchitectureInvariantsPlugin, "validate", watched)
    synthesise(tmp_path / "out", context_for(environment), nag=False)
    stacks = {"dev-kms": 4, "sse-c": 5, "reference": 6}[environment]  # reference: + the Peering stack
    assert verdicts == [(True, stacks, 0)]


def test_architecture_invariants_fail_the_synth_when_the_lock_breaks(tmp_path):
    from app import build_app
    app = build_app(context_for("dev-kms"), outdir=str(tmp_path), nag=False)
    policy = app.node.find_child("CustomerKeysDev-Data").node.find_child("DataBucket").node.find_child("Bucket").policy
    policy.node.default_child.add_property_override("PolicyDocument.Statement.0.Condition.StringNotEquals.aws:sourceVpce", "vpce-0123456789abcdef0")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    violations = [v for p in report["pluginReports"] if p["pluginName"] == "ArchitectureInvariants" for v in p["violations"]]
    assert violations, "the endpoint lock pointing at a foreign endpoint must fail the synth"
