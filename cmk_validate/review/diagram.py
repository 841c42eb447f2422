"""SVG diagram of the assembly: VPC, AZs and subnets, HSMs per AZ, client host, a Redshift warehouse, the
S3 gateway endpoint and its route tables, the bucket, the key store and key, the trail, and below the HSM
VPC each application VPC peered with it (its subnets, its own S3 gateway endpoint, the peering). Red where an
invariant is broken.

Drawn from the inventory, never from a picture of the intended design, so a change that drops a
route table association or an HSM shows up in the drawing too. Every node carries `data-kind` (and
`data-broken` when red) so tests and readers can find it.
"""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 1260, 540
PEERED_H = 120   # each peered application VPC adds a band of this height below the HSM VPC
VPC_X, VPC_Y, VPC_W, VPC_H = 20, 50, 760, 450
RIGHT_X, RIGHT_W = 840, 330
OK_FILL, OK_STROKE = "#eef6ee", "#2e7d32"
BAD_FILL, BAD_STROKE = "#fdecea", "#c62828"
PLAIN_FILL, PLAIN_STROKE = "#f4f6fa", "#51607a"


def key_label(kind: str) -> str:
    """"HSM-backed KMS key", or "KMS key" for a key whose kind is plain KMS (not "KMS KMS key")."""
    return "KMS key" if kind.upper() == "KMS" else f"{kind} KMS key"


def broken_parts(review) -> dict[str, str]:
    """Element key -> why it is red."""
    inv = review.inventory
    broken: dict[str, str] = {}
    for result in review.contradictions:
        broken.setdefault(result.cell.subject, f"{result.cell.subject} contradicts: {result.expectation.clause}")
    endpoint_tables = {t for e in inv.endpoints for t in e.route_tables}
    for subnet in inv.topology.subnets:
        for table in subnet["route_tables"]:
            if inv.endpoints and table not in endpoint_tables:
                broken[f"rtb:{table}"] = "route table without the S3 gateway endpoint"
    if not inv.endpoints and inv.buckets:
        broken["endpoint:none"] = "no S3 gateway endpoint"
    for peered in inv.topology.peered_vpcs:
        if peered["unserved_tables"]:
            broken[f"peered:{peered['peering']}"] = (f"{len(peered['unserved_tables'])} route table(s) of the application "
                                                    "VPC without its S3 gateway endpoint")
    zones = {h["az"] for h in inv.topology.hsms}
    if inv.topology.hsms and len(zones) < 2:
        broken["hsms"] = f"HSMs in {len(zones)} AZ: a single AZ failure takes the key store down"
    for bucket in inv.buckets:
        covered = any(v.startswith(bucket.arn) or v.rstrip("/") == bucket.arn
                      for trail in inv.topology.trails for v in trail["data_resources"])
        if not covered:
            broken[f"trail-of:{bucket.label}"] = f"no trail records data events of {bucket.name}"
    for warehouse in inv.topology.warehouses:
        gaps = [why for ok, why in ((warehouse["private"], "publicly accessible"),
                                    (warehouse["vpc_routing"], "COPY/UNLOAD outside the VPC (no enhanced VPC routing)"),
                                    (warehouse["encrypted"], "not encrypted")) if not ok]
        if gaps:
            broken[f"warehouse:{warehouse['logical_id']}"] = "Redshift warehouse " + ", ".join(gaps)
    return broken


def render(review) -> str:
    inv = review.inventory
    broken = broken_parts(review)
    height = HEIGHT + PEERED_H * len(inv.topology.peered_vpcs)
    out = [f'<svg id="diagram" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="architecture diagram" '
           'font-family="Helvetica, Arial, sans-serif" font-size="12">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#51607a"/></marker></defs>',
           f'<text x="{VPC_X}" y="30" font-size="16" font-weight="bold">{escape(inv.account)} / {escape(inv.region)}</text>']
    out += _vpc(inv, broken)
    out += _outside(inv, review, broken)
    out += _peered(inv, broken)
    out += _legend(height)
    out.append("</svg>")
    return "\n".join(out)


def _box(kind: str, x: float, y: float, w: float, h: float, label: str, sub: str = "", why: str | None = None,
         plain: bool = False, key: str = "") -> str:
    fill, stroke = (BAD_FILL, BAD_STROKE) if why else ((PLAIN_FILL, PLAIN_STROKE) if plain else (OK_FILL, OK_STROKE))
    attrs = f' data-kind="{kind}"' + (f' data-key="{escape(key)}"' if key else "") + (' data-broken="true"' if why else "")
    title = f"<title>{escape(label)}{': ' + escape(why) if why else ''}</title>"
    text = f'<text x="{x + 6}" y="{y + 16}" font-weight="bold">{escape(label)}</text>'
    for number, line in enumerate(sub.split("\n") if sub else []):
        text += f'<text x="{x + 6}" y="{y + 31 + 14 * number}" fill="#333">{escape(line)}</text>'
    return (f'<g class="node"{attrs}>{title}<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{2.5 if why else 1.5}"/>{text}</g>')


