"""The analytics assembly's review: the warehouse's loading role is a caller of the data bucket (on its
prefix) and of the data key (through S3), allowed only through the endpoint; the warehouse is costed."""

from __future__ import annotations

import pytest

from cmk_validate.review import matrix as m
from cmk_validate.review.cost import load_prices
from cmk_validate.review.report import review_path
from tests.review.conftest import find

ROLE = "role CustomerKeysDwh-Analytics/WarehouseLoadingRole"


@pytest.fixture(scope="module")
def review(synth):
    return review_path(str(synth("analytics").outdir), prices=load_prices())


def test_loading_role_is_a_caller_of_its_prefix_only_through_the_endpoint(review):
    bucket = "bucket customer-keys-dwh-data-"
    read = find(review, bucket, ROLE, m.READ)
    assert "objects under warehouse/" in read.cell.who and read.outcome.allowed
    assert read.cell.request.resource.split(":::", 1)[1].split("/", 1)[1].startswith("warehouse/")
    assert find(review, bucket, ROLE, m.LIST).outcome.allowed
    assert not find(review, bucket, ROLE, m.DELETE).outcome.allowed          # COPY/UNLOAD never delete
    assert not find(review, bucket, ROLE, m.READ, where=m.INTERNET).outcome.allowed
    assert not find(review, bucket, ROLE, m.READ, where=m.OTHER_ENDPOINT).outcome.allowed
    assert not any(r.contradiction for r in review.results)


def test_loading_role_uses_the_data_key_only_through_s3(review):
    key = "key alias/customer-keys-dwh/data"
    assert find(review, key, ROLE, m.DECRYPT + m.VIA_S3).outcome.allowed
    assert not find(review, key, ROLE, m.DECRYPT).outcome.allowed
    assert not find(review, key, ROLE, m.DECRYPT + m.VIA_S3, where=m.INTERNET).outcome.allowed


def test_the_warehouse_is_in_the_cost_estimate(review, config_of):
    analytics = config_of("analytics").analytics
    (line,) = [line for line in review.cost.lines if line.item == f"Redshift {analytics.node_type}"]
    assert line.quantity.startswith(f"{analytics.number_of_nodes} nodes") and line.monthly > 0


def test_the_diagram_draws_the_warehouse_its_path_and_reds_a_public_one(review, synth, tmp_path):
    import json
    import re
    import shutil

    from cmk_validate.review import diagram

    svg = diagram.render(review)
    assert re.findall(r'data-kind="warehouse"', svg) == ['data-kind="warehouse"']
    assert 'data-kind="warehouse" data-key="WarehouseCluster' in svg and "2 x ra3.large" in svg
    assert not re.search(r'data-kind="warehouse"[^>]*data-broken="true"', svg)
    assert 'data-kind="warehouse-to-route-table"' in svg     # COPY/UNLOAD by the route table to the endpoint
    copy = tmp_path / "cdk.out"
    shutil.copytree(synth("analytics").outdir, copy)
    path = next(copy.glob("*-Analytics.template.json"))
    template = json.loads(path.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Redshift::Cluster":
            resource["Properties"].update(PubliclyAccessible=True, EnhancedVpcRouting=False)
    path.write_text(json.dumps(template))
    broken = diagram.render(review_path(str(copy), prices=load_prices()))
    assert re.search(r'data-kind="warehouse"[^>]*data-broken="true"', broken)
    assert "publicly accessible, COPY/UNLOAD outside the VPC" in broken
    assert 'data-kind="warehouse-to-route-table"' not in broken   # no enhanced VPC routing: no such path
