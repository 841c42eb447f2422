"""Shared synthesised apps: synth costs seconds, so each configuration is synthesised once per session."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# jsii runs on the project's Node 22 (npm `node` package), not the machine's end-of-life Node 20.
os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"

from aws_cdk.assertions import Template  # noqa: E402

from app import build_app  # noqa: E402
from tests.support import synth_cache as synth_cache_module  # noqa: E402


@dataclass
class SynthesisedApp:
    outdir: Path
    templates: dict[str, dict]

    def template(self, stack_suffix: str) -> Template:
        return Template.from_json(self.raw(stack_suffix))

    def raw(self, stack_suffix: str) -> dict:
        matches = [name for name in self.templates if name.endswith(f"-{stack_suffix}")]
        assert len(matches) == 1, f"no single stack ending in -{stack_suffix}: {sorted(self.templates)}"
        return self.templates[matches[0]]

    def output_value(self, stack_suffix: str, export_name: str) -> Any:
        """The value of the output that a stack exports under `export_name`."""
        for output in self.raw(stack_suffix).get("Outputs", {}).values():
            if output.get("Export", {}).get("Name") == export_name:
                return output["Value"]
        raise AssertionError(f"{stack_suffix} exports no {export_name}")


def context_for(environment: str = "reference", **settings: Any) -> dict:
    """Context that selects `environment` from cdk.json, with `settings` overriding its values."""
    if not settings:
        return {"environment": environment}
    base = json.loads((ROOT / "cdk.json").read_text())["context"]["environments"][environment]
    return {"environment": "test", "environments": {"test": {**base, **settings}}}


def synthesise(outdir: Path, context: dict, *, nag: bool) -> SynthesisedApp:
    """A synth of its own, for the tests about synth itself (the fixtures share tests/support/synth_cache.py)."""
    build_app(context, outdir=str(outdir), nag=nag).synth()
    return loaded(outdir)


def loaded(outdir: Path) -> SynthesisedApp:
    """The stack templates of the cloud assembly in `outdir`."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    templates = {
        name: json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    return SynthesisedApp(outdir, templates)


@pytest.fixture(scope="session", autouse=True)
def shared_synth_cache(tmp_path_factory):
    """Every worker of the run keeps its synthesised assemblies in one directory (tests/support/synth_cache.py)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    synth_cache_module.configure(shared / "synth-cache")


@pytest.fixture(scope="session")
def synth():
    """`synth("dev-kms")` or `synth(hsmCount=4)`: a cached synthesis of that configuration (shared
    with the other workers: a test that changes its files works on a copy).

    The named environments run with cdk-nag, as `cdk synth` does by default."""
    cache: dict[str, SynthesisedApp] = {}

    def synthesise_once(environment: str = "reference", **settings: Any) -> SynthesisedApp:
        key = json.dumps([environment, settings], sort_keys=True)
        if key not in cache:
            cache[key] = loaded(synth_cache_module.assembly(context_for(environment, **settings), nag=not settings))
        return cache[key]

    return synthesise_once


@pytest.fixture(scope="session")
def reference(synth) -> SynthesisedApp:
    return synth("reference")


@pytest.fixture(scope="session")
def config_of():
    """`config_of("dev-kms")`: that environment's settings, as the app reads them from cdk.json."""
    from stacks.config import load_config
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return lambda environment="reference": load_config({**context, "environment": environment})


@pytest.fixture(scope="session")
def config(config_of):
    return config_of("reference")
