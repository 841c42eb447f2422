"""Named scenarios: what real deployments of this app go through, each run end to end on a fresh
offline account and checked (`python -m rehearsal --scenario NAME`, `--scenario all`,
`--list-scenarios`).

A scenario synthesises the app itself with the settings it needs, as `cdk synth -c key=value`
would, so it needs nothing but a checkout; it fails at the first expectation that does not hold,
with one line saying which. Each scenario is a function registered with `@scenario`; its docstring
is what `--list-scenarios` prints.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cmk_validate.model import Assembly, load
from rehearsal import host, inventory
from rehearsal.cloudformation.engine import Cloud, DeployFailed
from rehearsal.faults import FAULTS
from rehearsal.services.cloudhsm import LEDGER
from rehearsal.session import Outcome, account_and_region, deploy_phase, destroy_in_rounds, offline_account
from rehearsal.timeline import Timeline, billed_hours, hsm_bill
from stacks.config import ConfigError


class ScenarioFailed(Exception):
    """An expectation of the scenario did not hold; the message says which, in one line."""


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[["Stage"], None]
    own_accounts: bool = False   # the scenario opens a fresh account per attempt itself

    @property
    def summary(self) -> str:
        return " ".join((self.run.__doc__ or "").split())


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, own_accounts: bool = False) -> Callable[[Callable[["Stage"], None]], Callable[["Stage"], None]]:
    def register(run: Callable[["Stage"], None]) -> Callable[["Stage"], None]:
        SCENARIOS[name] = Scenario(name, run, own_accounts)
        return run
    return register


class Syntheses:
    """The app synthesised per configuration into one work directory, once per configuration."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._paths: dict[str, Path] = {}
        self._loaded: dict[Path, Assembly] = {}

    def path(self, environment: str = "reference", **settings: Any) -> Path:
        """The cloud assembly directory of `cdk synth -c environment=ENVIRONMENT -c key=value ...`."""
        key = json.dumps([environment, settings], sort_keys=True)
        if key not in self._paths:
            from app import build_app

            outdir = self.directory / f"{environment}-{len(self._paths)}"
            # The architecture plugin's one line goes to stderr; a scenario reports its own outcome.
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                build_app({"environment": environment, **settings}, outdir=str(outdir), nag=False).synth()
            self._paths[key] = outdir
        return self._paths[key]

    def __call__(self, environment: str = "reference", **settings: Any) -> Assembly:
        path = self.path(environment, **settings)
        if path not in self._loaded:
            self._loaded[path] = load(str(path))
        return self._loaded[path]


@dataclass
class Stage:
    """What a scenario acts on: the app's syntheses, one offline account (none for a scenario that opens
    its own), and what it observed."""
    synthesise: Syntheses
    cloud: Cloud | None
    outcome: Outcome
    observations: list[str] = field(default_factory=list)

    def deploy(self, title: str, assembly: Assembly) -> None:
        """Deploy (or update to) `assembly` and probe the data path; any failure fails the scenario."""
        deploy_phase(self.cloud, title, assembly, self.outcome)
        if self.outcome.failure is not None:
            raise ScenarioFailed(f"{title}: {self.outcome.failure}")
        if self.outcome.data_path_failure is not None:
            raise ScenarioFailed(f"{title}: data path: {self.outcome.data_path_failure}")

    def destroy(self, assembly: Assembly, label: str = "") -> None:
        """`cdk destroy --all` in the README's rounds; a destroy that does not finish fails the scenario."""
        destroy_in_rounds(self.cloud, assembly, self.outcome, label)
        if self.outcome.failure is not None:
            raise ScenarioFailed(f"destroy: {self.outcome.failure}")

    def expect(self, holds: bool, failure: str) -> None:
        if not holds:
            raise ScenarioFailed(failure)

    def observe(self, line: str) -> None:
        self.observations.append(line)
        self.outcome.timeline.note(line)


@dataclass
class ScenarioResult:
    name: str
    failure: str | None
    timeline: Timeline
    observations: list[str]
    hsm_hours: int


