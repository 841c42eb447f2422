"""Several paths on one command line (what a pre-commit hook passes): each input gets the verdict it gets
alone, one report holds them all, and a bad input is still one line and exit 2."""

from __future__ import annotations

import json
import shutil

from cmk_validate.cli import main
from tests.validators.fixtures.mutations import fixture_path

GOOD = fixture_path("data_bucket_endpoint_only", "good_base")
NO_ENDPOINT_DENY = fixture_path("data_bucket_endpoint_only", "bad_no_endpoint_deny")
NO_ACCESS_LOGS = fixture_path("bucket_protection", "bad_no_access_logs")


def findings(capsys, *arguments: str) -> tuple[int, list[dict], dict]:
    code = main([*arguments, "--no-cfn-lint", "--no-config", "-f", "json"])
    report = json.loads(capsys.readouterr().out)
    return code, [(f["stack"], f["ruleId"]) for f in report["findings"]], report


def test_each_input_keeps_its_own_verdict(capsys):
    alone = {}
    for path in (GOOD, NO_ENDPOINT_DENY, NO_ACCESS_LOGS):
        code, found, _ = findings(capsys, str(path))
        alone[path] = (code, sorted(rule for _, rule in found))
    assert alone[GOOD] == (0, [])
    assert alone[NO_ENDPOINT_DENY] == (1, ["CKE101"]) and alone[NO_ACCESS_LOGS] == (1, ["CKE104"])

    code, found, report = findings(capsys, str(NO_ENDPOINT_DENY), str(GOOD), str(NO_ACCESS_LOGS))
    assert code == 1
    by_stack = {}
    for stack, rule in found:
        by_stack.setdefault(stack, []).append(rule)
    # A template's stack is named by its path (less the extension), so findings say which file they are in.
    assert by_stack == {str(NO_ENDPOINT_DENY.with_suffix("")): ["CKE101"], str(NO_ACCESS_LOGS.with_suffix("")): ["CKE104"]}
    assert report["stacks"] == [str(p.with_suffix("")) for p in (NO_ENDPOINT_DENY, GOOD, NO_ACCESS_LOGS)]

    code, found, _ = findings(capsys, str(GOOD), str(fixture_path("bucket_protection", "good_base")))
    assert (code, found) == (0, [])


def test_templates_with_the_same_file_name_are_told_apart(tmp_path, capsys):
    for directory, source in (("one", NO_ENDPOINT_DENY), ("two", NO_ACCESS_LOGS)):
        (tmp_path / directory).mkdir()
        shutil.copy(source, tmp_path / directory / "template.json")
    one, two = str(tmp_path / "one" / "template.json"), str(tmp_path / "two" / "template.json")
    code, found, _ = findings(capsys, one, two)
    assert code == 1
    assert sorted(found) == [(str(tmp_path / "one" / "template"), "CKE101"), (str(tmp_path / "two" / "template"), "CKE104")]
    # The same path twice is one input, named as when it is given once.
    code, found, _ = findings(capsys, one, one)
    assert (code, found) == (1, [("template", "CKE101")])


def test_sarif_locates_each_template_under_their_common_directory(tmp_path, capsys):
    # The two fixtures in their rule folders under a repository's tests/validators/fixtures/.
    repository = tmp_path / "repository"
    (repository / ".git").mkdir(parents=True)
    fixtures = repository / "tests" / "validators" / "fixtures"
    no_endpoint_deny = fixture_path("data_bucket_endpoint_only", "bad_no_endpoint_deny", fixtures)
    no_access_logs = fixture_path("bucket_protection", "bad_no_access_logs", fixtures)
    sarif = tmp_path / "v.sarif"
    assert main([str(no_endpoint_deny), str(no_access_logs), "--no-cfn-lint", "--no-config",
                 "-f", f"sarif={sarif}"]) == 1
    run = json.loads(sarif.read_text())["runs"][0]
    uris = sorted(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for result in run["results"])
    assert uris == ["bucket_protection/bad_no_access_logs.json", "data_bucket_endpoint_only/bad_no_endpoint_deny.json"]
    assert run["originalUriBaseIds"]["ASSEMBLY"]["uri"] == "tests/validators/fixtures/"


def test_one_bad_input_among_several_is_one_line_and_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"Resources": {"A": }')
    assert main([str(GOOD), str(broken), "--no-cfn-lint", "--no-config"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cmk-validate: error: {broken}"), captured.err
    assert captured.out == ""


def test_two_assemblies_with_the_same_stack_are_refused(tmp_path, capsys):
    for directory in ("a", "b"):
        (tmp_path / directory).mkdir()
        shutil.copy(GOOD, tmp_path / directory / "Stack.template.yaml")
        (tmp_path / directory / "manifest.json").write_text(json.dumps({"artifacts": {"Stack": {
            "type": "aws:cloudformation:stack", "properties": {"templateFile": "Stack.template.yaml"}}}}))
    assert main([str(tmp_path / "a"), str(tmp_path / "b"), "--no-cfn-lint", "--no-config"]) == 2
    error = capsys.readouterr().err
    assert error.strip() == (f"cmk-validate: error: {tmp_path / 'b'}: stack 'Stack' is also in {tmp_path / 'a'}; "
                             "validate the two separately")
