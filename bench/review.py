"""Benchmark: the policy review of a cloud assembly, alone and as a change against itself.

    python -m bench.review [--assembly cdk.out] [--repeat 3]

Prints the wall-clock time of each (best of `repeat`, in-process, templates loaded each time) and the
number of cells. Target: the app's cdk.out reviewed in <= 5 s on 2 cores. Measured figures:
cmk_validate/review/README.md, "How a cell is decided".
"""

from __future__ import annotations

import argparse
import time


def review_alone(path: str) -> tuple[float, int]:
    from cmk_validate.review.report import review_path

    start = time.perf_counter()
    review = review_path(path)
    return time.perf_counter() - start, len(review.results)


def review_as_change(path: str) -> tuple[float, int]:
    from cmk_validate.review.report import review_change

    start = time.perf_counter()
    review = review_change(path, path)
    return time.perf_counter() - start, len(review.results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assembly", default="cdk.out")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from cmk_validate.findings import InputError

    for label, function in (("review", review_alone), ("review --base (itself)", review_as_change)):
        try:
            runs = [function(args.assembly) for _ in range(max(1, args.repeat))]
        except InputError as error:   # no cdk.out yet: `make synth` first
            parser.exit(2, f"{parser.prog}: error: {error}\n")
        seconds, cells = min(runs)
        print(f"{label:<26} {seconds:7.2f} s  {cells} cells")


if __name__ == "__main__":
    main()