def _line(x1, y1, x2, y2, label: str = "", kind: str = "link", dy: float = -4, at: float = 0.5, dx: float = 4) -> str:
    """An arrow; its label sits at fraction `at` along it (0 = start), offset by (dx, dy); a label with
    line breaks is set in lines, for short arrows."""
    lx, ly = x1 + (x2 - x1) * at + dx, y1 + (y2 - y1) * at + dy
    lines = "".join(f'<tspan x="{lx:g}" dy="{0 if number == 0 else 12}">{escape(line)}</tspan>'
                    for number, line in enumerate(label.split("\n")))
    text = (f'<text class="edge-label" x="{lx:g}" y="{ly:g}" fill="#51607a" font-size="10">{lines}</text>'
            if label else "")
    return (f'<g data-kind="{kind}"><path d="M {x1} {y1} L {x2} {y2}" stroke="#51607a" stroke-width="1.3" fill="none" '
            f'marker-end="url(#arrow)"/>{text}</g>')


def _path(points: list[tuple[float, float]], label: str, kind: str, label_at: tuple[float, float]) -> str:
    """An arrow with elbows, routed around the boxes between its ends; its label at `label_at`."""
    d = " ".join(f"{'M' if number == 0 else 'L'} {x:g} {y:g}" for number, (x, y) in enumerate(points))
    text = (f'<text class="edge-label" x="{label_at[0]:g}" y="{label_at[1]:g}" fill="#51607a" font-size="10">'
            f'{escape(label)}</text>')
    return (f'<g data-kind="{kind}"><path d="{d}" stroke="#51607a" stroke-width="1.3" fill="none" '
            f'marker-end="url(#arrow)"/>{text}</g>')


def _locks_to(bucket, endpoint) -> bool:
    """The bucket policy names the endpoint in an aws:SourceVpce condition (the lock the edge stands for)."""
    return any(condition.key.lower() == "aws:sourcevpce" and endpoint.token in condition.values
               for statement in bucket.policy or [] for condition in statement.conditions)


