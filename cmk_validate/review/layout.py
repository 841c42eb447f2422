"""The matrix as tables: one per subject, rows who x where x TLS, columns what. Shared by Markdown and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field

from cmk_validate.policy.statements import Effect


@dataclass
class Row:
    who: str
    where: str
    tls: bool
    results: list = field(default_factory=list)   # one Result (or None) per column


@dataclass
class Table:
    subject: str
    columns: list[str]
    rows: list[Row]
    legend: dict[str, str] = field(default_factory=dict)   # code -> the full decision text

    def code(self, result) -> str:
        """A1/D1/N1: short names for the decisions (allow, explicit deny, implicit deny) of this table."""
        text = f"{result.outcome.symbol}: {result.outcome.by}"
        for code, known in self.legend.items():
            if known == text:
                return code
        prefix = {Effect.ALLOW: "A", Effect.DENY: "D", Effect.IMPLICIT_DENY: "N"}[result.outcome.effect]
        code = f"{prefix}{sum(1 for c in self.legend if c[0] == prefix) + 1}"
        self.legend[code] = text
        return code


def tables(review) -> list[Table]:
    out = []
    for subject in review.subjects():
        results = [r for r in review.results if r.cell.subject == subject]
        columns = list(dict.fromkeys(r.cell.what for r in results))
        rows: dict[tuple, Row] = {}
        for result in results:
            cell = result.cell
            row = rows.setdefault(cell.row, Row(cell.who, cell.where, cell.tls, [None] * len(columns)))
            row.results[columns.index(cell.what)] = result
        table = Table(subject, columns, list(rows.values()))
        for row in table.rows:
            for result in row.results:
                if result is not None:
                    table.code(result)
        table.legend = dict(sorted(table.legend.items(), key=lambda item: ("ADN".index(item[0][0]), int(item[0][1:]))))
        out.append(table)
    return out


def witness_text(witness: dict | None) -> str:
    """A witness request in one line: principal, resource, the keys present, S3's KMS call."""
    if not witness:
        return ""
    parts = [f"principal={witness['principal']}", f"resource={witness['resource']}"]
    parts += [f"{key}={value}" for key, value in witness.get("context", {}).items()]
    leg = witness.get("kms call")
    if leg:
        parts.append("KMS call: " + ", ".join(f"{key}={value}" for key, value in leg["context"].items()))
    return "; ".join(parts)
