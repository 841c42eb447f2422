"""Command line: `python -m rehearsal [CDK_OUT] [--update CDK_OUT ...] [--no-destroy] [--verbose]`, or
`python -m rehearsal --scenario NAME|all` and `--list-scenarios` for the named scenarios."""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from cmk_validate.command_line import EXIT_ATTENTION, EXIT_INTERNAL, EXIT_OK, run
from cmk_validate.findings import InputError
from cmk_validate.progress import steps

EXIT_FAILED = EXIT_ATTENTION

EPILOG = """\
exit codes:
  0  every stack deployed (and updated, and destroyed) as CloudFormation would report it
  1  a stack operation failed (the stack, resource and reason are printed), or the deployed data
     path did not work through the gateway endpoint, or worked from outside it
  2  usage or input error (no cloud assembly, unsupported resource type, several environments, ...)
  3  the rehearsal itself failed (a defect of the rehearsal, not of the assembly: please report it)

Named scenarios (--list-scenarios) synthesise the app themselves and check what real deployments go
through; exit 1 if any fails.

Scaling is an update: synthesise the app again with another hsmCount into another directory and
pass it with --update, e.g. `cdk synth -c hsmCount=4 -o cdk.hsm4.out`, then
`python -m rehearsal cdk.out --update cdk.hsm4.out --update cdk.out`.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rehearsal",
        description="Deploy a cloud assembly on an offline model of AWS and print what CloudFormation would show.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assembly", nargs="?", default=None, help="cloud assembly to deploy (default: cdk.out)")
    parser.add_argument("--update", action="append", default=[], metavar="CDK_OUT",
                        help="after the deploy, update the stacks to this assembly; repeatable, in order")
    parser.add_argument("--no-destroy", action="store_true", help="stop after the deploy and updates")
    parser.add_argument("--hsms-per-region", type=int, default=None, metavar="N",
                        help="the account's CloudHSM quota of HSMs per Region, if raised (default: AWS's default, 6)")
    conditions = parser.add_argument_group(
        "CloudHSM conditions", "how the real service may behave on the day (default: every HSM takes the typical "
        "time, capacity everywhere)")
    conditions.add_argument("--hsm-timing", type=int, default=None, metavar="SEED",
                            help="each HSM takes its own time within the published 10-15 minutes, drawn from SEED")
    conditions.add_argument("--slow-hsm", action="store_true",
                            help="the first HSM created takes longer than its handler's time budget")
    conditions.add_argument("--no-hsm-capacity", action="append", default=[], metavar="ZONE",
                            help="the first CreateHsm in ZONE finds no HSM capacity there; repeatable")
    parser.add_argument("--scenario", action="append", default=[], metavar="NAME",
                        help="run a named scenario (synthesises the app itself), or 'all'; repeatable")
    parser.add_argument("--list-scenarios", action="store_true", help="name and describe the scenarios")
    parser.add_argument("--verbose", action="store_true",
                        help="every CloudFormation event, and the handlers' log lines")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_scenarios or args.scenario:
        if args.assembly is not None or args.update or args.no_destroy or args.hsms_per_region is not None \
                or _conditions_asked(args):
            parser.error("--scenario and --list-scenarios take no assembly, --update, --no-destroy, "
                         "--hsms-per-region or CloudHSM conditions (a scenario sets up what it needs)")
        if args.list_scenarios:
            return _list_scenarios()
        chosen = _chosen_scenarios(parser, args.scenario)
        return _one_line_errors(lambda: _run_scenarios(chosen, args.verbose))
    args.assembly = args.assembly or "cdk.out"
    return _one_line_errors(lambda: _rehearse(args))


def _one_line_errors(body: Callable[[], int]) -> int:
    """`body`'s exit code; bad input is one line and exit 2, anything else one line and exit 3."""
    return run("rehearsal", body, cannot="internal error, a defect of the rehearsal", internal_exit=EXIT_INTERNAL)


