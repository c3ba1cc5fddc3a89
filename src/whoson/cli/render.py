"""Plain-text tables for people reading a report in a terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from whoson.metrics.report import Report
from whoson.present.values import show
from whoson.textsafe import terminal

__all__ = ["fmt", "render_report", "table"]


# fmt's short kind names, and the figure kinds of whoson.present.values they stand for.
_KINDS = {"rate": "rate", "money": "money", "s": "seconds", "min": "minutes"}


def fmt(value: Any, kind: str = "") -> str:
    """One cell: rates as percents, money with 2 decimals, durations rounded, None as '-'
    (the formats of :func:`whoson.present.values.show`); text is escaped for the
    terminal (:func:`whoson.textsafe.terminal`): the one place the text renderers
    escape event data.

    >>> from decimal import Decimal
    >>> fmt(0.25, "rate"), fmt(Decimal("10"), "money"), fmt(None), fmt(61.5, "s")
    ('25.0%', '10.00', '-', '1m02s')
    >>> fmt("\\x1b[2J")
    '\\\\x1b[2J'
    """
    if isinstance(value, str) and not kind:
        return terminal(value)
    return terminal(show(value, _KINDS.get(kind, kind or "count")))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]],
          numeric: Sequence[bool] | None = None) -> str:
    """A left/right aligned text table (numbers right-aligned; ``numeric`` says which
    columns are numbers, else they are guessed from the cells).

    Every cell is escaped with :func:`whoson.textsafe.terminal` here, so
    visitor ids, urls and names from events can never send control
    sequences to the terminal.

    >>> print(table(["a", "n"], [["x", "1"], ["yy", "10"]]))
    a    n
    --  --
    x    1
    yy  10
    >>> print(table(["url"], [["/\\x1b[2J"]]))
    url
    --------
    /\\x1b[2J
    """
    headers = [terminal(h) for h in headers]
    rows = [[terminal(c) for c in r] for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    right = list(numeric) if numeric is not None else [
        all(_looks_numeric(r[i]) for r in rows) and bool(rows) for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(widths[i]) if right[i] else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _looks_numeric(cell: str) -> bool:
    return cell == "-" or cell.replace(",", "").replace(".", "").replace("%", "").replace(
        "-", ""
    ).replace("m", "").replace("s", "").replace(" min", "").strip().isdigit()


def _pairs(title: str, pairs: Sequence[tuple[str, str]] | Sequence[tuple[str, str, str]]) -> str:
    """``title`` over aligned ``label  value  [note]`` lines."""
    width = max(len(p[0]) for p in pairs)
    values = [fmt(p[1]) for p in pairs]
    value_width = max(len(v) for v in values)
    body = "\n".join(
        f"  {p[0].ljust(width)}  {v.ljust(value_width)}  {fmt(p[2]) if len(p) > 2 else ''}".rstrip()
        for p, v in zip(pairs, values, strict=True)
    )
    return f"{title}\n{body}"


def render_report(report: Report | Mapping[str, Any], currency: str | None = None, by: str | None = None) -> str:
    """The whole report as text sections and tables (the outline of
    :mod:`whoson.present.figures`), every cell escaped by :func:`fmt`."""
    from whoson.present.figures import outline

    doc = outline(report.to_dict() if isinstance(report, Report) else report, currency, by)
    sections = [f"whoson report  {fmt(doc.heading)}"
                + (f"\n{fmt(doc.compared_with)}" if doc.compared_with else "")]
    for section in doc.sections:
        parts = []
        if section.lines:
            parts.append(_pairs(section.title, [(line.label, line.value, line.change) for line in section.lines]))
        for index, grid in enumerate(section.grids):
            title = grid.title if section.lines or index else section.title
            body = table(grid.headers, [[fmt(c) for c in row] for row in grid.rows], grid.numeric)
            parts.append(f"{title}\n{body}" + (f"\n{fmt(grid.note)}" if grid.note else ""))
        sections.append("\n\n".join(parts))
    return "\n\n".join(sections) + "\n"