def run(name: str, work: Path | None = None, synthesise: Syntheses | None = None) -> ScenarioResult:
    """Run one scenario in a fresh offline account (its syntheses in `work`, or a temporary directory)."""
    if work is None and synthesise is None:
        with tempfile.TemporaryDirectory(prefix="rehearsal-scenario-") as directory:
            return run(name, Path(directory))
    synthesise = synthesise or Syntheses(work)
    chosen = SCENARIOS[name]
    account, region = account_and_region([synthesise()])
    with contextlib.ExitStack() as scope:
        scope.enter_context(contextlib.redirect_stdout(io.StringIO()))
        cloud = None if chosen.own_accounts else scope.enter_context(offline_account(account, region))
        stage = Stage(synthesise, cloud, Outcome(cloud.timeline if cloud else Timeline()))
        try:
            chosen.run(stage)
            failure = None
        except ScenarioFailed as failed:
            failure = str(failed)
        hours = hsm_bill(region).hours if cloud else 0
        return ScenarioResult(name, failure, stage.outcome.timeline, stage.observations, hours)


# --- what the scenarios look at ------------------------------------------------------------------

def _hsm_states(cloud: Cloud) -> dict[str, list[str]]:
    """Cluster id -> the states of its HSMs."""
    clusters = cloud.client("cloudhsmv2").describe_clusters()["Clusters"]
    return {cluster["ClusterId"]: [hsm["State"] for hsm in cluster.get("Hsms", [])] for cluster in clusters}


def _key_stores(cloud: Cloud) -> list[dict]:
    return cloud.client("kms").describe_custom_key_stores()["CustomKeyStores"]


def _expect_deployed_as_synthesised(stage: Stage, assemblies: dict[str, Assembly]) -> None:
    """Each environment's stacks are deployed and hold that environment's templates."""
    for environment, assembly in assemblies.items():
        for stack in assembly.stacks:
            state = stage.cloud.stacks.get(stack.name)
            stage.expect(state is not None and state.template == stack.template,
                         f"{environment}: stack {stack.name} is not deployed with {environment}'s template")


# --- the scenarios -------------------------------------------------------------------------------

@scenario("side-by-side")
def side_by_side(stage: Stage) -> None:
    """First deploy of reference, then dev-kms and sse-c in the same account and region: each
    environment keeps its own stacks, buckets and keys, each data path works, the HSMs of both
    CloudHSM environments fit the region's default quota, and each destroys."""
    assemblies = {environment: stage.synthesise(environment) for environment in ("reference", "dev-kms", "sse-c")}
    deployed_by: dict[str, str] = {}
    for environment, assembly in assemblies.items():
        for stack in assembly.stacks:
            stage.expect(stack.name not in deployed_by,
                         f"{environment}'s stack {stack.name} is {deployed_by.get(stack.name)}'s: deploying "
                         f"{environment} would update {deployed_by.get(stack.name)} (the environments share 'name')")
            deployed_by[stack.name] = environment
        stage.deploy(f"Deploy {environment}", assembly)
    _expect_deployed_as_synthesised(stage, assemblies)
    stores = _key_stores(stage.cloud)
    stage.expect(len(stores) == 2 and all(store["ConnectionState"] == "CONNECTED" for store in stores),
                 f"expected two CONNECTED key stores (reference, sse-c), found {[s['ConnectionState'] for s in stores]}")
    active = sum(states.count("ACTIVE") for states in _hsm_states(stage.cloud).values())
    stage.observe(f"side by side: 3 environments, {len(stage.cloud.stacks)} stacks, {len(stores)} key stores, "
                  f"{active} ACTIVE HSMs")
    for environment in reversed(list(assemblies)):
        stage.destroy(assemblies[environment], environment)


@scenario("redeploy")
def redeploy(stage: Stage) -> None:
    """Deploying the same assembly again changes nothing: every stack NO_CHANGES, no resource touched."""
    reference = stage.synthesise()
    stage.deploy("Deploy reference", reference)
    stage.deploy("Deploy reference again", reference)
    events = stage.cloud.timeline.phases[-1].events
    touched = [f"{event.logical_id} {event.status}" for event in events
               if event.resource_type not in ("AWS::CloudFormation::Stack", "note")]
    stage.expect(not touched, f"the second deploy touched {', '.join(touched[:5])}")
    statuses = {event.status for event in events if event.resource_type == "AWS::CloudFormation::Stack"}
    stage.expect(statuses == {"NO_CHANGES"}, f"the second deploy's stack events were {sorted(statuses)}")
    stage.observe(f"redeploy: {len(reference.stacks)} stacks, NO_CHANGES")


