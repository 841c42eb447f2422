"""`cmk-validate review` entry point (cmk_validate.review.cli.main): formats, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cmk_validate.review.cli import main
from tests.review.conftest import ROOT, base_template, statement, write_assembly


@pytest.fixture
def good(tmp_path):
    return write_assembly(tmp_path / "good", base_template())


@pytest.fixture
def opened(tmp_path):
    template = base_template()
    del statement(template, "DataBucketPolicy", "DenyInsecureTransport")["Condition"]["Bool"]
    statement(template, "DataBucketPolicy", "DenyInsecureTransport")["Condition"] = {
        "Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:PrincipalAccount": "999999999999"}}
    return write_assembly(tmp_path / "opened", template)


def test_markdown_by_default(good, capsys):
    assert main([str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Policy review of")
    assert "**OK: Expected: data reachable only through the gateway endpoint" in out
    assert "<details><summary>Full matrix" in out and "### Cost estimate (eu-west-1, USD)" in out


def test_contradictions_exit_1(opened, capsys):
    assert main([str(opened)]) == 1
    out = capsys.readouterr().out
    assert "### Contradictions: " in out and "only with TLS" in out


def test_json_and_output_file(good, tmp_path):
    target = tmp_path / "review.json"
    assert main([str(good), "--format", "json", "--output", str(target)]) == 0
    data = json.loads(target.read_text())
    assert data["contradictions"] == 0 and data["account"] == "111122223333" and data["region"] == "eu-west-1"
    assert {c["decision"] for c in data["cells"]} == {"Allow", "Deny", "ImplicitDeny"}
    assert data["cost"]["monthly"] > 0


def test_change_that_opens_access_exits_1(good, opened, capsys):
    assert main(["--base", str(good), str(opened)]) == 1
    out = capsys.readouterr().out
    assert "This change opens" in out and "a second approver is needed" in out
    assert 'deny: bucket policy "DenyInsecureTransport"' in out


def test_change_that_only_closes_access_exits_0(good, opened, capsys):
    assert main(["--base", str(opened), str(good)]) == 0
    out = capsys.readouterr().out
    assert "This change opens no new access." in out and "Access removed (allowed before, denied now)" in out


def test_change_json(good, opened, capsys):
    assert main(["--base", str(good), str(opened), "-f", "json"]) == 1
    change = json.loads(capsys.readouterr().out)["change"]
    assert change["opensAccess"] and all(flip["tls"] is False for flip in change["opened"])
    assert all(flip["after"].startswith("allow") for flip in change["opened"])


def test_prices_override_is_reported(good, tmp_path, capsys):
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"regions": {"eu-west-1": {"hsmHour": {"hsm2m.medium": 2.0}}}}))
    assert main([str(good), "--prices", str(prices)]) == 0
    out = capsys.readouterr().out
    assert f"overridden by {prices}" in out and "| CloudHSM hsm2m.medium | 2 HSMs x 730 h | 2.00/HSM-hour | 2,920.00 |" in out


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing", "no such file or directory"),
    (lambda tmp: tmp, "no manifest.json"),
    (lambda tmp: (tmp / "manifest.json").write_text("{not json") and tmp, "invalid JSON"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, make, message):
    path = make(tmp_path)
    assert main([str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err and "Traceback" not in captured.err


def test_bad_price_table_and_bad_option_exit_2(good, tmp_path, capsys):
    prices = tmp_path / "prices.json"
    prices.write_text("[1, 2")
    assert main([str(good), "--prices", str(prices)]) == 2
    assert main([str(good), "--format", "pdf"]) == 2
    assert main(["--base", str(tmp_path / "nope"), str(good)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and "Traceback" not in err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "--base OLD_CDK_OUT" in capsys.readouterr().out


def test_runs_as_a_module(good):
    """`python -m cmk_validate.review.cli` works standalone (cmk_validate/__main__.py routes `review` here)."""
    done = subprocess.run([sys.executable, "-m", "cmk_validate.review.cli", str(good), "-f", "json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["contradictions"] == 0


@pytest.mark.parametrize("command", [[sys.executable, "-m", "cmk_validate"],
                                     [str(Path(sys.executable).parent / "cmk-validate")]],
                         ids=["python -m cmk_validate", "cmk-validate"])
def test_review_is_a_subcommand(good, command):
    done = subprocess.run([*command, "review", "--base", str(good), str(good)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "This change opens no new access." in done.stdout
