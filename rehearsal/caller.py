"""Who is making the AWS call that the model is about to execute.

The rehearsal runs every Lambda function and the client host's commands in-process; each runs as
its role (the function's execution role, the instance profile's role), and the model's dispatch
reads the caller from here to authorise the call and to attribute it in the call log.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from rehearsal.faults import FAULTS


@dataclass(frozen=True)
class Caller:
    """`subnet_id` is where the caller's requests leave from (None: outside any VPC); it decides
    whether S3 sees them through a gateway endpoint (rehearsal/network.py)."""
    role_arn: str
    session_name: str
    subnet_id: str | None = None


_stack: list[Caller] = []


def current() -> Caller | None:
    """The innermost caller, or None for CloudFormation itself (it deploys the native resources)."""
    return _stack[-1] if _stack else None


@contextmanager
def acting_as(role_arn: str, session_name: str, subnet_id: str | None = None) -> Iterator[Caller]:
    who = Caller(role_arn, session_name, subnet_id)
    _stack.append(who)
    previous, FAULTS.current_handler = FAULTS.current_handler, session_name
    try:
        yield who
    finally:
        _stack.pop()
        FAULTS.current_handler = previous
