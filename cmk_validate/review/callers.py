"""The "who" of the request matrix.

Labels are stable across assemblies (no logical ids for the generic callers) so that a change
review can compare the same caller before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cmk_validate.policy import Principal, Statement, parse_policy

OTHER_ACCOUNT = "444455556666"
BROAD_IDENTITY_POLICY = parse_policy({"Statement": [{"Sid": "AnyActionAnyResource", "Effect": "Allow", "Action": "*", "Resource": "*"}]})

IN_ACCOUNT, BREAK_GLASS, ASSEMBLY_ROLE = "in-account", "break-glass", "assembly-role"
OTHER, ANONYMOUS, SERVICE, SERVICE_FOR_OTHER = "other-account", "anonymous", "service", "service-for-other"
ORGANISATION = "organisation-member"    # another account that is in an organisation (aws:PrincipalOrgID set)
OUTSIDE_KINDS = (OTHER, ORGANISATION, ANONYMOUS, SERVICE_FOR_OTHER)
PRINCIPAL_KINDS = (IN_ACCOUNT, BREAK_GLASS, ASSEMBLY_ROLE, OTHER, ORGANISATION)   # IAM users and roles
EXAMPLE_ORGANISATION = "o-exampleorgid"


@dataclass(frozen=True)
class Caller:
    label: str
    kind: str
    principal: Principal
    identity: tuple[Statement, ...] = field(default=(), compare=False)
    acting_for: str = ""      # services: the account they act for (aws:SourceAccount)
    # Assembly roles granted only part of a bucket (the warehouse's loading role): the key prefix the
    # matrix probes for them, so their row shows what they may do there, not a denial elsewhere.
    object_prefix: str = field(default="", compare=False)

    @property
    def account(self) -> str:
        return self.acting_for if self.kind in (SERVICE, SERVICE_FOR_OTHER) else self.principal.account

    @property
    def outside(self) -> bool:
        return self.kind in OUTSIDE_KINDS


def broad_role(account: str) -> Caller:
    """"Any role or user of this account but the named ones, with broad identity permissions": an identity
    policy allowing * on *. The principal is the example the fixed probe uses; the proof ranges over all."""
    return Caller("role of this account (any role or user but the break-glass ones; identity policy * on *)", IN_ACCOUNT,
                  Principal("AWS", f"arn:aws:iam::{account}:role/ReviewBroadRole", account),
                  tuple(BROAD_IDENTITY_POLICY))


def break_glass(arn: str, account: str) -> Caller:
    """A configured break-glass principal; break-glass roles carry admin rights, so * on * too."""
    short = arn.split(":", 5)[-1] if arn.count(":") >= 5 else arn
    principal = Principal.aws(arn)
    if not principal.account:
        principal = Principal("AWS", arn, account)
    return Caller(f"break-glass {short}", BREAK_GLASS, principal, tuple(BROAD_IDENTITY_POLICY))


def other_account() -> Caller:
    return Caller("principal of another account (any account, in no organisation; identity * on *)", OTHER,
                  Principal("AWS", f"arn:aws:iam::{OTHER_ACCOUNT}:role/Outsider", OTHER_ACCOUNT),
                  tuple(BROAD_IDENTITY_POLICY))


def organisation_member() -> Caller:
    """A principal of another account of an organisation: any aws:PrincipalOrgID, this account's own included
    (the assembly does not say which organisation the account is in)."""
    return Caller("principal of an organisation's other account (any aws:PrincipalOrgID, this account's included; "
                  "identity * on *)", ORGANISATION,
                  Principal("AWS", f"arn:aws:iam::{OTHER_ACCOUNT}:role/OrganisationMember", OTHER_ACCOUNT),
                  tuple(BROAD_IDENTITY_POLICY))


def anonymous() -> Caller:
    return Caller("anonymous caller", ANONYMOUS, Principal.anonymous())


def services(service: str, account: str) -> list[Caller]:
    """The service acting for this account, and the same service acting for another (confused deputy)."""
    principal = Principal("Service", service, "")
    return [Caller(f"service {service} for this account", SERVICE, principal, (), account),
            Caller(f"service {service} for another account", SERVICE_FOR_OTHER, principal, (), OTHER_ACCOUNT)]


def assembly_role(arn: str, stack: str, logical_id: str, account: str, policy: list[Statement],
                  object_prefix: str = "") -> Caller:
    where = f", objects under {object_prefix}" if object_prefix else ""
    return Caller(f"role {stack}/{logical_id} (its identity policies{where})", ASSEMBLY_ROLE,
                  Principal("AWS", arn, account), tuple(policy), object_prefix=object_prefix)


def standard_callers(account: str, break_glass_arns: list[str]) -> list[Caller]:
    return ([broad_role(account)] + [break_glass(arn, account) for arn in break_glass_arns]
            + [other_account(), organisation_member(), anonymous()])
