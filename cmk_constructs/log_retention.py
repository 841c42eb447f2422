"""Map the validated `logRetentionDays` setting onto CDK's RetentionDays enum."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from stacks.config import LOG_RETENTION_DAYS

# CDK lists the legal CloudWatch periods in the same order as CloudWatch does, INFINITE last.
_BY_DAYS = dict(zip(LOG_RETENTION_DAYS, [member for member in logs.RetentionDays if member.name != "INFINITE"]))


def retention(days: int) -> logs.RetentionDays:
    return _BY_DAYS[days]
