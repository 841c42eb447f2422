"""The pre-commit hooks (`.pre-commit-hooks.yaml`): the manifest passes pre-commit's own validation, picks the
files it should, and the hook runs as pre-commit runs it, offline; and every door (command line, pre-commit
hook, cfn-lint pack, CDK plugin) reports the same rule ids on the same broken template.

The run is pre-commit's own: it clones the hook repository (this checkout's package files, committed into a
scratch repository so uncommitted edits are what is tested, as `pre-commit try-repo` would), creates the
hook's virtual environment with virtualenv and installs the package there with pip, then runs the hook on a
scratch project's staged files. Two things make it offline: pip builds the wheel with the setuptools wheel
virtualenv ships (`PIP_FIND_LINKS`, `PIP_NO_INDEX`), and instead of downloading the dependencies (cfn-lint,
PyYAML, z3) the hook's environment reads them from this project's environment through a path entry, as the
packaging test does. `cmk_validate` itself can only come from the hook's environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import virtualenv
from pre_commit.clientlib import load_config, load_manifest
from pre_commit.commands.run import Classifier, filter_by_include_exclude

from tests.validators.fixtures.mutations import fixture_path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
BROKEN = fixture_path("data_bucket_endpoint_only", "bad_no_endpoint_deny")
GOOD = fixture_path("data_bucket_endpoint_only", "good_base")
BIN = Path(sys.executable).parent
PROJECT_RULE = re.compile(r"\b(CK[EWI]\d{3})\b")


def hooks() -> dict[str, dict]:
    return {hook["id"]: hook for hook in load_manifest(MANIFEST)}


def test_the_manifest_is_valid_for_pre_commit_and_runs_the_installed_command():
    found = hooks()   # pre-commit's schema: raises InvalidManifestError on a bad manifest
    assert set(found) == {"cmk-validate", "cmk-validate-assembly"}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in found.values():
        assert hook["language"] == "python" and hook["entry"] in scripts
    assert found["cmk-validate"]["pass_filenames"] is True
    assert found["cmk-validate-assembly"]["pass_filenames"] is False and found["cmk-validate-assembly"]["always_run"]
    check = subprocess.run([str(BIN / "pre-commit"), "validate-manifest", str(MANIFEST)], capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_template_hook_picks_cloudformation_templates(tmp_path, monkeypatch):
    selected = ["CustomerKeys-Data.template.json", "infra/network.template.yaml", "infra/bucket.cfn.yml",
                "sam-app/template.yaml", "template.json"]
    ignored = ["cdk.out/CustomerKeys-Data.template.json", "cdk.staging.out/Stack.template.json",
               "node_modules/pkg/x.template.json", "package.json", ".cfnlintrc.yaml", "docs/template.md",
               "mytemplate.yaml", "bucket.cfn.txt"]
    for name in selected + ignored:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    hook = hooks()["cmk-validate"]
    names = list(filter_by_include_exclude(selected + ignored, hook["files"], hook["exclude"]))
    picked = Classifier(names).by_types(names, hook["types"], hook["types_or"], hook["exclude_types"])
    assert sorted(picked) == sorted(selected)


def test_the_readme_configuration_is_valid_and_names_the_hooks(tmp_path):
    readme = (ROOT / "cmk_validate" / "README.md").read_text()
    section = readme[readme.index("## pre-commit"):readme.index("## cfn-lint rule pack")]
    block = section[section.index("```yaml") + len("```yaml"):section.index("```", section.index("```yaml") + 7)]
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(block)
    repos = load_config(config)["repos"]   # pre-commit's schema: raises InvalidConfigError on a bad one
    assert [hook["id"] for hook in repos[0]["hooks"]] == ["cmk-validate"]
    assert "cmk-validate-assembly" in block and set(hooks()) == {"cmk-validate", "cmk-validate-assembly"}


def _git(*arguments: str, cwd: Path, env: dict) -> str:
    return subprocess.run(["git", *arguments], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """(project directory, environment) with the hooks installed by pre-commit, offline."""
    work = tmp_path_factory.mktemp("pre-commit")
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(work), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
           "PRE_COMMIT_HOME": str(work / "cache"), "PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1",
           "PIP_FIND_LINKS": str(Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed")}
    hook_repo = work / "hook-repo"
    listed = _git("ls-files", "--cached", "--others", "--exclude-standard", "--", "pyproject.toml", "LICENSE",
                  ".pre-commit-hooks.yaml", "cmk_validate", cwd=ROOT, env=env).splitlines()
    for name in listed:
        if (ROOT / name).is_file():
            (hook_repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, hook_repo / name)
    _git("init", "-q", cwd=hook_repo, env=env)
    _git("add", ".", cwd=hook_repo, env=env)
    _git("commit", "-q", "-m", "hook", cwd=hook_repo, env=env)
    revision = _git("rev-parse", "HEAD", cwd=hook_repo, env=env)

    project = work / "project"
    (project / "templates").mkdir(parents=True)
    shutil.copy(BROKEN, project / "templates" / "broken.template.json")
    shutil.copy(GOOD, project / "templates" / "good.template.yaml")
    (project / "cdk.out").mkdir()
    shutil.copy(BROKEN, project / "cdk.out" / "Stack.template.json")   # the template hook must leave it alone
    (project / "cdk.out" / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"Stack": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": "Stack.template.json"}}}}))
    (project / ".pre-commit-config.yaml").write_text(json.dumps({"repos": [{
        "repo": str(hook_repo), "rev": revision,
        "hooks": [{"id": "cmk-validate"}, {"id": "cmk-validate-assembly", "args": ["--no-cfn-lint"]}]}]}))
    _git("init", "-q", cwd=project, env=env)
    _git("add", ".", cwd=project, env=env)
    installed = subprocess.run([str(BIN / "pre-commit"), "install-hooks"], cwd=project, env=env,
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    hook_sites = list((work / "cache").glob("repo*/py_env-*/lib/python*/site-packages"))
    assert len(hook_sites) == 1, hook_sites
    (hook_sites[0] / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return project, env


def pre_commit_run(scratch, *arguments: str, hook: str = "cmk-validate") -> subprocess.CompletedProcess:
    project, env = scratch
    return subprocess.run([str(BIN / "pre-commit"), "run", hook, *arguments], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


def test_pre_commit_runs_the_hook_from_its_own_environment(scratch):
    project, env = scratch
    where = subprocess.run([str(BIN / "pre-commit"), "run", "--all-files", "--verbose", "cmk-validate"],
                           cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert where.returncode == 1, where.stdout + where.stderr
    # The hook's environment has the package installed from the hook repository, not this checkout.
    environment = next((Path(env["PRE_COMMIT_HOME"])).glob("repo*/py_env-*"))
    located = subprocess.run([str(environment / "bin" / "python"), "-c",
                              "import cmk_validate; print(cmk_validate.__file__)"],
                             capture_output=True, text=True, check=True, cwd=project).stdout
    assert located.startswith(str(environment)), located


def test_the_hook_fails_on_a_broken_template_and_passes_a_good_one(scratch):
    broken = pre_commit_run(scratch, "--files", "templates/broken.template.json", "templates/good.template.yaml",
                            "cdk.out/Stack.template.json")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "templates/broken.template" in broken.stdout and "cdk.out/Stack" not in broken.stdout
    assert set(PROJECT_RULE.findall(broken.stdout)) == {"CKE101"}
    good = pre_commit_run(scratch, "--files", "templates/good.template.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout


def test_the_assembly_hook_validates_cdk_out_whatever_the_commit_holds(scratch):
    """No file names: the cloud assembly (its manifest, every stack) on every run, with the hook's args."""
    run = pre_commit_run(scratch, "--files", "templates/good.template.yaml", hook="cmk-validate-assembly")
    assert run.returncode == 1, run.stdout + run.stderr
    assert set(PROJECT_RULE.findall(run.stdout)) == {"CKE101"} and "1 stack(s)" in run.stdout


