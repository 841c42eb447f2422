"""Simulated deployment: every lifecycle step against the offline model, with its simulated duration.

    python -m tests.support.simulate [--hsm-count N] [--ca-mode managed|external] [--lifecycle] [--verbose]

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

from tests.support import durations
from tests.support.world import Deployment, Step, offline_aws


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


def simulate(hsm_count: int, ca_mode: str, lifecycle: bool, verbose: bool, out=None) -> float:
    """Run the simulated deployment; print the timeline; return the deployment's total seconds."""
    out = out or sys.stdout
    began = time.perf_counter()
    logs = sys.stdout if verbose else io.StringIO()
    with offline_aws():
        world = Deployment(hsm_count=hsm_count, ca_mode=ca_mode)
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
    parser.add_argument("--hsm-count", type=int, default=3, help="HSMs in the cluster (cdk.json hsmCount; at least 2)")
    parser.add_argument("--ca-mode", choices=("managed",), default="managed",
                        help="managed only: the external CA waits for an operator, which a simulation cannot time")
    parser.add_argument("--lifecycle", action="store_true", help="also scale up and down, then delete everything")
    parser.add_argument("--verbose", action="store_true", help="print the handlers' structured log lines")
    args = parser.parse_args(argv)
    if args.hsm_count < 2:
        parser.error("--hsm-count must be at least 2 (KMS needs two HSMs in different AZs)")
    simulate(args.hsm_count, args.ca_mode, args.lifecycle, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
