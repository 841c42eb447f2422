"""cdk.json sets the feature flags `cdk init` writes for the pinned aws-cdk-lib, and differs from them
only where README.md's "Feature flags" table says so and why."""

from __future__ import annotations

import json
import re
import tarfile
from functools import lru_cache
from pathlib import Path

import aws_cdk

ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def recommended_flags() -> dict:
    """The library's own list (`cdk init` copies it into a new app's cdk.json), from the pinned package.
    Read as the archive streams by: looking a member up by name unpacks all of its tens of MB first."""
    bundle = next((Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz"))
    with tarfile.open(bundle) as archive:
        member = next(m for m in archive if m.name == "package/recommended-feature-flags.json")
        return json.load(archive.extractfile(member))


def documented_deviations() -> dict[str, tuple[object, object]]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Feature flags"):readme.index("## The offline validator")]
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \| (.+) \|$", section, re.M)
    assert all(len(why) > 40 for *_, why in rows), "each deviation says why"
    return {flag: (json.loads(theirs), json.loads(ours)) for flag, theirs, ours, _ in rows}


def test_every_recommended_flag_is_set():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    recommended = recommended_flags()
    assert len(recommended) > 50
    assert not sorted(set(recommended) - set(context))


def test_values_differ_only_where_the_readme_explains_why():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    recommended = recommended_flags()
    differing = {flag: (value, context[flag]) for flag, value in recommended.items() if context.get(flag) != value}
    assert differing == documented_deviations()


def test_no_flag_the_library_does_not_know():
    """A misspelt or retired flag in cdk.json would be ignored silently."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert not sorted(flag for flag in context if flag.startswith("@") and flag not in recommended_flags())
