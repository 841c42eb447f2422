"""Cost estimate from the price table, and the diagram's colouring of broken invariants."""

from __future__ import annotations

import json
import re

import pytest

from cmk_validate.findings import InputError
from cmk_validate.review import diagram
from cmk_validate.review.cost import load_prices
from stacks.config import REDSHIFT_NODE_TYPES
from tests.review.conftest import ROOT, review_of


def test_price_table_names_its_sources_and_date():
    table = json.loads((ROOT / "cmk_validate" / "review" / "pricing.json").read_text())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table["retrieved"])
    assert "to be checked" in table["about"] and "list prices" in table["about"].lower()
    assert set(table["sources"]) == {"cloudhsm", "interfaceEndpoints", "kms", "cloudtrail", "redshift"}
    assert "redshift" in table["about"].lower()    # the warehouse's prices are marked unverified too
    for region in table["regions"].values():
        assert set(region) == {"hsmHour", "interfaceEndpointAzHour", "kmsKeyMonth", "cloudTrailDataEventsPer100k",
                               "redshiftNodeHour", "redshiftManagedStorageGbMonth"}
        assert set(region["hsmHour"]) == {"hsm1.medium", "hsm2m.medium"}
        # every node type the analytics setting accepts is priced
        assert set(region["redshiftNodeHour"]) == set(REDSHIFT_NODE_TYPES)


def test_estimate_of_the_fixture(template, tmp_path):
    cost = review_of(template, tmp_path).cost
    table = json.loads((ROOT / "cmk_validate" / "review" / "pricing.json").read_text())
    hsm_price = table["regions"]["eu-west-1"]["hsmHour"]["hsm2m.medium"]
    deploy = table["firstDeploy"]
    lines = {line.item: line for line in cost.lines}
    hsm = lines["CloudHSM hsm2m.medium"]
    assert hsm.monthly == pytest.approx(2 * 730 * hsm_price)
    # the first HSM's billed hours plus the other one's, from the table's deploy timeline
    assert hsm.first_deploy == pytest.approx((deploy["firstHsmHours"] + deploy["otherHsmHours"]) * hsm_price)
    assert hsm.first_deploy == pytest.approx(2.0 * hsm_price)
    assert lines["interface VPC endpoints"].quantity == "1 endpoint, 2 endpoint-AZs"
    assert lines["KMS keys"].monthly == pytest.approx(2.0)
    assert "CloudTrail data events" in lines
    assert cost.monthly == pytest.approx(sum(line.monthly for line in cost.lines))
    assert "entered offline" in cost.origin and "unverified" in cost.origin and "to be checked" in cost.origin


def test_warehouse_is_priced_by_node_hours_and_assumed_storage(template, tmp_path):
    template["Resources"]["Warehouse"] = {"Type": "AWS::Redshift::Cluster", "Properties": {
        "ClusterType": "multi-node", "NodeType": "ra3.xlplus", "NumberOfNodes": 3, "DBName": "analytics",
        "MasterUsername": "warehouse_admin", "ManageMasterPassword": True}}
    cost = review_of(template, tmp_path).cost
    table = json.loads((ROOT / "cmk_validate" / "review" / "pricing.json").read_text())
    region = table["regions"]["eu-west-1"]
    lines = {line.item: line for line in cost.lines}
    assert lines["Redshift ra3.xlplus"].quantity == "3 nodes x 730 h"
    assert lines["Redshift ra3.xlplus"].monthly == pytest.approx(3 * 730 * region["redshiftNodeHour"]["ra3.xlplus"])
    assert lines["Redshift managed storage"].monthly == pytest.approx(
        table["assumptions"]["warehouseStorageGb"] * region["redshiftManagedStorageGbMonth"])


def test_unpriced_node_type_is_named_not_counted(template, tmp_path):
    template["Resources"]["Warehouse"] = {"Type": "AWS::Redshift::Cluster", "Properties": {
        "ClusterType": "single-node", "NodeType": "dc2.large"}}
    cost = review_of(template, tmp_path).cost
    assert "Redshift dc2.large" in cost.unpriced and not cost.complete
    assert any("redshiftNodeHour.dc2.large" in note for note in cost.notes)


def test_no_hsm_no_hsm_cost(template, tmp_path):
    for name in ("Cluster", "FirstHsm", "SecondHsm"):
        del template["Resources"][name]
    cost = review_of(template, tmp_path).cost
    assert not any("CloudHSM" in line.item for line in cost.lines)