def _cli_ids(path: Path) -> set[str]:
    done = subprocess.run([sys.executable, "-m", "cmk_validate", str(path), "--no-config"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    return set(PROJECT_RULE.findall(done.stdout))


def _cfn_lint_pack_ids(path: Path, cwd: Path) -> set[str]:
    """cfn-lint's own command with the pack, run in `cwd` (the pack reads the validator's settings file from
    there: the scratch project has none, like `--no-config`)."""
    done = subprocess.run([str(BIN / "cfn-lint"), "--format", "json", "--append-rules", "cmk_validate.cfn_lint_rules",
                           "--", str(path)], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode & 2, done.stderr
    return {m["Message"].split(":")[0] for m in json.loads(done.stdout) if re.match(r"^[EWI]9\d{3}$", m["Rule"]["Id"])}


def _cdk_plugin_ids(path: Path) -> set[str]:
    """The synth-time plugin's validate(), given the template's path as CDK gives it (`template_paths`); a
    whole synth with the plugin is tested in test_cdk_plugin.py."""
    from cmk_validate.cdk_plugin import ArchitectureInvariantsPlugin

    class Context:
        template_paths = [str(path)]

    report = ArchitectureInvariantsPlugin().validate(Context())
    return {violation.rule_name for violation in report.violations}


def test_every_door_reports_the_same_rule_ids(scratch):
    hook = pre_commit_run(scratch, "--files", "templates/broken.template.json")
    assert hook.returncode == 1, hook.stdout + hook.stderr
    doors = {"command line": _cli_ids(BROKEN), "pre-commit hook": set(PROJECT_RULE.findall(hook.stdout)),
             "cfn-lint pack": _cfn_lint_pack_ids(BROKEN, scratch[0]), "CDK plugin": _cdk_plugin_ids(BROKEN)}
    assert doors["command line"] == {"CKE101"}
    assert all(ids == doors["command line"] for ids in doors.values()), doors
