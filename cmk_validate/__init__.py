"""Offline validator of this architecture's security invariants (`cmk-validate --help`).

`acknowledge(construct, rule_id, reason)` waives one rule on one resource, with a reason.
"""

from cmk_validate.suppressions import acknowledge

__all__ = ["acknowledge"]
__version__ = "1.0.0"
