"""The validator installs as a package (pyproject.toml) and its `cmk-validate` command works outside this
checkout: the wheel is built and installed offline into a fresh virtual environment, and run from a
directory that is not the repository.

The new environment gets its third-party packages (cfn-lint, PyYAML, z3) from the project's pinned
environment through a path entry, so the test needs no network; `cmk_validate` itself can only come
from the installed wheel.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

from tests.validators.fixtures.mutations import fixture_path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
TEMPLATE = ROOT / "tests" / "validators" / "fixtures" / "base_architecture.yaml"
BROKEN = fixture_path("data_bucket_endpoint_only", "bad_no_endpoint_deny")
# Import name -> distribution name, for the third-party modules the package imports.
DISTRIBUTIONS = {"cfnlint": "cfn-lint", "yaml": "PyYAML", "z3": "z3-solver",
                 "aws_cdk": "aws-cdk-lib", "constructs": "constructs", "jsii": "aws-cdk-lib"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with the validator's wheel installed; returns its bin directory."""
    work = tmp_path_factory.mktemp("package")
    # Built from a copy of what the wheel holds: setuptools writes build/ and *.egg-info beside the source,
    # and two test workers building from the checkout at once break each other's build.
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "cmk_validate", source / "cmk_validate", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--no-index", "--wheel-dir", str(work / "dist"), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    environment = work / "env"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The pinned third-party packages, appended after the environment's own site-packages.
    Path(site, "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((work / "dist").glob("cmk_validate-*.whl"))
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    return environment / "bin"


def run(bin_dir: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "cmk-validate"), *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd)})


def test_the_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    where = subprocess.run([str(installed / "python"), "-c", "import cmk_validate; print(cmk_validate.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert str(installed.parent) in where and str(ROOT) not in where


def test_version_and_help(installed, tmp_path):
    from cmk_validate import __version__

    version = run(installed, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"cmk-validate {__version__}"
    assert "review" in run(installed, "--help", cwd=tmp_path).stdout


def test_validates_a_template_outside_the_checkout(installed, tmp_path):
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")
    shutil.copy(BROKEN, tmp_path / "broken.json")
    clean = run(installed, "template.yaml", "-f", "json", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["summary"]["errors"] == 0
    broken = run(installed, "broken.json", "-f", "json", "--no-cfn-lint", cwd=tmp_path)
    assert broken.returncode == 1, broken.stderr
    assert "CKE101" in {finding["ruleId"] for finding in json.loads(broken.stdout)["findings"]}
    missing = run(installed, "nothing-here", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("cmk-validate: error:")
    assert "Traceback" not in missing.stderr


def test_the_rehearsal_subcommand_says_where_it_runs(installed, tmp_path):
    """The rehearsal is not packaged: outside the checkout its subcommand is a one-line usage error."""
    rehearse = run(installed, "rehearse", "cdk.out", cwd=tmp_path)
    assert rehearse.returncode == 2 and rehearse.stderr.count("\n") == 1
    assert "runs only from a checkout" in rehearse.stderr


def test_review_and_its_price_table_ship_in_the_package(installed, tmp_path):
    """The installed review gives what the checkout's gives (its price table is package data)."""
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")
    review = run(installed, "review", "template.yaml", "-f", "json", cwd=tmp_path)
    here = subprocess.run([sys.executable, "-m", "cmk_validate", "review", "template.yaml", "-f", "json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert review.returncode in (0, 1) and review.returncode == here.returncode, review.stderr
    assert json.loads(review.stdout) == json.loads(here.stdout)
    assert json.loads(review.stdout)["cost"]["prices"].startswith("pricing.json")


def _third_party_imports() -> set[str]:
    standard = set(sys.stdlib_module_names)
    found = set()
    for path in (ROOT / "cmk_validate").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                     else [])
            found |= {name.split(".")[0] for name in names}
    return found - standard - {"cmk_validate", "__future__"}


def test_every_import_is_a_declared_dependency():
    """An import the metadata does not name would fail only for users who install the package."""
    declared = {requirement.split(">")[0].split("<")[0].split("=")[0].strip().lower()
                for requirement in [*PYPROJECT["project"]["dependencies"],
                                    *[r for extra in PYPROJECT["project"]["optional-dependencies"].values()
                                      for r in extra]]}
    imported = _third_party_imports()
    assert imported, "the scan found no third-party import at all"
    undeclared = {name for name in imported if DISTRIBUTIONS.get(name, name).lower() not in declared}
    assert not undeclared, f"imported but not declared in pyproject.toml: {sorted(undeclared)}"


def test_the_installed_package_is_a_cfn_lint_rule_pack(installed, tmp_path):
    """`cfn-lint --append-rules cmk_validate.cfn_lint_rules` works where the wheel is installed."""
    shutil.copy(BROKEN, tmp_path / "broken.json")
    lint = subprocess.run([str(installed / "python"), "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
                           "--format", "json", "--append-rules", "cmk_validate.cfn_lint_rules", "--", "broken.json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(tmp_path)})
    assert lint.returncode & 2, lint.stderr
    found = {(match["Rule"]["Id"], match["Message"].split(":")[0]) for match in json.loads(lint.stdout)
             if match["Rule"]["Id"].startswith("E9")}
    assert found == {("E9101", "CKE101")}
