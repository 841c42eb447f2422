"""Benchmark: the validator on hostile inputs, one subprocess each, and the slowest of them.

    python -m bench.hostile

Each hostile input must end with exit 1 or 2 (never 0, a crash or a hang), the one good input with 0; the figures show how close the
slowest comes to the fuzz test's hang bound. Shapes: dependency cycles (long and short), deep flow
and block YAML, deep JSON, a macro transform, an unresolvable Fn::ForEach, a FIFO in an assembly,
a manifest entry outside the assembly, and the solver's hardest claim on this architecture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.validators.fixtures.mutations import fixture_template

ROOT = Path(__file__).resolve().parents[1]
BROKEN = fixture_template("data_bucket_endpoint_only", "bad_no_endpoint_deny")


GOOD = {"solver-hardest.json"}  # a correct template whose proofs cost the solver most: it must pass


def _template(**extra) -> dict:
    template = json.loads(json.dumps(BROKEN))
    template["Resources"].update(extra.pop("resources", {}))
    template.update(extra)
    return template


def inputs(directory: Path) -> dict[str, Path]:
    made: dict[str, Path] = {}

    def write(name: str, content) -> None:
        path = directory / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        made[name] = path

    chain = [f"Link{i}" for i in range(5000)]
    write("cycle-5000.json", _template(resources={name: {"Type": "AWS::SSM::Parameter", "Properties": {
        "Type": "String", "Value": {"Fn::Sub": "${%s.Value}" % chain[(i + 1) % len(chain)]}}}
        for i, name in enumerate(chain)}))
    write("cycle-2.json", _template(resources={
        "A": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": {"Fn::GetAtt": ["B", "Value"]}}},
        "B": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": {"Ref": "A"}}}}))
    write("deep-flow.yaml", "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Metadata: " + "[" * 1_000_000 + "]" * 1_000_000)
    write("deep-block.yaml", "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Metadata:\n"
          + "".join(" " * (6 + i) + "k:\n" for i in range(1000)) + " " * 1006 + "x: 1\n")
    write("deep.json", '{"Resources": {"A": {"Type": "AWS::S3::Bucket", "Metadata": ' + "[" * 100_000 + "]" * 100_000 + "}}}")
    write("macro.json", _template(Transform="Acme::Macro"))
    write("for-each-unresolvable.json", _template(Transform="AWS::LanguageExtensions", resources={
        "Fn::ForEach::X": ["N", {"Ref": "DataBucket"}, {"X${N}": {"Type": "AWS::S3::Bucket"}}]}))
    write("solver-hardest.json", fixture_template("data_bucket_hsm_key_encryption", "good_policy_blocks_sse_c"))
    assembly = directory / "fifo.out"
    assembly.mkdir()
    os.mkfifo(assembly / "t.json")
    (assembly / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"S": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": "t.json"}}}}))
    made["fifo-in-assembly"] = assembly
    outside = directory / "outside.out"
    outside.mkdir()
    (outside / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"S": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": "/proc/self/status"}}}}))
    made["manifest-outside"] = outside
    return made


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        timings = []
        for name, path in inputs(Path(scratch)).items():
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "cmk_validate", str(path), "--no-cfn-lint",
                                     "--min-severity", "error"], cwd=ROOT, capture_output=True, text=True,
                                    timeout=600)
            seconds = time.perf_counter() - started
            timings.append((seconds, name, result.returncode in ((0,) if name in GOOD else (1, 2))))
            expected = (0,) if name in GOOD else (1, 2)
            verdict = "ok" if result.returncode in expected and "Traceback" not in result.stderr else "WRONG"
            print(f"{name:28} exit {result.returncode}  {seconds:6.2f} s  {verdict}")
        slowest = max(timings)
        print(f"slowest: {slowest[1]} in {slowest[0]:.2f} s (process start and imports included)")
        return 0 if all(right for _, _, right in timings) else 1


if __name__ == "__main__":
    sys.exit(main())
