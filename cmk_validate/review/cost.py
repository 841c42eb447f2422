"""Cost estimate from the assembly: HSMs, interface endpoints, KMS keys, the trail's data events, and a
Redshift warehouse (node-hours and managed storage) where there is one.

Prices are never fetched (offline); they come from `pricing.json` beside this module (package data), with its
sources and date, optionally overridden by `--prices FILE`, and every output says which.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from cmk_validate.findings import InputError

DEFAULT_PRICES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pricing.json")


@dataclass
class Prices:
    table: dict
    origin: str           # "pricing.json (retrieved 2026-11-23)" [+ "overridden by FILE"]

    def region(self, name: str) -> dict | None:
        return (self.table.get("regions") or {}).get(name)


@dataclass
class Line:
    item: str
    quantity: str
    unit_price: str                  # "no price" when the table lacks it (then monthly/first_deploy are 0)
    monthly: float
    first_deploy: float
    priced: bool = True


@dataclass
class CostEstimate:
    region: str
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    origin: str = ""
    sources: dict = field(default_factory=dict)
    currency: str = "USD"

    verified: bool = False
    region_priced: bool = True       # False: the table has no prices for the region, so no estimate at all

    @property
    def complete(self) -> bool:
        return self.region_priced and not self.unpriced

    @property
    def unpriced(self) -> list[str]:
        """Items the table has no price for: the total leaves them out and every output says so."""
        return [line.item for line in self.lines if not line.priced]

    @property
    def monthly(self) -> float:
        return sum(line.monthly for line in self.lines)

    @property
    def first_deploy(self) -> float:
        return sum(line.first_deploy for line in self.lines)


def load_prices(override: str | None = None) -> Prices:
    """The pricing.json shipped beside this module (package data, so an installed command has it too)."""
    default = DEFAULT_PRICES
    table = _read(default)
    validate(table, default)
    if override:
        extra = _read(override)
        validate(extra, override, partial=True)
        table = _merge(table, extra)
        validate(table, f"{default} merged with {override}")
    state = "verified" if table.get("verified") is True else "unverified"
    origin = (f"pricing.json ({state} list-price estimates, entered offline {table.get('retrieved', '?')}, "
              "not fetched; to be checked against the sources)")
    if override:
        origin += f", overridden by {override}"
    return Prices(table, origin)


NUMBER_KEYS_PER_REGION = ("interfaceEndpointAzHour", "kmsKeyMonth", "cloudTrailDataEventsPer100k",
                          "redshiftManagedStorageGbMonth")
TYPE_PRICES_PER_REGION = ("hsmHour", "redshiftNodeHour")   # objects: instance type -> price
SCHEMA = {"about": str, "retrieved": str, "verified": bool, "currency": str, "sources": dict,
          "hoursPerMonth": "number", "firstDeploy": dict, "assumptions": dict, "regions": dict}
FIRST_DEPLOY = {"hours": "number", "firstHsmHours": "number", "otherHsmHours": "number", "why": str}
ASSUMPTIONS = {"trailDataEventsPerMonth": "number", "warehouseStorageGb": "number"}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
        and value not in (float("inf"), float("-inf"))


def _check(value, kind, where: str, path: str) -> None:
    if kind == "number":
        if not _is_number(value):
            raise InputError(f"{path}: price table: {where} must be a number, got {_describe(value)}")
        if value < 0:
            raise InputError(f"{path}: price table: {where} must not be negative, got {value}")
    elif not isinstance(value, kind):
        raise InputError(f"{path}: price table: {where} must be {_KIND_NAMES[kind]}, got {_describe(value)}")


_KIND_NAMES = {str: "a string", bool: "true or false", dict: "an object"}


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _known(data: dict, allowed, where: str, path: str) -> None:
    for key in data:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            raise InputError(f"{path}: price table: unknown key {prefix}{key!r} (known: {', '.join(allowed)})")


def validate(table: dict, path: str, partial: bool = False) -> None:
    """Shape of a price table: known keys only, non-negative numbers, `hsmHour` an object of numbers.

    One InputError naming the key (exit 2), so a typo or a wrong type never becomes a smaller total.
    `partial`: an override file, which only needs to name what it changes.
    """
    _known(table, SCHEMA, "", path)
    for key, kind in SCHEMA.items():
        if key in table:
            _check(table[key], kind, key, path)
        elif not partial and key in ("regions",):
            raise InputError(f"{path}: price table: missing key 'regions'")
    if table.get("hoursPerMonth") == 0:
        raise InputError(f"{path}: price table: hoursPerMonth must be positive, got 0")
    for name, url in (table.get("sources") or {}).items():
        _check(url, str, f"sources.{name}", path)
    for section, schema in (("firstDeploy", FIRST_DEPLOY), ("assumptions", ASSUMPTIONS)):
        _known(table.get(section) or {}, schema, section, path)
        for key, value in (table.get(section) or {}).items():
            _check(value, schema[key], f"{section}.{key}", path)
    for region, prices in (table.get("regions") or {}).items():
        where = f"regions.{region}"
        _check(prices, dict, where, path)
        _known(prices, TYPE_PRICES_PER_REGION + NUMBER_KEYS_PER_REGION, where, path)
        for key in NUMBER_KEYS_PER_REGION:
            if key in prices:
                _check(prices[key], "number", f"{where}.{key}", path)
        for key in TYPE_PRICES_PER_REGION:
            if key in prices:
                _check(prices[key], dict, f"{where}.{key}", path)
                for instance_type, price in prices[key].items():
                    _check(price, "number", f"{where}.{key}.{instance_type}", path)


def estimate(inv, prices: Prices) -> CostEstimate:
    table = prices.table
    result = CostEstimate(region=inv.region, origin=prices.origin, sources=table.get("sources", {}),
                          currency=table.get("currency", "USD"), verified=table.get("verified") is True)
    region = prices.region(inv.region)
    if region is None:
        result.region_priced = False
        result.notes.append(f"no prices for region {inv.region!r} in the price table, so no cost estimate; "
                            "add them or pass --prices FILE")
        return result
    hours = float(table.get("hoursPerMonth", 730))
    deploy = table.get("firstDeploy") or {}
    deploy_hours = float(deploy.get("hours", 2.0))
    topology = inv.topology
    count = len(topology.hsms)
    if count:
        hsm_type = topology.hsm_type or "hsm1.medium"
        price = (region.get("hsmHour") or {}).get(hsm_type)
        if price is None:
            result.lines.append(Line(f"CloudHSM {hsm_type}", f"{_n(count, 'HSM')} x {hours:g} h", "no price", 0.0, 0.0,
                                     priced=False))
            result.notes.append(f"no HSM-hour price for {hsm_type!r} in {inv.region}: the total leaves the HSMs out; "
                                "add it or pass --prices FILE")
        else:
            first = float(deploy.get("firstHsmHours", 2.0)) + (count - 1) * float(deploy.get("otherHsmHours", 1.0))
            result.lines.append(Line(f"CloudHSM {hsm_type}", f"{_n(count, 'HSM')} x {hours:g} h",
                                     f"{price:.2f}/HSM-hour", count * hours * price, first * price))
            result.notes.append(f"first deploy: {first:g} HSM-hours ({deploy.get('why', 'assumed deploy timeline')})")
    endpoints = topology.interface_endpoints
    if endpoints:
        az_hours = sum(max(len(e["subnets"]), 1) for e in endpoints)
        quantity = f"{_n(len(endpoints), 'endpoint')}, {_n(az_hours, 'endpoint-AZ')}"
        price = region.get("interfaceEndpointAzHour")
        if price is None:
            result.lines.append(_unpriced("interface VPC endpoints", quantity, "interfaceEndpointAzHour", inv.region, result))
        else:
            result.lines.append(Line("interface VPC endpoints", quantity, f"{price:.3f}/endpoint-AZ-hour",
                                     az_hours * hours * price, az_hours * deploy_hours * price))
    if inv.keys:
        quantity = _n(len(inv.keys), "key")
        price = region.get("kmsKeyMonth")
        if price is None:
            result.lines.append(_unpriced("KMS keys", quantity, "kmsKeyMonth", inv.region, result))
        else:
            result.lines.append(Line("KMS keys", quantity, f"{price:.2f}/key-month",
                                     len(inv.keys) * price, len(inv.keys) * price * deploy_hours / hours))
    data_trails = [t for t in topology.trails if t["data_resources"]]
    if data_trails:
        events = float((table.get("assumptions") or {}).get("trailDataEventsPerMonth", 0))
        quantity = f"{events:,.0f} events/month (assumed)"
        price = region.get("cloudTrailDataEventsPer100k")
        if price is None:
            result.lines.append(_unpriced("CloudTrail data events", quantity, "cloudTrailDataEventsPer100k",
                                          inv.region, result))
        else:
            result.lines.append(Line("CloudTrail data events", quantity,
                                     f"{price:.2f}/100k events", events / 100_000 * price, 0.0))
    for warehouse in topology.warehouses:
        result.lines += _warehouse(warehouse, region, table, hours, deploy_hours, inv.region, result)
    if topology.trails:
        result.notes.append("CloudTrail management events: first copy free; log storage, requests and the client host not included")
    return result


def _warehouse(warehouse: dict, region: dict, table: dict, hours: float, deploy_hours: float, region_name: str,
               result: CostEstimate) -> list[Line]:
    """A provisioned Redshift cluster: node-hours (billed while it runs, paused clusters excepted) and
    managed storage for an assumed volume (https://aws.amazon.com/redshift/pricing/)."""
    node_type, nodes = warehouse["node_type"], warehouse["nodes"]
    item = f"Redshift {node_type}"
    quantity = f"{_n(nodes, 'node')} x {hours:g} h"
    price = (region.get("redshiftNodeHour") or {}).get(node_type)
    if price is None:
        lines = [_unpriced(item, quantity, f"redshiftNodeHour.{node_type}", region_name, result)]
    else:
        lines = [Line(item, quantity, f"{price:.3f}/node-hour", nodes * hours * price, nodes * deploy_hours * price)]
    storage = float((table.get("assumptions") or {}).get("warehouseStorageGb", 0))
    if storage:
        quantity = f"{storage:,.0f} GB (assumed)"
        price = region.get("redshiftManagedStorageGbMonth")
        if price is None:
            lines.append(_unpriced("Redshift managed storage", quantity, "redshiftManagedStorageGbMonth",
                                   region_name, result))
        else:
            lines.append(Line("Redshift managed storage", quantity, f"{price:.4f}/GB-month", storage * price, 0.0))
    result.notes.append("Redshift: a paused cluster bills storage only; snapshots beyond the free backup storage, "
                        "Spectrum and concurrency scaling are not included")
    return lines


def _n(count: int, noun: str) -> str:
    """"1 key", "2 keys"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _unpriced(item: str, quantity: str, key: str, region: str, result: CostEstimate) -> Line:
    result.notes.append(f"no {key} price in {region}: the total leaves {item} out; add it or pass --prices FILE")
    return Line(item, quantity, "no price", 0.0, 0.0, priced=False)


def _read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise InputError(f"{path}: cannot read the price table: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}:{error.lineno}:{error.colno}: invalid JSON in the price table: {error.msg}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: the price table must be a JSON object")
    return data


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged
