"""The CI examples (examples/ci/) are valid for their CI and every cmk-validate command in them works.

actionlint cannot be installed here (its PyPI package downloads the binary from GitHub at build time; Debian
has no package), so the files are checked by check-jsonschema against the schemas it ships (GitHub's workflow
schema from SchemaStore, GitLab's own CI schema), offline, with the commands cmk_validate/README.md gives
(the arguments of check-jsonschema's own check-github-workflows and check-gitlab-ci hooks). Then each `cmk-validate` command the examples run is run, as written, on a small
cloud assembly, and the files later steps read (SARIF for code scanning, the review for the pull-request
comment, JUnit for GitLab) must be what those commands write.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
from pathlib import Path
from xml.etree import ElementTree

import check_jsonschema
import pytest
import yaml
from click.testing import CliRunner

from cmk_validate.cli import main
from cmk_validate.review.markdown import COMMENT_LIMIT
from tests.validators.fixtures.mutations import fixture_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ci"
BROKEN = fixture_path("data_bucket_endpoint_only", "bad_no_endpoint_deny")
GOOD = fixture_path("data_bucket_endpoint_only", "good_base")


class _Yaml12Loader(yaml.SafeLoader):
    """YAML as GitHub and GitLab read it (1.2): `on` is a key, not the boolean PyYAML's 1.1 rules make it."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def load(name: str) -> dict:
    return yaml.load((EXAMPLES / name).read_text(), Loader=_Yaml12Loader)


def _schema_checks() -> dict[str, list[str]]:
    """check-jsonschema's arguments for each example (those of its own pre-commit hooks), read from the
    commands cmk_validate/README.md gives for checking them by hand: example file name -> arguments."""
    readme = (ROOT / "cmk_validate" / "README.md").read_text()
    section = readme[readme.index("## CI examples"):readme.index("## Acknowledging a finding")]
    block = section[section.index("```bash") + len("```bash"):section.index("```", section.index("```bash") + 7)]
    commands = [shlex.split(line) for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    assert all(command[0] == "check-jsonschema" for command in commands), commands
    return {Path(command[-1]).name: command[1:-1] for command in commands}


def test_the_readme_gives_a_schema_check_for_each_example_with_a_schema_check_jsonschema_ships():
    checks = _schema_checks()
    assert set(checks) == {path.name for path in EXAMPLES.glob("*.yml")}
    for arguments in checks.values():
        assert "--builtin-schema" in arguments and "--schemafile" not in arguments, arguments


@pytest.fixture
def no_network(monkeypatch) -> list:
    """Every connection and name lookup fails and is recorded: a check that passes under it downloaded nothing."""
    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("no network in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def check_schema(example: str, path: Path) -> tuple[int, list[str]]:
    """Run check-jsonschema on `path` as the file `example`; its exit code and every error message it gives
    (each error's own and, with --verbose, those under it: a `oneOf` failure's real cause is one of those)."""
    result = CliRunner().invoke(check_jsonschema.main,
                                [*_schema_checks()[example], "--verbose", "--output-format", "json", str(path)])
    report = json.loads(result.stdout)
    errors = report["errors"] + report.get("parse_errors", [])
    return result.exit_code, [message for error in errors
                              for message in [error["message"], *(s["message"] for s in error.get("sub_errors", []))]]


def _break_github_workflow(workflow: dict) -> None:
    job = workflow["jobs"]["validate"]
    job["steps"][0]["with_"] = job["steps"][0].pop("with")
    del job["runs-on"]


def _break_gitlab_pipeline(pipeline: dict) -> None:
    reports = pipeline["cmk-validate"]["artifacts"]["reports"]
    reports["junit_xml"] = reports.pop("junit")


@pytest.mark.parametrize(("example", "breaks", "expected"), [
    ("github-actions.yml", _break_github_workflow,
     ["'runs-on' is a required property", "('with_' was unexpected)"]),
    ("gitlab-ci.yml", _break_gitlab_pipeline, ["('junit_xml' was unexpected)"]),
])
def test_the_example_is_valid_for_its_ci_schema_and_a_broken_copy_is_not(example, breaks, expected, tmp_path,
                                                                         no_network):
    assert check_schema(example, EXAMPLES / example) == (0, [])
    broken = load(example)
    breaks(broken)
    (tmp_path / example).write_text(yaml.safe_dump(broken, sort_keys=False))
    code, messages = check_schema(example, tmp_path / example)
    assert code == 1, messages
    for wanted in expected:
        assert any(wanted in message for message in messages), (wanted, messages)
    assert not no_network, "check-jsonschema tried to reach the network"


def _github_scripts() -> list[str]:
    return [step["run"] for step in load("github-actions.yml")["jobs"]["validate"]["steps"] if "run" in step]


def _gitlab_scripts() -> list[str]:
    """Every job's script lines, hidden templates (`.name`, used through `extends`) included."""
    pipeline = load("gitlab-ci.yml")
    jobs = [value for value in pipeline.values() if isinstance(value, dict) and
            any(key in value for key in ("script", "before_script"))]
    return [line for job in jobs for key in ("before_script", "script", "after_script") for line in job.get(key, [])]


def commands(scripts: list[str]) -> list[list[str]]:
    """Every `cmk-validate ...` command in the shell scripts, as argument lists (one per line, and between
    `&&`, `||`, `;`, `|` and parentheses)."""
    found = []
    lines = [line for script in scripts for line in script.replace("\\\n", " ").splitlines()]
    for line in lines:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for token in [*lexer, ";"]:
            if set(token) <= set(";&|()"):
                if command[:1] == ["cmk-validate"]:
                    found.append(command)
                command = []
            else:
                command.append(token)
    return found


def _assembly(directory: Path, template: Path) -> None:
    directory.mkdir(parents=True)
    shutil.copy(template, directory / f"Stack.template{template.suffix}")
    (directory / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"Stack": {
        "type": "aws:cloudformation:stack", "environment": "aws://111122223333/eu-west-1",
        "properties": {"templateFile": f"Stack.template{template.suffix}"}}}}))


def _expand(argument: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables[m.group(1)], argument)


def run_commands(found: list[list[str]], tmp_path: Path, monkeypatch, variables: dict[str, str]) -> dict[str, str]:
    """Run each command in a scratch project (its assembly broken, the base good); file written -> format."""
    project = tmp_path / "project"
    _assembly(project / "cdk.out", BROKEN)
    (project / "reports").mkdir()
    for base in {Path(_expand(argument, variables)) for command in found for argument in command
                 if argument.endswith("base.out")}:
        _assembly(base if base.is_absolute() else project / base, GOOD)
    monkeypatch.chdir(project)
    written = {}
    for command in found:
        argv = [_expand(argument, variables) for argument in command[1:]]
        code = main(argv)
        assert code in (0, 1), (command, code)
        if argv[:1] == ["review"]:
            written[argv[argv.index("--output") + 1]] = argv[argv.index("--format") + 1]
        for entry in (argv[i + 1] for i, a in enumerate(argv) if a in ("--format", "-f")):
            name, _, path = entry.partition("=")
            if path:
                written[path] = name
    for path, kind in written.items():
        text = (project / path).read_text()
        if kind == "sarif":
            assert {r["ruleId"] for r in json.loads(text)["runs"][0]["results"]} >= {"CKE101"}
        elif kind == "junit":
            assert ElementTree.fromstring(text).tag == "testsuites" and "CKE101" in text
        elif kind == "markdown":   # the broken assembly's summary, witnesses and all, fits a comment
            assert text.startswith("#") and len(text) <= COMMENT_LIMIT, text[:200]
    return written


def test_the_github_workflow_commands_run_and_feed_the_later_steps(tmp_path, monkeypatch):
    found = commands(_github_scripts())
    assert [command[:2] for command in found] == [["cmk-validate", "cdk.out"], ["cmk-validate", "review"]]
    written = run_commands(found, tmp_path, monkeypatch, {"RUNNER_TEMP": str(tmp_path / "runner")})
    steps = load("github-actions.yml")["jobs"]["validate"]["steps"]
    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert written[upload["with"]["sarif_file"]] == "sarif"
    comment = next(step for step in steps if "gh pr comment" in step.get("run", ""))
    body = shlex.split(comment["run"])
    assert written[body[body.index("--body-file") + 1]] == "markdown"
    validate = next(step["run"] for step in steps if "cmk-validate cdk.out" in step.get("run", ""))
    assert validate.index("mkdir -p reports") < validate.index("cmk-validate")


def test_the_gitlab_pipeline_commands_run_and_give_its_junit_report(tmp_path, monkeypatch):
    found = commands(_gitlab_scripts())
    assert [command[:2] for command in found] == [["cmk-validate", "cdk.out"], ["cmk-validate", "review"]]
    written = run_commands(found, tmp_path, monkeypatch, {"CI_PROJECT_DIR": str(tmp_path / "project")})
    pipeline = load("gitlab-ci.yml")
    job = pipeline["cmk-validate"]
    assert written[job["artifacts"]["reports"]["junit"]] == "junit"
    assert job["artifacts"]["when"] == "always"   # the report is kept when the validation fails the job
    review = pipeline["cmk-validate-review"]
    assert written[review["artifacts"]["paths"][0]] == "markdown"
    assert review["allow_failure"] == {"exit_codes": [1]}   # the review's "opens new access", not an error
    for name in ("cmk-validate", "cmk-validate-review"):
        template = pipeline[pipeline[name]["extends"]]
        assert "mkdir -p reports" in template["before_script"], name


@pytest.mark.parametrize("script", ["cmk-validate cdk.out --format sarif=x.sarif && cmk-validate review a --base b",
                                    "cd x && (cmk-validate --no-cfn-lint cdk.out || true)"])
def test_commands_are_found_in_compound_lines(script):
    assert [command[0] for command in commands([script])] == ["cmk-validate"] * script.count("cmk-validate")
