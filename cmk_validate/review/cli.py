"""`cmk-validate review [CDK_OUT] [--base OLD] [--format markdown|html|json] [--output FILE] [--prices FILE]`.

Exit codes: 0 as expected; 1 a cell contradicts the expected outcome (review) or the change opens
new access (review --base: CI asks for a second approver); 2 bad input, one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys

from cmk_validate.command_line import EXIT_ATTENTION, EXIT_OK, Parser, emit, run

EPILOG = """\
exit codes:
  0  every cell as expected (review) / the change opens no new access (review --base)
  1  a cell contradicts the expected outcome (review) / the change opens new access (review --base)
  2  usage or input error (missing directory, no manifest.json, invalid JSON, ...)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cmk-validate review",
                     description="Who can reach the data and the keys, from where; what a change opens up; what it costs.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", default="cdk.out", metavar="CDK_OUT",
                        help="cloud assembly directory or one template (default: cdk.out)")
    parser.add_argument("--base", metavar="OLD_CDK_OUT", help="review the change from this assembly to CDK_OUT")
    parser.add_argument("--format", "-f", choices=["markdown", "html", "json"], default="markdown")
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--prices", metavar="FILE", help="price table merged over pricing.json")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        build_parser().print_help()
        return EXIT_OK
    return run("cmk-validate review", lambda: _review(build_parser().parse_args(argv)), cannot="cannot review")


def _review(args: argparse.Namespace) -> int:
    from cmk_validate.review.cost import load_prices
    from cmk_validate.review.report import review_change, review_path

    prices = load_prices(args.prices)
    review = review_change(args.base, args.path, prices) if args.base else review_path(args.path, prices=prices)
    emit(render(args.format, review), args.output)
    if review.diff is not None:
        return EXIT_ATTENTION if review.diff.opens_access else EXIT_OK
    return EXIT_ATTENTION if review.needs_attention else EXIT_OK


def render(fmt: str, review) -> str:
    if fmt == "html":
        from cmk_validate.review.html import render as html
        return html(review)
    if fmt == "json":
        return json.dumps(to_json(review), indent=1) + "\n"
    from cmk_validate.review.markdown import render as markdown
    return markdown(review)


def to_json(review) -> dict:
    data = {
        "source": review.inventory.source,
        "summary": review.summary(),
        "account": review.inventory.account,
        "region": review.inventory.region,
        "contradictions": len(review.contradictions),
        "account_dependent": len(review.account_dependent),
        "cells": [{"subject": r.cell.subject, "who": r.cell.who, "where": r.cell.where, "tls": r.cell.tls,
                   "what": r.cell.what, "decision": r.outcome.effect, "by": r.outcome.by,
                   "expected": r.expectation.expected, "clause": r.expectation.clause,
                   "contradiction": r.contradiction, "account_dependent": r.account_dependent,
                   "witness": r.outcome.witness} for r in review.results],
    }
    if review.diff is not None:
        data["change"] = {
            "base": review.base_inventory.source if review.base_inventory else None,
            "opensAccess": review.diff.opens_access,
            "opened": [vars(f) | {"key": list(f.key)} for f in review.diff.opened],
            "closed": [vars(f) | {"key": list(f.key)} for f in review.diff.closed],
            "subjectsAdded": review.diff.subjects_added, "subjectsRemoved": review.diff.subjects_removed}
    if review.cost is not None:
        cost = review.cost
        data["cost"] = {"region": cost.region, "currency": cost.currency, "monthly": round(cost.monthly, 2),
                        "firstDeploy": round(cost.first_deploy, 2), "prices": cost.origin, "sources": cost.sources,
                        "pricesVerified": cost.verified, "complete": cost.complete, "unpriced": cost.unpriced,
                        "lines": [vars(line) for line in cost.lines], "notes": cost.notes}
    return data


if __name__ == "__main__":  # python -m cmk_validate.review.cli, the same as cmk-validate review
    sys.exit(main())
