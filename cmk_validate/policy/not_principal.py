"""Whom a Deny with NotPrincipal leaves out, as the IAM User Guide's NotPrincipal page says.

"When you use NotPrincipal, you must also specify the account ARN of the not-denied principal.
Otherwise, the policy might deny access to the entire account containing the principal." AWS checks the
account first, then the user or role, then (for a role) the assumed-role session, which the session
ARN names (IAM User Guide, "AWS JSON policy elements: NotPrincipal", key points). So a principal is left
out only when every link of that chain is listed: the account (its root ARN or id) and the IAM user;
or the account, the role and an assumed-role session of it. Naming an account alone leaves out none of
its users or roles; naming a role without its session leaves out none of its sessions. Services and
other kinds are left out when named. Used by the evaluator and by the prover, so both read it alike.
"""

from __future__ import annotations

import re

_IAM = re.compile(r"arn:(?P<partition>[^:]+):iam::(?P<account>[^:]+):(?P<kind>user|role)/(?:.*/)?(?P<name>[^/]+)")
_ROOT = re.compile(r"arn:[^:]+:iam::(.+):root")
_SESSION = re.compile(r"arn:[^:]+:sts::(?P<account>[^:]+):assumed-role/(?P<role>[^/]+)/.+")


def root_account(principal: str) -> str | None:
    """The account a principal names as a whole (`arn:<partition>:iam::<account>:root` or a bare
    12-digit id), else None. The account may be a deploy-time token, which holds "::"."""
    if principal.isdigit() and len(principal) == 12:
        return principal
    found = _ROOT.fullmatch(principal)
    return found.group(1) if found else None


def everyone(not_principals: dict) -> bool:
    """`"*"` leaves everybody out: the Deny then applies to no one."""
    return "*" in [value for value in not_principals.get("AWS", []) if isinstance(value, str)]


def exempt_aws_principals(not_principals: dict) -> set[str]:
    """The IAM user and role ARNs the list leaves out (a role stands for its sessions)."""
    listed = [value for value in not_principals.get("AWS", []) if isinstance(value, str)]
    accounts = {account for value in listed if (account := root_account(value)) is not None}
    sessions = {(found["account"], found["role"]) for value in listed if (found := _SESSION.fullmatch(value))}
    exempt = set()
    for value in listed:
        found = _IAM.fullmatch(value)
        if found is None or found["account"] not in accounts:
            continue
        if found["kind"] == "user" or (found["account"], found["name"]) in sessions:
            exempt.add(value)
    return exempt


def exempt_others(not_principals: dict, kind: str) -> set[str]:
    """Named principals of another kind (Service, Federated, CanonicalUser)."""
    return {value for value in not_principals.get(kind, []) if isinstance(value, str)}
