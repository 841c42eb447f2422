"""The simulation command: a plausible timeline whose total is the critical path, HSMs in parallel."""

from __future__ import annotations

import io
import re

from rehearsal import durations
from tests.support.simulate import main, simulate


def test_timeline_total_is_the_sum_of_unavoidable_waits_not_of_every_hsm():
    out = io.StringIO()
    total = simulate(hsm_count=4, ca_mode="managed", lifecycle=False, verbose=False, out=out)
    text = out.getvalue()
    assert "Custom::CloudHsmHsm x3 (parallel)" in text and "total (critical path)" in text
    unavoidable = (durations.CLUSTER_CREATE + durations.HSM_CREATE + durations.CLUSTER_INITIALIZE
                   + durations.ACTIVATION_COMMAND + durations.HSM_CREATE + durations.KEY_STORE_CONNECT)
    # Polling granularity (30-60 s per wait) and handler invocations on top of the waits themselves.
    assert unavoidable <= total <= unavoidable + 6 * 60
    assert total < unavoidable + durations.HSM_CREATE  # three fleet HSMs cost one creation
    assert re.search(r"Deployment from nothing to a usable HSM-backed key: 5\dm\d\ds simulated", text)


def test_the_command_runs_the_whole_lifecycle(capsys):
    assert main(["--hsm-count", "2", "--lifecycle"]) == 0
    text = capsys.readouterr().out
    for phase in ("Scale up to 3 HSMs", "Scale back down to 2 HSMs", "Delete everything (reverse order)"):
        assert phase in text
    assert '"event"' not in text  # handler logs only with --verbose


def _usage_error(capsys, argv):
    import pytest

    with pytest.raises(SystemExit) as exited:
        main(argv)
    captured = capsys.readouterr()
    assert exited.value.code == 2 and captured.out == ""
    assert "Traceback" not in captured.err and "ResourceFailed" not in captured.err
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert len(errors) == 1
    return errors[0]


def test_hsm_count_is_validated_between_2_and_28(capsys):
    assert "at least 2" in _usage_error(capsys, ["--hsm-count", "1"])
    assert "at most 28" in _usage_error(capsys, ["--hsm-count", "29"])
    # --lifecycle scales up by one, so 28 would ask the model for a 29th HSM
    assert "at most 27 with --lifecycle" in _usage_error(capsys, ["--hsm-count", "28", "--lifecycle"])
    assert "7 to 30" in _usage_error(capsys, ["--key-deletion-window-days", "3"])


def test_pending_window_comes_from_cdk_json_and_is_stated(capsys):
    import json

    from tests.support.handlers import REPO

    days = json.loads((REPO / "cdk.json").read_text())["context"]["defaults"]["keyDeletionWindowDays"]
    assert main(["--hsm-count", "2", "--lifecycle"]) == 0
    text = capsys.readouterr().out
    assert f"Key pending window simulated: {days} days (cdk.json default keyDeletionWindowDays)" in text
    wait = re.search(r"\(KMS deletes the key at the end of its pending window\)\s+(\d+)d", text)
    assert wait and int(wait.group(1)) == days


def test_pending_window_can_be_chosen(capsys):
    assert main(["--hsm-count", "2", "--lifecycle", "--key-deletion-window-days", "7"]) == 0
    text = capsys.readouterr().out
    assert "Key pending window simulated: 7 days (--key-deletion-window-days)" in text
    assert re.search(r"\(KMS deletes the key at the end of its pending window\)\s+7d", text)
