"""Every rule documents itself: id, title, rationale, fix, source URL; the file is named as the rule."""

from __future__ import annotations

import re

import pytest

from cmk_validate.findings import Severity
from cmk_validate.rules import discover


@pytest.mark.parametrize("rule", discover(), ids=lambda r: r.id)
def test_rule_is_self_describing(rule):
    assert re.fullmatch(r"CK[EWI]\d{3}", rule.id)
    assert rule.title and len(rule.rationale) > 80 and rule.fix
    assert rule.source_url.startswith("https://")
    assert rule.severity() == {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO}[rule.id[2]]
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", rule.__name__).lower()
    assert rule.module_name() == snake, "file named as the rule"


def test_rule_ids_are_unique():
    ids = [rule.id for rule in discover()]
    assert len(ids) == len(set(ids)) >= 13