@scenario("scale")
def scale(stage: Stage) -> None:
    """hsmCount 3 -> 4 -> 2 as updates: after each, exactly that many ACTIVE HSMs, the key store stays
    CONNECTED and the data path works."""
    for count in (3, 4, 2):
        stage.deploy(f"Deploy hsmCount={count}", stage.synthesise(hsmCount=count))
        (states,) = _hsm_states(stage.cloud).values()
        stage.expect(states.count("ACTIVE") == count and len(states) == count,
                     f"hsmCount={count}: the cluster has HSMs {states}")
        (store,) = _key_stores(stage.cloud)
        stage.expect(store["ConnectionState"] == "CONNECTED",
                     f"hsmCount={count}: the key store is {store['ConnectionState']}")
        stage.observe(f"scale: hsmCount={count}: {count} ACTIVE HSMs, key store CONNECTED")


@scenario("rename-key-store")
def rename_key_store(stage: Stage) -> None:
    """Changing keyStoreName renames the custom key store in place: the same store, CONNECTED again,
    holding the same data key, and the data path works."""
    stage.deploy("Deploy reference", stage.synthesise())
    (before,) = _key_stores(stage.cloud)
    renamed = "customer-keys-renamed"
    stage.deploy(f"Deploy keyStoreName={renamed}", stage.synthesise(keyStoreName=renamed))
    (after,) = _key_stores(stage.cloud)
    stage.expect(after["CustomKeyStoreId"] == before["CustomKeyStoreId"],
                 f"the store was replaced ({before['CustomKeyStoreId']} -> {after['CustomKeyStoreId']}), not renamed")
    stage.expect(after["CustomKeyStoreName"] == renamed and after["ConnectionState"] == "CONNECTED",
                 f"the store is {after['CustomKeyStoreName']!r}, {after['ConnectionState']}")
    stage.observe(f"rename-key-store: {before['CustomKeyStoreName']} -> {renamed}, same store "
                  f"{after['CustomKeyStoreId']}, CONNECTED")


# Settings that decide where the cluster lives (AWS::CloudHSM::Cluster SubnetIds and HsmType are
# create-only), each with a changed value a platform team might try on a deployed reference.
PLACEMENT_CHANGES = {
    "availabilityZones": ["eu-west-1a", "eu-west-1b"],   # drop an AZ to save an HSM
    "vpcCidr": "10.41.0.0/16",
}


@scenario("move-cluster")
def move_cluster(stage: Stage) -> None:
    """Changing availabilityZones or vpcCidr on a deployed app (a new cluster, without the keys) is refused
    as the update's first step, with one line, and nothing else changes: same HSMs, same store, same
    resources, the data path still works; a hsmType CloudHSM no longer sells is refused at synth."""
    reference = stage.synthesise()
    stage.deploy("Deploy reference", reference)
    before = (inventory.take(stage.cloud), _hsm_states(stage.cloud), _key_stores(stage.cloud))
    for setting, value in PLACEMENT_CHANGES.items():
        changed = stage.synthesise(**{setting: value})
        deploy_phase(stage.cloud, f"Deploy {setting}={json.dumps(value)}", changed, stage.outcome)
        failure, stage.outcome.failure = stage.outcome.failure, None
        stage.expect(failure is not None, f"{setting}: the update that replaces the cluster was not refused")
        stage.expect(failure.resource_type == "Custom::ClusterPlacementGuard" and setting in failure.reason
                     and "\n" not in failure.reason,
                     f"{setting}: refused by {failure.stack}/{failure.logical_id} ({failure.resource_type}), "
                     f"not by the placement check with one line naming the setting: {failure.reason}")
        events = stage.cloud.timeline.phases[-1].events
        touched = sorted({event.logical_id for event in events
                          if event.resource_type not in ("AWS::CloudFormation::Stack", "note")} - {failure.logical_id})
        stage.expect(not touched, f"{setting}: the refused update touched {', '.join(touched[:5])}")
        stage.expect(any(event.logical_id == failure.logical_id and event.action == "Rollback"
                         and event.status == "UPDATE_COMPLETE" for event in events),
                     f"{setting}: the placement check did not accept its own rollback")
        after = (inventory.take(stage.cloud), _hsm_states(stage.cloud), _key_stores(stage.cloud))
        stage.expect(after == before, f"{setting}: the account changed although the update was refused")
        stage.observe(f"move-cluster: {setting} refused first: {failure.reason.split(': ', 1)[-1][:120]}")
    try:
        stage.synthesise(hsmType="hsm1.medium")
        stage.expect(False, "hsmType=hsm1.medium synthesised")
    except ConfigError as refused:
        stage.expect("\n" not in str(refused), f"hsmType=hsm1.medium: a refusal of several lines: {refused}")
        stage.observe(f"move-cluster: hsmType=hsm1.medium refused at synth: {refused}")
    stage.deploy("Deploy reference again", reference)


