"""Run cfn-lint's own checks through its Python API and turn its matches into our findings.

The configuration is explicit, never whatever cfn-lint's command-line runner would pick up: the
rule settings (ignore_checks, include_checks, mandatory_checks, configure_rules, append_rules, ...)
of the cfn-lint configuration file a cfn-lint user expects to apply, that is the one named with
`--cfn-lint-config`, else `.cfnlintrc[.yaml|.yml]` in the working directory and in the home
directory, found the way cfn-lint finds them. Its `templates` globs are never used: the validator
lints the templates of the assembly it was given (a glob that matches nothing made cfn-lint exit
with E0003 and lose the project's own findings). A template's own `cfn-lint` metadata is honoured by
cfn-lint itself. The project's acknowledged cfn-lint checks live in one place: `.cfnlintrc.yaml`.
"""

from __future__ import annotations

import os

from cmk_validate.findings import Finding, InputError, Severity

SEVERITY_BY_LETTER = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO}
PACK_MODULE = "cmk_validate.cfn_lint_rules"


class CfnLint:
    """One cfn-lint rule set (loading it is the slow part), reused for every template and region."""

    def __init__(self, *, config_file: str | None = None, extra_ignores: tuple[str, ...] = ()) -> None:
        from cfnlint.exceptions import CfnLintExitException
        from cfnlint.runner import Runner

        if config_file is not None and not os.path.isfile(config_file):
            raise InputError(f"{config_file}: cfn-lint configuration file not found")
        self._cli_args = ["--config-file", config_file] if config_file else []
        # Lists given here add to the configuration file's lists instead of replacing them.
        self._manual: dict = {"templates": []}
        if extra_ignores:
            self._manual.update(ignore_checks=list(extra_ignores), merge_configs=True)
        self._configs: dict[str | None, object] = {}
        try:
            runner = Runner(self._config(None))
        except CfnLintExitException as error:
            raise InputError(f"cfn-lint configuration: {_one_line(error)}") from None
        # A configuration may append the validator's own rules as a cfn-lint pack (cmk_validate.cfn_lint_rules,
        # for plain cfn-lint in the same repository); here they already run as themselves, so they are left
        # out rather than report each finding twice.
        from cfnlint.rules import Rules

        self.rules = Rules({rule_id: rule for rule_id, rule in runner.rules.items()
                            if not type(rule).__module__.startswith(PACK_MODULE)})

    def _config(self, region: str | None):
        """The configuration for one region (the stack's own, else the configuration file's regions)."""
        if region not in self._configs:
            import yaml
            from cfnlint.config import ConfigMixIn
            from cfnlint.exceptions import CfnLintExitException

            manual = dict(self._manual, regions=[region]) if region else self._manual
            try:
                self._configs[region] = ConfigMixIn(self._cli_args, **manual)
            except (CfnLintExitException, ValueError, yaml.YAMLError) as error:  # bad keys or types; bad YAML
                raise InputError(f"cfn-lint configuration: {_one_line(error)}") from None
        return self._configs[region]

    @property
    def ignored(self) -> list[str]:
        """The cfn-lint checks left out by the configuration (and --cfn-lint-ignore)."""
        return list(self._config(None).ignore_checks)

    def lint(self, stack) -> list[Finding]:
        from cfnlint.runner.template.runner import run_template_by_data

        template = stack.decoded()
        if template is None:
            template = stack.template
        findings = []
        for match in run_template_by_data(template, self._config(stack.region), self.rules):
            rule_id = match.rule.id
            findings.append(Finding(
                rule_id=rule_id,
                severity=SEVERITY_BY_LETTER.get(rule_id[:1], Severity.WARNING),
                message=str(match.message),
                stack=stack.name,
                path=tuple(getattr(match, "path", None) or ()),
                fix="",
                source="cfn-lint",
                template_file=stack.template_file,
                line=match.linenumber or None,
                column=match.columnnumber or None,
                end_line=getattr(match, "linenumberend", None) or None,
                title=getattr(match.rule, "shortdesc", ""),
                help_uri=getattr(match.rule, "source_url", ""),
            ))
        return findings


    def describe(self, rule_id: str) -> dict:
        """What cfn-lint's own rule class says of itself: title, description, documentation link, tags."""
        try:
            rule = self.rules[rule_id]
        except (KeyError, TypeError):
            return {"title": rule_id, "description": "", "help_uri": "", "tags": []}
        return {"title": str(getattr(rule, "shortdesc", "") or rule_id),
                "description": str(getattr(rule, "description", "") or ""),
                "help_uri": str(getattr(rule, "source_url", "") or ""),
                "tags": [str(tag) for tag in getattr(rule, "tags", None) or []]}


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