def _vpc(inv, broken) -> list[str]:
    topology = inv.topology
    out = [f'<g data-kind="vpc"><rect x="{VPC_X}" y="{VPC_Y}" width="{VPC_W}" height="{VPC_H}" rx="10" fill="#fbfcfe" '
           f'stroke="#1f4e99" stroke-width="2"/><text x="{VPC_X + 10}" y="{VPC_Y + 20}" font-weight="bold" fill="#1f4e99">'
           f'VPC {escape(topology.vpc_cidr or "(no VPC in the assembly)")}</text></g>']
    zones = list(dict.fromkeys([s["az"] for s in topology.subnets] + [h["az"] for h in topology.hsms]
                               + [c["az"] for c in topology.client_hosts])) or ["(no AZ)"]
    column = (VPC_W - 20) / len(zones)
    table_points = []
    hsm_why = broken.get("hsms")
    for index, zone in enumerate(zones):
        x = VPC_X + 10 + index * column
        w = column - 10
        out.append(f'<g data-kind="az"><rect x="{x}" y="{VPC_Y + 32}" width="{w}" height="{VPC_H - 140}" rx="8" '
                   f'fill="none" stroke="#8da2c0" stroke-dasharray="5 4"/><text x="{x + 8}" y="{VPC_Y + 48}" '
                   f'fill="#3b5a8a">AZ {escape(zone)}</text></g>')
        y = VPC_Y + 58
        for subnet in [s for s in topology.subnets if s["az"] == zone]:
            out.append(_box("subnet", x + 6, y, w - 12, 44, f"subnet {subnet['cidr']}", "isolated", plain=True,
                            key=subnet["logical_id"]))
            y += 52
            for table in subnet["route_tables"]:
                why = broken.get(f"rtb:{table}")
                out.append(_box("route-table", x + 6, VPC_Y + VPC_H - 150, w - 12, 40, "route table",
                                "S3 prefix list -> endpoint" if not why else "", why, key=table))
                table_points.append((x + w / 2, VPC_Y + VPC_H - 110, bool(why)))
        for hsm in [h for h in topology.hsms if h["az"] == zone]:
            out.append(_box("hsm", x + 6, y, w - 12, 40, "HSM", topology.hsm_type, hsm_why, key=hsm["logical_id"]))
            y += 48
        for host in [c for c in topology.client_hosts if c["az"] == zone]:
            out.append(_box("client-host", x + 6, y, w - 12, 40, "client host", host["instance_type"], plain=True,
                            key=host["logical_id"]))
            y += 48
        if index == 0:  # Redshift places a cluster's nodes in one AZ of its subnet group, chosen at create
            for warehouse in topology.warehouses:
                out.append(_box("warehouse", x + 6, y, w - 12, 40, "Redshift warehouse",
                                f"{warehouse['nodes']} x {warehouse['node_type']}",
                                broken.get(f"warehouse:{warehouse['logical_id']}"), key=warehouse["logical_id"]))
                y += 48
            if topology.warehouses and all(w_["vpc_routing"] for w_ in topology.warehouses):
                # enhanced VPC routing: COPY/UNLOAD leave by the subnet's route table, to the gateway endpoint
                out.append(_line(x + w - 50, y - 8, x + w - 50, VPC_Y + VPC_H - 150, "COPY/\nUNLOAD",
                                 "warehouse-to-route-table", dy=-6))
        enis = [e for e in topology.interface_endpoints
                if any(s["az"] == zone and s["id"] in e["subnets"] for s in topology.subnets)]
        if enis:
            names = ", ".join(e["service"].rsplit(".", 1)[-1] for e in enis)
            out.append(f'<text data-kind="interface-endpoints" x="{x + 8}" y="{min(y + 14, VPC_Y + VPC_H - 160)}" '
                       f'font-size="10" fill="#555"><title>{escape(names)}</title>'
                       f'{len(enis)} interface endpoint ENIs</text>')
    gateway_y = VPC_Y + VPC_H - 78
    if inv.endpoints:
        endpoint = inv.endpoints[0]
        why = broken.get(endpoint.label) or next((v for k, v in broken.items() if k.startswith("rtb:")), None)
        out.append(_box("gateway-endpoint", VPC_X + 150, gateway_y, VPC_W - 300, 54, "S3 gateway endpoint",
                        f"{endpoint.logical_id}, policy: {'custom' if endpoint.policy is not None else 'full access'}",
                        why, key=endpoint.label))
        for px, py, bad in table_points:
            if bad:
                continue  # no route to the endpoint: no arrow
            out.append(_line(px, py, max(VPC_X + 160, min(px, VPC_X + VPC_W - 160)), gateway_y, "", "route"))
    else:
        out.append(_box("gateway-endpoint", VPC_X + 150, gateway_y, VPC_W - 300, 54, "no S3 gateway endpoint", "",
                        broken.get("endpoint:none", "missing")))
    return out


