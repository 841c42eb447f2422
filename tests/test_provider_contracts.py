"""Each lifecycle Provider's timing is declared once (the construct's ProviderContract) and reaches
the template twice: the waiter state machine (interval, attempts) and the handlers' budget in
their environment, which the handler reads (lifecycle_runtime.time_budget)."""

from __future__ import annotations

import importlib
import sys

import pytest

from cmk_constructs.lifecycle_provider import BUDGET_VARIABLE
from rehearsal.cloudformation.custom import Waiter
from tests.conftest import ROOT

LIFECYCLE = {  # construct package -> (stack suffix, custom resource type)
    "first_hsm": ("Hsm", "Custom::CloudHsmFirstHsm"),
    "cluster_initialisation": ("Hsm", "Custom::CloudHsmClusterInitialisation"),
    "cluster_activation": ("Hsm", "Custom::CloudHsmClusterActivation"),
    "hsm_fleet": ("Hsm", "Custom::CloudHsmHsm"),
    "custom_key_store": ("Hsm", "Custom::KmsCustomKeyStore"),
    "hsm_backed_key": ("Keys", "Custom::HsmBackedKmsKey"),
}
# Done in one call each: no contract, so on_event only (no is_complete, no waiter, no budget).
ON_EVENT_ONLY = {"cluster_audit_log": ("Hsm", "Custom::CloudHsmClusterAuditLog")}


def _framework(reference, stack: str, resource_type: str) -> tuple[dict, dict]:
    """The template's resources, and the environment of the Provider framework serving `resource_type`."""
    resources = reference.raw(stack)["Resources"]
    custom = next(resource for resource in resources.values() if resource["Type"] == resource_type)
    return resources, resources[custom["Properties"]["ServiceToken"]["Fn::GetAtt"][0]]["Properties"]["Environment"]["Variables"]


def _definition(machine: dict) -> str:
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return "".join(part if isinstance(part, str) else "arn" for part in parts)


@pytest.mark.parametrize("package", sorted(LIFECYCLE))
def test_the_template_carries_the_construct_contract(reference, package):
    contract = importlib.import_module(f"cmk_constructs.{package}.infrastructure").CONTRACT
    resources, framework = _framework(reference, *LIFECYCLE[package])
    waiter = Waiter.from_definition(_definition(resources[framework["WAITER_STATE_MACHINE_ARN"]["Ref"]]))
    assert waiter.interval == contract.query_interval.to_seconds()
    assert waiter.total_timeout == contract.total_timeout.to_seconds()
    for user_function in ("USER_ON_EVENT_FUNCTION_ARN", "USER_IS_COMPLETE_FUNCTION_ARN"):
        function = resources[framework[user_function]["Fn::GetAtt"][0]]
        budget = float(function["Properties"]["Environment"]["Variables"][BUDGET_VARIABLE])
        assert budget == contract.budget_seconds
        # The handler gives up first, with its own message, a poll or more before the Provider does.
        assert waiter.interval <= waiter.total_timeout - budget


@pytest.mark.parametrize("package", sorted(ON_EVENT_ONLY))
def test_a_provider_without_a_contract_has_no_waiter_and_no_budget(reference, package):
    assert not hasattr(importlib.import_module(f"cmk_constructs.{package}.infrastructure"), "CONTRACT")
    resources, framework = _framework(reference, *ON_EVENT_ONLY[package])
    assert "WAITER_STATE_MACHINE_ARN" not in framework and "USER_IS_COMPLETE_FUNCTION_ARN" not in framework
    on_event = resources[framework["USER_ON_EVENT_FUNCTION_ARN"]["Fn::GetAtt"][0]]
    assert BUDGET_VARIABLE not in on_event["Properties"]["Environment"]["Variables"]


def test_the_handlers_read_the_variable_the_construct_sets():
    sys.path.insert(0, str(ROOT / "cmk_constructs" / "lifecycle_runtime" / "python"))
    try:
        from lifecycle_runtime import time_budget
    finally:
        sys.path.pop(0)
    assert time_budget.BUDGET_VARIABLE == BUDGET_VARIABLE


def test_a_missing_budget_is_a_clear_handler_error(monkeypatch):
    sys.path.insert(0, str(ROOT / "cmk_constructs" / "lifecycle_runtime" / "python"))
    try:
        from lifecycle_runtime import time_budget
        from lifecycle_runtime.errors import LifecycleError
    finally:
        sys.path.pop(0)
    monkeypatch.delenv(BUDGET_VARIABLE, raising=False)
    with pytest.raises(LifecycleError, match=BUDGET_VARIABLE):
        time_budget.ensure_within({}, "something", "do something")
