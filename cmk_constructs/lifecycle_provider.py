"""One CDK Provider (on_event + is_complete) per lifecycle resource type.

CloudFormation has no resource for HSMs, cluster initialisation or activation, KMS
custom key stores or keys in them, so each is a custom resource. The Provider
framework owns the CloudFormation response protocol, retries of the framework
calls and the polling state machine; our handlers only start work (on_event) and
report whether it is done (is_complete).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from aws_cdk import CfnDeletionPolicy, CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from cmk_constructs.log_groups import operational_log_group
from cmk_constructs.nag import acknowledge

# The Lambda runtime the handlers and the shared layer are written and tested for.
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_12
HANDLER_ARCHITECTURE = lambda_.Architecture.ARM_64
_COMMON_RUNTIME_DIR = Path(__file__).parent / "lifecycle_runtime"
# CloudFormation waits at most one hour for a custom resource; the Provider enforces it.
MAX_TOTAL_TIMEOUT = Duration.hours(1)
# The handler reads its own time budget from this environment variable (lifecycle_runtime.time_budget).
BUDGET_VARIABLE = "LIFECYCLE_BUDGET_SECONDS"


@dataclass(frozen=True)
class ProviderContract:
    """How long a lifecycle resource may take, declared once per construct.

    The Provider's waiter polls is_complete every `query_interval` until `total_timeout`, then fails
    the resource with a bare "Operation timed out"; the handler gives up `handler_margin` earlier
    with a message saying what it waited for. The template carries both (the waiter state machine,
    and the budget in the functions' environment), so tests and the rehearsal read them from there.
    """
    total_timeout: Duration
    query_interval: Duration
    handler_margin: Duration = Duration.minutes(5)

    @property
    def budget_seconds(self) -> int:
        return int(self.total_timeout.to_seconds() - self.handler_margin.to_seconds())
# Bytecode that imports in tests leave beside the handlers must not change the asset hash.
BYTECODE = ["__pycache__", "*.pyc"]


def keep_replaced_keys(resource: CustomResource) -> None:
    """A replacing update must not delete what decrypts existing data: keep the old one.

    Stack deletion still runs the handler's Delete (a key's deletion is scheduled with its
    pending window, a store refuses while keys remain); only replacement keeps the old one.
    """
    cfn = resource.node.default_child
    cfn.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN


def common_runtime_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The shared handler runtime, one layer per stack however many providers use it."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child("LifecycleRuntimeLayer")
    if existing is not None:
        return existing  # type: ignore[return-value]
    return lambda_.LayerVersion(
        stack, "LifecycleRuntimeLayer",
        code=lambda_.Code.from_asset(str(_COMMON_RUNTIME_DIR), exclude=BYTECODE),
        compatible_runtimes=[HANDLER_RUNTIME],
        compatible_architectures=[HANDLER_ARCHITECTURE],
        description="Logging, retries and error mapping shared by the CloudHSM/KMS lifecycle handlers",
    )


class LifecycleProvider(Construct):
    """A Provider whose on_event and is_complete functions come from `<construct>/runtime/handler.py`.

    The handler role gets exactly `statements` plus writing to its own log group,
    so a test can compare the template's permissions with the calls the code makes.
    With no `contract`, the resource is done when on_event answers: no is_complete, no waiter
    (for checks and settings that take one call, where a state machine would only add cost).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime_dir: Path,
        statements: Sequence[iam.PolicyStatement],
        log_retention_days: int,
        log_key: kms.IKey,
        contract: ProviderContract | None = None,
        extra_layers: Sequence[lambda_.ILayerVersion] = (),
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if contract is not None and contract.total_timeout.to_seconds() > MAX_TOTAL_TIMEOUT.to_seconds():
            raise ValueError(f"{construct_id}: a custom resource cannot wait longer than one hour")
        if not (runtime_dir / "handler.py").is_file():
            raise FileNotFoundError(f"{construct_id}: no handler.py in {runtime_dir}")

        self.log_group = operational_log_group(self, "Logs", key=log_key, retention_days=log_retention_days)
        self.handler_role = iam.Role(
            self, "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{construct_id} lifecycle handler: only the API calls its code makes",
        )
        for statement in statements:
            self.handler_role.add_to_policy(statement)
        self.log_group.grant_write(self.handler_role)

        layers = [common_runtime_layer(self), *extra_layers]
        common = dict(
            runtime=HANDLER_RUNTIME,
            architecture=HANDLER_ARCHITECTURE,
            code=lambda_.Code.from_asset(str(runtime_dir), exclude=BYTECODE),
            role=self.handler_role,
            layers=layers,
            log_group=self.log_group,
            timeout=Duration.minutes(2),
            memory_size=256,
            environment={"POWERTOOLS_SERVICE_NAME": construct_id,
                         **({BUDGET_VARIABLE: str(contract.budget_seconds)} if contract else {}),
                         **(environment or {})},
        )
        self.on_event_function = lambda_.Function(self, "OnEvent", handler="handler.on_event", **common)
        self.is_complete_function = (
            lambda_.Function(self, "IsComplete", handler="handler.is_complete", **common) if contract else None)

        framework_logs = operational_log_group(self, "FrameworkLogs", key=log_key, retention_days=log_retention_days)
        self.provider = cr.Provider(
            self, "Provider",
            on_event_handler=self.on_event_function,
            log_group=framework_logs,
            **(dict(
                is_complete_handler=self.is_complete_function,
                query_interval=contract.query_interval,
                total_timeout=contract.total_timeout,
                waiter_state_machine_log_options=cr.LogOptions(destination=framework_logs, level=sfn.LogLevel.ERROR,
                                                               include_execution_data=False),
            ) if contract else {}),
        )
        self.service_token = self.provider.service_token
        self._acknowledge_framework_findings(statements)

    def _acknowledge_framework_findings(self, statements: Sequence[iam.PolicyStatement]) -> None:
        """Findings the Provider framework's own functions raise, and wildcards our handlers need."""
        framework = [self.provider.node.find_child(name).node.find_child("Resource")
                     for name in ("framework-isComplete", "framework-onTimeout")
                     if self.provider.node.try_find_child(name) is not None]
        functions = [function for function in (self.on_event_function, self.is_complete_function, *framework)
                     if function is not None]
        acknowledge(self.provider, "AwsSolutions-IAM4",
                    "The Provider framework's internal functions use AWSLambdaBasicExecutionRole, set by aws-cdk-lib; our handler roles carry no managed policy.",
                    findings=["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"])
        acknowledge(self.provider, "AwsSolutions-IAM5",
                    "The Provider framework invokes our two handlers and its waiter functions with lambda:InvokeFunction on '<function-arn>:*' (any version of exactly these functions).",
                    findings=[f"Resource::<{Stack.of(self).get_logical_id(_cfn(function))}.Arn>:*" for function in functions])
        acknowledge(self.provider, "AwsSolutions-L1",
                    "The Provider framework's Node.js functions use the runtime aws-cdk-lib ships and tests them with.")
        acknowledge(self.provider, "AwsSolutions-SF1",
                    "The waiter state machine logs ERROR events only: execution data holds resource properties, kept out of logs on purpose.")
        acknowledge(self.provider, "AwsSolutions-SF2",
                    "The waiter state machine only loops is_complete; X-Ray traces would add cost and no insight the handler logs lack.")
        acknowledge(self, "AwsSolutions-L1",
                    "Handlers are pinned to python3.12, the runtime their shared layer and tests target.")
        stack = Stack.of(self)
        wildcards = sorted({f"Resource::{_as_nag_text(stack.resolve(resource))}" for statement in statements
                            for resource in statement.resources if "*" in resource})
        if wildcards:
            acknowledge(self.handler_role, "AwsSolutions-IAM5",
                        "Each wildcard resource here is an API without resource-level permissions (Describe*, Create* before the resource exists) or a KMS key of this account; the statements say which.",
                        findings=wildcards)


def _as_nag_text(value) -> str:
    """A resolved ARN as cdk-nag prints it in finding ids: Ref X -> <X>, GetAtt A.B -> <A.B>."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<" + ".".join(value["Fn::GetAtt"]) + ">"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_as_nag_text(part) for part in parts)
    raise ValueError(f"cannot render {value!r} as a cdk-nag finding")


def _cfn(function) -> object:
    return function if isinstance(function, lambda_.CfnFunction) else function.node.default_child
