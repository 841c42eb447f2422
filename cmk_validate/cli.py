"""Command line: `cmk-validate [PATH ...]`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cmk_validate import settings_file
from cmk_validate.command_line import EXIT_ATTENTION, EXIT_OK, SUBCOMMAND_HELP, dispatch, emit, run
from cmk_validate.findings import InputError, Severity

SEVERITIES = ("error", "warning", "info")
BUCKET_ENCRYPTIONS = ("auto", "sse-kms", "sse-c")
DEFAULTS = {"min_severity": "warning", "bucket_encryption": "auto"}

EPILOG = """\
exit codes:
  0  no unacknowledged finding at or above --min-severity
  1  at least one such finding, or any undecided ("cannot prove") finding at any threshold:
     the gate fails closed when a rule cannot finish
  2  usage or input error (missing path, no manifest, a manifest path outside the assembly,
     not a regular file, not a CloudFormation template, invalid template, ...)

Acknowledge a finding from CDK with cmk_validate.acknowledge(construct, "CKE104", "why this is fine")
(CDK's Validations.of(construct).acknowledge with id "ArchitectureInvariants::CKE104"), or in a
template with resource Metadata
  {"ArchitectureInvariants": {"acknowledge": [{"id": "CKE104", "reason": "why this is fine"}]}}
"""


def build_parser() -> argparse.ArgumentParser:
    from cmk_validate import __version__
    from cmk_validate.formatters import FORMATS

    parser = argparse.ArgumentParser(
        prog="cmk-validate",
        description="Prove this architecture's security invariants on a cloud assembly or template, offline.",
        epilog=EPILOG + "\n" + SUBCOMMAND_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("path", nargs="*", default=["cdk.out"],
                        help="cloud assembly directory (default: cdk.out) or template (JSON or YAML); several are "
                             "each checked as if given alone, into one report")
    parser.add_argument("--format", "-f", action="append", default=[], metavar="FORMAT[=FILE]",
                        help=f"output format, one of {', '.join(FORMATS)} (default: text), written to FILE if given; "
                             "repeatable, one run writes them all, e.g. -f sarif=reports/v.sarif -f junit=reports/v.xml -f text")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the one format given without =FILE to FILE "
                                                              "instead of stdout")
    # None until a settings file or the defaults (DEFAULTS) fill it: a value given equal to the
    # default must still win over the file's.
    parser.add_argument("--min-severity", choices=SEVERITIES, default=None,
                        help="report and fail on findings at or above this severity (default: warning)")
    parser.add_argument("--no-cfn-lint", action="store_true", help="do not run cfn-lint's own checks")
    parser.add_argument("--cfn-lint-config", metavar="FILE",
                        help="cfn-lint configuration file whose rule settings apply (default: .cfnlintrc[.yaml|.yml] "
                             "in the working directory and the home directory, as cfn-lint finds them; its "
                             "'templates' are not used: the templates linted are those of PATH)")
    parser.add_argument("--cfn-lint-ignore", action="append", default=[], metavar="ID",
                        help="cfn-lint check id (or prefix) to leave out, in addition to the configuration's "
                             "ignore_checks; repeatable")
    parser.add_argument("--rule", action="append", default=[], metavar="RULE",
                        help="run only this rule (id or file name); repeatable")
    parser.add_argument("--skip", action="append", default=[], metavar="RULE", help="skip this rule; repeatable")
    parser.add_argument("--config", metavar="FILE",
                        help=f"settings file (default: {settings_file.DOT_FILE}, or [tool.{settings_file.PYPROJECT_TABLE}] "
                             "in pyproject.toml, in the working directory or a parent up to the repository root); "
                             "the command line wins over it")
    parser.add_argument("--no-config", action="store_true", help="read no settings file")
    parser.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    parser.add_argument("--rules-doc", action="store_true",
                        help="write the rules' documentation (docs/rules.md) from their metadata and exit")
    parser.add_argument("--source-root", metavar="DIR",
                        help="repository root that SARIF locations are relative to (default: the nearest "
                             "directory above PATH holding .git)")
    parser.add_argument("--rules-doc-url", metavar="URL",
                        help="URL of docs/rules.md that SARIF helpUri links point into, #<rule id> added "
                             "(default: this commit's file on GitHub in GitHub Actions, else a file:// URL)")
    parser.add_argument("--break-glass", action="append", default=None, metavar="ARN",
                        help="principal ARN the endpoint-only deny may except; repeatable (default: any "
                             "explicit role or user ARN without wildcards)")
    parser.add_argument("--key-admin", action="append", default=None, metavar="ARN",
                        help="a declared administrator of the data key; repeatable (default: any explicit role or "
                             "user ARN without wildcards, and roles the assembly defines)")
    parser.add_argument("--bucket-encryption", choices=BUCKET_ENCRYPTIONS, default=None,
                        help="declared data-bucket encryption mode (default: auto, sse-c when the bucket "
                             "policy requires SSE-C on every upload)")
    return parser


def list_rules() -> str:
    from cmk_validate.rules import discover

    lines = []
    for rule in discover():
        lines.append(f"{rule.id}  {rule.severity().label:<7}  {rule.module_name():<36} {rule.title}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """`cmk-validate [PATH] ...`, or one of its subcommands (command_line.SUBCOMMANDS)."""
    return dispatch(argv, validate)


def validate(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run("cmk-validate", lambda: _validate(parser, args), subject=" ".join(args.path), cannot="cannot validate")


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    _read_settings(parser, args)
    if args.list_rules:
        emit(list_rules(), args.output)
        return EXIT_OK
    if args.rules_doc:
        from cmk_validate import rules_doc
        from cmk_validate.rules import discover as all_rules

        emit(rules_doc.render(all_rules()), args.output)
        return EXIT_OK
    if args.source_root is not None and not os.path.isdir(args.source_root):
        raise InputError(f"--source-root {args.source_root}: not a directory")
    from cmk_validate.context import Options
    from cmk_validate.engine import run as run_rules
    from cmk_validate.formatters import render
    from cmk_validate.inputs import load_each, merge
    from cmk_validate.rules import discover, select

    rules = list(select(discover(), args.rule, args.skip))
    known = {r.id.upper() for r in discover()} | {r.module_name().upper() for r in discover()}
    unknown = [r for r in args.rule + args.skip if r.upper() not in known]
    if unknown:
        raise InputError(f"unknown rule {unknown[0]!r}; see --list-rules")
    if not rules:
        raise InputError("no rule selected: --rule and --skip leave nothing to run; see --list-rules")
    outputs = _outputs(args.format, args.output)
    assemblies = load_each(args.path)
    options = Options(break_glass_principals=tuple(args.break_glass) if args.break_glass else None,
                      key_administrators=tuple(args.key_admin) if args.key_admin else None,
                      bucket_encryption=args.bucket_encryption)
    report = merge([run_rules(assembly, rules, options, cfn_lint=not args.no_cfn_lint,
                              cfn_lint_ignore=tuple(args.cfn_lint_ignore), cfn_lint_config=args.cfn_lint_config)
                    for assembly in assemblies])
    report.source_root = os.path.abspath(args.source_root) if args.source_root else ""
    report.rules_doc_url = args.rules_doc_url or ""
    min_severity = Severity.parse(args.min_severity)
    for name, output in outputs:
        emit(render(name, report, min_severity), output)
    return EXIT_ATTENTION if report.active(min_severity) else EXIT_OK


def _read_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill what the command line left at its default from the settings file, if there is one."""
    if args.config and args.no_config:
        raise InputError("--config and --no-config exclude each other")
    path = Path(args.config) if args.config else None if args.no_config else settings_file.find(Path.cwd())
    if path is not None:
        _apply_settings(parser, args, path)
    for destination, value in DEFAULTS.items():
        if getattr(args, destination) is None:
            setattr(args, destination, value)


def _apply_settings(parser: argparse.ArgumentParser, args: argparse.Namespace, path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: no such settings file")
    defaults = {destination: parser.get_default(destination) for destination, _ in settings_file.KEYS.values()}
    settings_file.apply(args, defaults, settings_file.read(path))
    for destination, allowed in (("min_severity", SEVERITIES), ("bucket_encryption", BUCKET_ENCRYPTIONS)):
        if getattr(args, destination) not in (None, *allowed):
            raise InputError(f"{path}: setting {destination.replace('_', '-')!r} must be one of "
                             f"{', '.join(allowed)}, not {getattr(args, destination)!r}")


def _outputs(formats: list[str], output: str | None) -> list[tuple[str, str | None]]:
    """(format, file or None for stdout) for each --format; checked before anything runs."""
    from cmk_validate.formatters import FORMATS

    chosen = []
    for entry in formats or ["text"]:
        name, equals, path = entry.partition("=")
        if name not in FORMATS:
            raise InputError(f"--format {entry!r}: unknown format {name!r}; one of {', '.join(FORMATS)}")
        if equals and not path:
            raise InputError(f"--format {entry!r}: no file after '='")
        chosen.append((name, path or None))
    to_stdout = [name for name, path in chosen if path is None]
    if output is not None:
        if len(to_stdout) != 1:
            raise InputError(f"--output {output}: names the file of exactly one format given without =FILE, "
                             f"not {len(to_stdout)}; use --format FORMAT=FILE for each")
        chosen = [(name, path or output) for name, path in chosen]
    elif len(to_stdout) > 1:
        raise InputError(f"formats {', '.join(to_stdout)} would all go to standard output; give all but one a file "
                         "(--format FORMAT=FILE)")
    files = [path for _, path in chosen if path is not None]
    if len(set(files)) < len(files):
        raise InputError(f"two formats would write the same file ({next(p for p in files if files.count(p) > 1)})")
    return chosen
