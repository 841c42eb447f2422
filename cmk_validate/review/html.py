"""One self-contained HTML page (inline CSS and SVG, no external assets): the Markdown's content plus
the diagram, so a reviewer can open it from a CI artifact without network access."""

from __future__ import annotations

from html import escape

from cmk_validate.policy.statements import Effect
from cmk_validate.review import diagram, layout
from cmk_validate.review.markdown import ASSUMPTIONS
from cmk_validate.review.report import Review

CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#1d2433;max-width:1600px}
h1{font-size:22px;margin:0 0 8px} h2{font-size:18px;margin:28px 0 8px} h3{font-size:15px;margin:18px 0 6px}
.summary{padding:10px 14px;border-radius:6px;font-weight:bold}
.ok{background:#eef6ee;border:1px solid #2e7d32}.bad{background:#fdecea;border:1px solid #c62828}
table{border-collapse:collapse;margin:6px 0 12px;font-size:12px}
th,td{border:1px solid #c9d1de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef1f6}
td.allow{background:#e3f4e4} td.deny{background:#fbe1de} td.implicit{background:#f3f4f6;color:#555}
td.contradiction{outline:3px solid #c62828;outline-offset:-3px;font-weight:bold}
td.num{text-align:right} .legend{font-size:12px;color:#333;margin:0 0 12px 18px}
svg{border:1px solid #c9d1de;border-radius:8px;background:#fff;max-width:100%;height:auto}
"""
CLASS = {Effect.ALLOW: "allow", Effect.DENY: "deny", Effect.IMPLICIT_DENY: "implicit"}


def render(review: Review) -> str:
    ok = not review.needs_attention
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Policy review: {escape(review.inventory.source or 'assembly')}</title>",
             f"<style>{CSS}</style></head><body>",
             f"<h1>Policy review of <code>{escape(review.inventory.source or 'the assembly')}</code></h1>",
             f'<p id="summary" class="summary {"ok" if ok else "bad"}">{escape(review.summary())}</p>',
             "".join(f'<p class="note">Note: {escape(note)}</p>' for note in review.inventory.unresolved),
             '<section id="diagram-section"><h2>Diagram</h2>', diagram.render(review), _broken(review), "</section>"]
    parts += _contradictions(review)
    if review.account_dependent:
        parts += _contradictions(review, review.account_dependent, "Decided by the deploying account", "account-dependent")
    if review.diff is not None:
        parts += _change(review)
    parts += _cost(review)
    parts += _matrix(review)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _broken(review: Review) -> str:
    """Why each red element of the diagram is red (also in its tooltip)."""
    reasons = list(dict.fromkeys(diagram.broken_parts(review).values()))
    if not reasons:
        return '<p id="diagram-broken">Every invariant drawn holds.</p>'
    return '<ul id="diagram-broken">' + "".join(f"<li>{escape(reason)}</li>" for reason in reasons) + "</ul>"


def _table(headers: list[str], rows: list[list[str]], table_id: str = "", css: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    attrs = (f' id="{table_id}"' if table_id else "") + (f' class="{css}"' if css else "")
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _change(review: Review) -> list[str]:
    change = review.diff
    base = review.base_inventory.source if review.base_inventory else "base"
    verdict = (f"This change opens {len(change.opened)} new access cell(s): a second approver is needed."
               if change.opened else "This change opens no new access.")
    out = ['<section id="change">', f"<h2>Change against <code>{escape(base)}</code></h2>",
           f'<p class="summary {"bad" if change.opened else "ok"}">{escape(verdict)}</p>']
    for title, flips, table_id in (("New access (denied before, allowed now)", change.opened, "opened"),
                                   ("Access removed (allowed before, denied now)", change.closed, "closed")):
        out.append(f"<h3>{title}: {len(flips)}</h3>")
        if flips:
            out.append(_table(["subject", "who", "where", "TLS", "what", "before", "after", "witness"],
                              [[f.subject, f.who, f.where, "yes" if f.tls else "no", f.what, f.before, f.after,
                                layout.witness_text(f.witness)] for f in flips], table_id))
    for label, subjects in (("Added", change.subjects_added), ("Removed", change.subjects_removed)):
        if subjects:
            out.append(f"<p>{label}: {escape(', '.join(subjects))}</p>")
    return out + ["</section>"]


def _contradictions(review: Review, found=None, title: str = "Contradictions",
                    section: str = "contradictions") -> list[str]:
    found = review.contradictions if found is None else found
    out = [f'<section id="{section}">', f"<h2>{title}: {len(found) or 'none'}</h2>"]
    if found:
        out.append(_table(["subject", "who", "where", "TLS", "what", "decision", "breaks"],
                          [[r.cell.subject, r.cell.who, r.cell.where, "yes" if r.cell.tls else "no", r.cell.what,
                            f"{r.outcome.symbol}: {r.outcome.by}", r.expectation.clause] for r in found]))
    return out + ["</section>"]


def _cost(review: Review) -> list[str]:
    cost = review.cost
    if cost is None:
        return []
    unverified = "" if cost.verified else ", unverified prices"
    out = ['<section id="cost">', f"<h2>Cost estimate ({escape(cost.region)}, {escape(cost.currency)}){unverified}</h2>"]
    if not cost.verified:
        out.append('<p class="unverified"><strong>Unverified</strong>: the prices are list-price estimates entered '
                   "offline, not fetched or checked; check them against the sources below before relying on this "
                   "estimate.</p>")
    if not cost.region_priced:
        out.append(f"<p><strong>No cost estimate</strong>: the price table has no prices for {escape(cost.region)}.</p>")
    if cost.lines:
        rows = [[line.item, line.quantity, line.unit_price, f"{line.monthly:,.2f}", f"{line.first_deploy:,.2f}"]
                if line.priced else [line.item, line.quantity, "no price", "—", "—"] for line in cost.lines]
        total = "total" if not cost.unpriced else f"total, incomplete (without {', '.join(cost.unpriced)})"
        rows.append([total, "", "", f"{cost.monthly:,.2f}", f"{cost.first_deploy:,.2f}"])
        out.append(_table(["item", "quantity", "unit price", "monthly", "first deploy"], rows, "cost-table"))
    items = [escape(note) for note in cost.notes]
    items.append(f"Prices: {escape(cost.origin)}. Sources: " + ", ".join(
        f'<a href="{escape(url)}">{escape(name)}</a>' for name, url in cost.sources.items()))
    out.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
    return out + ["</section>"]


def _matrix(review: Review) -> list[str]:
    out = ['<section id="matrix">', f"<h2>Full matrix: {len(review.results)} cells</h2>",
           "<p>Green allowed, red explicit deny, grey implicit deny; a thick red frame contradicts the expectation. "
           "Hover a cell for the full decision.</p>", f"<p>{escape(ASSUMPTIONS)}</p>", "<details open><summary>matrix</summary>"]
    for number, table in enumerate(layout.tables(review)):
        head = "".join(f"<th>{escape(h)}</th>" for h in ["who", "where", "TLS"] + table.columns)
        rows = []
        for row in table.rows:
            cells = [f"<td>{escape(row.who)}</td><td>{escape(row.where)}</td><td>{'yes' if row.tls else 'no'}</td>"]
            for result in row.results:
                if result is None:
                    cells.append("<td></td>")
                    continue
                css = CLASS[result.outcome.effect] + (" contradiction" if result.contradiction else "")
                title = f"{result.outcome.symbol}: {result.outcome.by}; expected {result.expectation.expected}"
                if result.outcome.witness:
                    title += f"; witness: {layout.witness_text(result.outcome.witness)}"
                cells.append(f'<td class="{css}" title="{escape(title)}">{table.code(result)}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        out.append(f"<h3>{escape(table.subject)}</h3>")
        out.append(f'<table class="matrix" id="matrix-{number}" data-subject="{escape(table.subject)}">'
                   f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
        out.append('<ul class="legend">' + "".join(f"<li><b>{code}</b> {escape(text)}</li>"
                                                   for code, text in table.legend.items()) + "</ul>")
    return out + ["</details>", "</section>"]
