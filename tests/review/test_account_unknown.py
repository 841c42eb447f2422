"""A lone template written with AWS::AccountId does not say its account: cells whose allowed request comes
from an account its policies name literally are decided by the deploying account, reported apart and not
passed; with the account known (a synthesised assembly's environment) they are decided."""

from __future__ import annotations

import json
from pathlib import Path

from cmk_validate.model import load
from cmk_validate.review.cli import main
from cmk_validate.review.report import review_path
from tests.review.conftest import write_assembly

TEMPLATE = Path(__file__).resolve().parents[1] / "validators" / "fixtures" / "base_architecture.yaml"
NAMED = "111122223333"   # the account of the template's role ARNs


def test_cells_only_the_deploying_account_decides_are_reported_apart(capsys):
    review = review_path(str(TEMPLATE))
    assert review.contradictions == []
    assert review.account_dependent, "the key administrator of the named account may put the key policy"
    for result in review.account_dependent:
        assert result.outcome.allowed and f":{NAMED}:" in result.outcome.witness["principal"]
        assert result.cell.caller.outside
    assert review.summary().startswith("UNDECIDED:") and f"unless account {NAMED} is the deploying" in review.summary()
    assert main([str(TEMPLATE), "-f", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["account_dependent"] == len(review.account_dependent)


def test_with_the_account_known_the_same_cells_are_decided(tmp_path):
    template = json.loads(json.dumps(load(str(TEMPLATE)).stacks[0].template))
    review = review_path(str(write_assembly(tmp_path / "known", template)))   # environment aws://111122223333/...
    assert review.inventory.account_known
    assert review.account_dependent == [] and review.contradictions == []
    assert review.summary().startswith("OK:")
