"""The human report as Markdown: pipe tables that paste into a wiki or a chat.

>>> from whoson import Tracker, FixedClock
>>> from datetime import datetime, UTC
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))
>>> _ = tracker.record({"id": "1", "type": "page_view", "ts": "2026-03-01T10:00:00Z",
...                     "visitor": "v|1", "url": "/a"})
>>> text = report_markdown(tracker.report().to_dict())
>>> text.splitlines()[0]
'# whoson report: all data (2026-03-01 .. 2026-03-01), UTC, as of 2026-03-02 00:00'
>>> cell("a|b*c")
'a\\\\|b\\\\*c'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from whoson.present.figures import Grid, outline
from whoson.textsafe import terminal

__all__ = ["cell", "report_markdown"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def cell(value: object) -> str:
    """Text made safe for a Markdown table cell: controls shown, markup characters escaped."""
    return _SPECIAL.sub(r"\\\1", terminal(str(value)))


def _grid(grid: Grid) -> list[str]:
    out = [f"**{cell(grid.title)}**", ""] if grid.title else []
    out.append("| " + " | ".join(cell(h) for h in grid.headers) + " |")
    out.append("|" + "|".join("---:" if n else "---" for n in grid.numeric) + "|")
    out.extend("| " + " | ".join(cell(v) for v in row) + " |" for row in grid.rows)
    if grid.note:
        out.extend(["", f"_{cell(grid.note)}_"])
    out.append("")
    return out


def report_markdown(report: Mapping[str, Any], currency: str | None = None, by: str | None = None) -> str:
    """``report`` (:meth:`Report.to_dict`) as a Markdown document (``by``: the breakdown's dimension)."""
    doc = outline(report, currency, by)
    out = [f"# whoson report: {cell(doc.heading)}", ""]
    if doc.compared_with:
        out.extend([f"_{cell(doc.compared_with)}_", ""])
    out.extend([cell(doc.lede), ""])
    for section in doc.sections:
        out.extend([f"## {cell(section.title)}", ""])
        if section.lines:
            with_change = any(line.change for line in section.lines)
            headers = ["figure", "value", *(["change"] if with_change else [])]
            rows = [[line.label.strip(), line.value, *([line.change] if with_change else [])]
                    for line in section.lines]
            out.extend(_grid(Grid("", headers, rows, [False, True, *([True] if with_change else [])])))
        for grid in section.grids:
            out.extend(_grid(grid))
    return "\n".join(out).rstrip("\n") + "\n"
