"""Cost estimate from the assembly: HSMs, interface endpoints, KMS keys, the trail's data events.

Prices are never fetched (offline); they come from `pricing.json` at the repository root, with its
sources and date, optionally overridden by `--prices FILE`, and every output says which.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from validators.findings import InputError

DEFAULT_PRICES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                              "pricing.json")


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
    unit_price: str
    monthly: float
    first_deploy: float


@dataclass
class CostEstimate:
    region: str
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    origin: str = ""
    sources: dict = field(default_factory=dict)
    currency: str = "USD"

    @property
    def monthly(self) -> float:
        return sum(line.monthly for line in self.lines)

    @property
    def first_deploy(self) -> float:
        return sum(line.first_deploy for line in self.lines)


def load_prices(override: str | None = None) -> Prices:
    """pricing.json of the repository (or of the working directory when the package runs elsewhere)."""
    default = DEFAULT_PRICES if os.path.isfile(DEFAULT_PRICES) or not os.path.isfile("pricing.json") else "pricing.json"
    table = _read(default)
    origin = f"pricing.json (list prices as published, retrieved {table.get('retrieved', '?')}; to be checked)"
    if override:
        table = _merge(table, _read(override))
        origin += f", overridden by {override}"
    return Prices(table, origin)


def estimate(inv, prices: Prices) -> CostEstimate:
    table = prices.table
    result = CostEstimate(region=inv.region, origin=prices.origin, sources=table.get("sources", {}),
                          currency=table.get("currency", "USD"))
    region = prices.region(inv.region)
    if region is None:
        result.notes.append(f"no prices for region {inv.region!r} in the price table; add them or pass --prices FILE")
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
            result.notes.append(f"no HSM-hour price for {hsm_type!r} in {inv.region}")
        else:
            first = float(deploy.get("firstHsmHours", 2.0)) + (count - 1) * float(deploy.get("otherHsmHours", 1.0))
            result.lines.append(Line(f"CloudHSM {hsm_type}", f"{count} HSMs x {hours:g} h",
                                     f"{price:.2f}/HSM-hour", count * hours * price, first * price))
            result.notes.append(f"first deploy: {first:g} HSM-hours ({deploy.get('why', 'assumed deploy timeline')})")
    endpoints = topology.interface_endpoints
    if endpoints:
        price = float(region.get("interfaceEndpointAzHour", 0.0))
        az_hours = sum(max(len(e["subnets"]), 1) for e in endpoints)
        result.lines.append(Line("interface VPC endpoints", f"{len(endpoints)} endpoints, {az_hours} endpoint-AZs",
                                 f"{price:.3f}/endpoint-AZ-hour", az_hours * hours * price,
                                 az_hours * deploy_hours * price))
    if inv.keys:
        price = float(region.get("kmsKeyMonth", 1.0))
        result.lines.append(Line("KMS keys", f"{len(inv.keys)} keys", f"{price:.2f}/key-month",
                                 len(inv.keys) * price, len(inv.keys) * price * deploy_hours / hours))
    data_trails = [t for t in topology.trails if t["data_resources"]]
    if data_trails:
        events = float((table.get("assumptions") or {}).get("trailDataEventsPerMonth", 0))
        price = float(region.get("cloudTrailDataEventsPer100k", 0.10))
        result.lines.append(Line("CloudTrail data events", f"{events:,.0f} events/month (assumed)",
                                 f"{price:.2f}/100k events", events / 100_000 * price, 0.0))
    if topology.trails:
        result.notes.append("CloudTrail management events: first copy free; log storage, requests and the client host not included")
    return result


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
