#!/usr/bin/env python3
"""CDK app: customer-controlled keys on AWS (CloudHSM + KMS custom key store + endpoint-locked S3).

`python app.py [-c KEY=VALUE ...]` or `cdk synth [-c KEY=VALUE ...]` synthesises the environment named
by the `environment` context value (default in cdk.json). A bad setting exits 2 with one line, no
traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Mapping

import node_runtime

node_runtime.choose()  # before aws_cdk starts jsii's Node process

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks

from cmk_constructs.cluster_initialisation.infrastructure import MissingLayerError
from cmk_validate.cdk_plugin import ArchitectureInvariantsPlugin
from stacks.analytics_stack import AnalyticsStack
from stacks.audit_stack import AuditStack
from stacks.config import AppConfig, ConfigError, check_context_keys, command_line_overrides, load_config
from stacks.data_stack import DataStack
from stacks.hsm_stack import HsmStack
from stacks.keys_stack import KeysStack
from stacks.network_stack import NetworkStack
from stacks.peering_stack import PeeringStack

EXIT_CONFIG_ERROR = 2
EXIT_VALIDATION_FAILED = 1
CDK_JSON = Path(__file__).with_name("cdk.json")


def add_stacks(app: cdk.App, config: AppConfig) -> list[cdk.Stack]:
    """Audit -> Network -> Peering (with hsmPeering) -> Hsm (cloudhsm mode) -> Keys -> Data -> Analytics (where
    set), wired by cross-stack references."""
    env = cdk.Environment(account=config.account, region=config.region)
    prefix = config.stack_prefix
    audit = AuditStack(app, f"{prefix}-Audit", config=config, env=env)
    network = NetworkStack(app, f"{prefix}-Network", config=config, log_key=audit.key, env=env)
    peering = None
    if config.hsm_peering:
        peering = PeeringStack(app, f"{prefix}-Peering", config=config, hsm_vpc=network.network.vpc,
                               log_key=audit.key, env=env)
    hsm = None
    if config.uses_cloudhsm:
        hsm = HsmStack(app, f"{prefix}-Hsm", config=config, vpc=network.network.vpc,
                       subnets=network.network.subnets, log_key=audit.key,
                       peered_applications=peering.applications if peering else (), env=env)
    keys = KeysStack(app, f"{prefix}-Keys", config=config, log_key=audit.key, hsm=hsm, env=env)
    data = DataStack(app, f"{prefix}-Data", config=config, key=keys.key, key_arn=keys.key_arn,
                     endpoint_ids=[network.gateway.endpoint_id, *(peering.endpoint_ids if peering else [])],
                     access_log_bucket_name=config.bucket_name("accesslogs"), env=env)
    data.add_stack_dependency(audit)
    stacks = [audit, network, *([peering] if peering else []), *([hsm] if hsm else []), keys, data]
    if config.analytics is not None:
        analytics = AnalyticsStack(app, f"{prefix}-Analytics", config=config, vpc=network.network.vpc,
                                   subnets=network.network.subnets, key_arn=keys.key_arn, app_key=audit.key, env=env)
        analytics.add_stack_dependency(data)  # COPY/UNLOAD need the bucket and its policy
        stacks.append(analytics)
    for stack in stacks:
        cdk.Tags.of(stack).add("project", config.name)
        cdk.Tags.of(stack).add("environment", config.environment)
    return stacks


def _cdk_json_context() -> dict:
    try:
        context = json.loads(CDK_JSON.read_text()).get("context")
    except (OSError, ValueError, AttributeError) as error:
        raise ConfigError(f"config error: cannot read {CDK_JSON.name}: {error}") from None
    if not isinstance(context, dict):
        raise ConfigError(f"config error: {CDK_JSON.name} has no 'context' object")
    return context


def _flag(value: Any, key: str, *, default: bool) -> bool:
    """A boolean context value; the CDK CLI passes `-c cdkNag=false` as the text "false"."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"config error: '{key}' = {value!r} is not valid; allowed: true | false")


def build_app(context_overrides: Mapping[str, Any] | None = None, outdir: str | None = None,
              *, nag: bool | None = None) -> cdk.App:
    """The app for cdk.json's context plus `context_overrides`; raises ConfigError on a bad setting."""
    # The CDK CLI passes cdk.json's context itself (and it wins over these); `python app.py` reads it here.
    base = _cdk_json_context()
    app = cdk.App(outdir=outdir, context={**base, **(context_overrides or {})})
    check_context_keys(app.node.get_all_context())
    context = {key: app.node.try_get_context(key) for key in ("environment", "defaults", "environments")}
    config = load_config(context, command_line_overrides(app.node.try_get_context))
    # Pinned AZs: without this, an env-bound stack asks AWS for its AZs (a lookup) or uses dummies.
    app.node.set_context(f"availability-zones:account={config.account}:region={config.region}",
                         list(config.availability_zones))
    add_stacks(app, config)
    # The architecture's own invariants (cmk_validate/), the same rules `cmk-validate` runs.
    cdk.Validations.of(app).add_plugins(ArchitectureInvariantsPlugin(
        break_glass_principals=list(config.break_glass_principals), bucket_encryption=config.bucket_encryption,
        key_administrators=list(config.key_administrators)))
    if nag if nag is not None else _flag(app.node.try_get_context("cdkNag"), "cdkNag", default=True):
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def command_line_context(argv: list[str]) -> dict[str, str]:
    """`python app.py -c KEY=VALUE ...`: the same context values `cdk synth -c KEY=VALUE` passes (text;
    settings read it as JSON where cdk.json holds lists and numbers)."""
    parser = argparse.ArgumentParser(
        prog="python app.py", description="Synthesise the app into cdk.out, as `cdk synth` does.",
        epilog="exit codes: 0 synthesised, 1 a synth-time check failed, 2 bad configuration or usage")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                        help="a context value, as `cdk synth -c KEY=VALUE`: wins over cdk.json; repeatable")
    context: dict[str, str] = {}
    for item in parser.parse_args(argv).context:
        key, equals, value = item.partition("=")
        if not equals or not key:
            parser.error(f"-c {item!r}: expected KEY=VALUE, e.g. -c environment=dev-kms")
        context[key] = value
    return context


def main(argv: list[str] | None = None) -> int:
    context = command_line_context(sys.argv[1:] if argv is None else argv)
    try:
        # The CDK CLI names the output directory (CDK_OUTDIR); plain `python app.py` writes cdk.out.
        app = build_app(context, outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    except (ConfigError, MissingLayerError) as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG_ERROR
    try:
        app.synth()
    except RuntimeError as error:  # jsii surfaces a failed validation (our rules, cdk-nag, CDK's) this way
        if "ValidationFailed" not in str(error):
            raise
        print(f"synth failed: {str(error).splitlines()[0]}", file=sys.stderr)
        return EXIT_VALIDATION_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
