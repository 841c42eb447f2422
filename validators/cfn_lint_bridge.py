"""Run cfn-lint's own checks through its Python API and turn its matches into our findings."""

from __future__ import annotations

from validators.findings import Finding, Severity

SEVERITY_BY_LETTER = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO}
# CDK-generated constructs that cfn-lint flags although the template is what CDK intends; each is explained
# in the README ("cfn-lint checks left out"). Override with --cfn-lint-ignore.
DEFAULT_IGNORES: tuple[str, ...] = (
    "W3010",  # hard-coded AZs: the app pins its AZs on purpose, HSM placement (CKE107) depends on them
    "W3005",  # DependsOn already implied by a Ref/GetAtt: CDK adds these explicitly (Provider framework, roles)
)


class CfnLint:
    """One cfn-lint runner (rule loading is the slow part), reused for every template."""

    def __init__(self, regions: list[str] | None = None, ignore: tuple[str, ...] = DEFAULT_IGNORES) -> None:
        from cfnlint.config import ConfigMixIn
        from cfnlint.runner.cli import Runner

        self.regions = regions or ["us-east-1"]
        self.runner = Runner(ConfigMixIn(regions=self.regions, ignore_checks=list(ignore)))
        self.ignore = tuple(ignore)

    def lint(self, stack) -> list[Finding]:
        from cfnlint.runner.template.runner import run_template_by_data

        template = stack.decoded()
        if template is None:
            template = stack.template
        config = self.runner.config
        if stack.region and stack.region not in self.regions:
            from cfnlint.config import ConfigMixIn

            config = ConfigMixIn(regions=[stack.region], ignore_checks=list(self.ignore))
        findings = []
        for match in run_template_by_data(template, config, self.runner.rules):
            rule_id = match.rule.id
            if any(rule_id.startswith(prefix) for prefix in self.ignore):
                continue
            path = tuple(getattr(match, "path", None) or ())
            findings.append(Finding(
                rule_id=rule_id,
                severity=SEVERITY_BY_LETTER.get(rule_id[:1], Severity.WARNING),
                message=str(match.message),
                stack=stack.name,
                path=path,
                fix="",
                source="cfn-lint",
                template_file=stack.template_file,
                line=match.linenumber or None,
                column=match.columnnumber or None,
                title=getattr(match.rule, "shortdesc", ""),
                help_uri=getattr(match.rule, "source_url", ""),
            ))
        return findings