@scenario("analytics")
def analytics(stage: Stage) -> None:
    """The analytics environment: the Redshift warehouse is created encrypted with the HSM-backed key,
    private, with enhanced VPC routing, TLS required, its audit logs on and its admin secret kept by
    Redshift; a file of the data bucket is loaded (COPY) and a result unloaded through the gateway
    endpoint; destroying leaves a final snapshot and removes the admin secret."""
    assembly = stage.synthesise("analytics")
    stage.deploy("Deploy analytics", assembly)
    redshift, kms = stage.cloud.client("redshift"), stage.cloud.client("kms")
    (cluster,) = redshift.describe_clusters()["Clusters"]
    name = cluster["ClusterIdentifier"]
    data_key = kms.describe_key(KeyId=_data_key_alias(assembly))["KeyMetadata"]
    stage.expect(cluster["ClusterStatus"] == "available", f"{name} is {cluster['ClusterStatus']}, not available")
    stage.expect(cluster["Encrypted"] and cluster.get("KmsKeyId") == data_key["Arn"] and data_key.get("CustomKeyStoreId"),
                 f"{name} is encrypted with {cluster.get('KmsKeyId')}, not the HSM-backed data key {data_key['Arn']}")
    stage.expect(not cluster["PubliclyAccessible"] and cluster["EnhancedVpcRouting"],
                 f"{name}: publicly accessible {cluster['PubliclyAccessible']}, enhanced VPC routing "
                 f"{cluster['EnhancedVpcRouting']}")
    (group,) = cluster["ClusterParameterGroups"]
    values = {p["ParameterName"]: p["ParameterValue"] for p in redshift.describe_cluster_parameters(
        ParameterGroupName=group["ParameterGroupName"])["Parameters"]}
    stage.expect(values.get("require_ssl") == "true" and values.get("enable_user_activity_logging") == "true",
                 f"{name}: parameter group {group['ParameterGroupName']} has {values}")
    logging = redshift.describe_logging_status(ClusterIdentifier=name)
    stage.expect(logging["LoggingEnabled"] and logging.get("LogDestinationType") == "cloudwatch"
                 and sorted(logging.get("LogExports") or []) == ["connectionlog", "useractivitylog", "userlog"],
                 f"{name}: audit logging is {logging}")
    secret_arn = cluster.get("MasterPasswordSecretArn")
    stage.expect(bool(secret_arn), f"{name} has no admin secret managed by Redshift")
    secret = stage.cloud.client("secretsmanager").describe_secret(SecretId=secret_arn)
    stage.expect(secret.get("KmsKeyId") == cluster.get("MasterPasswordSecretKmsKeyId") and secret.get("KmsKeyId"),
                 f"{name}: the admin secret is encrypted with {secret.get('KmsKeyId')}")
    loaded = [event.reason for event in stage.cloud.timeline.phases[-1].events
              if event.resource_type == "note" and event.reason.startswith("warehouse: ")]
    stage.expect(len(loaded) == 1 and " through vpce-" in loaded[0], f"no COPY through the gateway endpoint: {loaded}")
    stage.observe(f"analytics: {name} available, encrypted with the HSM-backed key, private, enhanced VPC routing, "
                  "TLS required, audit logs on, admin secret managed by Redshift; " + loaded[0].split(": ", 1)[1])
    stage.destroy(assembly)
    snapshots = [s["SnapshotIdentifier"] for s in redshift.describe_cluster_snapshots(SnapshotType="manual")["Snapshots"]
                 if s["ClusterIdentifier"] == name]
    stage.expect(len(snapshots) == 1, f"{name}: final snapshots after destroy: {snapshots}")
    try:
        stage.cloud.client("secretsmanager").describe_secret(SecretId=secret_arn)
        stage.expect(False, f"{name}: the admin secret outlived the cluster")
    except stage.cloud.client("secretsmanager").exceptions.ResourceNotFoundException:
        pass
    stage.observe(f"analytics: destroyed; final snapshot {snapshots[0]} kept, admin secret removed")


