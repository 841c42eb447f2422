"""cfn-lint rule classes that run the project's rules: one per project rule and severity, made from the rule
classes `cmk_validate.rules.discover()` finds, so a new rule file is in the pack without an edit here.

Ids. cfn-lint takes a rule's severity from the first letter of its id and expects a letter and four digits
(its own rules use E0000-E8xxx, W, I); custom rules conventionally take 9xxx. A project rule `CK<S><nnn>`
becomes `E9<nnn>` for its error findings, `W9<nnn>` for its warnings and `I9<nnn>` for information
(`CKE101` -> `E9101`; a `CKE104` finding that is only a warning -> `W9104`), and every message starts with
the project id. The class of the rule's own severity runs the rule and reports the other severities'
findings through its two siblings, cfn-lint's child rules, so `--ignore-checks W9104` leaves out exactly
CKE104's warnings. cfn-lint reports `I` ids only with `--include-checks I`, as `cmk-validate` shows
information only with `--min-severity info`. `E9000` says the validator could not read the template
(where `cmk-validate` exits 2), so the gate fails closed here too. A "cannot prove" finding is a warning
(`CKE101` undecided -> `W9101`, its message starts `CKE101: cannot prove:`); cfn-lint exits non-zero on
warnings unless told otherwise, so the gate fails closed on it as long as `--non-zero-exit-code` is left at
its default (or set to `warning`) and the `W9xxx` ids are not ignored.

The rules run once per template, all together, through the same engine as `cmk-validate` (every condition
scenario, acknowledgements in resource metadata applied), on a model built from the template cfn-lint
decoded (or, for a template of a cloud assembly, on the whole assembly, whose stacks import from each
other); each class reports its own rule's findings from that one run. The settings that decide verdicts
(`break-glass`, `key-admin`, `bucket-encryption`, `rule`, `skip`) come from the validator's settings file,
found from the working directory as `cmk-validate` finds it, so both give the same verdict in the same
repository; how findings are shown is cfn-lint's to decide (its ignore and include checks).
"""

from __future__ import annotations

import os
import re
import weakref
from functools import lru_cache

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from cmk_validate.findings import Finding, InputError, Severity

LETTER = {Severity.ERROR: "E", Severity.WARNING: "W", Severity.INFO: "I"}
PROJECT_ID = re.compile(r"^CK([EWI])(\d{3})$")
INPUT_RULE_ID = "E9000"


def cfn_lint_id(project_id: str, severity: Severity) -> str:
    """The cfn-lint id of the findings of one project rule at one severity: `CKE101`, error -> `E9101`."""
    match = PROJECT_ID.match(project_id)
    if match is None:
        raise ValueError(f"{project_id!r} is not a project rule id (CK + E/W/I + three digits)")
    return f"{LETTER[severity]}9{match.group(2)}"


# The findings of the last templates checked, by cfn-lint's Template object: the first of the pack's
# classes to run on a template runs every project rule, the others read that result.
_RESULTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _findings(cfn) -> list[Finding] | InputError:
    if cfn not in _RESULTS:
        _RESULTS[cfn] = _run(cfn)
    return _RESULTS[cfn]


def _run(cfn) -> list[Finding] | InputError:
    from cmk_validate.engine import run
    from cmk_validate.model import load
    from cmk_validate.model.assembly import from_template

    try:
        assembly = _assembly_holding(cfn.filename)
        whole_assembly = assembly is not None
        if assembly is None and cfn.transform_pre.get("Transform") and cfn.filename and os.path.isfile(cfn.filename):
            # cfn-lint has expanded the template's transforms before its rules run, with values of its
            # own for what only deploy time knows; the rules read the template as written, as they do in
            # cmk-validate, and report what they cannot expand.
            assembly = load(cfn.filename)
        elif assembly is None:
            assembly = from_template(cfn.template, cfn.filename or "template")
        rules, options = _settings(os.getcwd())
    except (InputError, RecursionError, OSError) as error:
        return error if isinstance(error, InputError) else InputError(f"{cfn.filename}: {error}")
    report = run(assembly, rules, options, cfn_lint=False, with_lines=False)
    this = os.path.realpath(cfn.filename) if cfn.filename else None
    return [finding for finding in report.findings if not finding.suppressed
            and (not whole_assembly or os.path.realpath(finding.template_file) == this)]


def _assembly_holding(filename: str | None):
    """The cloud assembly a template belongs to (`cdk.out/<stack>.template.json` beside manifest.json), or
    None. cfn-lint lints one file at a time, but an assembly's stacks import from each other: alone, the
    data stack's bucket would have no gateway endpoint and its key no store. So the whole assembly is
    checked, as `cmk-validate cdk.out` checks it, and this template's findings reported."""
    from cmk_validate.model import load

    if not filename:
        return None
    directory = os.path.dirname(os.path.abspath(filename))
    if not os.path.isfile(os.path.join(directory, "manifest.json")):
        return None
    try:
        assembly = load(directory)
    except InputError:   # a manifest.json of something else, or an assembly that does not load: the file alone
        return None
    this = os.path.realpath(filename)
    return assembly if any(os.path.realpath(stack.template_file) == this for stack in assembly.stacks) else None


