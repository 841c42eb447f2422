"""CloudFormation, as far as a deployment of this app depends on it.

`Cloud` is one AWS account and region: moto with the project's service model, the CDK bootstrap
(asset bucket, version parameter, roles), and the stacks deployed so far. `deploy(assembly)`
deploys each stack of a cloud assembly after the stacks it depends on, as `cdk deploy --all`
does: a new stack is created, an existing one updated. In a stack, a resource starts as soon as
every resource it references (Ref, Fn::GetAtt, Fn::Sub, DependsOn, from cfn-lint's template
graph) is complete, so independent resources run at once on the simulated clock. Properties are
resolved with the validator's resolver against deploy-time values. An update diffs the resolved
properties: no change, an in-place update, or a replacement where a changed property is
create-only in the resource schema that cfn-lint ships; new resources are created first, and
replaced and removed ones deleted in the clean-up phase, honouring UpdateReplacePolicy and
DeletionPolicy. A failure cancels the resources in flight and rolls the stack back (a new stack:
everything it created is deleted, `RetainExceptOnCreate` included, `Retain` kept; an update: new
resources deleted, updated ones put back). Deleting a stack deletes its resources in reverse
dependency order.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Generator

import boto3

from cmk_validate.model import Assembly, Stack
from cmk_validate.model.resolver import Resolver, find_unresolved
from rehearsal import host
from rehearsal.clock import CLOCK
from rehearsal.cloudformation import custom, scheduler
from rehearsal.cloudformation.stacks import RETAIN_POLICIES, DeployedValues, ResourceState, StackState
from rehearsal.cloudformation.types import REGISTRY
from rehearsal.cloudformation.types.base import Created, NeedsReplacement, NotModelled, ResourceContext, ResourceFailed
from rehearsal.lambda_runtime import FunctionError, LambdaFunction
from rehearsal.timeline import Timeline

BOOTSTRAP_QUALIFIER = "hnb659fds"
PAUSED = "CREATE_IN_PROGRESS"   # a create paused by deploy(until=...), which the next deploy goes on with
BOOTSTRAP_VERSION = "30"
STACK_CREATE_SECONDS = 5.0


class DeployFailed(Exception):
    """A stack operation failed; the message is what CloudFormation shows for the first failure."""

    def __init__(self, stack: str, logical_id: str, resource_type: str, reason: str, status: str) -> None:
        super().__init__(f"{stack}: {logical_id} ({resource_type}) {status}: {reason}")
        self.stack, self.logical_id, self.resource_type = stack, logical_id, resource_type
        self.reason, self.status = reason, status


@dataclass
class _Change:
    logical_id: str
    action: str          # Create | Update (in place, or a replacement once resolved) | Replace
    old: ResourceState | None = None


@lru_cache(maxsize=1)
def _offline_session() -> boto3.session.Session:
    """One session for every offline account of the process, as the handlers share boto3's default one:
    botocore reads each service's model (megabytes of JSON for EC2) once per session, about a second per
    account otherwise. The account is moto's (MOTO_ACCOUNT_ID), not the session's, and the session is made
    inside the first offline account, so the only keys it ever holds are that account's fake ones."""
    return boto3.session.Session()


