"""The rehearsal deploys the synthesised assembly itself: deploy, scale up and down, destroy in the
rounds the README documents, for each environment, through `python -m rehearsal`."""

from __future__ import annotations

import json
import re

import pytest

from rehearsal.cli import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _phase(out: str, title: str) -> str:
    """The lines of one phase of the printed timeline."""
    start = out.index(title)
    following = re.search(r"\n(Deploy |Update to |Destroy, round )", out[start + len(title):])
    return out[start: start + len(title) + following.start()] if following else out[start:]


def test_reference_deploys_scales_up_and_down_and_is_destroyed_in_two_rounds(assembly_dir, capsys):
    reference, up, down = assembly_dir(), assembly_dir(hsmCount=4), assembly_dir(hsmCount=2)
    code, out, err = _run(capsys, reference, "--update", up, "--update", down)
    assert code == 0, err
    deploy = _phase(out, "Deploy ")
    for stack in ("Audit", "Network", "Hsm", "Keys", "Data"):
        assert re.search(rf"CustomerKeys-{stack}\s+CREATE_COMPLETE", deploy), stack
    # The lifecycle's slow steps, in the stacks' order, each with the time the model gives it.
    order = [deploy.index(name) for name in ("CloudHsmCluster", "FirstHsm", "Initialisation", "Activation",
                                             "HsmFleetHsm1", "KeyStore")]
    assert order == sorted(order)
    scale_up = _phase(out, f"Update to {up}")
    assert re.search(r"HsmFleetHsm3\w+\s+Custom::CloudHsmHsm\s+CREATE_COMPLETE", scale_up)
    assert re.search(r"CustomerKeys-Audit\s+NO_CHANGES", scale_up)
    scale_down = _phase(out, f"Update to {down}")
    deleted = re.findall(r"(HsmFleetHsm\d)\w+\s+Custom::CloudHsmHsm\s+DELETE_COMPLETE", scale_down)
    assert sorted(deleted) == ["HsmFleetHsm2", "HsmFleetHsm3"]
    # Round 1 stops at the key store, which refuses while its key waits out the pending window.
    first = _phase(out, "Destroy, round 1")
    assert re.search(r"KeyStore\w+\s+Custom::KmsCustomKeyStore\s+DELETE_FAILED", first)
    assert "still holds" in first and re.search(r"CustomerKeys-Hsm\s+DELETE_FAILED", first)
    for stack in ("Data", "Keys"):
        assert re.search(rf"CustomerKeys-{stack}\s+DELETE_COMPLETE", first), stack
    second = _phase(out, "Destroy, round 2")
    assert re.search(r"\(t\+30d", second), "round 2 runs after the 30-day pending window"
    for stack in ("Hsm", "Network", "Audit"):
        assert re.search(rf"CustomerKeys-{stack}\s+DELETE_COMPLETE", second), stack
    retained = out.split("Retained (DeletionPolicy/UpdateReplacePolicy), still in the account: ")[1].split("\n")[0]
    for kept in ("AWS::CloudHSM::Cluster", "DataBucket", "AccessLogs", "TrailTrailBucket", "AuditKey",
                 "InitialisationCaSigningKey", "ActivationAdminPassword", "ActivationKmsUserPassword"):
        assert kept in retained, kept
    billed = int(re.search(r"HSM-hours billed: (\d+) for (\d+) HSM", out).group(1))
    # Two HSMs (after the scale-down) bill through the 30-day pending window; the other two bill a few hours.
    assert 2 * 30 * 24 <= billed <= 2 * 30 * 24 + 2 * 2 + 2 * 2, billed


@pytest.mark.parametrize("environment", ["dev-kms", "sse-c"])
def test_every_environment_deploys_and_is_destroyed(assembly_dir, capsys, environment):
    code, out, err = _run(capsys, assembly_dir(environment))
    assert code == 0, err
    assert "CREATE_FAILED" not in out and "Destroy, round 1" in out
    if environment == "dev-kms":  # no custom key store: one round, no HSM
        assert "Destroy, round 2" not in out and "HSM-hours billed: 0" in out


def test_redeploying_the_same_assembly_changes_nothing(assembly_dir, capsys):
    reference = assembly_dir()
    code, out, err = _run(capsys, reference, "--update", reference, "--no-destroy")
    assert code == 0, err
    update = _phase(out, f"Update to {reference}")
    assert len(re.findall(r"NO_CHANGES", update)) == 6  # every stack of reference, its Peering stack included
    assert not re.search(r"(CREATE|UPDATE|DELETE)_(COMPLETE|FAILED)", update)


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    code, out, err = _run(capsys, tmp_path / "missing")
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("rehearsal: error: ")
    code, out, err = _run(capsys, tmp_path)
    assert code == 2 and "not a cloud assembly" in err and "Traceback" not in err


