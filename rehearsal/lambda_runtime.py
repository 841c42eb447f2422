"""Run a Python Lambda function of the assembly in-process, as Lambda would run it.

The code is the function's asset directory in the cloud assembly (what `cdk deploy` uploads),
never the source tree, with its layers' `python/` directories on the import path, the function's
environment variables, its role as the caller of every AWS call it makes, and its timeout and
memory from the template. Each function gets its own module namespace (two handlers are both
`handler.py` and may import different copies of a layer), kept between invocations like a warm
container. The function runs on the rehearsal's simulated clock: `time.time()` reads it and
`time.sleep()` advances it, so botocore's retry backoff and a handler's own time budget take
simulated time, and a handler that outlives its timeout is stopped as Lambda stops it.

A package in the asset built for another processor (the x509 layer is built for arm64 Lambda)
cannot load here: the function then uses this machine's build of the same package at the same
version, and says so; a different version, or a package this machine lacks, fails the invocation
as Lambda would fail an import.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import platform
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Iterator
from unittest import mock

from rehearsal import caller
from rehearsal.clock import CLOCK

# A few seconds of cold start and API calls per invocation (rehearsal/durations.py has the others).
INVOCATION_SECONDS = 2.0
# Every sleep a function made (botocore's retry backoff, the handlers' own), in seconds, for tests to read.
SLEEPS: list[float] = []


class FunctionError(Exception):
    """The invocation failed: what Lambda reports as errorType and errorMessage."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class _TimedOut(BaseException):
    """Raised inside the handler when its simulated time runs out (BaseException: no handler catches it)."""


@dataclass
class LambdaFunction:
    name: str
    arn: str
    handler: str                      # "module.function"
    runtime: str
    code_dir: Path
    layer_dirs: list[Path]
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    role_arn: str
    region: str
    subnet_id: str | None = None      # the first of VpcConfig's subnets; None outside any VPC
    _modules: dict[str, ModuleType] | None = field(default=None, repr=False)

    @property
    def is_python(self) -> bool:
        return self.runtime.startswith("python")

    def invoke(self, event: dict) -> dict:
        """The handler's return value for `event` (a JSON round trip each way); FunctionError on failure."""
        if not self.is_python:
            raise FunctionError("Runtime.Unsupported", f"{self.name}: runtime {self.runtime} cannot run in the rehearsal")
        payload = json.loads(json.dumps(event))
        module_name, function_name = self.handler.rsplit(".", 1)
        deadline = CLOCK.now() + self.timeout_seconds
        with self._namespace(), self._environment(), _simulated_time(deadline), \
                caller.acting_as(self.role_arn, self.name, self.subnet_id):
            CLOCK.advance(min(INVOCATION_SECONDS, self.timeout_seconds))
            try:
                module = sys.modules.get(module_name) or importlib.import_module(module_name)
                result = getattr(module, function_name)(payload, _Context(self, deadline))
            except _TimedOut:
                raise FunctionError("Sandbox.Timedout",
                                    f"Task timed out after {self.timeout_seconds:.2f} seconds") from None
            except Exception as error:  # the function's own error, as Lambda reports it
                raise FunctionError(error.__class__.__name__, str(error)) from error
        if CLOCK.now() > deadline:
            raise FunctionError("Sandbox.Timedout", f"Task timed out after {self.timeout_seconds:.2f} seconds")
        return json.loads(json.dumps(result)) if result is not None else {}

    def _top_level_names(self) -> set[str]:
        """The modules this function's code and layers provide, less foreign builds the host provides."""
        names = set()
        for directory in (self.code_dir, *self.python_layer_dirs()):
            for entry in directory.iterdir():
                if entry.suffix == ".py":
                    names.add(entry.stem)
                elif entry.is_dir() and entry.name.isidentifier():
                    names.add(entry.name)
        return names - {package for package, _ in self.host_builds()}

    def host_builds(self) -> list[tuple[str, str]]:
        """(top-level package, version) of the asset's packages built for another processor, which the
        function runs from this machine's build of the same version; FunctionError if there is none."""
        found = []
        machine = {"arm64": "aarch64", "amd64": "x86_64"}.get(platform.machine().lower(), platform.machine().lower())
        for directory in (self.code_dir, *self.python_layer_dirs()):
            for wheel in directory.glob("*.dist-info/WHEEL"):
                tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines()
                        if line.startswith("Tag:")]
                if not tags or any(tag.endswith("any") or machine in tag for tag in tags):
                    continue
                distribution, version = wheel.parent.name[: -len(".dist-info")].rsplit("-", 1)
                try:
                    host_version = importlib.metadata.version(distribution)
                except importlib.metadata.PackageNotFoundError:
                    host_version = None
                if host_version != version:
                    raise FunctionError("Runtime.ImportModuleError",
                                        f"{self.name}: {distribution} {version} in the asset is built for {tags[0]}, "
                                        f"and this machine has {host_version or 'no build of it'}")
                top_level = wheel.parent / "top_level.txt"
                packages = top_level.read_text().split() if top_level.is_file() else [distribution.replace("-", "_")]
                found.extend((package, version) for package in packages)
        return found

    def python_layer_dirs(self) -> list[Path]:
        return [layer / "python" for layer in self.layer_dirs if (layer / "python").is_dir()]

    @contextmanager
    def _namespace(self) -> Iterator[None]:
        """This function's modules in sys.modules and its code first on sys.path, for the invocation only."""
        names = self._top_level_names()
        own = lambda module_name: module_name.split(".", 1)[0] in names  # noqa: E731
        saved_modules = {name: module for name, module in sys.modules.items() if own(name)}
        saved_path = list(sys.path)
        for name in saved_modules:
            del sys.modules[name]
        sys.modules.update(self._modules or {})
        sys.path[:0] = [str(self.code_dir), *(str(path) for path in self.python_layer_dirs())]
        try:
            yield
        finally:
            self._modules = {name: module for name, module in sys.modules.items() if own(name)}
            for name in self._modules:
                del sys.modules[name]
            sys.modules.update(saved_modules)
            sys.path[:] = saved_path

    @contextmanager
    def _environment(self) -> Iterator[None]:
        """The function's environment variables plus the ones Lambda sets."""
        values = {**self.environment, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
                  "AWS_LAMBDA_FUNCTION_NAME": self.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
                  "AWS_EXECUTION_ENV": f"AWS_Lambda_{self.runtime}"}
        with mock.patch.dict(os.environ, values):
            yield


class _Context:
    """The parts of Lambda's context object a handler reads."""

    def __init__(self, function: LambdaFunction, deadline: float) -> None:
        self.function_name = function.name
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = f"{function.name}-{CLOCK.now():.0f}"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - CLOCK.now()) * 1000))


@contextmanager
def _simulated_time(deadline: float) -> Iterator[None]:
    """time.time reads the simulated clock; time.sleep advances it, and stops the handler at its deadline."""
    real_time, real_sleep = time.time, time.sleep

    def sleep(seconds: float) -> None:
        SLEEPS.append(seconds)
        if CLOCK.now() + seconds > deadline:
            CLOCK.advance_to(deadline)
            raise _TimedOut()
        CLOCK.advance(max(0.0, seconds))

    time.time, time.sleep = CLOCK.now, sleep
    try:
        yield
    finally:
        time.time, time.sleep = real_time, real_sleep
