"""The price table: its shape is validated (one line, exit 2), a missing price is shown, never a smaller
total, and every output says the prices are unverified estimates."""

from __future__ import annotations

import copy
import json

import pytest

from cmk_validate.findings import InputError
from cmk_validate.review.cli import main
from cmk_validate.review.cost import Prices, estimate, load_prices, validate
from tests.review.conftest import ROOT, base_template, review_of, write_assembly


@pytest.fixture
def good(tmp_path):
    return write_assembly(tmp_path / "good", base_template())


@pytest.mark.parametrize("override, names", [
    ({"regions": {"eu-west-1": {"hsmHour": {"hsm2m.medium": "abc"}}}}, "regions.eu-west-1.hsmHour.hsm2m.medium must be a number"),
    ({"regions": {"eu-west-1": {"hsmHour": 3}}}, "regions.eu-west-1.hsmHour must be an object"),
    ({"regions": {"eu-west-1": {"hsmHour": {"hsm2m.medium": None}}}}, "regions.eu-west-1.hsmHour.hsm2m.medium must be a number, got null"),
    ({"regions": {"eu-west-1": {"hsmHour": {"hsm2m.medium": -1.5}}}}, "hsm2m.medium must not be negative"),
    ({"regions": {"eu-west-1": {"kmsKeyMonth": -1}}}, "regions.eu-west-1.kmsKeyMonth must not be negative"),
    ({"regions": {"eu-west-1": {"kmsKeyMonth": True}}}, "regions.eu-west-1.kmsKeyMonth must be a number"),
    ({"regions": {"eu-west-1": {"kmsKeyMonthly": 1}}}, "unknown key regions.eu-west-1.'kmsKeyMonthly'"),
    ({"regions": {"eu-west-1": 5}}, "regions.eu-west-1 must be an object"),
    ({"regionz": 1}, "unknown key 'regionz'"),
    ({"hoursPerMonth": "730"}, "hoursPerMonth must be a number"),
    ({"hoursPerMonth": 0}, "hoursPerMonth must be positive"),
    ({"sources": {"kms": 3}}, "sources.kms must be a string"),
    ({"firstDeploy": {"hours": -2}}, "firstDeploy.hours must not be negative"),
    ({"assumptions": {"trailEvents": 1}}, "unknown key assumptions.'trailEvents'"),
    ({"verified": "yes"}, "verified must be true or false"),
])
def test_bad_price_shape_is_one_line_naming_the_key_exit_2(good, tmp_path, capsys, override, names):
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(override))
    assert main([str(good), "--prices", str(prices)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and names in captured.err, captured.err
    assert "Traceback" not in captured.err and "cannot review" not in captured.err


def test_shipped_table_is_valid_and_an_override_of_a_new_region_is_accepted(tmp_path):
    validate(json.loads((ROOT / "cmk_validate" / "review" / "pricing.json").read_text()), "pricing.json")
    override = tmp_path / "p.json"
    override.write_text(json.dumps({"regions": {"ap-south-2": {"hsmHour": {"hsm2m.medium": 0}, "kmsKeyMonth": 1}}}))
    assert load_prices(str(override)).region("ap-south-2")["hsmHour"]["hsm2m.medium"] == 0
    with pytest.raises(InputError, match="missing key 'regions'"):
        validate({"currency": "USD"}, "x.json")


def _without(prices: Prices, *path: str) -> Prices:
    table = copy.deepcopy(prices.table)
    node = table
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return Prices(table, prices.origin)


def test_missing_hsm_type_is_a_visible_no_price_line_not_a_smaller_total(template, tmp_path):
    review = review_of(template, tmp_path)
    cost = estimate(review.inventory, _without(load_prices(), "regions", "eu-west-1", "hsmHour", "hsm2m.medium"))
    hsm = next(line for line in cost.lines if line.item == "CloudHSM hsm2m.medium")
    assert not hsm.priced and hsm.unit_price == "no price"
    assert cost.unpriced == ["CloudHSM hsm2m.medium"] and not cost.complete
    assert any("no HSM-hour price for 'hsm2m.medium'" in note for note in cost.notes)
    review.cost = cost
    from cmk_validate.review.cli import render

    markdown = render("markdown", review)
    assert "| CloudHSM hsm2m.medium | 2 HSMs x 730 h | **no price** | — | — |" in markdown
    assert "**total, incomplete** (without CloudHSM hsm2m.medium)" in markdown
    assert "total, incomplete (without CloudHSM hsm2m.medium)" in render("html", review)
    data = json.loads(render("json", review))["cost"]
    assert data["complete"] is False and data["unpriced"] == ["CloudHSM hsm2m.medium"]


def test_missing_region_key_is_a_no_price_line(template, tmp_path):
    review = review_of(template, tmp_path)
    cost = estimate(review.inventory, _without(load_prices(), "regions", "eu-west-1", "kmsKeyMonth"))
    assert "KMS keys" in cost.unpriced and not cost.complete


def test_missing_region_is_said_in_every_format(template, tmp_path):
    from cmk_validate.review.cli import render

    review = review_of(template, tmp_path)
    review.inventory.region = "ap-nowhere-9"
    review.cost = estimate(review.inventory, load_prices())
    assert not review.cost.complete and review.cost.lines == []
    assert "**No cost estimate**: the price table has no prices for ap-nowhere-9." in render("markdown", review)
    assert "No cost estimate</strong>: the price table has no prices for ap-nowhere-9" in render("html", review)
    assert json.loads(render("json", review))["cost"]["complete"] is False


def test_complete_estimate_is_marked_complete(good, capsys):
    assert main([str(good), "-f", "json"]) == 0
    cost = json.loads(capsys.readouterr().out)["cost"]
    assert cost["complete"] is True and cost["unpriced"] == [] and cost["monthly"] > 2000


# finding 2: the shipped table says honestly what it is, and the outputs say "unverified" by the table

def test_price_table_says_it_is_unverified_and_entered_offline():
    table = json.loads((ROOT / "cmk_validate" / "review" / "pricing.json").read_text())
    assert table["verified"] is False
    about = table["about"].lower()
    assert "unverified" in about and "entered" in about and "offline" in about and "nothing was fetched" in about
    assert "hsm1.medium and hsm2m.medium carry the same estimate" in table["about"]


def test_outputs_say_unverified_next_to_the_cost_table(good, capsys):
    assert main([str(good)]) == 0
    markdown = capsys.readouterr().out
    heading = next(line for line in markdown.splitlines() if line.startswith("### Cost estimate"))
    assert heading == "### Cost estimate (eu-west-1, USD), unverified prices"
    after = markdown[markdown.index(heading):]
    assert after.index("**Unverified**") < after.index("| item |")
    assert main([str(good), "-f", "html"]) == 0
    html = capsys.readouterr().out
    section = html[html.index('<section id="cost">'):]
    assert "<h2>Cost estimate (eu-west-1, USD), unverified prices</h2>" in section and section.index("Unverified</strong>") < section.index("<table")
    assert main([str(good), "-f", "json"]) == 0
    cost = json.loads(capsys.readouterr().out)["cost"]
    assert cost["pricesVerified"] is False and "unverified" in cost["prices"]


def test_a_verified_table_drops_the_warning(good, tmp_path, capsys):
    override = tmp_path / "p.json"
    override.write_text(json.dumps({"verified": True}))
    assert main([str(good), "--prices", str(override)]) == 0
    out = capsys.readouterr().out
    assert "**Unverified**" not in out and "(verified list-price estimates" in out
