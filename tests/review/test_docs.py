"""cmk_validate/review/README.md: the pull-request recipe synthesises the base with `make synth`."""

from __future__ import annotations

import re

from tests.review.conftest import ROOT


def test_pr_recipe_synthesises_the_base_with_make_and_compares_its_cdk_out():
    readme = (ROOT / "cmk_validate" / "review" / "README.md").read_text()
    section = readme[readme.index("## In a pull request"):readme.index("## Options and exit codes")]
    recipe = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in recipe.splitlines()]
    assert "(cd /tmp/base && make synth)" in commands
    # a bare `cdk synth` in a fresh worktree fails: the Lambda layer is built by make
    assert not any(re.search(r"\bcdk synth\b", c) for c in commands)
    review = next(c for c in commands if c.startswith("cmk-validate review --base"))
    assert review.split()[3:5] == ["/tmp/base/cdk.out", "cdk.out"]


def test_make_synth_builds_what_it_needs_and_writes_cdk_out():
    makefile = (ROOT / "Makefile").read_text()
    synth = re.search(r"^synth:(.*)\n((?:\t.*\n)+)", makefile, re.M)
    setup = re.search(r"^setup:(.*)$", makefile, re.M)
    assert synth and "setup" in synth.group(1).split()
    assert setup and "layers" in setup.group(1).split()
    assert "--output cdk.out" in synth.group(2)
