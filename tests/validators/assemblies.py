"""Helpers for mutation tests on synthesised assemblies."""

from __future__ import annotations

import copy

from cmk_validate.model import Assembly, Stack


def copied(assembly: Assembly) -> Assembly:
    """A deep copy of the assembly's templates, so that a test may break one without touching the
    session's synthesised original."""
    clone = Assembly(root=assembly.root)
    for stack in assembly.stacks:
        clone.stacks.append(Stack(name=stack.name, template=copy.deepcopy(stack.template),
                                  template_file=stack.template_file, account=stack.account, region=stack.region))
    return clone
