"""The named scenarios (`python -m rehearsal --scenario NAME`): each passes, and the command line
lists them, runs them by name and refuses what a scenario does not take."""

from __future__ import annotations

import re

import pytest

from rehearsal.cli import main
from rehearsal.scenarios import SCENARIOS, Stage, Syntheses, fail_each_step, run, steps_of_a_clean_deploy
from rehearsal.session import Outcome
from rehearsal.timeline import Timeline
from tests.rehearsal.conftest import SharedSyntheses

# fail-each-step runs a deploy per step (minutes in all): its test runs it per custom resource, in parallel.
WHOLE = [name for name in SCENARIOS if name != "fail-each-step"]
HANDLERS = ["CustomVpcRestrictDefaultSG", "FirstHsmLifecycle", "ClusterAuditLogLifecycle", "InitialisationLifecycle",
            "ActivationLifecycle", "HsmFleetLifecycle", "KeyStoreLifecycle", "DataKeyLifecycle"]


@pytest.fixture(scope="session")
def syntheses() -> Syntheses:
    return SharedSyntheses()


@pytest.mark.parametrize("name", WHOLE)
def test_each_scenario_passes(name, syntheses):
    result = run(name, synthesise=syntheses)
    assert result.failure is None, result.failure
    assert result.observations, "a scenario reports what it saw"


@pytest.fixture(scope="session")
def clean_steps(syntheses) -> list:
    """The calls of one clean deploy of the reference, replayed by each handler's test (a deploy each)."""
    return steps_of_a_clean_deploy(syntheses())


@pytest.mark.parametrize("handler", HANDLERS)
def test_every_step_of_each_custom_resource_can_fail_once(handler, syntheses, clean_steps):
    """The fail-each-step scenario, for the steps of one custom resource's handlers."""
    stage = Stage(syntheses, None, Outcome(Timeline()))
    fail_each_step(stage, only=handler, clean_steps=clean_steps)
    assert stage.observations and "nothing billing was left unowned" in stage.observations[0]
    assert re.search(r"worst per handler: \w+ \d+", stage.observations[0]), stage.observations[0]


def test_the_command_line_lists_the_scenarios_and_runs_one_by_name(capsys):
    assert main(["--list-scenarios"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == list(SCENARIOS)
    assert all(len(line.split()) > 3 for line in listed), "each scenario says what it checks"
    assert main(["--scenario", "redeploy"]) == 0
    out = capsys.readouterr().out
    assert "scenario redeploy: passed" in out and out.rstrip().endswith("scenarios: 1 passed, 0 failed")


def test_the_readme_lists_every_scenario():
    from rehearsal.scenarios import README

    text = README.read_text()
    assert all(f"| `{name}` |" in text for name in SCENARIOS), [n for n in SCENARIOS if f"| `{n}` |" not in text]


@pytest.mark.parametrize("argv, message", [
    (["--scenario", "nonsense"], "unknown scenario 'nonsense'"),
    (["cdk.out", "--scenario", "redeploy"], "take no assembly"),
    (["--list-scenarios", "--no-destroy"], "take no assembly"),
])
def test_a_scenario_request_it_cannot_run_is_a_usage_error(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and message in capsys.readouterr().err
