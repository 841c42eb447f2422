"""Which Node.js the CDK's jsii kernel runs on, chosen before `aws_cdk` is first imported.

jsii starts `node` from PATH (or `JSII_NODE`). Outside the Makefile, PATH often names a Node release
jsii no longer supports, and jsii prints an 11-line banner (as Python byte strings) on every run.
`make setup` installs Node 22 LTS under node_modules/ (npm's `node` package): that one is used when
present. Otherwise the banner is replaced by one readable line that says how to get it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_NODE = Path(__file__).with_name("node_modules") / ".bin" / "node"
# jsii's own switches for its version warnings (not for a release it knows to be broken).
_QUIETED_WARNINGS = ("DEPRECATED_NODE_VERSION", "UNTESTED_NODE_VERSION")


def choose() -> None:
    """Point jsii at the project's Node, or quiet its banner about another one to a single line."""
    if "JSII_NODE" in os.environ:
        return
    if PROJECT_NODE.exists():
        os.environ["JSII_NODE"] = str(PROJECT_NODE)
        return
    try:
        version = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return  # no Node at all: jsii's own error says so
    major = version.lstrip("v").split(".")[0]
    if not major.isdigit():
        return
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", major)
    for warning in _QUIETED_WARNINGS:
        os.environ.setdefault(f"JSII_SILENCE_WARNING_{warning}", "1")
    if int(major) < 22:
        print(f"note: using Node {version} from PATH; `make setup` installs Node 22 LTS under node_modules/, "
              "which this app then uses", file=sys.stderr)