def _rehearse(args: argparse.Namespace) -> int:
    """Deploy, update and destroy the given assemblies; the report on stdout, the verdict as exit code."""
    from cmk_validate.model import load
    from rehearsal.cloudformation.engine import unmodelled_types
    from rehearsal.session import account_and_region, offline_account, rehearse
    from rehearsal.timeline import duration, hsm_bill

    began = time.perf_counter()

    deploy = load(args.assembly)
    updates = [(path, load(path)) for path in args.update]
    assemblies = [deploy] + [assembly for _, assembly in updates]
    account, region = account_and_region(assemblies)
    for assembly in assemblies:
        unmodelled = unmodelled_types(assembly)
        if unmodelled:
            raise InputError(f"{assembly.source}: resource types the rehearsal does not model: "
                             f"{', '.join(unmodelled)}")
    from rehearsal.services.cloudhsm.models import Quotas
    quotas = Quotas()
    if args.hsms_per_region is not None:
        if args.hsms_per_region < 1:
            raise InputError(f"--hsms-per-region {args.hsms_per_region}: the quota is a positive number of HSMs")
        quotas.hsms_per_region = args.hsms_per_region
    foreign = [zone for zone in args.no_hsm_capacity if not (zone.startswith(region) and len(zone) == len(region) + 1)]
    if foreign:
        raise InputError(f"--no-hsm-capacity {foreign[0]}: not an availability zone of {region}, where the assembly deploys")
    logs = sys.stdout if args.verbose else io.StringIO()
    with offline_account(account, region, quotas=quotas) as cloud, contextlib.redirect_stdout(logs):
        _arm_conditions(args)
        outcome = rehearse(deploy, updates, not args.no_destroy, cloud)
        bill = hsm_bill(region)
        retained = list(cloud.timeline.retained_resources)
    out = sys.stdout
    print(f"Rehearsal of {args.assembly} in account {account}, {region} (offline: moto and the "
          "project's CloudHSM/KMS model, simulated clock)\n", file=out)
    out.write(outcome.timeline.render(args.verbose))
    if outcome.first_deploy_seconds is not None:
        print(f"\nFirst deploy: {duration(outcome.first_deploy_seconds)} simulated.", file=out)
    price = (f" = {bill.currency} {bill.cost:,.2f} at {bill.currency} {bill.price_per_hour}/HSM-hour "
             f"({bill.price_origin})" if bill.cost is not None else " (no price for this HSM type and region)")
    print(f"HSM-hours billed: {bill.hours} for {bill.hsm_count} HSM(s){price}.", file=out)
    if retained:
        print("Retained (DeletionPolicy/UpdateReplacePolicy), still in the account: "
              + ", ".join(f"{stack}/{logical_id} ({kind})" for stack, logical_id, kind, _ in retained), file=out)
    for failure in outcome.destroy_failures[:-1] if outcome.failure else outcome.destroy_failures:
        print(f"Destroy stopped once, as the README documents: {failure}", file=out)
    print(f"(computed in {time.perf_counter() - began:.1f} s)", file=out)
    if outcome.data_path_failure is not None:
        print(f"\nrehearsal: FAILED: data path: {outcome.data_path_failure}", file=sys.stderr)
        return EXIT_FAILED
    if outcome.failure is not None:
        failure = outcome.failure
        print(f"\nrehearsal: FAILED: stack {failure.stack}, resource {failure.logical_id} "
              f"({failure.resource_type}) {failure.status}: {failure.reason}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _conditions_asked(args: argparse.Namespace) -> bool:
    return args.hsm_timing is not None or args.slow_hsm or bool(args.no_hsm_capacity)


def _arm_conditions(args: argparse.Namespace) -> None:
    """The CloudHSM conditions asked for, armed in the model (rehearsal.faults) once the account is fresh."""
    from rehearsal.faults import FAULTS

    if args.hsm_timing is not None:
        FAULTS.spread_hsm_creation(args.hsm_timing)
    if args.slow_hsm:
        FAULTS.slow_hsm_creation()
    for zone in args.no_hsm_capacity:
        FAULTS.no_hsm_capacity(zone)


def _list_scenarios() -> int:
    from rehearsal.scenarios import SCENARIOS

    for scenario in SCENARIOS.values():
        print(f"{scenario.name:<22} {scenario.summary}")
    return EXIT_OK


def _chosen_scenarios(parser: argparse.ArgumentParser, names: list[str]) -> list[str]:
    from rehearsal.scenarios import SCENARIOS

    chosen = list(SCENARIOS) if "all" in names else list(dict.fromkeys(names))
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; known: {', '.join(SCENARIOS)} (or all)")
    return chosen


def _run_scenarios(chosen: list[str], verbose: bool) -> int:
    from rehearsal import scenarios

    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="rehearsal-scenarios-") as work:
        synthesise = scenarios.Syntheses(Path(work))
        for name in steps(chosen, "scenarios", unit="scenario"):
            began = time.perf_counter()
            result = scenarios.run(name, synthesise=synthesise)
            print(f"Scenario {name}: {scenarios.SCENARIOS[name].summary}\n")
            sys.stdout.write(result.timeline.render(verbose))
            print(f"HSM-hours billed: {result.hsm_hours}.")
            verdict = "passed" if result.failure is None else f"FAILED: {result.failure}"
            print(f"scenario {name}: {verdict} (computed in {time.perf_counter() - began:.1f} s)\n")
            if result.failure is not None:
                failed.append(name)
                print(f"rehearsal: scenario {name} FAILED: {result.failure}", file=sys.stderr)
    print(f"scenarios: {len(chosen) - len(failed)} passed, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else ""))
    return EXIT_FAILED if failed else EXIT_OK