class Cloud:
    def __init__(self, account: str, region: str, timeline: Timeline | None = None) -> None:
        self.account, self.region = account, region
        self.timeline = timeline or Timeline()
        self.stacks: dict[str, StackState] = {}
        self.exports: dict[str, tuple[str, Any]] = {}
        self._functions: dict[str, LambdaFunction] = {}
        self._layers: dict[str, Path] = {}
        self._session = _offline_session()
        self._clients: dict[str, Any] = {}
        self._published: dict[tuple[str, str], Path] = {}  # (bucket, key) -> the asset's source in the assembly
        self._replaced: dict[str, list[ResourceState]] = {}  # stack -> old resources to delete in clean-up

    # --- the account -------------------------------------------------------------------------------

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self._session.client(service, region_name=self.region)
        return self._clients[service]

    def bootstrap(self) -> None:
        """What `cdk bootstrap` leaves in the account: the asset bucket, the version parameter, the roles."""
        s3, iam = self.client("s3"), self.client("iam")
        s3.create_bucket(Bucket=self.asset_bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
        self.client("ssm").put_parameter(Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version", Type="String",
                                         Value=BOOTSTRAP_VERSION)
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                            "Principal": {"Service": "cloudformation.amazonaws.com"}}]})
        for role in ("cfn-exec", "deploy", "file-publishing", "image-publishing", "lookup"):
            iam.create_role(RoleName=f"cdk-{BOOTSTRAP_QUALIFIER}-{role}-role-{self.account}-{self.region}",
                            AssumeRolePolicyDocument=trust)
        iam.attach_role_policy(RoleName=f"cdk-{BOOTSTRAP_QUALIFIER}-cfn-exec-role-{self.account}-{self.region}",
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

    @property
    def deploying_role_arn(self) -> str:
        """The CDK bootstrap's CloudFormation execution role, whose credentials CloudFormation deploys with."""
        return f"arn:aws:iam::{self.account}:role/cdk-{BOOTSTRAP_QUALIFIER}-cfn-exec-role-{self.account}-{self.region}"

    @property
    def asset_bucket(self) -> str:
        return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{self.account}-{self.region}"

    def availability_zones(self) -> list[str]:
        return [zone["ZoneName"] for zone in self.client("ec2").describe_availability_zones()["AvailabilityZones"]]

    def wait(self, seconds: float) -> Generator[float, None, None]:
        yield CLOCK.now() + seconds

    # --- Lambda ------------------------------------------------------------------------------------

    def function(self, arn_or_name: str) -> LambdaFunction | None:
        return self._functions.get(arn_or_name) or next(
            (function for function in self._functions.values() if function.name == arn_or_name), None)

    def functions(self) -> list[LambdaFunction]:
        return list(self._functions.values())

    def register_function(self, arn: str, name: str, ctx: ResourceContext) -> None:
        props = ctx.properties
        layers = [self._layers[arn_] for arn_ in props.get("Layers") or [] if arn_ in self._layers]
        self._functions[arn] = LambdaFunction(
            name=name, arn=arn, handler=props.get("Handler", ""), runtime=props.get("Runtime", ""),
            code_dir=self._asset_dir(ctx), layer_dirs=layers,
            environment={key: str(value) for key, value in ((props.get("Environment") or {}).get("Variables") or {}).items()},
            timeout_seconds=int(props.get("Timeout", 3)), memory_mb=int(props.get("MemorySize", 128)),
            role_arn=props["Role"], region=self.region,
            subnet_id=next(iter((props.get("VpcConfig") or {}).get("SubnetIds") or []), None))

    def forget_function(self, name: str) -> None:
        for arn, function in list(self._functions.items()):
            if function.name == name:
                del self._functions[arn]

    def register_layer(self, arn: str, ctx: ResourceContext) -> None:
        self._layers[arn] = self._asset_dir(ctx)

    def _asset_dir(self, ctx: ResourceContext) -> Path:
        """The asset directory a function's Code (a layer's Content) was published from."""
        location = ctx.properties.get("Code") or ctx.properties.get("Content") or {}
        source = self._published.get((location.get("S3Bucket"), location.get("S3Key")))
        if source is None:
            raise ResourceFailed(f"{ctx.logical_id}: s3://{location.get('S3Bucket')}/{location.get('S3Key')} is not an "
                                 "asset of this cloud assembly; the rehearsal runs code from assets only")
        if not source.is_dir():
            raise ResourceFailed(f"{ctx.logical_id}: asset {source} is not a directory of code")
        return source

    def inline_zip(self, source: str, runtime: str) -> bytes:
        name = "index.py" if runtime.startswith("python") else "index.js"
        return _zip_members([(name, source.encode())])

    def publish_assets(self, stack: Stack) -> None:
        """What `cdk deploy` does before it deploys a stack: upload its file assets to the asset bucket."""
        for manifest_file in stack.asset_manifests:
            manifest = json.loads(Path(manifest_file).read_text())
            base = Path(manifest_file).parent
            for asset in (manifest.get("files") or {}).values():
                source = base / asset["source"]["path"]
                for destination in asset["destinations"].values():
                    key = (destination["bucketName"], destination["objectKey"])
                    if key in self._published:
                        continue
                    body = _zip_directory(str(source)) if source.is_dir() else source.read_bytes()
                    self.client("s3").put_object(Bucket=key[0], Key=key[1], Body=body)
                    self._published[key] = source

    # --- stacks ------------------------------------------------------------------------------------

    def deploy(self, assembly: Assembly, until: str | None = None) -> None:
        """Deploy every stack of `assembly` in dependency order; DeployFailed at the first stack that fails.

        `until` (a logical id) pauses before that resource, for tests that drive one resource at a
        time: what it depends on is deployed; it, what depends on it and the stacks after its stack
        are not, and its stack stays CREATE_IN_PROGRESS until a later deploy goes on."""
        host.stage_prerequisites(self, assembly)
        held: set[str] = set()
        paused_stack = None
        if until is not None:
            paused_stack = next((stack for stack in assembly.stacks if until in stack.resources), None)
            if paused_stack is None:
                raise ValueError(f"no resource {until} in the assembly")
            held = _dependents(paused_stack, until)
        for stack in _in_dependency_order(assembly.stacks):
            self.publish_assets(stack)
            state = self.stacks.get(stack.name)
            if state is not None and state.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
                # The CDK CLI deletes a stack whose creation failed, then creates it (a ROLLBACK_FAILED
                # stack's deletion meets what its rollback could not delete).
                self._delete_stack(stack.name)
                state = None
            if state is not None and state.status == "UPDATE_ROLLBACK_FAILED":
                # UpdateStack refuses such a stack until its rollback is continued (ContinueUpdateRollback).
                raise DeployFailed(stack.name, stack.name, "AWS::CloudFormation::Stack",
                                   f"Stack:{state.stack_id} is in UPDATE_ROLLBACK_FAILED state and can not be updated.",
                                   "UPDATE_ROLLBACK_FAILED")
            if state is None or state.status == PAUSED:
                self._create_stack(assembly, stack, held if stack is paused_stack else set())
            else:
                self._update_stack(assembly, stack, state)
            if stack is paused_stack:
                return

    def run_resource(self, assembly: Assembly, logical_id: str, request_type: str, *,
                     properties: dict | None = None, old_properties: dict | None = None,
                     physical_id: str | None = None, event: dict | None = None) -> Created:
        """Send one custom resource its request outside a stack operation, as a test harness does:
        its properties resolved against what is deployed (or `properties`), or exactly `event` (a
        retried request), the response recorded in its stack's state so that later resources and
        deploys see it."""
        ctx = self.resource_context(assembly, logical_id, properties)
        stack = next(stack for stack in assembly.stacks if logical_id in stack.resources)
        state, definition = self.stacks[stack.name], stack.resources[logical_id]
        current = state.resources.get(logical_id)
        if physical_id is None and request_type != "Create" and current is not None:
            physical_id = current.physical_id
        event = event or custom.request(ctx, request_type, physical_id, old_properties, state.stack_id)
        created = _drain(custom.run(ctx, event))
        if request_type == "Delete":
            state.resources.pop(logical_id, None)
        else:
            state.resources[logical_id] = ResourceState(logical_id, ctx.resource_type, definition, created.physical_id,
                                                        created.attributes, ctx.properties, "CREATE_COMPLETE")
        return created

    def resource_context(self, assembly: Assembly, logical_id: str, properties: dict | None = None) -> ResourceContext:
        """A resource of `assembly` with its properties resolved against what is deployed (or `properties`)."""
        stack = next(stack for stack in assembly.stacks if logical_id in stack.resources)
        definition = stack.resources[logical_id]
        if properties is None:
            properties = self._resolver(assembly, stack, self.stacks[stack.name]).resolve(definition.get("Properties") or {})
            unresolved = find_unresolved(properties)
            if unresolved is not None:
                raise ResourceFailed(unresolved.reason)
        return ResourceContext(stack_name=stack.name, logical_id=logical_id, resource_type=definition.get("Type", ""),
                               properties=properties, metadata=definition.get("Metadata") or {},
                               account=self.account, region=self.region, cloud=self)

    def destroy(self, assembly: Assembly) -> None:
        """`cdk destroy --all`: delete the stacks in reverse dependency order."""
        for stack in reversed(_in_dependency_order(assembly.stacks)):
            if stack.name in self.stacks:
                self._delete_stack(stack.name)

    def _create_stack(self, assembly: Assembly, stack: Stack, held: set[str]) -> None:
        state = self.stacks.get(stack.name)
        if state is None:
            state = StackState(name=stack.name, template=stack.template,
                               stack_id=f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{stack.name}/"
                                        f"{hashlib.sha256(stack.name.encode()).hexdigest()[:8]}-rehearsal")
            self.stacks[stack.name] = state
            self.timeline.stack_event(stack.name, "CREATE_IN_PROGRESS")
        state.template = stack.template
        # Resources a paused create already made are kept (an unchanged one is left alone).
        changes = {logical_id: self._diff(stack, state, logical_id)
                   for logical_id in self._wanted(assembly, stack, state) if logical_id not in held}
        failure = self._apply(assembly, stack, state, changes)
        if failure is None:
            if held:
                state.status = PAUSED
                return
            self._finish(assembly, stack, state, "CREATE_COMPLETE")
            return
        self.timeline.stack_event(stack.name, "ROLLBACK_IN_PROGRESS", failure.reason)
        stuck = self._roll_back_create(stack, state)
        state.status = "ROLLBACK_FAILED" if stuck else "ROLLBACK_COMPLETE"
        self.timeline.stack_event(stack.name, state.status, stuck[0].reason if stuck else "")
        raise failure

    def _update_stack(self, assembly: Assembly, stack: Stack, state: StackState) -> None:
        old_template = state.template
        if stack.template == old_template and state.status.endswith("COMPLETE"):
            self.timeline.stack_event(stack.name, "NO_CHANGES")  # "No updates are to be performed."
            return
        state.template = stack.template
        wanted = self._wanted(assembly, stack, state)
        changes = {logical_id: self._diff(stack, state, logical_id) for logical_id in wanted}
        removed = [logical_id for logical_id in state.resources if logical_id not in wanted]
        self.timeline.stack_event(stack.name, "UPDATE_IN_PROGRESS")
        previous = {logical_id: _copy(resource) for logical_id, resource in state.resources.items()}
        failure = self._apply(assembly, stack, state, changes)
        if failure is not None:
            self.timeline.stack_event(stack.name, "UPDATE_ROLLBACK_IN_PROGRESS", failure.reason)
            stuck = self._roll_back_update(assembly, stack, state, previous, old_template)
            state.status = "UPDATE_ROLLBACK_FAILED" if stuck else "UPDATE_ROLLBACK_COMPLETE"
            self.timeline.stack_event(stack.name, state.status, stuck[0].reason if stuck else "")
            raise failure
        self.timeline.stack_event(stack.name, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        replaced = self._replaced.pop(stack.name, [])
        leftovers = [state.resources[logical_id] for logical_id in removed]
        # As in CloudFormation, a clean-up deletion that fails is reported and left behind; the update stands.
        self._delete_resources(stack.name, leftovers + replaced, removed_template=old_template,
                               replaced={id(old) for old in replaced})
        for logical_id in removed:
            state.resources.pop(logical_id, None)
        self._finish(assembly, stack, state, "UPDATE_COMPLETE")

    def _delete_stack(self, name: str) -> None:
        state = self.stacks[name]
        self.timeline.stack_event(name, "DELETE_IN_PROGRESS")
        failures = self._delete_resources(name, list(state.resources.values()), removed_template=state.template)
        # Deleted and retained resources leave the stack; a later attempt deletes only what is left.
        state.resources = {logical_id: resource for logical_id, resource in state.resources.items()
                           if resource.status not in ("DELETE_COMPLETE", "DELETE_SKIPPED")}
        if failures:
            state.status = "DELETE_FAILED"
            self.timeline.stack_event(name, "DELETE_FAILED", failures[0].reason)
            raise failures[0]
        for export in state.exports:
            self.exports.pop(export, None)
        del self.stacks[name]
        self.timeline.stack_event(name, "DELETE_COMPLETE")

    def _finish(self, assembly: Assembly, stack: Stack, state: StackState, status: str) -> None:
        resolver = self._resolver(assembly, stack, state)
        for name in state.exports:
            self.exports.pop(name, None)
        state.outputs, state.exports = {}, {}
        for output_name, output in stack.outputs.items():
            value = resolver.resolve(output.get("Value"))
            state.outputs[output_name] = value
            if isinstance(output.get("Export"), dict):
                export_name = resolver.resolve(output["Export"].get("Name"))
                state.exports[export_name] = value
                self.exports[export_name] = (stack.name, value)
        state.status = status
        self.timeline.stack_event(stack.name, status)

    # --- planning ----------------------------------------------------------------------------------

    def _resolver(self, assembly: Assembly, stack: Stack, state: StackState) -> Resolver:
        return Resolver(assembly, stack, deployment=DeployedValues(self, state))

    def _wanted(self, assembly: Assembly, stack: Stack, state: StackState) -> list[str]:
        """The template's resources whose Condition holds (all resources without one)."""
        resolver = self._resolver(assembly, stack, state)
        wanted = []
        for logical_id, resource in stack.resources.items():
            condition = resource.get("Condition")
            if condition is None or resolver.condition(condition):
                wanted.append(logical_id)
        return wanted

    @staticmethod
    def _diff(stack: Stack, state: StackState, logical_id: str) -> _Change:
        resource = state.resources.get(logical_id)
        definition = stack.resources[logical_id]
        if resource is None:
            return _Change(logical_id, "Create")
        if resource.resource_type != definition.get("Type"):
            return _Change(logical_id, "Replace", old=_copy(resource))
        return _Change(logical_id, "Update", old=_copy(resource))  # decided when its dependencies are done

    # --- running -----------------------------------------------------------------------------------

    def _apply(self, assembly: Assembly, stack: Stack, state: StackState,
               changes: dict[str, _Change]) -> DeployFailed | None:
        """Create, update or replace every resource in `changes` in dependency order; the first failure."""
        dependencies = _dependencies(stack, set(changes))
        done: set[str] = set()
        started: set[str] = set()
        failure: list[DeployFailed] = []

        def ready() -> list[str]:
            return [logical_id for logical_id in changes if logical_id not in started
                    and dependencies[logical_id] <= done]

        def start(logical_id: str):
            started.add(logical_id)
            return self._operation(assembly, stack, state, changes[logical_id])

        def on_done(outcome: scheduler.Outcome) -> bool:
            logical_id = outcome.key
            change = changes[logical_id]
            resource = state.resources.get(logical_id)
            if outcome.error is None:
                done.add(logical_id)
                if resource is not None and resource.status.endswith("IN_PROGRESS"):
                    resource.status = resource.status.replace("IN_PROGRESS", "COMPLETE")
                    self.timeline.resource(stack.name, logical_id, resource.resource_type, resource.status,
                                           outcome.started, outcome.finished, action=change.action)
                return True
            reason = _reason(outcome.error)
            status = "CREATE_FAILED" if change.action in ("Create", "Replace") else "UPDATE_FAILED"
            resource_type = stack.resources[logical_id].get("Type", "")
            if resource is not None:
                resource.status = status
                failed_id = getattr(outcome.error, "physical_id", None)
                if failed_id and change.action == "Create":
                    resource.physical_id = failed_id
            if isinstance(outcome.error, scheduler.Cancelled) and resource is not None and _is_custom(resource_type):
                # CloudFormation never got a physical id: the rollback's Delete carries a placeholder.
                resource.physical_id = resource.physical_id or f"{stack.name}-{logical_id}-cancelled"
            self.timeline.resource(stack.name, logical_id, resource_type, status, outcome.started,
                                   outcome.finished, reason=reason, action=change.action)
            if not failure and not isinstance(outcome.error, scheduler.Cancelled):
                failure.append(DeployFailed(stack.name, logical_id, resource_type, reason, status))
            return False

        scheduler.run(start, ready, on_done)
        if not failure and len(done) < len(changes):
            stuck = sorted(set(changes) - done)
            resource_type = stack.resources[stuck[0]].get("Type", "")
            return DeployFailed(stack.name, stuck[0], resource_type,
                                f"Circular dependency between resources: {stuck}", "CREATE_FAILED")
        return failure[0] if failure else None

    def _operation(self, assembly: Assembly, stack: Stack, state: StackState,
                   change: _Change) -> Generator[float, None, None] | None:
        definition = stack.resources[change.logical_id]
        resource_type = definition.get("Type", "")
        resolver = self._resolver(assembly, stack, state)
        properties = resolver.resolve(definition.get("Properties") or {})
        unresolved = find_unresolved(properties)
        if unresolved is not None:
            raise ResourceFailed(unresolved.reason)
        ctx = ResourceContext(stack_name=stack.name, logical_id=change.logical_id, resource_type=resource_type,
                              properties=properties, metadata=definition.get("Metadata") or {},
                              account=self.account, region=self.region, cloud=self)
        if change.action == "Update":
            old = change.old
            assert old is not None
            if old.properties == properties:
                old.definition = definition
                return None  # no change once resolved: CloudFormation leaves it alone
            if _is_custom(resource_type) or not _create_only_changed(resource_type, old.properties, properties):
                return self._update(stack, state, ctx, definition, old)
            change.action = "Replace"
        return self._create(stack, state, ctx, definition, replacing=change.old if change.action == "Replace" else None)

    def _create(self, stack: Stack, state: StackState, ctx: ResourceContext, definition: dict,
                replacing: ResourceState | None) -> Generator[float, None, None]:
        resource = ResourceState(ctx.logical_id, ctx.resource_type, definition, properties=ctx.properties)
        state.resources[ctx.logical_id] = resource
        if replacing is not None:
            self._replaced.setdefault(stack.name, []).append(replacing)
        self.timeline.resource(stack.name, ctx.logical_id, ctx.resource_type, "CREATE_IN_PROGRESS", CLOCK.now(),
                               CLOCK.now())
        if _is_custom(ctx.resource_type):
            created = yield from custom.run(ctx, custom.request(ctx, "Create", None, None, state.stack_id))
        else:
            ctx.exists = lambda physical_id: setattr(resource, "physical_id", physical_id)
            native = _native(ctx.resource_type)
            step = native.create(ctx)
            if isinstance(step, Created):
                resource.physical_id = step.physical_id
            created = yield from _timed(step, native.create_seconds)
        resource.physical_id, resource.attributes = created.physical_id, created.attributes

    def _update(self, stack: Stack, state: StackState, ctx: ResourceContext, definition: dict,
                old: ResourceState) -> Generator[float, None, None]:
        resource = state.resources[ctx.logical_id]
        resource.status = "UPDATE_IN_PROGRESS"
        resource.created_in_this_operation = False
        if _is_custom(ctx.resource_type):
            event = custom.request(ctx, "Update", old.physical_id, old.properties, state.stack_id)
            # Asked for, even if the handler fails: the Provider framework answers a failed Update with
            # the resource's old physical id, so CloudFormation's rollback sends the failed resource an
            # Update back to its previous properties too, and a handler must accept its own rollback.
            resource.properties = ctx.properties
            created = yield from custom.run(ctx, event)
            if created.physical_id != old.physical_id:  # the handler made a new one: CloudFormation deletes the old
                state.resources[ctx.logical_id] = ResourceState(ctx.logical_id, ctx.resource_type, definition,
                                                                physical_id=created.physical_id,
                                                                attributes=created.attributes,
                                                                properties=ctx.properties, status="UPDATE_IN_PROGRESS")
                self._replaced.setdefault(stack.name, []).append(old)
                return
            resource.attributes = {**resource.attributes, **created.attributes}
        else:
            try:
                attributes = _native(ctx.resource_type).update(ctx, old.physical_id or "", old.properties)
            except NeedsReplacement:
                yield from self._create(stack, state, ctx, definition, replacing=old)
                return
            yield CLOCK.now() + _native(ctx.resource_type).create_seconds
            if attributes:
                resource.attributes = {**resource.attributes, **attributes}
        resource.properties, resource.definition = ctx.properties, definition

    def _delete_resources(self, stack_name: str, resources: list[ResourceState], removed_template: dict,
                          replaced: set[int] = frozenset(), on_rollback: bool = False) -> list[DeployFailed]:
        """Delete `resources` in reverse dependency order, at once where independent."""
        state = self.stacks[stack_name]
        stack = Stack(name=stack_name, template=removed_template, template_file="")
        ids = {resource.logical_id for resource in resources}
        # A resource is deleted after every resource that depends on it.
        needed_by = {logical_id: set() for logical_id in ids}
        for dependent, deps in _dependencies(stack, ids).items():
            for dependency in deps:
                needed_by[dependency].add(dependent)
        by_key = {id(resource): resource for resource in resources}
        key_of = {resource.logical_id: id(resource) for resource in resources}
        done: set[int] = set()
        started: set[int] = set()
        skipped: set[int] = set()
        failures: list[DeployFailed] = []

        def ready() -> list[int]:
            # What a resource that failed to delete depends on stays: it may still need it.
            return [key for key, resource in by_key.items() if key not in started
                    and all(key_of[other] in done and by_key[key_of[other]].status != "DELETE_FAILED"
                            for other in needed_by.get(resource.logical_id, ()))]

        def start(key: int):
            started.add(key)
            resource = by_key[key]
            policy = resource.update_replace_policy if key in replaced else resource.deletion_policy
            keep = policy in RETAIN_POLICIES and not (on_rollback and policy == "RetainExceptOnCreate"
                                                       and resource.created_in_this_operation)
            if resource.physical_id is None:
                skipped.add(key)
                resource.status = "DELETE_COMPLETE"
                return None
            if keep:
                resource.status = "DELETE_SKIPPED"
                self.timeline.resource(stack_name, resource.logical_id, resource.resource_type, "DELETE_SKIPPED",
                                       CLOCK.now(), CLOCK.now(), reason="retained")
                self.timeline.retained(stack_name, resource)
                skipped.add(key)
                return None
            return self._delete_one(state, resource)

        def on_done(outcome: scheduler.Outcome) -> bool:
            resource = by_key[outcome.key]
            done.add(outcome.key)
            if outcome.error is not None:
                reason = _reason(outcome.error)
                resource.status = "DELETE_FAILED"
                self.timeline.resource(stack_name, resource.logical_id, resource.resource_type, "DELETE_FAILED",
                                       outcome.started, outcome.finished, reason=reason, action="Delete")
                failures.append(DeployFailed(stack_name, resource.logical_id, resource.resource_type, reason,
                                             "DELETE_FAILED"))
            elif outcome.key not in skipped:
                resource.status = "DELETE_COMPLETE"
                self.timeline.resource(stack_name, resource.logical_id, resource.resource_type, "DELETE_COMPLETE",
                                       outcome.started, outcome.finished, action="Delete")
            return True

        scheduler.run(start, ready, on_done)
        if not failures and len(done) < len(by_key):
            stuck = sorted(by_key[key].logical_id for key in set(by_key) - done)
            failures.append(DeployFailed(stack_name, stuck[0], by_key[next(iter(set(by_key) - done))].resource_type,
                                         f"Circular dependency between resources: {stuck}", "DELETE_FAILED"))
        return failures

    def _delete_one(self, state: StackState, resource: ResourceState) -> Generator[float, None, None]:
        ctx = ResourceContext(stack_name=state.name, logical_id=resource.logical_id,
                              resource_type=resource.resource_type, properties=resource.properties,
                              metadata=resource.definition.get("Metadata") or {}, account=self.account,
                              region=self.region, cloud=self, deletion_policy=resource.deletion_policy)
        if _is_custom(resource.resource_type):
            yield from custom.run(ctx, custom.request(ctx, "Delete", resource.physical_id, None, state.stack_id))
        else:
            native = _native(resource.resource_type)
            yield from _timed(native.delete(ctx, resource.physical_id or ""), native.delete_seconds)

    def _roll_back_create(self, stack: Stack, state: StackState) -> list[DeployFailed]:
        """Delete what the failed create made; what fails to delete stays in the stack (ROLLBACK_FAILED)."""
        failures = self._delete_resources(stack.name, list(state.resources.values()), removed_template=stack.template,
                                          on_rollback=True)
        state.resources = {logical_id: resource for logical_id, resource in state.resources.items()
                           if resource.status == "DELETE_FAILED"}
        return failures

    def _roll_back_update(self, assembly: Assembly, stack: Stack, state: StackState,
                          previous: dict[str, ResourceState], old_template: dict) -> list[DeployFailed]:
        """New resources deleted; changed ones put back to their previous properties. What cannot be put
        back is returned (the stack is then UPDATE_ROLLBACK_FAILED)."""
        stuck: list[DeployFailed] = []
        new = [resource for logical_id, resource in state.resources.items() if logical_id not in previous]
        self._delete_resources(stack.name, new, removed_template=stack.template, on_rollback=True)
        for logical_id in [logical_id for logical_id in state.resources if logical_id not in previous]:
            del state.resources[logical_id]
        state.template = old_template
        for logical_id, before in previous.items():
            current = state.resources.get(logical_id)
            if current is not None and current.properties != before.properties and current.physical_id == before.physical_id:
                ctx = ResourceContext(stack_name=stack.name, logical_id=logical_id, resource_type=before.resource_type,
                                      properties=before.properties, metadata=before.definition.get("Metadata") or {},
                                      account=self.account, region=self.region, cloud=self)
                started = CLOCK.now()
                try:
                    if _is_custom(before.resource_type):
                        _drain(custom.run(ctx, custom.request(ctx, "Update", current.physical_id, current.properties,
                                                              state.stack_id)))
                    else:
                        _native(before.resource_type).update(ctx, before.physical_id or "", current.properties)
                except Exception as error:  # as in _apply: any failure of the operation is the resource's
                    reason = _reason(error)
                    self.timeline.resource(stack.name, logical_id, before.resource_type, "UPDATE_FAILED", started,
                                           CLOCK.now(), reason=reason, action="Rollback")
                    stuck.append(DeployFailed(stack.name, logical_id, before.resource_type, reason, "UPDATE_FAILED"))
                    continue  # it keeps the properties it failed to leave
                self.timeline.resource(stack.name, logical_id, before.resource_type, "UPDATE_COMPLETE", started,
                                       CLOCK.now(), action="Rollback")
            state.resources[logical_id] = before
            before.status = "UPDATE_COMPLETE"
        return stuck


# --- helpers -----------------------------------------------------------------------------------------

def unmodelled_types(assembly: Assembly) -> list[str]:
    """Resource types in `assembly` the rehearsal cannot deploy (checked before anything is touched)."""
    found = {resource.get("Type", "") for stack in assembly.stacks for resource in stack.resources.values()
             if isinstance(resource, dict)}
    return sorted(kind for kind in found if not _is_custom(kind) and kind not in REGISTRY)


def _is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"


def _native(resource_type: str):
    native = REGISTRY.get(resource_type)
    if native is None:
        raise NotModelled(f"resource type {resource_type} is not modelled by the rehearsal")
    return native


def _timed(step: Created | None | Generator, seconds: float) -> Generator[float, None, Any]:
    """A native operation: its API calls, then the time CloudFormation takes to report it done."""
    if isinstance(step, Generator):
        return (yield from step)
    yield CLOCK.now() + seconds
    return step


def _drain(operation: Generator) -> Any:
    try:
        while True:
            CLOCK.advance_to(next(operation))
    except StopIteration as done:
        return done.value


def _reason(error: BaseException) -> str:
    if isinstance(error, scheduler.Cancelled):
        return "Resource creation cancelled"
    message = " ".join(str(error).split())
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", "")
        return f"{message} (Service: {getattr(error, 'operation_name', '')}, Error Code: {code})"
    if isinstance(error, (ResourceFailed, NotModelled, FunctionError)):
        return message
    return f"internal error in the rehearsal ({error.__class__.__name__}: {message})"


def _copy(resource: ResourceState) -> ResourceState:
    return ResourceState(resource.logical_id, resource.resource_type, resource.definition, resource.physical_id,
                         dict(resource.attributes), resource.properties, resource.status, False)


def _in_dependency_order(stacks: list[Stack]) -> list[Stack]:
    by_name = {stack.name: stack for stack in stacks}
    ordered: list[Stack] = []
    visiting: set[str] = set()

    def visit(stack: Stack) -> None:
        if stack in ordered or stack.name in visiting:
            return
        visiting.add(stack.name)
        for name in stack.depends_on:
            if name in by_name:
                visit(by_name[name])
        ordered.append(stack)

    for stack in stacks:
        visit(stack)
    return ordered


def _dependents(stack: Stack, logical_id: str) -> set[str]:
    """`logical_id` and every resource of its stack that depends on it, directly or not."""
    dependencies = _dependencies(stack, set(stack.resources))
    found, grew = {logical_id}, True
    while grew:
        more = {other for other, needs in dependencies.items() if needs & found} - found
        found |= more
        grew = bool(more)
    return found


def _dependencies(stack: Stack, among: set[str]) -> dict[str, set[str]]:
    """logical id -> the resources (of `among`) it references or DependsOn, from cfn-lint's template graph."""
    graph = _graph(json.dumps(stack.template, sort_keys=True), stack.region or "us-east-1")
    found: dict[str, set[str]] = {logical_id: set() for logical_id in among}
    for source, target in graph:
        if source in found and target in among and source != target:
            found[source].add(target)
    return found


@lru_cache(maxsize=64)
def _graph(template_text: str, region: str) -> tuple[tuple[str, str], ...]:
    from cfnlint.template import Template

    template = Template("", json.loads(template_text), [region])
    return tuple((source, target) for source, target in template.graph.graph.edges())


@lru_cache(maxsize=None)
def _create_only(resource_type: str) -> tuple[tuple[str, ...], ...]:
    """Top-level create-only property paths from the resource schema cfn-lint ships."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    except Exception:
        return ()
    return tuple(tuple(path.split("/")[2:]) for path in schema.get("createOnlyProperties", []))


def _create_only_changed(resource_type: str, old: dict, new: dict) -> bool:
    for path in _create_only(resource_type):
        if path and old.get(path[0]) != new.get(path[0]):
            return True
    return False


def _zip_members(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
    return buffer.getvalue()


@lru_cache(maxsize=64)
def _zip_directory(directory: str) -> bytes:
    root = Path(directory)
    return _zip_members([(str(path.relative_to(root)), path.read_bytes())
                         for path in sorted(root.rglob("*")) if path.is_file()])