README = Path(__file__).resolve().parents[1] / "README.md"
REMAINS_MARKER = "<!-- remains after destroy -->"


def documented_remains(readme: Path = README) -> Counter:
    """Kind -> count, from the README's table of what `cdk destroy` leaves (the reference environment)."""
    text = readme.read_text()
    if REMAINS_MARKER not in text:
        raise ScenarioFailed(f"{readme.name} has no table of what remains after destroy ({REMAINS_MARKER})")
    remains: Counter = Counter()
    for line in text.split(REMAINS_MARKER, 1)[1].lstrip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3:
            break
        remains[cells[1].strip("`")] += int(cells[2])
    return remains


@scenario("destroy")
def destroy(stage: Stage) -> None:
    """Deploy reference, then `cdk destroy --all` in the README's two rounds: what remains in the account is
    exactly the README's table (kept buckets with their policies, no HSM, no key store), and the data
    key is gone once its pending window ends."""
    reference = stage.synthesise()
    host.stage_prerequisites(stage.cloud, reference)
    baseline = inventory.take(stage.cloud)
    stage.deploy("Deploy reference", reference)
    kms = stage.cloud.client("kms")
    data_key = kms.describe_key(KeyId=_data_key_alias(reference))["KeyMetadata"]["KeyId"]
    stage.destroy(reference)
    left = inventory.since(stage.cloud, baseline)
    found = Counter(leftover.kind for leftover in left)
    documented = documented_remains()
    if found != documented:
        differences = [f"{kind}: {found[kind]} left, README says {documented[kind]}"
                       + "".join(f" ({leftover.identifier} {leftover.detail})".replace(" )", ")") for leftover in
                                 [item for item in left if item.kind == kind][:3] if found[kind] > documented[kind])
                       for kind in sorted(set(found) | set(documented)) if found[kind] != documented[kind]]
        raise ScenarioFailed("what remains after destroy differs from the README's table: " + "; ".join(differences))
    s3 = stage.cloud.client("s3")
    for leftover in left:
        if leftover.kind == "S3 bucket":
            try:
                s3.get_bucket_policy(Bucket=leftover.identifier)
            except s3.exceptions.ClientError:
                raise ScenarioFailed(f"the kept bucket {leftover.identifier} lost its bucket policy (its TLS rule "
                                     "and endpoint lock) when its stack was deleted") from None
        if leftover.kind == "CloudHSM cluster":
            stage.expect(leftover.detail.endswith(" 0 HSM(s)"), f"the kept cluster still has HSMs: {leftover.detail}")
    stage.expect(data_key not in {leftover.identifier for leftover in left},
                 f"the data key {data_key} outlived its pending window")
    stage.observe("destroy: left " + ", ".join(f"{count} {kind}" for kind, count in sorted(found.items()))
                  + "; the data key is deleted")


def _data_key_alias(assembly: Assembly) -> str:
    """The alias of the HSM-backed data key, as the template names it."""
    for _, _, resource in assembly.iter_resources("Custom::HsmBackedKmsKey"):
        return str(resource["Properties"]["AliasName"])
    raise ScenarioFailed("the assembly has no HSM-backed key")


# What a resource left behind costs, or counts against a quota (4 clusters per Region), when no stack owns it.
BILLING_KINDS = ("CloudHSM cluster", "KMS custom key store", "KMS key", "EC2 instance", "VPC endpoint",
                 "Secrets Manager secret")
INJECTED = "InjectedFailure"


@dataclass(frozen=True)
class Step:
    """One kind of AWS call one custom resource's handler makes: the first such call is made to fail."""
    function: str
    service: str
    action: str
    earlier_calls: int   # calls of this service and action before it, in a clean deploy (any caller)


def steps_of_a_clean_deploy(assembly: Assembly) -> list[Step]:
    """Every (handler, service, action) a clean first deploy makes, in the order they first happen.
    The deploy is deterministic (simulated clock, seeded identifiers), so the n-th call of an action
    in a replay is the same call."""
    account, region = account_and_region([assembly])
    with offline_account(account, region) as cloud, contextlib.redirect_stdout(io.StringIO()):
        cloud.deploy(assembly)
        calls = list(FAULTS.calls)
    steps: dict[tuple[str, str, str], Step] = {}
    seen: Counter = Counter()
    for function, service, action in calls:
        if function and function.startswith(tuple(stack.name + "-" for stack in assembly.stacks)) \
                and (function, service, action) not in steps:
            steps[(function, service, action)] = Step(function, service, action, seen[(service, action)])
        seen[(service, action)] += 1
    return list(steps.values())


