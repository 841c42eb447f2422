"""The named scenarios (`python -m rehearsal --scenario NAME`): each passes, and the command line
lists them, runs them by name and refuses what a scenario does not take."""

from __future__ import annotations

import pytest

from rehearsal.cli import main
from rehearsal.scenarios import SCENARIOS, Syntheses, run


@pytest.fixture(scope="session")
def syntheses(tmp_path_factory) -> Syntheses:
    return Syntheses(tmp_path_factory.mktemp("scenario-syntheses"))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_passes(name, syntheses):
    result = run(name, synthesise=syntheses)
    assert result.failure is None, result.failure
    assert result.observations, "a scenario reports what it saw"


def test_the_command_line_lists_the_scenarios_and_runs_one_by_name(capsys):
    assert main(["--list-scenarios"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == list(SCENARIOS)
    assert all(len(line.split()) > 3 for line in listed), "each scenario says what it checks"
    assert main(["--scenario", "redeploy"]) == 0
    out = capsys.readouterr().out
    assert "scenario redeploy: passed" in out and out.rstrip().endswith("scenarios: 1 passed, 0 failed")


@pytest.mark.parametrize("argv, message", [
    (["--scenario", "nonsense"], "unknown scenario 'nonsense'"),
    (["cdk.out", "--scenario", "redeploy"], "take no assembly"),
    (["--list-scenarios", "--no-destroy"], "take no assembly"),
])
def test_a_scenario_request_it_cannot_run_is_a_usage_error(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and message in capsys.readouterr().err
