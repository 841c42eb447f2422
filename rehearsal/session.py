"""One rehearsal: an offline account (moto + the project's model, fake credentials, a bootstrapped
CDK environment) and the scenario run in it: deploy, each update, destroy in rounds."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator
from unittest import mock

from cmk_validate.findings import InputError
from cmk_validate.model import Assembly
from cmk_validate.progress import steps
from rehearsal import data_path, hsm_access, warehouse_load
from rehearsal.clock import CLOCK
from rehearsal.cloudformation.engine import Cloud, DeployFailed
from rehearsal.faults import FAULTS
from rehearsal.timeline import Timeline

if TYPE_CHECKING:
    from rehearsal.services.cloudhsm.models import Quotas

# A key pending deletion blocks its custom key store's deletion until KMS deletes it; the second
# destroy round runs after the longest such window (plus a minute), as the README tells operators.
MAX_DESTROY_ROUNDS = 2


def account_and_region(assemblies: list[Assembly]) -> tuple[str, str]:
    """The one environment every stack is pinned to (the rehearsal is one account and region)."""
    environments = {(stack.account, stack.region) for assembly in assemblies for stack in assembly.stacks}
    if len(environments) != 1:
        raise InputError(f"the stacks target {len(environments)} environments; the rehearsal needs one account "
                         "and region (pin env= on every stack)")
    account, region = environments.pop()
    if not account or not region:
        raise InputError("the stacks are environment-agnostic; the rehearsal needs a pinned account and region")
    return account, region


@contextmanager
def offline_account(account: str, region: str, timeline: Timeline | None = None,
                    quotas: "Quotas | None" = None) -> Iterator[Cloud]:
    """A fresh offline AWS account, bootstrapped for CDK, on a reset simulated clock, with CloudHSM's
    default quotas unless `quotas` says the account's are raised."""
    from moto import mock_aws

    from rehearsal.services import install
    from rehearsal.services.cloudhsm import reset_ledger
    from rehearsal.services.cloudhsm.models import QUOTAS, Quotas

    QUOTAS.__dict__.update((quotas or Quotas()).__dict__)

    environment = {**_FAKE_ENVIRONMENT, "MOTO_ACCOUNT_ID": account, "AWS_DEFAULT_REGION": region, "AWS_REGION": region}
    with mock.patch.dict(os.environ, environment):
        install()
        CLOCK.reset()
        FAULTS.reset()
        reset_ledger()
        with mock_aws():
            cloud = Cloud(account, region, timeline)
            cloud.bootstrap()
            yield cloud


# Offline only: moto accepts anything, and nothing may reach real AWS.
_FAKE_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
                     "MOTO_EC2_LOAD_DEFAULT_AMIS": "false", "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


@dataclass
class Outcome:
    timeline: Timeline
    failure: DeployFailed | None = None
    data_path_failure: str | None = None
    destroy_failures: list[DeployFailed] = field(default_factory=list)
    first_deploy_seconds: float | None = None


def rehearse(deploy: Assembly, updates: list[tuple[str, Assembly]], destroy: bool,
             cloud: Cloud) -> Outcome:
    """Deploy `deploy`, then each update in order, probing the data path after each, then (if asked)
    destroy; stop at the first failure."""
    outcome = Outcome(cloud.timeline)
    phases = [("Deploy " + deploy.root, deploy)] + [(f"Update to {label}", assembly) for label, assembly in updates]
    for title, assembly in steps(phases, "rehearsal phases", unit="phase"):
        deploy_phase(cloud, title, assembly, outcome)
        if outcome.failure is not None or outcome.data_path_failure is not None:
            return outcome
    if destroy:
        destroy_in_rounds(cloud, phases[-1][1], outcome)
    return outcome


def deploy_phase(cloud: Cloud, title: str, assembly: Assembly, outcome: Outcome) -> None:
    """One deploy or update of `assembly` as a phase of the timeline, then the data path probe; a
    failure is recorded in `outcome` (the first deploy's duration too)."""
    timeline = cloud.timeline
    timeline.begin(title)
    try:
        cloud.deploy(assembly)
    except DeployFailed as failure:
        timeline.end("FAILED")
        outcome.failure = failure
        return
    try:
        for line in [*data_path.probe(cloud), *hsm_access.probe(cloud), *warehouse_load.probe(cloud)]:
            timeline.note(line)
    except data_path.DataPathFailed as failure:
        timeline.note(f"data path FAILED: {failure}")
        timeline.end("FAILED (data path)")
        outcome.data_path_failure = str(failure)
        return
    timeline.end("succeeded")
    if outcome.first_deploy_seconds is None:
        outcome.first_deploy_seconds = timeline.phases[-1].finished - timeline.phases[-1].started


def destroy_in_rounds(cloud: Cloud, assembly: Assembly, outcome: Outcome, label: str = "") -> None:
    """`cdk destroy --all` in the rounds the README documents: a round that stops is retried once
    every key pending deletion is gone; a second stop is the outcome's failure."""
    timeline = cloud.timeline
    for round_number in range(1, MAX_DESTROY_ROUNDS + 1):
        timeline.begin(f"Destroy{' ' + label if label else ''}, round {round_number}")
        try:
            cloud.destroy(assembly)
        except DeployFailed as failure:
            timeline.end("stopped")
            outcome.destroy_failures.append(failure)
            if round_number == MAX_DESTROY_ROUNDS:
                outcome.failure = failure
                return
            _wait_for_pending_key_deletions(cloud)
            continue
        timeline.end("succeeded")
        return


def _wait_for_pending_key_deletions(cloud: Cloud) -> None:
    """Let the clock run until every key pending deletion is gone (KMS deletes it at its DeletionDate)."""
    kms = cloud.client("kms")
    latest = CLOCK.now()
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if metadata["KeyState"] == "PendingDeletion" and metadata.get("DeletionDate"):
                latest = max(latest, metadata["DeletionDate"].timestamp())
    CLOCK.advance_to(latest + 60)