def test_unknown_region_says_so(template, tmp_path, monkeypatch):
    review = review_of(template, tmp_path)
    from cmk_validate.review.cost import estimate

    review.inventory.region = "ap-nowhere-9"
    cost = estimate(review.inventory, load_prices())
    assert cost.lines == [] and "no prices for region 'ap-nowhere-9'" in cost.notes[0]


def test_override_merges(tmp_path):
    override = tmp_path / "p.json"
    override.write_text(json.dumps({"regions": {"eu-west-1": {"kmsKeyMonth": 3}}}))
    prices = load_prices(str(override))
    assert prices.region("eu-west-1")["kmsKeyMonth"] == 3
    assert prices.region("eu-west-1")["hsmHour"]["hsm2m.medium"] > 1      # the rest stays
    with pytest.raises(InputError):
        load_prices(str(tmp_path / "missing.json"))


def test_diagram_draws_the_assembly(template, tmp_path):
    svg = diagram.render(review_of(template, tmp_path))
    kinds = re.findall(r'data-kind="([a-z-]+)"', svg)
    assert kinds.count("hsm") == 2 and kinds.count("subnet") == 2 and kinds.count("route-table") == 2
    for kind in ("vpc", "az", "client-host", "gateway-endpoint", "bucket", "key", "key-store", "trail"):
        assert kind in kinds
    assert 'data-broken="true"' not in svg


def test_diagram_colours_broken_invariants(template, tmp_path):
    resources = template["Resources"]
    resources["GatewayEndpoint"]["Properties"]["RouteTableIds"] = [{"Ref": "RouteTableA"}]
    resources["SecondHsm"]["Properties"]["AvailabilityZone"] = "eu-west-1a"
    resources["Trail"]["Properties"]["EventSelectors"] = []
    policy = resources["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy[:] = [s for s in policy if s["Sid"] != "DenyInsecureTransport"]
    svg = diagram.render(review_of(template, tmp_path))
    broken = re.findall(r'<g class="node" data-kind="([a-z-]+)"[^>]*data-broken="true"', svg)
    assert broken.count("hsm") == 2 and broken.count("route-table") == 1
    for kind in ("gateway-endpoint", "bucket", "trail"):
        assert kind in broken


def test_the_source_vpce_edge_stands_for_the_bucket_policys_condition(template, tmp_path):
    """The endpoint -> bucket arrow is the bucket policy's aws:SourceVpce lock: drawn while the policy
    names the endpoint, gone (and the bucket red) once the condition is removed."""
    assert 'data-kind="endpoint-to-bucket"' in diagram.render(review_of(template, tmp_path / "locked"))
    policy = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    for statement in policy:
        for operator in statement.get("Condition", {}).values():
            operator.pop("aws:sourceVpce", None)
            operator.pop("aws:SourceVpce", None)
    unlocked = diagram.render(review_of(template, tmp_path / "unlocked"))
    assert 'data-kind="endpoint-to-bucket"' not in unlocked
    assert re.search(r'<g class="node" data-kind="bucket"[^>]*data-broken="true"', unlocked)


def test_key_labels_and_plurals(app_assemblies):
    """dev-kms: a plain KMS key is "KMS key" (not "KMS KMS key"), one other key is "1 other KMS key"."""
    from cmk_validate.review.cli import render
    from cmk_validate.review.report import review_path

    for mode in ("dev-kms", "reference"):
        review = review_path(str(app_assemblies[mode]), prices=load_prices())
        svg = diagram.render(review)
        labels = re.findall(r'<text[^>]*font-weight="bold">([^<]*)</text>', svg)
        assert not any("KMS KMS" in label for label in labels), labels
        others = [label for label in labels if " other KMS key" in label]
        for label in others:
            count = int(label.split()[0])
            assert label == f"{count} other KMS key{'' if count == 1 else 's'}"
        for fmt in ("markdown", "html"):
            text = render(fmt, review)
            assert "KMS KMS" not in text and "1 other KMS keys" not in text and not re.search(r"\b1 (keys|endpoints|HSMs)\b", text)
    dev = diagram.render(review_path(str(app_assemblies["dev-kms"]), prices=load_prices()))
    assert ">KMS key</text>" in dev and ">1 other KMS key</text>" in dev
    assert ">HSM-backed KMS key</text>" in diagram.render(review_path(str(app_assemblies["reference"]),
                                                                       prices=load_prices()))


def test_key_label_words():
    assert diagram.key_label("KMS") == "KMS key"
    assert diagram.key_label("HSM-backed") == "HSM-backed KMS key"
