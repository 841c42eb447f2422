"""Simulated deployment: every lifecycle step against the offline model, with its simulated duration.

    python -m tests.support.simulate [--hsm-count N] [--ca-mode managed|external] [--lifecycle] [--verbose]
                                   [--key-deletion-window-days DAYS]

Prints the deployment's critical path: each step in the stacks' dependency order,
when it starts and how long it takes under the model's documented durations
(tests/support/durations.py), and the total. HSMs after activation are created in
parallel, so they cost one HSM creation, not one per HSM. --lifecycle adds scaling
to N+1 and back, and the deletion of everything.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time

from rehearsal import durations
from tests.support.world import Deployment, Step, default_key_deletion_window_days, offline_aws

MAX_HSMS = 28   # CloudHSM's HSMs-per-cluster quota, which the offline model enforces


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
    return f"{days}d{text}" if days else text


def _print_phase(title: str, steps: list[Step], origin: float, out) -> None:
    print(f"\n{title}", file=out)
    for step in steps:
        detail = f"  ({step.detail})" if step.detail else ""
        print(f"  t+{_duration(step.started - origin):>10}  {step.name:<66} {_duration(step.seconds):>12}{detail}", file=out)
    total = steps[-1].finished - steps[0].started
    print(f"  {'total (critical path)':<80} {_duration(total):>12}", file=out)


def simulate(hsm_count: int, ca_mode: str, lifecycle: bool, verbose: bool, out=None,
             key_deletion_window_days: int | None = None) -> float:
    """Run the simulated deployment; print the timeline; return the deployment's total seconds.

    The data key's pending window (used when --lifecycle deletes everything) defaults to cdk.json's
    default `keyDeletionWindowDays`, and the output says which window it simulated.
    """
    out = out or sys.stdout
    began = time.perf_counter()
    logs = sys.stdout if verbose else io.StringIO()
    window = default_key_deletion_window_days() if key_deletion_window_days is None else key_deletion_window_days
    with offline_aws():
        world = Deployment(hsm_count=hsm_count, ca_mode=ca_mode, key_deletion_window_days=window)
        with contextlib.redirect_stdout(logs):
            world.deploy()
        deploy_steps = list(world.steps)
        origin = deploy_steps[0].started
        print(f"Simulated deployment: hsmCount={hsm_count}, caMode={ca_mode} (durations: tests/support/durations.py)", file=out)
        _print_phase("Deploy (HSM stack, then Keys stack; Data stack's bucket is seconds)", deploy_steps, origin, out)
        total = deploy_steps[-1].finished - origin
        extra = hsm_count - 2
        if extra > 0:
            print(f"  (created one after another, the {hsm_count - 1} HSMs after activation would add "
                  f"{_duration(extra * durations.HSM_CREATE)})", file=out)
        if lifecycle:
            origin_note = ("cdk.json default keyDeletionWindowDays" if key_deletion_window_days is None
                           else "--key-deletion-window-days")
            print(f"\nKey pending window simulated: {window} days ({origin_note})", file=out)
            for title, action in ((f"Scale up to {hsm_count + 1} HSMs", lambda: world.scale(hsm_count + 1)),
                                  (f"Scale back down to {hsm_count} HSMs", lambda: world.scale(hsm_count)),
                                  ("Delete everything (reverse order)", world.destroy)):
                before = len(world.steps)
                with contextlib.redirect_stdout(logs):
                    action()
                _print_phase(title, world.steps[before:], world.steps[before].started, out)
            if getattr(world, "store_refusal", ""):
                print(f"  refused with: {world.store_refusal[:150]}...", file=out)
        print(f"\nDeployment from nothing to a usable HSM-backed key: {_duration(total)} simulated "
              f"(computed in {time.perf_counter() - began:.1f} s)", file=out)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.simulate", description=__doc__.splitlines()[0])
    parser.add_argument("--hsm-count", type=int, default=3,
                        help=f"HSMs in the cluster (cdk.json hsmCount; 2 to {MAX_HSMS}, {MAX_HSMS - 1} with --lifecycle, "
                             "which scales up by one)")
    parser.add_argument("--ca-mode", choices=("managed",), default="managed",
                        help="managed only: the external CA waits for an operator, which a simulation cannot time")
    parser.add_argument("--lifecycle", action="store_true", help="also scale up and down, then delete everything")
    parser.add_argument("--verbose", action="store_true", help="print the handlers' structured log lines")
    parser.add_argument("--key-deletion-window-days", type=int, default=None, metavar="DAYS",
                        help="the data key's pending window (7-30) when --lifecycle deletes everything "
                             f"(default: cdk.json's default keyDeletionWindowDays, {default_key_deletion_window_days()})")
    args = parser.parse_args(argv)
    if args.hsm_count < 2:
        parser.error("--hsm-count must be at least 2 (KMS needs two HSMs in different AZs)")
    if args.hsm_count > MAX_HSMS:
        parser.error(f"--hsm-count must be at most {MAX_HSMS} (CloudHSM's HSMs per cluster)")
    if args.lifecycle and args.hsm_count > MAX_HSMS - 1:
        parser.error(f"--hsm-count must be at most {MAX_HSMS - 1} with --lifecycle (it scales up by one, "
                     f"and a cluster holds at most {MAX_HSMS} HSMs)")
    window = args.key_deletion_window_days
    if window is not None and not 7 <= window <= 30:
        parser.error("--key-deletion-window-days must be 7 to 30 (KMS's pending window)")
    simulate(args.hsm_count, args.ca_mode, args.lifecycle, args.verbose, key_deletion_window_days=window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
