"""The validator's rules as a cfn-lint rule pack: `cfn-lint --append-rules cmk_validate.cfn_lint_rules
template.yaml` (the module, in the environment where cmk-validate is installed), or the path of this
directory. Each cfn-lint rule adapts one project rule (ids and how they map: `_adapter`).

cfn-lint loads a module path by instantiating the rule classes in the module's namespace, and a directory
by importing each `*.py` file in it whose name starts with a letter or digit: this file serves the first,
`architecture_invariants.py` the second, with the same classes.
"""

from cmk_validate.cfn_lint_rules import _adapter

globals().update(_adapter.rule_classes())
