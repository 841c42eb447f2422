"""Shared runtime of the lifecycle handlers, shipped to Lambda as a layer.

Logging (structured_log), botocore retry settings (aws_clients), AWS-error-to-reason
mapping (errors), time budgets (time_budget), CloudFormation event helpers (events),
cluster reads (clusters) and the HSM ownership claims shared by the first-HSM and fleet handlers (hsm_claims)
live here once, instead of being copied into every handler.
"""
