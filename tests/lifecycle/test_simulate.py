"""The simulation command: a plausible timeline whose total is the critical path, HSMs in parallel."""

from __future__ import annotations

import io
import re

from tests.support import durations
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