def _seconds(text: str) -> int:
    """'1d2h03m04s' / '2h03m04s' / '3m04s' as seconds."""
    days, hours, minutes, seconds = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(\d+)m(\d+)s", text).groups()
    return ((int(days or 0) * 24 + int(hours or 0)) * 60 + int(minutes)) * 60 + int(seconds)


def _first_deploy(out: str) -> int:
    return _seconds(re.search(r"First deploy: (\S+) simulated", out).group(1))


def test_the_fleet_is_created_at_once_so_more_hsms_cost_no_more_time(assembly_dir, capsys):
    """CloudFormation creates the HSM resources in parallel (different AZs): a fourth HSM adds minutes, not an HSM creation."""
    code, three, err = _run(capsys, assembly_dir(), "--no-destroy")
    assert code == 0, err
    code, four, err = _run(capsys, assembly_dir(hsmCount=4), "--no-destroy")
    assert code == 0, err
    done = [_seconds(t) for t in re.findall(r"t\+\s*(\S+)\s+HsmFleetHsm\d\w+\s+Custom::CloudHsmHsm\s+CREATE_COMPLETE", four)]
    assert len(done) == 3 and max(done) - min(done) <= 60
    assert _first_deploy(four) - _first_deploy(three) < 120


def test_the_second_destroy_round_waits_out_the_key_pending_window_from_the_template(assembly_dir, capsys):
    directory = assembly_dir(keyDeletionWindowDays=7)
    keys = json.loads(next(directory.glob("*-Keys.template.json")).read_text())
    (key,) = [r for r in keys["Resources"].values() if r["Type"] == "Custom::HsmBackedKmsKey"]
    days = int(key["Properties"]["PendingWindowInDays"])
    code, out, err = _run(capsys, directory)
    assert code == 0, err
    first = re.search(r"Destroy, round 1  \(t\+(\S+),", out).group(1)
    second = re.search(r"Destroy, round 2  \(t\+(\S+),", out).group(1)
    assert days * 86400 <= _seconds(second) - _seconds(first) <= days * 86400 + 3600


def test_an_internal_failure_is_one_line_and_exit_3(assembly_dir, capsys, monkeypatch):
    from rehearsal import session

    def broken(*args, **kwargs):
        raise RuntimeError("the model\nbroke")

    monkeypatch.setattr(session, "rehearse", broken)
    code, out, err = _run(capsys, assembly_dir())
    assert code == 3 and err == "rehearsal: error: internal error, a defect of the rehearsal (RuntimeError: the model broke)\n" and "Traceback" not in out



def test_more_hsms_than_the_regions_quota_fail_at_the_hsm_past_it(assembly_dir, capsys):
    """An account with a raised quota says so at synth (hsmQuotaPerRegion) and to the rehearsal
    (--hsms-per-region); with AWS's default quota of 6 the seventh HSM fails as CloudHSM refuses it."""
    seven = assembly_dir(hsmCount=7, hsmQuotaPerRegion=8)
    code, out, err = _run(capsys, seven, "--no-destroy")
    assert code == 1
    assert "CloudHsmResourceLimitExceededException" in err and "the quota is 6" in err
    code, out, err = _run(capsys, seven, "--no-destroy", "--hsms-per-region", "8")
    assert code == 0, err
    assert len(re.findall(r"HsmFleetHsm\d\w+\s+Custom::CloudHsmHsm\s+CREATE_COMPLETE", out)) == 6


def test_cloudhsm_conditions_on_the_day_can_be_rehearsed(assembly_dir, capsys):
    """HSM creation takes 10-15 minutes each (CloudHSM User Guide, "Add an HSM"), sometimes longer, and
    a zone can run out of capacity (CloudHsmServiceException): the command line arms each in the model."""
    code, typical, err = _run(capsys, assembly_dir(), "--no-destroy")
    assert code == 0, err
    code, spread, err = _run(capsys, assembly_dir(), "--no-destroy", "--hsm-timing", 7)
    assert code == 0, err
    assert _first_deploy(spread) != _first_deploy(typical)
    code, out, err = _run(capsys, assembly_dir(), "--no-destroy", "--slow-hsm")
    assert code == 1 and "Custom::CloudHsmFirstHsm" in err and "to become ACTIVE" in err
    assert re.search(r"HSM-hours billed: [1-9]", out), "the slow HSM billed while CloudFormation waited"
    code, out, err = _run(capsys, assembly_dir(), "--no-destroy", "--no-hsm-capacity", "eu-west-1b")
    assert code == 1 and "Custom::CloudHsmHsm" in err and "Insufficient capacity" in err and "eu-west-1b" in err


def test_cloudhsm_conditions_refuse_what_cannot_apply(assembly_dir, capsys):
    code, out, err = _run(capsys, assembly_dir(), "--no-hsm-capacity", "us-east-1a")
    assert code == 2 and err.count("\n") == 1 and "not an availability zone of eu-west-1" in err
    with pytest.raises(SystemExit) as usage:
        main(["--scenario", "redeploy", "--slow-hsm"])
    assert usage.value.code == 2
