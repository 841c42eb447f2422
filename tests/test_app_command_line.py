"""`python app.py` takes the same `-c KEY=VALUE` as `cdk synth`, refuses a key it does not know, gives
examples that can be pasted back, and runs jsii on the project's Node without its banner."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import app
import node_runtime
from stacks.config import ConfigError, check_context_keys
from tests.conftest import ROOT


def _stacks(directory) -> list[str]:
    manifest = json.loads((directory / "manifest.json").read_text())
    return sorted(name for name, artifact in manifest["artifacts"].items()
                  if artifact["type"] == "aws:cloudformation:stack")


def test_minus_c_chooses_the_environment_as_cdk_synth_does(tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    assert app.main(["-c", "environment=dev-kms", "-c", "cdkNag=false"]) == 0
    stacks = _stacks(tmp_path)
    assert stacks and not [name for name in stacks if name.endswith("-Hsm")]  # kms mode: no Hsm stack
    assert all(name.startswith("CustomerKeysDev-") for name in stacks), stacks  # dev-kms is named customer-keys-dev


def test_a_typo_on_the_command_line_is_refused_with_the_key_it_resembles(capsys):
    assert app.main(["-c", "hsmcount=4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown context key 'hsmcount'" in err and "did you mean 'hsmCount'" in err


def test_cdks_own_context_keys_are_not_settings():
    check_context_keys(["aws:cdk:enable-path-metadata", "@aws-cdk/core:newStyleStackSynthesis", "environment",
                        "defaults", "environments", "cdkNag", "hsmCount",
                        "availability-zones:account=111122223333:region=eu-west-1"])
    with pytest.raises(ConfigError, match="unknown context key 'keyStorName'.*did you mean 'keyStoreName'"):
        check_context_keys(["keyStorName"])


def test_an_argument_that_is_not_key_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as usage:
        app.main(["-c", "environment"])
    assert usage.value.code == 2 and "expected KEY=VALUE" in capsys.readouterr().err


def test_the_example_in_an_error_can_be_pasted_back_into_minus_c(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    assert app.main(["-c", "availabilityZones=eu-west-1a"]) == 2
    example = re.search(r"e\.g\. (\[.*\])$", capsys.readouterr().err.strip()).group(1)
    assert json.loads(example) == ["eu-west-1a", "eu-west-1b"]
    assert app.main(["-c", f"availabilityZones={example}", "-c", "cdkNag=false"]) == 0


def test_plain_python_app_py_prints_no_node_banner(tmp_path):
    """Outside the Makefile's PATH (whatever Node the machine has first), jsii runs on the project's Node."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("JSII_")}
    environment["PATH"] = os.pathsep.join(part for part in environment.get("PATH", "").split(os.pathsep)
                                          if "node_modules" not in part)
    environment["CDK_OUTDIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "app.py", "-c", "cdkNag=false"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "!!!" not in result.stderr and "b'" not in result.stderr, result.stderr


@pytest.mark.skipif(shutil.which("node") is None, reason="needs a Node.js on PATH other than the project's")
def test_without_the_projects_node_the_banner_is_one_readable_line(tmp_path, monkeypatch, capsys):
    for key in [key for key in os.environ if key.startswith("JSII_")]:
        monkeypatch.delenv(key)
    monkeypatch.setattr(node_runtime, "PROJECT_NODE", tmp_path / "missing" / "node")
    node_runtime.choose()
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    assert os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] == version.lstrip("v").split(".")[0]
    assert "JSII_NODE" not in os.environ
    err = capsys.readouterr().err
    assert err.count("\n") <= 1 and (not err or "make setup" in err)
