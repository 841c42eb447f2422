"""The same rules at `cdk synth`, through CDK's policy validation plugin API.

    from cmk_validate.cdk_plugin import ArchitectureInvariantsPlugin
    cdk.Validations.of(app).add_plugins(ArchitectureInvariantsPlugin())

Errors fail the synth, and so do undecided ("cannot prove") findings: they are warnings, since nothing wrong
was found, but the gate fails closed on them. Other warnings are shown in the validation report.
"""

from __future__ import annotations

import os
import sys
from itertools import groupby
from typing import Iterable, Sequence

import aws_cdk as cdk
import jsii

from cmk_validate import __version__
from cmk_validate.context import Options
from cmk_validate.findings import InputError, Severity


@jsii.implements(cdk.IPolicyValidationPlugin)
class ArchitectureInvariantsPlugin:
    """Runs every discovered rule (or `rules` minus `skip`) on the synthesised templates."""

    def __init__(self, *, break_glass_principals: Sequence[str] | None = None, bucket_encryption: str = "auto",
                 key_administrators: Sequence[str] | None = None, rules: Iterable[str] = (),
                 skip: Iterable[str] = ()) -> None:
        from cmk_validate.rules import discover, select

        self._options = Options(break_glass_principals=tuple(break_glass_principals)
                                if break_glass_principals is not None else None,
                                bucket_encryption=bucket_encryption,
                                key_administrators=tuple(key_administrators) if key_administrators is not None else None)
        self._rules = list(select(discover(), rules, skip))

    @property
    def name(self) -> str:
        return "ArchitectureInvariants"

    @property
    def version(self) -> str:
        return __version__

    @property
    def rule_ids(self) -> list[str]:
        return [rule.id for rule in self._rules]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        from cmk_validate.engine import run

        paths = list(context.template_paths)
        try:
            assembly = _load(paths)
        except (InputError, RecursionError, OSError) as error:
            return cdk.PolicyValidationPluginReport(success=False, plugin_version=__version__, violations=[
                cdk.PolicyViolation(rule_name="input", description=str(error), severity="error",
                                    violating_resources=[])])
        report = run(assembly, self._rules, self._options, cfn_lint=False, with_lines=False)
        # CDK applies its own acknowledgements (and records who waived what, where): pass those findings on.
        active = sorted((f for f in report.shown(Severity.WARNING) if not f.suppressed or f.suppressed_by == "CDK"),
                        key=lambda f: (f.rule_id, f.message))
        violations = []
        for (rule_id, message), group in groupby(active, key=lambda f: (f.rule_id, f.message)):
            group = list(group)
            first = group[0]
            violations.append(cdk.PolicyViolation(
                rule_name=rule_id,
                description=f"{first.title}: {message}" if first.title else message,
                fix=first.fix or None,
                severity=first.severity.label,
                rule_metadata={"source": first.help_uri} if first.help_uri else None,
                violating_resources=[cdk.PolicyViolatingResource(
                    resource_logical_id=f.resource or f.stack,
                    template_path=f.template_file,
                    locations=["/".join(str(p) for p in f.path[2:]) or f.path_text or "(template)"],
                ) for f in group],
            ))
        unwaived = [f for f in active if not f.suppressed]
        # The command line's gate at --min-severity error: errors, and undecided findings at any threshold.
        success = not report.active(Severity.ERROR)
        errors = sum(1 for f in unwaived if f.severity == Severity.ERROR)
        undecided = sum(1 for f in unwaived if f.undecided)
        # CDK leaves a passing plugin out of its report: this line shows a reviewer that the rules ran.
        acknowledged = sum(1 for f in report.findings if f.suppressed)
        print(f"{self.name}: {len(self._rules)} rule(s) on {len(report.stacks)} stack(s): {errors} error(s), "
              f"{len(unwaived) - errors} warning(s), {acknowledged} acknowledged"
              + (f", {undecided} undecided (cannot prove: the synth fails closed)" if undecided else ""),
              file=sys.stderr)
        # Shown in cdk.out/validation-report.json next to the plugin's findings. CDK 2.x lists a plugin
        # there only when it failed or reported a violation, so a clean pass leaves no entry even with
        # this metadata (see the test "a passing run leaves no plugin entry").
        metadata = {"rules": str(len(self._rules)), "ruleIds": ",".join(self.rule_ids),
                    "stacks": str(len(report.stacks)), "findings": str(len(active))}
        return cdk.PolicyValidationPluginReport(success=success, violations=violations, plugin_version=__version__,
                                                metadata=metadata)


def _load(paths: list[str]):
    """The whole assembly when its manifest is there (it is, at synth), else the templates given."""
    from cmk_validate.model import load
    from cmk_validate.model.assembly import Assembly, _load_nested, _load_template

    directories = {os.path.dirname(os.path.abspath(p)) for p in paths}
    if len(directories) == 1:
        directory = directories.pop()
        if os.path.isfile(os.path.join(directory, "manifest.json")):
            return load(directory)
    assembly = Assembly(root=os.path.commonpath([os.path.abspath(p) for p in paths]) if paths else ".")
    for path in paths:
        stack = _load_template(path, os.path.basename(path).split(".")[0])
        assembly.stacks.append(stack)
        _load_nested(assembly, stack, os.path.realpath(assembly.root))
    return assembly
