"""Fixtures for the lifecycle tests: a fresh offline AWS (moto + the model) per test, no real sleeps."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from tests.support.handlers import install_source_layer as install
from tests.support.world import Deployment, offline_aws


@pytest.fixture
def aws():
    with offline_aws():
        yield


@pytest.fixture(autouse=True)
def retry_sleeps(monkeypatch):
    """botocore's retry backoff, recorded instead of slept (the retries themselves still happen)."""
    slept: list[float] = []
    import botocore.endpoint
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=slept.append, time=time.time))
    install()
    from lifecycle_runtime import aws_clients
    monkeypatch.setattr(aws_clients, "sleep", slept.append)  # create_once's own throttling backoff
    return slept


@pytest.fixture
def world(aws) -> Deployment:
    """The stacks' native resources: cluster UNINITIALIZED, client host, document, secrets, CA key."""
    deployment = Deployment()
    deployment.create_native_resources()
    return deployment


def deployed(world: Deployment, until: str) -> Deployment:
    """`world` with the custom resources created in the stacks' order up to step `until`."""
    from tests.support.world import DEPLOY_ORDER
    for step in DEPLOY_ORDER:
        getattr(world, f"deploy_{step}")()
        if step == until:
            break
    return world