def _unowned(cloud: Cloud, left: list[inventory.Leftover]) -> list[inventory.Leftover]:
    """What bills or counts against a quota that no resource of a deployed stack names."""
    owned = {str(value) for state in cloud.stacks.values() for resource in state.resources.values()
             for value in (resource.physical_id, *resource.attributes.values()) if value}
    return [leftover for leftover in left if leftover.kind in BILLING_KINDS
            and not leftover.detail.startswith("PendingDeletion")
            and not any(leftover.identifier in value for value in owned)]


def fail_each_step(stage: Stage, only: str | None = None, clean_steps: list[Step] | None = None) -> None:
    """Each step (`only`: the steps of functions whose name contains it) in its own fresh account.
    `clean_steps`: `steps_of_a_clean_deploy` of the stage's synthesis, when the caller has it already."""
    reference = stage.synthesise()
    clean_steps = steps_of_a_clean_deploy(reference) if clean_steps is None else clean_steps
    steps = [step for step in clean_steps if only is None or only in step.function]
    stage.expect(bool(steps), f"no custom resource step{' of ' + only if only else ''} in a clean deploy")
    failed, absorbed, waste, defects = 0, 0, [], []
    account, region = account_and_region([reference])
    for step in steps:
        label = f"{_short(step.function)}: {step.action}"
        with offline_account(account, region) as cloud:
            host.stage_prerequisites(cloud, reference)
            baseline = inventory.take(cloud)
            FAULTS.fail(step.service, step.action, INJECTED, f"injected failure of {step.action}", after=step.earlier_calls)
            try:
                cloud.deploy(reference)
            except DeployFailed as failure:
                if INJECTED not in failure.reason:
                    defects.append(f"{label}: the deploy failed for another reason: {failure}")
                    continue
                failed += 1
            else:
                absorbed += 1
            waste.append((sum(billed_hours(hsm) for hsm in LEDGER if hsm.deleted_at is not None), label,
                          _handler(step.function)))
            leaked = _unowned(cloud, inventory.since(cloud, baseline))
            if leaked:
                defects.append(f"{label}: after the rollback no stack owns "
                               + ", ".join(f"{item.kind} {item.identifier} ({item.detail})" for item in leaked[:3]))
            try:
                cloud.deploy(reference)
            except DeployFailed as failure:
                defects.append(f"{label}: the next deploy failed: {failure}")
    stage.expect(not defects, f"{len(defects)} of {len(steps)} steps: " + " | ".join(defects))
    worst = max(waste)
    per_handler: dict[str, int] = {}
    for hours, _, handler in waste:
        per_handler[handler] = max(hours, per_handler.get(handler, 0))
    stage.observe(f"fail-each-step: {len(steps)} steps; {failed} failed the deploy and rolled back, {absorbed} were "
                  f"absorbed; nothing billing was left unowned; every next deploy succeeded; most HSM-hours wasted: "
                  f"{worst[0]} ({worst[1]}); worst per handler: "
                  + ", ".join(f"{handler} {hours}" for handler, hours in per_handler.items()))


def _short(function: str) -> str:
    """`CustomerKeys-Keys-DataKeyLifecycleOnEvent00FE501A-5B777C4A3332` -> `DataKeyLifecycleOnEvent`."""
    parts = function.split("-")
    return re.sub(r"[0-9A-F]{6,8}$", "", parts[-2]) if len(parts) > 2 else function


def _handler(function: str) -> str:
    """`...-DataKeyLifecycleOnEvent...` and `...-DataKeyLifecycleIsComplete...` -> `DataKeyLifecycle`."""
    return re.sub(r"(OnEvent|IsComplete)$", "", _short(function))


@scenario("fail-each-step", own_accounts=True)
def fail_each_step_scenario(stage: Stage) -> None:
    """Every AWS call kind each custom resource's handler makes in a first deploy of reference fails
    once (a non-retryable error), each in a fresh account: the deploy fails and rolls back (or the
    handler absorbs it), nothing that bills or counts against a quota is left that no stack owns, the
    HSM-hours the failed attempt wasted are reported, and the next deploy succeeds."""
    fail_each_step(stage)

