"""One JSON line per log event, with secret-looking fields removed before printing.

CloudWatch Logs keeps every line for the retention period, so a password or key
must never reach it: callers pass fields explicitly and anything whose name says
secret is replaced, as a second line of defence.
"""

from __future__ import annotations

import json
import sys
from typing import Any

_SECRET_MARKERS = ("password", "secret", "privatekey", "private_key", "keystorepassword", "signature", "plaintext")
REDACTED = "<redacted>"


def _is_secret(name: str) -> bool:
    lowered = name.lower().replace("-", "").replace("_", "")
    # An ARN names a secret without revealing it: keep ...SecretArn fields.
    return any(marker.replace("_", "") in lowered for marker in _SECRET_MARKERS) and not lowered.endswith("arn")


def redact(value: Any) -> Any:
    """A copy of `value` with every field whose name looks secret replaced by a marker."""
    if isinstance(value, dict):
        return {key: (REDACTED if _is_secret(str(key)) else redact(item)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value


def log(event: str, **fields: Any) -> None:
    """Print one structured line (Lambda sends stdout to the function's log group)."""
    print(json.dumps({"event": event, **redact(fields)}, default=str, sort_keys=True), file=sys.stdout, flush=True)
