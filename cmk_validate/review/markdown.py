"""Markdown short enough for a pull-request comment: summary, contradictions, new access, cost, then
the full matrix folded in <details>."""

from __future__ import annotations

from cmk_validate.policy.statements import Effect
from cmk_validate.review import layout
from cmk_validate.review.report import Review

MAX_ROWS = 40
# Fewer rows per table, in turn, while the summary (with its witnesses) does not fit a comment.
ROW_STEPS = (MAX_ROWS, 20, 10, 5, 1)
# GitHub refuses a comment body longer than this many characters; the review must fit in one.
COMMENT_LIMIT = 65_536
FOLDED = ("\n_{left} of the matrix's {total} tables left out to fit a pull-request comment "
          "({limit:,} characters); `--format html` or `--format json` holds every cell._\n")
SYMBOL = {Effect.ALLOW: "✅", Effect.DENY: "⛔", Effect.IMPLICIT_DENY: "▫️"}
ASSUMPTIONS = ("Each cell is proved over every request it stands for (z3); an allowed cell has a witness request "
               "(JSON and HTML). Callers in the account and break-glass roles carry an identity policy allowing * on *; "
               "another VPC endpoint has AWS's default full-access policy; \"via S3\" is the caller's S3 request and S3's KMS call "
               "as the caller. Not modelled: SCPs/RCPs, permission boundaries, session policies, KMS grants, ACLs.")


def render(review: Review) -> str:
    """The longest review that fits a comment: as many rows of the contradiction and change tables
    as fit (ROW_STEPS), then as many of the matrix's tables."""
    matrix = _matrix(review)
    for rows in ROW_STEPS:
        text = _fitted(_summary(review, rows), matrix)
        if text is not None:
            return text
    raise ValueError(f"the review's summary alone is over {COMMENT_LIMIT:,} characters, "
                     f"even with {ROW_STEPS[-1]} row per table")


def _summary(review: Review, rows: int) -> list[str]:
    out = [f"## Policy review of `{review.inventory.source or 'the assembly'}`", "", f"**{review.summary()}**", ""]
    out += [f"- Note: {_c(note)}" for note in review.inventory.unresolved] + ([""] if review.inventory.unresolved else [])
    out += _contradictions(review, rows)
    if review.account_dependent:
        out += _contradictions(review, rows, review.account_dependent, "Decided by the deploying account")
    change = review.diff
    if change is not None:
        out += _change(review, change, rows)
    return out + _cost(review)


def _fitted(before_matrix: list[str], matrix: list[list[str]]) -> str | None:
    """The review with as many of the matrix's tables as fit under COMMENT_LIMIT, in their order, and a
    note of how many were left out; None when even the summary does not fit."""
    head, tables, tail = matrix[0], matrix[1:-1], matrix[-1]
    for kept in range(len(tables), -1, -1):
        note = [] if kept == len(tables) else [FOLDED.format(left=len(tables) - kept, total=len(tables),
                                                              limit=COMMENT_LIMIT)]
        lines = before_matrix + head + [line for table in tables[:kept] for line in table] + note + tail
        text = "\n".join(lines).rstrip() + "\n"
        if len(text) <= COMMENT_LIMIT:
            return text
    return None


