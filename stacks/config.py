"""The app's settings: read once from `cdk.json` context, validated, then passed explicitly.

Every value a platform team may change lives in `cdk.json` under `defaults` and is
overridden per environment under `environments.<name>`; `-c environment=<name>`
picks one. A wrong value stops the app with one line that names the key and what
is allowed, before any construct is built.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

KEY_BACKENDS = ("cloudhsm", "kms")
BUCKET_ENCRYPTIONS = ("sse-kms", "sse-c")
CA_MODES = ("managed", "external")
HSM_TYPES = ("hsm2m.medium",)
# CloudHSM no longer accepts these for new clusters; an existing cluster of that type keeps running.
RETIRED_HSM_TYPES = ("hsm1.medium",)
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)
MAX_HSMS_PER_CLUSTER = 28  # CloudHSM quota "HSMs per cluster" (not adjustable)
# The AWS CloudHSM User Guide, "AWS CloudHSM quotas": 6 HSMs per Region by default (adjustable).
DEFAULT_HSMS_PER_REGION = 6


class ConfigError(ValueError):
    """A bad setting; str() is the one line shown to the user."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def object_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}/{self.key}"

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class AppConfig:
    environment: str
    name: str
    account: str
    region: str
    availability_zones: tuple[str, ...]
    vpc_cidr: str
    key_backend: str
    bucket_encryption: str
    hsm_type: str
    hsm_count: int
    hsm_quota_per_region: int
    backup_retention_days: int
    ca_mode: str
    break_glass_principals: tuple[str, ...]
    key_administrators: tuple[str, ...]
    client_package: S3Location
    client_instance_type: str
    log_retention_days: int
    key_deletion_window_days: int
    alarm_email: str | None
    key_store_name: str | None = None
    hsm_peering: HsmPeering | None = None
    analytics: "AnalyticsConfig | None" = None

    @property
    def store_name(self) -> str:
        """The custom key store's name: `keyStoreName`, else `<name>-<environment>` (unique per account)."""
        return self.key_store_name or f"{self.name}-{self.environment}"

    @property
    def uses_cloudhsm(self) -> bool:
        return self.key_backend == "cloudhsm"

    @property
    def stack_prefix(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-"))

    def bucket_name(self, purpose: str) -> str:
        """Deterministic bucket names let policies in other stacks name a bucket without a cycle."""
        return f"{self.name}-{purpose}-{self.account}-{self.region}"

    @property
    def hsm_placement(self) -> tuple[str, ...]:
        """The AZ of each HSM, round-robin over the configured AZs; the first HSM goes to the first AZ."""
        zones = self.availability_zones
        return tuple(zones[index % len(zones)] for index in range(self.hsm_count))


_Check = Callable[[str, Any, Mapping[str, Any]], Any]


# --- analytics (the optional Redshift warehouse) ---------------------------------------------------

# RA3 only: the node family Redshift sells today with managed storage; DC2 is previous generation.
# Redshift Cluster Management Guide, "Amazon Redshift provisioned clusters" (node type details):
# https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-clusters.html
REDSHIFT_NODE_TYPES = ("ra3.large", "ra3.xlplus", "ra3.4xlarge", "ra3.16xlarge")
MAX_REDSHIFT_NODES = 128  # the most any RA3 node type allows (ra3.16xlarge); Redshift checks per type at create


@dataclass(frozen=True)
class AnalyticsConfig:
    """The `analytics` object: a provisioned Redshift cluster loading from the data bucket's `dataPrefix`."""
    node_type: str
    number_of_nodes: int
    database_name: str
    data_prefix: str


_ANALYTICS_KEYS = ("nodeType", "numberOfNodes", "databaseName", "dataPrefix")


def _analytics(key: str, value: Any, _: Mapping[str, Any]) -> "AnalyticsConfig | None":
    """null (no warehouse) or an object of exactly the keys in _ANALYTICS_KEYS; an unknown key is refused."""
    if value is None:
        return None
    example = '{"nodeType": "ra3.large", "numberOfNodes": 2, "databaseName": "analytics", "dataPrefix": "warehouse/"}'
    if not isinstance(value, dict):
        raise _fail(key, value, f"null or an object like {example}")
    unknown = sorted(set(value) - set(_ANALYTICS_KEYS))
    if unknown:
        raise ConfigError(f"config error: unknown setting '{key}.{unknown[0]}'; known: {', '.join(_ANALYTICS_KEYS)}")
    missing = [name for name in _ANALYTICS_KEYS if name not in value]
    if missing:
        raise ConfigError(f"config error: setting '{key}.{missing[0]}' is missing; e.g. {example}")
    node_type = _choice(REDSHIFT_NODE_TYPES)(f"{key}.nodeType", value["nodeType"], {})
    nodes = _integer(1, MAX_REDSHIFT_NODES)(f"{key}.numberOfNodes", value["numberOfNodes"], {})
    # Redshift: a database name is 1-64 lowercase letters, digits, _ or $, starting with a letter or _
    # (CreateCluster, DBName).
    database = _pattern(r"[a-z_][a-z0-9_$]{0,63}", "1-64 lowercase letters, digits, _ or $, not starting with a digit")(
        f"{key}.databaseName", value["databaseName"], {})
    prefix = _pattern(r"[a-z0-9][a-z0-9._-]{0,62}/", "an S3 key prefix like 'warehouse/' (one folder, ending in '/')")(
        f"{key}.dataPrefix", value["dataPrefix"], {})
    return AnalyticsConfig(node_type=node_type, number_of_nodes=nodes, database_name=database, data_prefix=prefix)


def _fail(key: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"config error: '{key}' = {value!r} is not valid; allowed: {allowed}")


def _choice(options: tuple[str, ...]) -> _Check:
    def check(key: str, value: Any, _: Mapping[str, Any]) -> str:
        if value not in options:
            raise _fail(key, value, " | ".join(options))
        return value
    return check


def _hsm_type(key: str, value: Any, settings: Mapping[str, Any]) -> str:
    if value in RETIRED_HSM_TYPES:
        raise ConfigError(f"config error: '{key}' = {value!r}: CloudHSM no longer creates clusters of this type; "
                          f"allowed: {' | '.join(HSM_TYPES)}")
    return _choice(HSM_TYPES)(key, value, settings)


def _integer(low: int, high: int) -> _Check:
    def check(key: str, value: Any, _: Mapping[str, Any]) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(key, value, f"a whole number from {low} to {high}")
        return value
    return check


def _pattern(regex: str, described: str) -> _Check:
    compiled = re.compile(regex)

    def check(key: str, value: Any, _: Mapping[str, Any]) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise _fail(key, value, described)
        return value
    return check


def _zones(key: str, value: Any, settings: Mapping[str, Any]) -> tuple[str, ...]:
    region = settings.get("region")
    example = json.dumps([f"{region}a", f"{region}b"])  # as JSON: it can be pasted back into `-c`
    allowed = f"a list of at least 2 distinct availability zones of region {region!r}, e.g. {example}"
    if not isinstance(value, list) or len(value) < 2 or len(set(value)) != len(value):
        raise _fail(key, value, allowed)
    for zone in value:
        if not isinstance(zone, str) or not re.fullmatch(re.escape(str(region)) + r"[a-z]", zone):
            raise _fail(key, value, allowed)
    return tuple(value)


def _cidr(key: str, value: Any, _: Mapping[str, Any]) -> str:
    allowed = "an IPv4 network in private address space with a prefix from /16 to /22, e.g. '10.40.0.0/16'"
    try:
        network = ipaddress.IPv4Network(value)
    except (ValueError, TypeError):
        raise _fail(key, value, allowed) from None
    if not network.is_private or not 16 <= network.prefixlen <= 22:
        raise _fail(key, value, allowed)
    return str(network)


def _principals(key: str, value: Any, settings: Mapping[str, Any]) -> tuple[str, ...]:
    account = settings.get("account")
    example = json.dumps([f"arn:aws:iam::{account}:role/BreakGlass"])
    allowed = f"a non-empty list of IAM role or user ARNs of account {account}, e.g. {example}"
    # Empty is refused: no break-glass principal locks everyone but the root user out of the
    # bucket policy, and no key administrator leaves the data key to its Lambda handler alone.
    if not isinstance(value, list) or not value:
        raise _fail(key, value, allowed)
    arn = re.compile(r"arn:aws[a-z-]*:iam::" + re.escape(str(account)) + r":(role|user)/[\w+=,.@/-]+")
    for principal in value:
        if not isinstance(principal, str) or not arn.fullmatch(principal):
            raise _fail(key, principal, allowed)
    return tuple(value)


def _s3_object(key: str, value: Any, _: Mapping[str, Any]) -> S3Location:
    allowed = "an S3 URI of the CloudHSM client RPM in a bucket of the same region, e.g. 's3://my-artifacts/cloudhsm/cloudhsm-cli-latest.amzn2023.x86_64.rpm'"
    match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(\S+\.rpm)", value) if isinstance(value, str) else None
    if not match:
        raise _fail(key, value, allowed)
    return S3Location(match.group(1), match.group(2))


def _log_retention(key: str, value: Any, _: Mapping[str, Any]) -> int:
    if value not in LOG_RETENTION_DAYS or isinstance(value, bool):
        raise _fail(key, value, "one of CloudWatch Logs' retention periods: " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    return value


def _optional_email(key: str, value: Any, _: Mapping[str, Any]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}", value):
        raise _fail(key, value, "null or an e-mail address for alarm notifications")
    return value


def _optional_store_name(key: str, value: Any, _: Mapping[str, Any]) -> str | None:
    """KMS CustomKeyStoreName: 1-256 characters (KMS API Reference, CreateCustomKeyStore); kept to
    characters that need no quoting anywhere they are shown."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,255}", value):
        raise _fail(key, value, "null or 1-256 letters, digits and _ . : / - (a KMS custom key store name)")
    return value


def _hsm_count(key: str, value: Any, settings: Mapping[str, Any]) -> int:
    count = _integer(2, MAX_HSMS_PER_CLUSTER)(key, value, settings)
    quota = settings.get("hsmQuotaPerRegion", DEFAULT_HSMS_PER_REGION)
    if count > quota:
        raise ConfigError(f"config error: '{key}' = {count} is more than the account's CloudHSM quota of {quota} HSMs "
                          "per Region ('hsmQuotaPerRegion'); request an increase (Service Quotas: AWS CloudHSM, "
                          "HSMs per Region), then set 'hsmQuotaPerRegion' to the new quota")
    return count


# Context key -> (AppConfig field, check). The order matters: later checks read earlier keys.
SETTINGS: dict[str, tuple[str, _Check]] = {
    "name": ("name", _pattern(r"[a-z][a-z0-9-]{1,18}[a-z0-9]", "3-20 lowercase letters, digits or '-', starting with a letter")),
    "account": ("account", _pattern(r"\d{12}", "a 12-digit AWS account ID")),
    "region": ("region", _pattern(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d", "an AWS region code, e.g. 'eu-west-1'")),
    "availabilityZones": ("availability_zones", _zones),
    "vpcCidr": ("vpc_cidr", _cidr),
    "keyBackend": ("key_backend", _choice(KEY_BACKENDS)),
    "bucketEncryption": ("bucket_encryption", _choice(BUCKET_ENCRYPTIONS)),
    "hsmType": ("hsm_type", _hsm_type),
    "hsmQuotaPerRegion": ("hsm_quota_per_region", _integer(2, 1000)),
    "hsmCount": ("hsm_count", _hsm_count),
    "backupRetentionDays": ("backup_retention_days", _integer(7, 379)),
    "caMode": ("ca_mode", _choice(CA_MODES)),
    "breakGlassPrincipals": ("break_glass_principals", _principals),
    "keyAdministrators": ("key_administrators", _principals),
    "clientPackageS3Uri": ("client_package", _s3_object),
    "clientInstanceType": ("client_instance_type", _pattern(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "an EC2 instance type, e.g. 't3.micro'")),
    "logRetentionDays": ("log_retention_days", _log_retention),
    "keyDeletionWindowDays": ("key_deletion_window_days", _integer(7, 30)),
    "alarmEmail": ("alarm_email", _optional_email),
    "keyStoreName": ("key_store_name", _optional_store_name),
    "hsmPeering": ("hsm_peering", lambda *arguments: _hsm_peering(*arguments)),  # its own section, below
    "analytics": ("analytics", _analytics),
}

# Settings that may be left out (or null: CDK drops null context values).
OPTIONAL_SETTINGS = frozenset({"alarmEmail", "keyStoreName", "hsmPeering", "analytics"})


# Settings whose value is not a plain string: `cdk synth -c hsmCount=4` hands them over as text.
JSON_VALUED_SETTINGS = frozenset({"availabilityZones", "hsmCount", "backupRetentionDays", "breakGlassPrincipals",
                                  "keyAdministrators", "logRetentionDays", "keyDeletionWindowDays", "alarmEmail",
                                  "hsmPeering", "analytics"})


# Top-level context keys that are not settings: cdk.json's layout, the cdkNag switch, and what
# `cdk acknowledge` records. CDK's own keys are namespaced ("aws:cdk:...", "@aws-cdk/...").
CONTEXT_KEYS = ("environment", "defaults", "environments", "cdkNag", "acknowledged-issue-numbers")


def check_context_keys(keys: Iterable[str]) -> None:
    """A top-level context key that is neither a setting nor one of CONTEXT_KEYS is a typo (`-c hsmcount=4`),
    refused as an unknown key in cdk.json is, not ignored."""
    known = [*SETTINGS, *CONTEXT_KEYS]
    for key in sorted(keys):
        if key in known or ":" in key or key.startswith("@"):
            continue
        by_case = {name.lower(): name for name in known}
        guess = by_case.get(key.lower()) or next(iter(difflib.get_close_matches(key, known, n=1)), None)
        hint = f"; did you mean '{guess}'" if guess else ""
        raise ConfigError(f"config error: unknown context key '{key}' (from -c or the top of cdk.json's context){hint}; "
                          f"known settings: {', '.join(SETTINGS)}")


def command_line_overrides(lookup: Callable[[str], Any]) -> dict[str, Any]:
    """Settings given as top-level context (`cdk synth -c hsmCount=4`), which win over cdk.json.

    Text from the command line is read as JSON for the settings above, so `-c hsmCount=4`
    means 4 and `-c 'availabilityZones=["eu-west-1a","eu-west-1b"]'` a list."""
    overrides = {}
    for key in SETTINGS:
        value = lookup(key)
        if value is None:
            continue
        if key in JSON_VALUED_SETTINGS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass  # left as text: its check names the key and what is allowed
        overrides[key] = value
    return overrides


def load_config(context: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> AppConfig:
    """Merge `defaults`, the chosen environment's values and `overrides`, and validate every value."""
    environments = context.get("environments")
    defaults = context.get("defaults")
    if not isinstance(defaults, dict) or not isinstance(environments, dict) or not environments:
        raise ConfigError("config error: cdk.json context needs a 'defaults' object and a non-empty 'environments' object")
    name = context.get("environment")
    if name not in environments:
        raise _fail("environment", name, " | ".join(environments))
    environment_settings = environments[name] or {}
    if not isinstance(environment_settings, dict):
        raise _fail(f"environments.{name}", environment_settings, "an object of settings that override 'defaults'")
    settings = {**defaults, **environment_settings, **(overrides or {})}
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"config error: unknown setting '{unknown[0]}' in environment '{name}'; known settings: {', '.join(SETTINGS)}")
    missing = [key for key in SETTINGS if key not in settings and key not in OPTIONAL_SETTINGS]
    if missing:
        raise ConfigError(f"config error: setting '{missing[0]}' is missing for environment '{name}'")
    values = {field: check(key, settings.get(key), settings) for key, (field, check) in SETTINGS.items()}
    if len(values["name"]) + len("-accesslogs-") + 12 + 1 + len(values["region"]) > 63:
        raise _fail("name", values["name"], "a name short enough for bucket names '<name>-accesslogs-<account>-<region>' (63 characters)")
    _check_neighbours(name, values, defaults, environments)
    return AppConfig(environment=name, **values)


def _check_neighbours(chosen: str, values: Mapping[str, Any], defaults: Mapping[str, Any],
                      environments: Mapping[str, Any]) -> None:
    """cdk.json's other environments in the same account and Region must not share `name`: it names their
    stacks, buckets and key aliases, so deploying one would update (and replace the resources of) the
    other. Raw values are enough here: each environment's own values are checked when it is chosen."""
    for other, overrides in environments.items():
        settings = {**defaults, **overrides} if isinstance(overrides, dict) else {}
        if other != chosen and (settings.get("account"), settings.get("region"), settings.get("name")) == \
                (values["account"], values["region"], values["name"]):
            raise ConfigError(f"config error: environments '{chosen}' and '{other}' share account {values['account']}, "
                              f"region {values['region']} and 'name' = {values['name']!r}: their stacks, buckets and "
                              "key aliases would be the same, so deploying one would update the other; give each "
                              "its own 'name'")


# -- hsmPeering: application VPCs that use the HSMs over VPC peering ----------------------------------

@dataclass(frozen=True)
class PeeredVpc:
    """An application VPC that already exists, given by ids only: synth makes no lookups.

    `cidr` is the range of its subnets that reach the HSMs (the HSM subnets route only this range back);
    `route_table_ids` are the tables of those subnets, which get routes to the HSM subnets only."""
    name: str
    vpc_id: str
    cidr: str
    route_table_ids: tuple[str, ...]
    client_security_group_id: str
    reads_data_bucket: bool


@dataclass(frozen=True)
class HsmPeering:
    """`demo_vpc_cidr`: the app builds a demo application VPC of this range and peers it (the reference
    environment's end-to-end example); `vpcs`: existing application VPCs."""
    demo_vpc_cidr: str | None
    vpcs: tuple[PeeredVpc, ...]

    def cidrs(self) -> list[tuple[str, str]]:
        """(what, CIDR) of every peered range, the demo's first."""
        return [*([("demoApplicationVpc", self.demo_vpc_cidr)] if self.demo_vpc_cidr else []),
                *((f"applicationVpcs.{vpc.name}", vpc.cidr) for vpc in self.vpcs)]


PEERING_KEYS = ("demoApplicationVpc", "applicationVpcs")
DEMO_VPC_KEYS = ("cidr",)
PEERED_VPC_KEYS = ("name", "vpcId", "cidr", "routeTableIds", "clientSecurityGroupId", "readsDataBucket")
_EC2_ID = r"{}-[0-9a-f]{{8}}(?:[0-9a-f]{{9}})?"  # EC2 ids: a prefix and 8 or 17 hex digits


def _object(key: str, value: Any, known: tuple[str, ...], example: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(key, value, f"an object with the keys {', '.join(known)}, e.g. {example}")
    unknown = sorted(set(value) - set(known))
    if unknown:
        guess = next(iter(difflib.get_close_matches(unknown[0], known, n=1)), None)
        hint = f"; did you mean '{guess}'" if guess else ""
        raise ConfigError(f"config error: unknown key '{unknown[0]}' in '{key}'{hint}; known keys: {', '.join(known)}")
    return value


def _peer_cidr(key: str, value: Any) -> str:
    """AWS: a VPC's CIDR is /16 to /28 (Amazon VPC User Guide, "VPC CIDR blocks")."""
    allowed = "an IPv4 network in private address space from /16 to /28, e.g. '10.41.0.0/22'"
    try:
        network = ipaddress.IPv4Network(value)
    except (ValueError, TypeError):
        raise _fail(key, value, allowed) from None
    if not network.is_private or not 16 <= network.prefixlen <= 28:
        raise _fail(key, value, allowed)
    return str(network)


def _peered_vpc(key: str, value: Any) -> PeeredVpc:
    example = json.dumps({"name": "payments", "vpcId": "vpc-0123456789abcdef0", "cidr": "10.50.0.0/24",
                          "routeTableIds": ["rtb-0123456789abcdef0"],
                          "clientSecurityGroupId": "sg-0123456789abcdef0", "readsDataBucket": True})
    entry = _object(key, value, PEERED_VPC_KEYS, example)
    missing = [name for name in PEERED_VPC_KEYS if name not in entry and name != "readsDataBucket"]
    if missing:
        raise ConfigError(f"config error: '{key}' needs '{missing[0]}', e.g. {example}")
    name = _pattern(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", "2-32 lowercase letters, digits or '-'")(f"{key}.name", entry["name"], {})
    vpc_id = _pattern(_EC2_ID.format("vpc"), "a VPC id, e.g. 'vpc-0123456789abcdef0'")(f"{key}.vpcId", entry["vpcId"], {})
    tables = entry["routeTableIds"]
    table_id = re.compile(_EC2_ID.format("rtb"))
    if not isinstance(tables, list) or not tables or len(set(map(str, tables))) != len(tables) or \
            not all(isinstance(table, str) and table_id.fullmatch(table) for table in tables):
        raise _fail(f"{key}.routeTableIds", tables, "a non-empty list of distinct route table ids, e.g. "
                    '["rtb-0123456789abcdef0"]')
    group = _pattern(_EC2_ID.format("sg"), "a security group id, e.g. 'sg-0123456789abcdef0'")(
        f"{key}.clientSecurityGroupId", entry["clientSecurityGroupId"], {})
    reads = entry.get("readsDataBucket", False)
    if not isinstance(reads, bool):
        raise _fail(f"{key}.readsDataBucket", reads, "true | false")
    return PeeredVpc(name, vpc_id, _peer_cidr(f"{key}.cidr", entry["cidr"]), tuple(tables), group, reads)


def _hsm_peering(key: str, value: Any, settings: Mapping[str, Any]) -> HsmPeering | None:
    """Application VPCs peered with the HSM VPC. Their ranges must not overlap the HSM VPC's or each other's:
    EC2 refuses to peer overlapping VPCs (Amazon VPC Peering Guide, "VPC peering limitations")."""
    if value is None:
        return None
    example = json.dumps({"demoApplicationVpc": {"cidr": "10.41.0.0/22"}, "applicationVpcs": []})
    block = _object(key, value, PEERING_KEYS, example)
    if settings.get("keyBackend") != "cloudhsm":
        raise ConfigError(f"config error: '{key}' needs keyBackend 'cloudhsm': with 'kms' there are no HSMs to share; "
                          f"leave it out (or -c {key}=null)")
    demo = block.get("demoApplicationVpc")
    demo_cidr = None
    if demo is not None:
        demo_cidr = _peer_cidr(f"{key}.demoApplicationVpc.cidr",
                               _object(f"{key}.demoApplicationVpc", demo, DEMO_VPC_KEYS, '{"cidr": "10.41.0.0/22"}'
                                       ).get("cidr"))
    entries = block.get("applicationVpcs", [])
    if not isinstance(entries, list):
        raise _fail(f"{key}.applicationVpcs", entries, "a list of existing application VPCs (may be empty)")
    vpcs = tuple(_peered_vpc(f"{key}.applicationVpcs[{index}]", entry) for index, entry in enumerate(entries))
    for attribute, label in (("name", "name"), ("vpc_id", "vpcId")):
        values = [getattr(vpc, attribute) for vpc in vpcs]
        duplicate = next((item for item in values if values.count(item) > 1), None)
        if duplicate:
            raise ConfigError(f"config error: '{key}.applicationVpcs' lists {label} {duplicate!r} twice")
    peering = HsmPeering(demo_cidr, vpcs)
    ranges = [("vpcCidr", str(settings.get("vpcCidr"))), *peering.cidrs()]
    for index, (name, cidr) in enumerate(ranges):
        for other, other_cidr in ranges[:index]:
            try:
                overlaps = ipaddress.IPv4Network(cidr).overlaps(ipaddress.IPv4Network(other_cidr))
            except ValueError:
                continue  # vpcCidr's own check names it
            if overlaps:
                raise ConfigError(f"config error: '{key}': {name} {cidr} overlaps {other} {other_cidr}; "
                                  "EC2 cannot peer VPCs whose ranges overlap")
    if not peering.cidrs():
        raise _fail(key, value, f"a demoApplicationVpc, applicationVpcs or both, e.g. {example} (or leave it out)")
    return peering