def _outside(inv, review, broken) -> list[str]:
    out = []
    y = VPC_Y
    bucket_anchor = None
    for bucket in inv.buckets[:2]:
        encryption = "SSE-C required" if bucket.sse_c_required else f"SSE-KMS ({bucket.default_algorithm or 'none'})"
        out.append(_box("bucket", RIGHT_X, y, RIGHT_W, 58, "data bucket", bucket.name[:48] + "\n" + encryption,
                        broken.get(bucket.label), key=bucket.label))
        bucket_anchor = bucket_anchor or (RIGHT_X, y + 29)
        y += 70
    locked = next((b for b in inv.buckets[:2] if inv.endpoints and _locks_to(b, inv.endpoints[0])), None)
    if locked is not None:
        # Drawn only where the bucket policy names the endpoint. Routed below the AZs and up between
        # them and the VPC's border, so it crosses no box and leaves the gap to the right-hand column to
        # the key store's arrow and its label; labelled on its first leg.
        start_y, gap_x = VPC_Y + VPC_H - 51, VPC_X + VPC_W - 10
        anchor_y = VPC_Y + 29 + 70 * inv.buckets.index(locked)
        out.append(_path([(VPC_X + VPC_W - 150, start_y), (gap_x, start_y), (gap_x, anchor_y), (RIGHT_X, anchor_y)],
                         "aws:sourceVpce", "endpoint-to-bucket", (VPC_X + VPC_W - 142, start_y - 4)))
    data_keys = [k for k in inv.keys if inv.bucket_using(k)] or inv.keys[:1]
    key_y = y + 30
    for key in data_keys[:1]:
        out.append(_box("key", RIGHT_X, key_y, RIGHT_W, 54, key_label(key.kind), key.alias or key.logical_id,
                        broken.get(key.label), key=key.label))
        if bucket_anchor:
            out.append(_line(RIGHT_X + 60, bucket_anchor[1] + 29, RIGHT_X + 60, key_y, "default encryption", "bucket-to-key"))
    store_y = key_y + 90
    if inv.topology.key_store:
        out.append(_box("key-store", RIGHT_X, store_y, RIGHT_W, 50, "KMS custom key store", inv.topology.key_store))
        out.append(_line(RIGHT_X + 60, key_y + 54, RIGHT_X + 60, store_y, "key material", "key-to-store"))
        if inv.topology.hsms:
            out.append(_line(RIGHT_X, store_y + 25, VPC_X + VPC_W, store_y + 25, "CloudHSM\ncluster", "store-to-cluster",
                             dx=-24, dy=14))
    others = [k for k in inv.keys if k not in data_keys[:1]]
    other_y = store_y + 70
    if others:
        text = ", ".join((k.alias or k.logical_id)[:28] for k in others)
        why = next((broken[k.label] for k in others if k.label in broken), None)
        out.append(_box("other-keys", RIGHT_X, other_y, RIGHT_W, 44, f"{len(others)} other KMS key{'' if len(others) == 1 else 's'}", text[:52], why,
                        plain=not why))
    trail_y = other_y + 60
    for bucket in inv.buckets[:1]:
        why = broken.get(f"trail-of:{bucket.label}")
        trail = next(iter(inv.topology.trails), None)
        out.append(_box("trail", RIGHT_X, trail_y, RIGHT_W, 50, "CloudTrail trail" if trail else "no trail",
                        (trail["logical_id"] + (", data events" if not why else "")) if trail else "", why))
        if bucket_anchor:   # up the right margin, not through the key and key store boxes
            right, margin_x = RIGHT_X + RIGHT_W, RIGHT_X + RIGHT_W + 18
            out.append(_path([(right, trail_y + 25), (margin_x, trail_y + 25), (margin_x, bucket_anchor[1]),
                              (right, bucket_anchor[1])], "records", "trail-to-bucket",
                             (margin_x + 4, (trail_y + 25 + bucket_anchor[1]) / 2)))
    return out


def _peered(inv, broken) -> list[str]:
    """One band per peered application VPC, under the HSM VPC, with the peering drawn up to it."""
    out = []
    for index, peered in enumerate(inv.topology.peered_vpcs):
        y = VPC_Y + VPC_H + 20 + index * PEERED_H
        why = broken.get(f"peered:{peered['peering']}")
        subnets = ", ".join(peered["subnets"][:4]) or "subnets outside this assembly"
        out.append(_box("peered-vpc", VPC_X, y, VPC_W - 260, PEERED_H - 30,
                        f"application VPC {peered['cidr'] or peered['name']} (peered)",
                        f"{peered['name']}\nsubnets {subnets}\nreaches the HSMs on TCP 2223-2225 (client group)",
                        why, plain=not why, key=peered["peering"]))
        endpoint = peered["endpoint"]
        out.append(_box("peered-gateway-endpoint", VPC_X + VPC_W - 250, y, 250, PEERED_H - 30,
                        "its S3 gateway endpoint" if endpoint else "no S3 gateway endpoint",
                        (endpoint.rsplit("/", 1)[-1][:34] + "\nin the bucket's aws:sourceVpce") if endpoint
                        else "does not read the data bucket", why, plain=not endpoint, key=endpoint or ""))
        out.append(_line(VPC_X + 120, y, VPC_X + 120, VPC_Y + VPC_H, "VPC peering", "peering", dy=0, dx=6))
    return out


def _legend(height: int = HEIGHT) -> list[str]:
    y = height - 18
    return [f'<g data-kind="legend"><rect x="{VPC_X}" y="{y - 11}" width="14" height="12" fill="{OK_FILL}" stroke="{OK_STROKE}"/>'
            f'<text x="{VPC_X + 20}" y="{y}">invariant holds</text>'
            f'<rect x="{VPC_X + 130}" y="{y - 11}" width="14" height="12" fill="{BAD_FILL}" stroke="{BAD_STROKE}"/>'
            f'<text x="{VPC_X + 150}" y="{y}">invariant broken</text>'
            f'<rect x="{VPC_X + 270}" y="{y - 11}" width="14" height="12" fill="{PLAIN_FILL}" stroke="{PLAIN_STROKE}"/>'
            f'<text x="{VPC_X + 290}" y="{y}">context, no invariant of its own</text></g>']
