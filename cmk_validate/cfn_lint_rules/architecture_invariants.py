"""The pack's rule classes, for `cfn-lint --append-rules <this directory>`: cfn-lint imports this file on its
own (not as part of the package) and instantiates the rule classes in its namespace."""

from cmk_validate.cfn_lint_rules import _adapter

globals().update(_adapter.rule_classes())
