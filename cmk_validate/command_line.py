"""What every command of the project shares: its exit codes, argument errors, where output goes, and
the one-line error path (a command never ends in a traceback).

`cmk-validate` (validate), `cmk-validate review` and the rehearsal (`python -m rehearsal`, or
`cmk-validate rehearse` in this checkout) each define their options; this module runs them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable

from cmk_validate.findings import InputError

EXIT_OK = 0          # nothing needs attention
EXIT_ATTENTION = 1   # findings (validate), a contradiction or new access (review), a failed deploy (rehearse)
EXIT_USAGE = 2       # usage or input error: one line on stderr
EXIT_INTERNAL = 3    # the rehearsal itself failed (see its --help)

# `cmk-validate NAME ...` runs the module's main(argv); the bare command (or `validate`) validates.
SUBCOMMANDS = {
    "validate": "cmk_validate.cli",
    "review": "cmk_validate.review.cli",
    "rehearse": "rehearsal.cli",
}
SUBCOMMAND_HELP = """\
subcommands:
  cmk-validate [validate] [PATH]   prove the invariants (this help)
  cmk-validate review [CDK_OUT]    who can reach the data, the keys and the endpoint; what a change opens
  cmk-validate rehearse [CDK_OUT]  the offline deploy rehearsal (from this repository's checkout only)
"""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is an InputError: one line and exit 2 through `run`, like bad input."""

    def error(self, message: str) -> None:
        raise InputError(message)


def dispatch(argv: list[str] | None, validate: Callable[[list[str]], int]) -> int:
    """Route `cmk-validate [SUBCOMMAND] ...`; without a known subcommand, `validate(argv)`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv[0] if argv else None
    if name not in SUBCOMMANDS or name == "validate":
        return validate(argv[1:] if name == "validate" else argv)
    try:
        module = importlib.import_module(SUBCOMMANDS[name])
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith(SUBCOMMANDS[name].split(".")[0]):
            raise
        print(f"cmk-validate {name}: error: runs only from a checkout of the repository that holds "
              f"{SUBCOMMANDS[name].split('.')[0]}/ (the installed package is the validator and the review)",
              file=sys.stderr)
        return EXIT_USAGE
    return module.main(argv[1:])


def run(prog: str, body: Callable[[], int], *, subject: str = "", cannot: str = "cannot run",
        internal_exit: int = EXIT_USAGE) -> int:
    """`body`'s exit code. Bad input is one line (`prog: error: ...`) and exit 2; anything unexpected is
    one line too, saying what could not be done with `subject` (a path), and `internal_exit`."""
    where = f"{subject}: " if subject else ""
    try:
        return body()
    except InputError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        print(f"{prog}: error: {where}template nested too deeply", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_USAGE
    except Exception as error:  # last resort: one line, never a traceback
        detail = f"{error.__class__.__name__}: {' '.join(str(error).split())}"
        print(f"{prog}: error: {where}{cannot} ({detail})", file=sys.stderr)
        return internal_exit


def emit(text: str, output: str | None) -> None:
    """`text` to the file `output`, or to stdout when there is none."""
    if not output:
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise InputError(f"{output}: cannot write: {error.strerror}") from None
