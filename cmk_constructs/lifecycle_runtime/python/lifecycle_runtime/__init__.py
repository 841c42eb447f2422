"""Shared runtime of the lifecycle handlers, shipped to Lambda as a layer.

Logging, botocore retry settings and AWS-error-to-reason mapping live here once,
instead of being copied into every handler.
"""