VERDICT_SETTINGS = ("break_glass", "key_admin", "bucket_encryption", "rule", "skip")


@lru_cache(maxsize=8)
def _settings(directory: str) -> tuple[list, object]:
    """(rules to run, options) from the settings file `cmk-validate` would read in `directory`."""
    from pathlib import Path

    from cmk_validate import settings_file
    from cmk_validate.cli import BUCKET_ENCRYPTIONS
    from cmk_validate.context import Options
    from cmk_validate.rules import discover, select

    path = settings_file.find(Path(directory))
    settings = settings_file.read(path) if path is not None else {}
    chosen = {key: settings[key] for key in VERDICT_SETTINGS if key in settings}
    if chosen.get("bucket_encryption", "auto") not in BUCKET_ENCRYPTIONS:
        raise InputError(f"{path}: setting 'bucket-encryption' must be one of {', '.join(BUCKET_ENCRYPTIONS)}, "
                         f"not {chosen['bucket_encryption']!r}")
    known = {name.upper() for rule in discover() for name in (rule.id, rule.module_name())}
    unknown = [name for name in chosen.get("rule", []) + chosen.get("skip", []) if name.upper() not in known]
    if unknown:
        raise InputError(f"{path}: unknown rule {unknown[0]!r}")
    rules = list(select(discover(), chosen.get("rule", []), chosen.get("skip", [])))
    if not rules:
        raise InputError(f"{path}: 'rule' and 'skip' leave no rule to run")
    options = Options(break_glass_principals=tuple(chosen["break_glass"]) if chosen.get("break_glass") else None,
                      key_administrators=tuple(chosen["key_admin"]) if chosen.get("key_admin") else None,
                      bucket_encryption=chosen.get("bucket_encryption", "auto"))
    return rules, options


class ProjectRule(CloudFormationLintRule):
    """One project rule's findings at one severity. The class of the rule's own severity runs it."""

    project_rule: type = type(None)
    runs: bool = False

    def __init__(self) -> None:
        super().__init__()
        if self.runs:
            self.child_rules = {cfn_lint_id(self.project_rule.id, severity): None
                                for severity in Severity if severity != self.project_rule.severity()}

    def match(self, cfn) -> list[RuleMatch]:
        if not self.runs:
            return []
        found = _findings(cfn)
        if isinstance(found, InputError):
            return []
        matches = []
        for finding in found:
            if finding.rule_id != self.project_rule.id:
                continue
            rule_id = cfn_lint_id(finding.rule_id, finding.severity)
            reporter = self if rule_id == self.id else self.child_rules.get(rule_id)
            if reporter is None:   # a sibling cfn-lint did not load
                continue
            matches.append(RuleMatch(list(finding.path), f"{finding.rule_id}: {finding.message}", rule=reporter))
        return matches


class InputRule(CloudFormationLintRule):
    """The template could not be read by the validator: `cmk-validate` would exit 2 on it."""

    id = INPUT_RULE_ID
    shortdesc = "cmk-validate can read the template"
    description = ("The architecture rules (E9xxx/W9xxx/I9xxx) run only on a template the validator can read; "
                   "one it refuses (an unknown intrinsic, a dependency cycle, a property of a shape its "
                   "resource schema refuses, ...) proves nothing, so it is an error, as `cmk-validate` exits 2.")
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html"
    tags = ["cmk-validate"]

    def match(self, cfn) -> list[RuleMatch]:
        found = _findings(cfn)
        if isinstance(found, InputError):
            return [RuleMatch([], f"cmk-validate cannot read this template: {found}")]
        return []


@lru_cache(maxsize=None)
def rule_classes() -> dict[str, type]:
    """cfn-lint id -> rule class, for every discovered project rule and severity, and the input rule."""
    from cmk_validate.rules import discover

    classes: dict[str, type] = {INPUT_RULE_ID: InputRule}
    for project_rule in discover():
        for severity in sorted(Severity, reverse=True):
            rule_id = cfn_lint_id(project_rule.id, severity)
            own = severity == project_rule.severity()
            classes[rule_id] = type(rule_id, (ProjectRule,), {
                "__module__": __name__,
                "__doc__": f"{project_rule.id} ({project_rule.module_name()}), its {severity.label} findings.",
                "id": rule_id,
                "shortdesc": f"{project_rule.id}: {project_rule.title}",
                "description": (f"{project_rule.rationale} Fix: {project_rule.fix} "
                                f"(cmk-validate rule {project_rule.id}, its {severity.label} findings)"),
                "source_url": project_rule.source_url,
                "tags": ["cmk-validate", *project_rule.tags],
                "project_rule": project_rule,
                "runs": own,
            })
    return classes
