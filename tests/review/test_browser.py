"""The HTML page in headless Chromium: screenshot it, and check the diagram and the matrix are rendered.

The page itself has no script. The test adds one to a copy, which measures rendered elements
(bounding boxes, computed styles) and writes them into the DOM that `--dump-dom` prints.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from cmk_validate.review.cli import main
from tests.review.conftest import base_template, write_assembly

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not on PATH (apt-get install -y chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH, HEIGHT = 1400, 2000
MEASURE = """<script>
(function () {
  function box(el) { var r = el.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; }
  var svg = document.getElementById("diagram");
  var kinds = {};
  document.querySelectorAll("#diagram [data-kind]").forEach(function (el) {
    var b = box(el); if (b[0] > 0 && b[1] > 0) { var k = el.getAttribute("data-kind"); kinds[k] = (kinds[k] || 0) + 1; }
  });
  var broken = Array.prototype.filter.call(document.querySelectorAll("#diagram [data-broken] rect"),
    function (r) { return getComputedStyle(r).stroke === "rgb(198, 40, 40)"; }).length;
  var tables = Array.prototype.map.call(document.querySelectorAll("table.matrix"), function (t) {
    return {rows: t.tBodies[0].rows.length, size: box(t)}; });
  var red = Array.prototype.filter.call(document.querySelectorAll("td.contradiction"),
    function (td) { return getComputedStyle(td).outlineColor === "rgb(198, 40, 40)" && box(td)[0] > 0; }).length;
  var labels = {};
  document.querySelectorAll("#diagram [data-kind] > text").forEach(function (t) {
    var r = t.getBoundingClientRect(); var k = t.parentNode.getAttribute("data-kind");
    (labels[k] = labels[k] || []).push([r.left, r.top, r.right, r.bottom]);
  });
  var nodes = Array.prototype.map.call(document.querySelectorAll("#diagram g.node > rect"), function (r) {
    var b = r.getBoundingClientRect(); return [r.parentNode.getAttribute("data-kind"), [b.left, b.top, b.right, b.bottom]]; });
  var crossings = {};   // edge kind -> node kinds its path runs through (its first and last 8 px touch its ends)
  document.querySelectorAll("#diagram g[data-kind] > path").forEach(function (p) {
    var kind = p.parentNode.getAttribute("data-kind"), total = p.getTotalLength(), m = p.getScreenCTM();
    for (var l = 8; l < total - 8; l += 2) {
      var pt = p.getPointAtLength(l), x = pt.x * m.a + pt.y * m.c + m.e, y = pt.x * m.b + pt.y * m.d + m.f;
      nodes.forEach(function (n) { var b = n[1];
        if (x > b[0] + 3 && x < b[2] - 3 && y > b[1] + 3 && y < b[3] - 3) { (crossings[kind] = crossings[kind] || {})[n[0]] = 1; } });
    }
  });
  function fill(r) { return getComputedStyle(r).fill; }
  var nodeFills = {}, legendFills = {};
  document.querySelectorAll("#diagram g.node > rect").forEach(function (r) { nodeFills[fill(r)] = 1; });
  document.querySelectorAll("#diagram [data-kind=legend] rect").forEach(function (r) { legendFills[fill(r)] = 1; });
  var out = document.createElement("pre"); out.id = "measured";
  out.textContent = JSON.stringify({svg: box(svg), kinds: kinds, broken: broken, tables: tables, red: red, labels: labels,
    nodes: nodes, crossings: crossings, nodeFills: Object.keys(nodeFills), legendFills: Object.keys(legendFills),
    external: document.querySelectorAll("[src], link[rel=stylesheet]").length});
  document.body.appendChild(out);
})();
</script>"""


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}", *args],
                          capture_output=True, text=True, timeout=90)


def _render(tmp_path: Path, assembly: Path) -> tuple[dict, Path, str]:
    page = tmp_path / "review.html"
    main([str(assembly), "--format", "html", "--output", str(page)])
    html = page.read_text()
    measured_page = tmp_path / "measured.html"
    measured_page.write_text(html.replace("</body>", MEASURE + "</body>"))
    dom = _chromium(tmp_path, "--dump-dom", measured_page.as_uri())
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom.stdout, re.S)
    assert found, f"no measurement in the DOM; chromium said: {dom.stderr[-500:]}"
    shot = tmp_path / "review.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), done.stderr[-500:]
    return json.loads(found.group(1).replace("&quot;", '"')), shot, html


def _png_is_not_blank(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (WIDTH, HEIGHT)
    idat, offset = b"", 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            idat += data[offset + 8:offset + 8 + length]
        offset += 12 + length
    pixels = zlib.decompress(idat)
    assert len(set(pixels[: len(pixels) // 2])) > 60, "the screenshot is (nearly) uniform"


def test_reference_page_renders_diagram_and_matrix(app_assemblies, tmp_path):
    measured, shot, html = _render(tmp_path, app_assemblies["reference"])
    _png_is_not_blank(shot)
    assert measured["external"] == 0 and "http" not in re.sub(r'href="https://aws.amazon.com[^"]*"|xmlns="[^"]*"', "", html)
    assert measured["svg"][0] > 800 and measured["svg"][1] > 300
    kinds = measured["kinds"]
    assert kinds["hsm"] == 3 and kinds["subnet"] == 3 and kinds["route-table"] == 3 and kinds["az"] == 3
    for kind in ("vpc", "client-host", "gateway-endpoint", "bucket", "key", "key-store", "trail"):
        assert kinds.get(kind), kind
    # the demo application VPC, peered, with its own gateway endpoint
    assert kinds["peered-vpc"] == 1 and kinds["peered-gateway-endpoint"] == 1 and kinds["peering"] == 1
    assert measured["broken"] == 0
    tables = measured["tables"]
    assert len(tables) == 6          # data bucket, three keys, the two gateway endpoints
    assert all(t["rows"] > 0 and t["size"][0] > 0 and t["size"][1] > 0 for t in tables)
    assert measured["red"] == 0


def test_broken_fixture_shows_red(tmp_path):
    template = base_template()
    template["Resources"]["GatewayEndpoint"]["Properties"]["RouteTableIds"] = [{"Ref": "RouteTableA"}]
    policy = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy[:] = [s for s in policy if s["Sid"] != "DenyInsecureTransport"]
    measured, shot, _ = _render(tmp_path, write_assembly(tmp_path / "broken", template))
    _png_is_not_blank(shot)
    assert measured["broken"] >= 3       # route table, gateway endpoint, bucket
    assert measured["red"] > 0           # contradicting matrix cells framed in red


def _overlap(a, b, margin=2.0) -> bool:
    """Two [left, top, right, bottom] boxes intersect (each grown by `margin` px)."""
    return (a[0] - margin < b[2] + margin and b[0] - margin < a[2] + margin
            and a[1] - margin < b[3] + margin and b[1] - margin < a[3] + margin)


def test_edge_labels_do_not_overlap(app_assemblies, tmp_path):
    """"aws:sourceVpce" (endpoint -> bucket) and "CloudHSM cluster" (key store -> cluster) as rendered:
    their bounding boxes are apart; no edge label overlaps another or any box."""
    measured, _, _ = _render(tmp_path, app_assemblies["reference"])
    labels = measured["labels"]
    (source_vpce,) = labels["endpoint-to-bucket"]
    (cluster,) = labels["store-to-cluster"]
    assert source_vpce[2] > source_vpce[0] and cluster[2] > cluster[0]     # both rendered
    # apart by at least 10 px either way, so other fonts' metrics do not make them touch
    assert not _overlap(source_vpce, cluster, margin=5.0), (source_vpce, cluster)
    edges = [(kind, b) for kind in ("endpoint-to-bucket", "store-to-cluster", "bucket-to-key", "key-to-store",
                                    "trail-to-bucket", "peering") for b in labels.get(kind, [])]
    for kind, label in edges:                     # no edge label is on a box
        for node, rect in measured["nodes"]:
            assert not _overlap(label, rect, margin=1.0), (kind, label, node, rect)
    for i, (kind_a, a) in enumerate(edges):
        for kind_b, b in edges[i + 1:]:
            assert not _overlap(a, b), (kind_a, a, kind_b, b)


def test_edges_cross_no_box_and_every_colour_is_in_the_legend(app_assemblies, tmp_path):
    """Each arrow, as rendered, runs through no box but the two it joins (the trail's and the endpoint's
    arrows are routed around the right-hand column), and each box colour has a legend entry."""
    measured, _, _ = _render(tmp_path, app_assemblies["reference"])
    assert measured["crossings"] == {}, measured["crossings"]
    assert {"endpoint-to-bucket", "trail-to-bucket", "store-to-cluster", "route", "peering"} <= set(measured["kinds"])
    assert len(measured["legendFills"]) == 3 and set(measured["nodeFills"]) <= set(measured["legendFills"])


def test_the_warehouses_path_crosses_no_box(synth, tmp_path):
    """The analytics assembly adds the warehouse and its COPY/UNLOAD arrow to its route table."""
    measured, _, _ = _render(tmp_path, Path(synth("analytics").outdir))
    assert measured["kinds"].get("warehouse") == 1 and "warehouse-to-route-table" in measured["kinds"]
    assert measured["crossings"] == {}, measured["crossings"]
    labels = [label for kind in ("warehouse-to-route-table", "endpoint-to-bucket") for label in measured["labels"][kind]]
    for label in labels:
        for node, rect in measured["nodes"]:
            assert not _overlap(label, rect, margin=1.0), (label, node, rect)