def _change(review: Review, change, rows: int = MAX_ROWS) -> list[str]:
    base = review.base_inventory.source if review.base_inventory else "base"
    verdict = (f"**This change opens {len(change.opened)} new access cell(s): a second approver is needed.**"
               if change.opened else "This change opens no new access.")
    out = [f"### Change against `{base}`", "", verdict, ""]
    for title, flips in (("New access (denied before, allowed now)", change.opened),
                         ("Access removed (allowed before, denied now)", change.closed)):
        if not flips:
            continue
        out += [f"**{title}: {len(flips)}**", "", "| subject | who | where | TLS | what | before | after | witness |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for flip in flips[:rows]:
            out.append(f"| {_c(flip.subject)} | {_c(flip.who)} | {_c(flip.where)} | {_tls(flip.tls)} | {_c(flip.what)} "
                       f"| {_c(flip.before)} | {_c(flip.after)} | {_c(layout.witness_text(flip.witness))} |")
        if len(flips) > rows:
            out.append(f"\n… and {len(flips) - rows} more (use `--format json` for all).")
        out.append("")
    for label, subjects in (("Added", change.subjects_added), ("Removed", change.subjects_removed)):
        if subjects:
            out += [f"{label}: " + ", ".join(f"`{s}`" for s in subjects), ""]
    return out


def _contradictions(review: Review, rows: int = MAX_ROWS, found=None, title: str = "Contradictions") -> list[str]:
    found = review.contradictions if found is None else found
    if not found:
        return [f"### {title}: none", ""]
    out = [f"### {title}: {len(found)}", "", "| subject | who | where | TLS | what | decision | breaks | witness |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for result in found[:rows]:
        cell = result.cell
        out.append(f"| {_c(cell.subject)} | {_c(cell.who)} | {_c(cell.where)} | {_tls(cell.tls)} | {_c(cell.what)} "
                   f"| {SYMBOL[result.outcome.effect]} {_c(result.outcome.symbol)}: {_c(result.outcome.by)} "
                   f"| {_c(result.expectation.clause)} | {_c(layout.witness_text(result.outcome.witness))} |")
    if len(found) > rows:
        out.append(f"\n… and {len(found) - rows} more (see the full matrix).")
    return out + [""]


def _cost(review: Review) -> list[str]:
    cost = review.cost
    if cost is None:
        return []
    out = [f"### Cost estimate ({cost.region}, {cost.currency}){'' if cost.verified else ', unverified prices'}", ""]
    if not cost.verified:
        out += ["> ⚠️ **Unverified**: the prices are list-price estimates entered offline, not fetched or checked; "
                "check them against the sources below before relying on this estimate.", ""]
    if not cost.region_priced:
        out += [f"**No cost estimate**: the price table has no prices for {cost.region}.", ""]
    if cost.lines:
        out += ["| item | quantity | unit price | monthly | first deploy |", "| --- | --- | --- | ---: | ---: |"]
        for line in cost.lines:
            if line.priced:
                out.append(f"| {line.item} | {line.quantity} | {line.unit_price} | {line.monthly:,.2f} | {line.first_deploy:,.2f} |")
            else:
                out.append(f"| {line.item} | {line.quantity} | **no price** | — | — |")
        label = "**total**" if not cost.unpriced else f"**total, incomplete** (without {', '.join(cost.unpriced)})"
        out.append(f"| {label} | | | **{cost.monthly:,.2f}** | **{cost.first_deploy:,.2f}** |")
        base_cost = getattr(review.diff, "base_cost", None) if review.diff is not None else None
        if base_cost is not None and base_cost.lines:
            delta = cost.monthly - base_cost.monthly
            out.append(f"\nMonthly change against the base: {delta:+,.2f} {cost.currency}.")
    out += [""] + [f"- {note}" for note in cost.notes]
    out.append(f"- Prices: {cost.origin}. Sources: " + ", ".join(f"[{k}]({v})" for k, v in cost.sources.items()) + ".")
    return out + [""]


def _matrix(review: Review) -> list[list[str]]:
    """The folded matrix in parts: its opening, one part per subject's table, its closing."""
    parts = [[f"<details><summary>Full matrix: {len(review.results)} cells "
              "(✅ allowed, ⛔ explicit deny, ▫️ implicit deny, ❗ contradicts the expectation)</summary>", "",
              ASSUMPTIONS, ""]]
    for table in layout.tables(review):
        out = [f"#### {table.subject}", "", "| who | where | TLS | " + " | ".join(table.columns) + " |",
               "| --- | --- | --- | " + " | ".join("---" for _ in table.columns) + " |"]
        for row in table.rows:
            cells = []
            for result in row.results:
                if result is None:
                    cells.append("")
                    continue
                mark = "❗" if result.contradiction else ""
                cells.append(f"{mark}{SYMBOL[result.outcome.effect]}{table.code(result)}")
            out.append(f"| {_c(row.who)} | {_c(row.where)} | {_tls(row.tls)} | " + " | ".join(cells) + " |")
        out.append("")
        out += [f"- **{code}** {_c(text)}" for code, text in table.legend.items()]
        out.append("")
        parts.append(out)
    return parts + [["</details>", ""]]


def _tls(tls: bool) -> str:
    return "yes" if tls else "no"


def _c(text: str) -> str:
    """Escape what breaks a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")
