"""What a rule reports: one finding per broken invariant at one template path."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """Ordered so that `--min-severity` is a plain comparison."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}; use error, warning or info") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass
class Finding:
    """One broken (or unprovable) invariant.

    `path` is the template path as a tuple (`("Resources", "X", "Properties", ...)`);
    `line` is filled in by the engine from the decoded template when it knows it.
    `undecided` marks "cannot prove": the rule could not finish (an exception, the solver's budget,
    a value only deploy time knows). The gate fails closed on it: it carries the severity of the
    finding the rule could have made, and no `--min-severity` hides it.
    """

    rule_id: str
    severity: Severity
    message: str
    stack: str
    path: tuple
    fix: str = ""
    source: str = "cmk-validate"  # or "cfn-lint"
    template_file: str = ""
    line: int | None = None
    column: int | None = None
    end_line: int | None = None   # where the flagged part ends, when the source of the finding says (cfn-lint)
    suppressed: bool = False
    suppression_reason: str = ""
    suppressed_by: str = ""   # "template metadata" or "CDK" (Validations.of(scope).acknowledge)
    title: str = ""
    help_uri: str = ""
    undecided: bool = False

    @property
    def resource(self) -> str:
        return self.path[1] if len(self.path) > 1 and self.path[0] == "Resources" else ""

    @property
    def path_text(self) -> str:
        return "/".join(str(part) for part in self.path)

    def key(self) -> tuple:
        return (self.rule_id, self.stack, self.path_text, self.message)

    def to_dict(self) -> dict:
        return {
            "ruleId": self.rule_id,
            "title": self.title,
            "severity": self.severity.label,
            "message": self.message,
            "stack": self.stack,
            "resource": self.resource,
            "path": self.path_text,
            "templateFile": self.template_file,
            "line": self.line,
            "column": self.column,
            "fix": self.fix,
            "source": self.source,
            "suppressed": self.suppressed,
            "suppressionReason": self.suppression_reason or None,
            "suppressedBy": self.suppressed_by or None,
            "helpUri": self.help_uri,
            "undecided": self.undecided,
        }


@dataclass
class Report:
    """Every finding of one run, plus what was checked (for formatters that list passes)."""

    findings: list[Finding] = field(default_factory=list)
    stacks: list[str] = field(default_factory=list)
    rules_run: list = field(default_factory=list)  # Rule classes
    input_path: str = ""      # the assembly's directory (SARIF's base URI)
    input_given: str = ""     # the path as given: the directory, or the one template file
    started: str = ""         # when the run began, UTC, ISO 8601 to the second (JUnit's timestamp)
    rule_seconds: dict = field(default_factory=dict)   # rule id -> seconds over the whole assembly
    lint_seconds: dict = field(default_factory=dict)   # stack -> seconds cfn-lint took on it
    assembly: Any = None      # the Assembly checked (construct paths and traces, template text for locations)
    # Rules that are not the project's (cfn-lint's) with findings in this run: id -> {"title", "description",
    # "help_uri", "tags"}, from the rule classes themselves.
    external_rules: dict = field(default_factory=dict)
    # Where reports point, set by the command line: the repository root (SARIF locations), and the base
    # URL of docs/rules.md (SARIF helpUri of the project's rules).
    source_root: str = ""
    rules_doc_url: str = ""

    def shown(self, min_severity: Severity = Severity.INFO) -> list[Finding]:
        """Findings at or above the threshold, acknowledged ones included; undecided ones always."""
        return [f for f in self.findings if f.severity >= min_severity or f.undecided]

    def active(self, min_severity: Severity = Severity.INFO) -> list[Finding]:
        """What fails the run: shown and not acknowledged."""
        return [f for f in self.shown(min_severity) if not f.suppressed]


class InputError(Exception):
    """Bad input or usage: the CLI prints str() as one line and exits 2."""
