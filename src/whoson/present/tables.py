"""The report's tables, read generically from its JSON key tree.

Each table is a list of flat rows (nested objects become dotted columns, an
interval ``[low, high]`` becomes ``NAME.low`` and ``NAME.high``). The same
rows feed pandas frames, pyarrow tables, CSV files, Markdown and HTML.

>>> from whoson import Tracker, FixedClock
>>> from datetime import datetime, UTC
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))
>>> _ = tracker.record({"id": "1", "type": "widget_click", "ts": "2026-03-01T10:00:00Z",
...                     "visitor": "v1"})
>>> daily = report_table(tracker.report().to_dict(), "daily")
>>> daily.columns[:3], daily.rows[0]["visitors"]
(['date', 'visitors', 'widget_ctr'], 1)
>>> report_table(tracker.report().to_dict(), "summary").rows[0]["visitors.widget_ctr"]
1.0
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from whoson.present.values import kind_of

__all__ = ["TABLES", "Table", "flatten", "report_table", "table_names"]

# Tables in the order people read them; those a report lacks are skipped.
TABLES = (
    "summary", "daily", "hourly", "agents", "agents_daily", "top_urls", "top_triggers",
    "top_links", "feedback", "pages", "breakdown", "experiments", "change",
)
# Where each list-shaped table lives in the key tree.
_PATHS: dict[str, tuple[str, ...]] = {
    "daily": ("trends", "daily"),
    "hourly": ("trends", "hourly"),
    "agents": ("agents",),
    "top_urls": ("requests", "top_urls"),
    "top_triggers": ("auto_messages", "top_triggers"),
    "top_links": ("auto_messages", "top_links"),
    "feedback": ("ratings", "feedback"),
    "pages": ("pages",),
    "breakdown": ("breakdown",),
    "experiments": ("experiments",),
}
# Whole-report sections that are not figures of this report.
_NOT_SUMMARY = frozenset({"previous", "change"})


@attrs.frozen
class Table:
    """One table of a report: named columns and flat rows of plain values.

    ``kinds`` gives each column's kind (see :func:`whoson.present.values.kind_of`).
    In Jupyter it shows as an HTML table; ``repr`` stays one line.
    """

    name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    currency: str | None = None

    @property
    def kinds(self) -> dict[str, str]:
        """Each column's kind, from its dotted key under the table's name."""
        return {c: kind_of(f"{self.name}.{c}") for c in self.columns}

    def csv(self) -> str:
        """The table as CSV text: a header, exact numbers, ISO dates, empty cells for null.

        >>> print(Table("t", ["a", "b"], [{"a": 1, "b": None}, {"a": Decimal("2.50"), "b": "x,y"}]).csv())
        a,b
        1,
        2.50,"x,y"
        <BLANKLINE>
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if row.get(c) is None else _csv_cell(row[c]) for c in self.columns])
        return buffer.getvalue()

    def __repr__(self) -> str:
        return f"<Table {self.name}: {len(self.rows)} rows x {len(self.columns)} columns>"

    def _repr_html_(self) -> str:
        from whoson.present.html import table_html

        return table_html(self, caption=self.name)


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def flatten(value: Mapping[str, Any], prefix: str = "", *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Scalar leaves of nested mappings as ``{dotted key: value}``; lists are left out,
    but a pair ``[low, high]`` becomes ``key.low`` and ``key.high``.

    >>> flatten({"a": {"b": 1, "c": [1, 2, 3]}, "ci": [0.1, 0.2], "d": None})
    {'a.b': 1, 'ci.low': 0.1, 'ci.high': 0.2, 'd': None}
    """
    skipped = set(skip)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in skipped:
            continue
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(flatten(item, f"{name}."))
        elif isinstance(item, (list, tuple)):
            if len(item) == 2 and all(_is_number_or_null(v) for v in item):
                out[f"{name}.low"], out[f"{name}.high"] = item
        else:
            out[name] = item
    return out


def _is_number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float, Decimal)) and not isinstance(value, bool))


def table_names(report: Mapping[str, Any]) -> list[str]:
    """The tables this report has, in reading order (``breakdown``, ``pages``,
    ``experiments`` and ``change`` only when the report carries them)."""
    names = []
    for name in TABLES:
        if name in ("summary", "agents_daily"):
            names.append(name)
        elif name == "change":
            if report.get("change") is not None:
                names.append(name)
        elif _lookup(report, _PATHS[name]) is not None:
            names.append(name)
    return names


def _lookup(report: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = report
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def report_table(report: Mapping[str, Any], name: str, currency: str | None = None) -> Table:
    """The table ``name`` of a report's key tree (:meth:`Report.to_dict`).

    Unknown names and tables the report does not carry are a ``ValueError``
    naming what there is.

    >>> report_table({"trends": {"daily": []}}, "breakdown")
    Traceback (most recent call last):
    ...
    ValueError: table 'breakdown': this report has none (a breakdown needs by=...); it has summary, daily, agents_daily
    """
    if name not in TABLES:
        raise ValueError(f"table {name!r}: no such table; one of {', '.join(TABLES)}")
    if name not in table_names(report):
        hint = {"breakdown": " (a breakdown needs by=...)", "change": " (a change needs compare=...)"}
        raise ValueError(
            f"table {name!r}: this report has none{hint.get(name, '')}; it has "
            f"{', '.join(table_names(report))}"
        )
    if name == "summary":
        rows = [flatten(report, skip=_NOT_SUMMARY)]
    elif name == "change":
        rows = [{"key": key, **entry} for key, entry in report["change"].items()]
    elif name == "agents_daily":
        rows = [
            {"agent": agent["agent"], **flatten(day)}
            for agent in report.get("agents", []) for day in agent.get("daily", [])
        ]
    else:
        rows = [flatten(row) for row in _lookup(report, _PATHS[name])]
    return Table(name, _columns(name, rows), rows, currency)


# Columns a table has even when it has no rows (the contract's keys).
_EMPTY_COLUMNS: dict[str, list[str]] = {
    "daily": ["date", "visitors", "widget_ctr", "requests", "text_requests", "video_requests",
              "visitor_request_acceptance_rate", "conversations", "video_conversations",
              "avg_rating", "attributed_gmv"],
    "hourly": ["hour", "text_requests", "video_requests"],
    "agents": ["agent", "avg_rating", "initiated_requests", "initiated_acceptance_rate",
               "conversations", "attributed_sales", "attributed_orders", "first_response_avg",
               "avg_handle_minutes"],
    "agents_daily": ["agent", "date", "avg_rating", "initiated_requests",
                     "initiated_acceptance_rate", "conversations"],
    "top_urls": ["url", "requests"],
    "top_triggers": ["trigger", "clicks"],
    "top_links": ["trigger", "link", "clicks"],
    "feedback": ["ts", "visitor", "agent", "rating", "feedback"],
    "pages": ["url", "page_views", "visitors", "requests", "conversations", "chat_rate"],
    "breakdown": ["value", "visitors", "with_impression", "with_click", "widget_ctr", "requests",
                  "conversations", "visitor_request_rate", "attributed_orders", "attributed_gmv",
                  "conversion_rate"],
    "change": ["key", "previous", "current", "delta", "ratio"],
}


def _columns(name: str, rows: list[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    if not columns:
        return list(_EMPTY_COLUMNS.get(name, []))
    return list(columns)
