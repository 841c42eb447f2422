"""One on-disk cache of the app's cloud assemblies for a whole test run, shared by the xdist workers.

A synth costs seconds and many fixtures want the same configuration (with or without cdk-nag), so
each configuration is synthesised once per run, by whichever worker asks first, while a file lock
makes the others wait for it. The key is what decides the output: the context the app sees (cdk.json
plus the overrides), whether cdk-nag runs, and the app's sources. Cached directories are shared:
a test that changes an assembly works on a copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

ROOT = Path(__file__).resolve().parents[2]
# What a synth reads from the checkout: the app, its constructs and their handlers, the synth-time
# plugin and cdk.json; the pinned CDK, Node and Lambda layer packages stand for what `make setup` installs.
SOURCES = ("app.py", "node_runtime.py", "cdk.json", "stacks", "cmk_constructs", "cmk_validate",
           "requirements.txt", "requirements-layer.txt", "package-lock.json")
_directory: Path | None = None


def configure(directory: Path) -> None:
    """Keep the assemblies in `directory` (the run's shared temporary directory); CMK_TEST_SYNTH_CACHE,
    when set, names a directory kept across runs instead (the key has the sources' digest)."""
    global _directory
    _directory = Path(os.environ.get("CMK_TEST_SYNTH_CACHE") or directory)


def _cache_directory() -> Path:
    global _directory
    if _directory is None:   # used outside a pytest session: a private directory for this process
        _directory = Path(tempfile.mkdtemp(prefix="synth-cache-"))
    _directory.mkdir(parents=True, exist_ok=True)
    return _directory


@lru_cache(maxsize=None)
def _sources_digest() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if path.is_dir() else [path] if path.is_file() else []
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _key(context_overrides: Mapping[str, Any] | None, nag: bool) -> str:
    base = json.loads((ROOT / "cdk.json").read_text())["context"]
    effective = {**base, **(context_overrides or {})}   # what build_app gives the app
    text = json.dumps({"context": effective, "nag": nag, "sources": _sources_digest()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def assembly_directory(context_overrides: Mapping[str, Any] | None = None, *, nag: bool) -> Path:
    """Where `assembly` keeps that configuration (whether or not it has been synthesised yet)."""
    return _cache_directory() / _key(context_overrides, nag)


def assembly(context_overrides: Mapping[str, Any] | None = None, *, nag: bool) -> Path:
    """The cloud assembly directory of `build_app(context_overrides, nag=nag).synth()`, synthesised once
    per run. A bad setting raises ConfigError (nothing is cached); a synth that fails validation leaves
    its assembly and raises the same RuntimeError for every caller, as the synth itself would."""
    target = assembly_directory(context_overrides, nag=nag)
    cache, key = target.parent, target.name
    with open(cache / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not target.is_dir():
                _synthesise(context_overrides, nag, target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    failed = cache / f"{key}.failed"   # a synth that raised (a failed validation): its message
    if failed.is_file():
        raise RuntimeError(failed.read_text())
    return target


def _synthesise(context_overrides: Mapping[str, Any] | None, nag: bool, target: Path) -> None:
    from app import build_app

    staging = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    failure = None
    # The architecture plugin's one line goes to stderr; the tests that check it synthesise themselves.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        app = build_app(dict(context_overrides or {}), outdir=str(staging), nag=nag)
        try:
            app.synth()
        except RuntimeError as error:
            failure = str(error)
    if failure is not None:
        target.with_name(f"{target.name}.failed").write_text(failure)
    staging.mkdir(exist_ok=True)
    staging.rename(target)   # complete or absent: a worker that dies mid-synth leaves only its staging
