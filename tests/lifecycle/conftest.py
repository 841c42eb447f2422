"""Fixtures for the lifecycle tests: a fresh offline account per test, the app deployed a resource at a time."""

from __future__ import annotations

import pytest

from rehearsal import lambda_runtime
from tests.support.world import Deployment, offline_aws


@pytest.fixture
def aws():
    with offline_aws():
        yield


@pytest.fixture(autouse=True)
def retry_sleeps():
    """Every sleep the handlers made (botocore's retry backoff, create_once's): simulated, recorded here."""
    lambda_runtime.SLEEPS.clear()
    return lambda_runtime.SLEEPS


@pytest.fixture
def world(aws) -> Deployment:
    """The app in a fresh account, paused before the first HSM: network, cluster (UNINITIALIZED), host, secrets."""
    deployment = Deployment()
    deployment.create_native_resources()
    return deployment


def deployed(world: Deployment, until: str) -> Deployment:
    """`world` with the custom resources created in the stacks' order up to step `until`."""
    world.deploy(until)
    return world
