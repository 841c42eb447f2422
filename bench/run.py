"""Benchmark: rules alone, rules with cfn-lint, and cfn-lint alone, as ratios, in one run.

    python -m bench.run [--assembly cdk.out] [--resources 5000] [--repeat 5] [--skip-synthetic-cfn-lint]

Duration on 2 cores: ~8 min in full (cfn-lint needs ~3.5 min on 5,000 resources, and runs there
twice: alone and with the rules); ~40 s with --skip-synthetic-cfn-lint. Measured figures:
cmk_validate/README.md, "Tests and benchmark".

Targets: rules alone <= 0.25x cfn-lint alone; with cfn-lint <= 1.10x cfn-lint alone;
5,000 resources, rules alone <= 2 s and growing linearly. Times are wall-clock, in-process, after a
warm-up run (imports and rule loading excluded from neither side: each timed run builds its own
cfn-lint runner and loads the templates from disk).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.synthetic import write
from cmk_validate.progress import steps

ROOT = Path(__file__).resolve().parents[1]


def templates_of(path: str) -> list[str]:
    from cmk_validate.model import load

    return [stack.template_file for stack in load(path).stacks]


def rules_alone(path: str) -> float:
    from cmk_validate.engine import run
    from cmk_validate.model import load
    from cmk_validate.policy import prover

    prover._PROOFS.clear()
    start = time.perf_counter()
    run(load(path), cfn_lint=False)
    return time.perf_counter() - start


def with_cfn_lint(path: str) -> float:
    from cmk_validate.engine import run
    from cmk_validate.model import load
    from cmk_validate.policy import prover

    prover._PROOFS.clear()
    start = time.perf_counter()
    run(load(path), cfn_lint=True)
    return time.perf_counter() - start


def cfn_lint_alone(path: str, regions: list[str]) -> float:
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner.cli import Runner

    start = time.perf_counter()
    runner = Runner(ConfigMixIn(["--template", *templates_of(path)], regions=regions))
    list(runner.run())
    return time.perf_counter() - start


def best(function, repeat: int, *args) -> float:
    return min(function(*args) for _ in range(max(1, repeat)))


def measure(label: str, path: str, repeat: int, regions: list[str], lint: bool = True) -> None:
    """Best of `repeat`, the three measurements interleaved so machine noise hits them alike."""
    rules_times, alone_times, both_times = [], [], []
    for _ in steps(range(max(1, repeat)), label.strip(), unit="run"):
        rules_times.append(rules_alone(path))
        if lint:
            alone_times.append(cfn_lint_alone(path, regions))
            both_times.append(with_cfn_lint(path))
    rules = min(rules_times)
    line = f"{label:<34} rules alone {rules:7.2f} s"
    if lint:
        alone, both = min(alone_times), min(both_times)
        line += (f" | with cfn-lint {both:7.2f} s | cfn-lint alone {alone:7.2f} s"
                 f" | rules/cfn-lint {rules / alone:5.2f}x (target <= 0.25x)"
                 f" | with/cfn-lint {both / alone:5.2f}x (target <= 1.10x)")
    print(line, flush=True)


def reference_assembly(path: str) -> str:
    if os.path.isfile(os.path.join(path, "manifest.json")):
        return path
    print(f"{path} has no manifest.json: synthesising the reference app", flush=True)
    import app as reference_app

    outdir = tempfile.mkdtemp(prefix="bench-cdk-out-")
    built = reference_app.build_app(None, outdir, nag=False)
    try:
        built.synth()
    except RuntimeError:
        pass
    return outdir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assembly", default=str(ROOT / "cdk.out"))
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-synthetic-cfn-lint", action="store_true",
                        help="skip cfn-lint on the synthetic template (~3.5 min per run on 5,000 resources, "
                             "run twice): ~40 s instead of ~8 min")
    args = parser.parse_args()

    assembly = reference_assembly(args.assembly)
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: imports, rule discovery, z3 and cfn-lint caches
        write(os.path.join(tmp, "warm.json"), 200)
        rules_alone(os.path.join(tmp, "warm.json"))
    rules_alone(assembly)
    cfn_lint_alone(assembly, ["eu-west-1"])
    with_cfn_lint(assembly)
    measure(f"app cdk.out ({len(templates_of(assembly))} stacks)", assembly, args.repeat, ["eu-west-1"])

    with tempfile.TemporaryDirectory() as tmp:
        sizes = [args.resources // 4, args.resources // 2, args.resources]
        times = []
        for size in steps(sizes, "synthetic templates", unit="template"):
            path = os.path.join(tmp, f"synthetic-{size}.json")
            count = write(path, size)
            times.append((count, best(rules_alone, args.repeat, path)))
            print(f"synthetic {count:>5} resources           rules alone {times[-1][1]:7.2f} s "
                  f"({1000 * times[-1][1] / count:5.2f} ms/resource)", flush=True)
        growth = (times[-1][1] / times[0][1]) / (times[-1][0] / times[0][0])
        print(f"growth from {times[0][0]} to {times[-1][0]} resources: {growth:4.2f}x linear "
              f"(1.00 = linear); {args.resources} resources: {times[-1][1]:.2f} s (target <= 2 s)", flush=True)
        if not args.skip_synthetic_cfn_lint:
            path = os.path.join(tmp, f"synthetic-{args.resources}.json")
            measure(f"synthetic {times[-1][0]} resources", path, 1, ["eu-west-1"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
