"""boto3 clients with the retry behaviour every handler shares.

Reads and idempotent calls use botocore's standard retry mode: throttling and
transient errors retried with exponential backoff and jitter, within one Lambda
invocation. Calls that create something and carry no idempotency token (CreateHsm,
CreateKey, SendCommand...) go through `create_once`: a 5xx or a timeout may mean the
call *did* happen, so it is not repeated blindly; only throttling, which AWS rejects
before acting, is retried. The next poll or retry then finds what was made (claims,
tags, names) instead of making it twice.
"""

from __future__ import annotations

import random
import time
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

RETRY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 8},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="cmk-lifecycle",
)
NO_RETRY_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=60,
                         user_agent_extra="cmk-lifecycle")
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
                              "ThrottledException", "RequestThrottledException"})
CREATE_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 16.0

def sleep(seconds: float) -> None:
    """time.sleep, looked up when called (the deploy rehearsal runs handlers on a simulated clock)."""
    time.sleep(seconds)


@lru_cache(maxsize=None)
def client(service: str):
    """One client per service per container; region and credentials come from the Lambda environment."""
    return boto3.client(service, config=RETRY_CONFIG)


@lru_cache(maxsize=None)
def _unretried_client(service: str):
    return boto3.client(service, config=NO_RETRY_CONFIG)


def create_once(service: str, operation: str, **params: Any) -> dict:
    """Call a non-idempotent `operation`, retrying only throttling (bounded, exponential backoff, full jitter)."""
    call = getattr(_unretried_client(service), operation)
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return call(**params)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in THROTTLING_CODES or attempt == CREATE_ATTEMPTS:
                raise
            sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** attempt)))
    raise AssertionError("unreachable")
