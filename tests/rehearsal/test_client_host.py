"""The client host takes Run Command only once its SSM Agent has registered with Systems Manager:
it must reach the ssm, ec2messages and ssmmessages endpoints from its isolated subnet, and its role
must allow the agent's calls. Until then SendCommand answers InvalidInstanceId (SSM API Reference),
and the activation waits for the host instead of failing at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rehearsal.cli import main


def _template(directory: Path, stack_suffix: str) -> tuple[Path, dict]:
    path = next(directory.glob(f"*-{stack_suffix}.template.json"))
    return path, json.loads(path.read_text())


def _without_private_dns(directory: Path, service: str) -> None:
    path, template = _template(directory, "Network")
    changed = 0
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::EC2::VPCEndpoint" and f".{service}" in json.dumps(props.get("ServiceName")):
            props["PrivateDnsEnabled"] = False
            changed += 1
    assert changed == 1, f"one {service} interface endpoint, found {changed}"
    path.write_text(json.dumps(template))


def _without_agent_action(directory: Path, action: str) -> None:
    path, template = _template(directory, "Hsm")
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Policy" and logical_id.startswith("ClientHostRoleDefaultPolicy"):
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if action in actions:
                    statement["Action"] = [name for name in actions if name != action]
                    path.write_text(json.dumps(template))
                    return
    raise AssertionError(f"the client host's role grants no {action}")


@pytest.mark.parametrize("change, cause", [
    ("ssmmessages endpoint without private DNS", "no route from subnet-"),
    ("role without ssm:UpdateInstanceInformation",
     "is not authorized to perform: ssm:UpdateInstanceInformation on resource: *"),
])
def test_a_host_whose_agent_cannot_register_stops_the_activation_with_the_cause(copied_assembly, capsys, change,
                                                                               cause):
    directory = copied_assembly()
    if change.startswith("ssmmessages"):
        _without_private_dns(directory, "ssmmessages")
    else:
        _without_agent_action(directory, "ssm:UpdateInstanceInformation")
    assert main([str(directory), "--no-destroy"]) == 1
    captured = capsys.readouterr()
    assert "resource Activation" in captured.err
    assert "to become a managed instance (SSM Agent)" in captured.err
    note = next(line for line in captured.out.splitlines() if ": SSM Agent cannot register: " in line)
    assert cause in note


def test_the_activation_waits_for_the_agent_to_register(assembly_dir, capsys):
    """The default deploy: the host boots at about 4 minutes and registers two minutes later, long
    before the cluster is ready to activate; the activation is sent once and succeeds."""
    assert main([str(assembly_dir()), "--no-destroy"]) == 0
    assert "SSM Agent cannot register" not in capsys.readouterr().out
