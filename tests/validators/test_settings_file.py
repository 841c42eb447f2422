"""The validator reads a repository's own settings (`.cmk-validate.yaml`, or `[tool.cmk-validate]` in
pyproject.toml), as cfn-lint and checkov read theirs; the command line wins; a bad file is one line, exit 2."""

from __future__ import annotations

import pytest

from cmk_validate.cli import main
from tests.validators.test_cli import BAD

# BAD's one finding is CKE104 (server access logging off).


@pytest.fixture
def repository(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    work = tmp_path / "infra"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def test_the_dot_file_at_the_repository_root_applies_to_a_run_in_a_subdirectory(repository, capsys):
    (repository / ".cmk-validate.yaml").write_text("skip: [CKE104]\nno-cfn-lint: true\n")
    assert main([str(BAD)]) == 0
    assert "CKE104" not in capsys.readouterr().out


def test_pyproject_table_works_as_the_dot_file_does(repository, capsys):
    (repository / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.cmk-validate]\nskip = "CKE104"\n'
                                               'no-cfn-lint = true\n')
    assert main([str(BAD)]) == 0


def test_the_command_line_wins_even_with_the_default_value(repository, capsys):
    (repository / ".cmk-validate.yaml").write_text("min-severity: info\nno-cfn-lint: true\nformat: [json]\n")
    assert main([str(BAD), "--min-severity", "warning", "--format", "text"]) == 1
    out = capsys.readouterr().out
    assert "CKE104" in out and not out.startswith("{")


def test_no_config_and_an_explicit_config(repository, tmp_path, capsys):
    (repository / ".cmk-validate.yaml").write_text("skip: [CKE104]\n")
    assert main([str(BAD), "--no-cfn-lint", "--no-config"]) == 1
    other = tmp_path / "strict.yaml"
    other.write_text("rule: [CKE104]\n")
    assert main([str(BAD), "--no-cfn-lint", "--config", str(other)]) == 1


@pytest.mark.parametrize("content, message", [
    ("skp: [CKE104]\n", "unknown setting 'skp'"),
    ("skip: {CKE104: true}\n", "setting 'skip' must be a list of strings"),
    ("no-cfn-lint: yes please\n", "setting 'no-cfn-lint' must be true or false"),
    ("min-severity: critical\n", "setting 'min-severity' must be one of error, warning, info"),
    ("- just\n- a list\n", "must be a mapping"),
    ("skip: [CKE104\n", "cannot read the validator's settings"),
])
def test_a_bad_settings_file_is_one_line_and_exit_2(repository, capsys, content, message):
    (repository / ".cmk-validate.yaml").write_text(content)
    assert main([str(BAD)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and ".cmk-validate.yaml" in err
