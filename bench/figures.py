"""The core report figures every contender computes, and their comparison.

A figure set is a flat ``{key: value}`` dict. Keys follow the report's JSON
paths (``sales.attributed_gmv``) and daily rows are ``daily.<date>.<key>``.
Counts are ints, money is :class:`~decimal.Decimal` (compared rounded to
cents), rates and averages are floats or ``None`` (compared with
:func:`math.isclose`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

__all__ = [
    "DAILY_KEYS",
    "Figures",
    "Mismatch",
    "compare",
    "flatten",
    "from_plain",
    "report_figures",
    "scale_values",
    "to_plain",
    "whoson_figures",
]

Figures = dict[str, Any]

CENT = Decimal("0.01")
# Rates are fractions; a float sum in another order may differ in the last bits.
REL_TOL = 1e-9
ABS_TOL = 1e-12

DAILY_KEYS = (
    "visitors",
    "widget_ctr",
    "requests",
    "text_requests",
    "video_requests",
    "visitor_request_acceptance_rate",
    "conversations",
    "video_conversations",
    "avg_rating",
    "attributed_gmv",
)

# Report paths compared besides the daily rows.
SCALAR_PATHS = (
    "visitors.with_impression",
    "visitors.with_click",
    "visitors.widget_ctr",
    "requests.total",
    "requests.text",
    "requests.video",
    "requests.by_initiator.visitor",
    "requests.by_initiator.agent",
    "requests.by_initiator.auto",
    "requests.pending",
    "requests.unsuccessful",
    "acceptance.agent_initiated_rate",
    "acceptance.visitor_request_rate",
    "acceptance.auto_invitation_rate",
    "conversations.total",
    "conversations.text",
    "conversations.video",
    "sales.attributed_orders",
    "sales.attributed_gmv",
    "sales.attributed_gmv_by_channel.text",
    "sales.attributed_gmv_by_channel.video",
    "sales.aov",
    "ratings.count",
    "ratings.avg",
    "ratings.nps",
)


def scale_values(low: int, high: int) -> list[int]:
    """Every rating value of the scale, in order."""
    return list(range(low, high + 1))


def _dig(tree: Mapping[str, Any], path: str) -> Any:
    value: Any = tree
    for part in path.split("."):
        value = value[part]
    return value


def whoson_figures(report: Any) -> Figures:
    """The core figures of a whoson :class:`~whoson.metrics.report.Report`."""
    tree = report.to_dict()
    figures: Figures = {path: _dig(tree, path) for path in SCALAR_PATHS}
    for value, count in tree["ratings"]["distribution"].items():
        figures[f"ratings.distribution.{value}"] = count
    for row in tree["trends"]["daily"]:
        day = row["date"]
        for key in DAILY_KEYS:
            figures[f"daily.{day}.{key}"] = row[key]
    return figures


def flatten(tree: Any, prefix: str = "") -> Figures:
    """Every leaf of a report tree (``Report.to_dict()`` or the reference's dict) as a flat figure set.

    Keys are JSON paths, list items by position (``agents.0.daily.3.conversations``),
    so the order of rows is compared too. Strings (dates, urls, agent ids, feedback
    text) are leaves like numbers.

    >>> flatten({"a": {"b": 1}, "rows": [{"x": None}, {"x": 2.5}]})
    {'a.b': 1, 'rows.0.x': None, 'rows.1.x': 2.5}
    """
    figures: Figures = {}
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            figures.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(tree, (list, tuple)):
        for index, value in enumerate(tree):
            figures.update(flatten(value, f"{prefix}{index}."))
    else:
        figures[prefix[:-1]] = tree
    return figures


def report_figures(report: Any) -> Figures:
    """Every figure of a whoson report (the whole ``to_dict()`` tree), flattened."""
    return flatten(report.to_dict())


def daily_key(day: date | str, key: str) -> str:
    """The figure key of one daily value."""
    return f"daily.{day if isinstance(day, str) else day.isoformat()}.{key}"


@dataclass(frozen=True)
class Mismatch:
    """One figure on which a peer and whoson disagree (or that one of them lacks)."""

    key: str
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.key}: whoson={self.expected!r} peer={self.actual!r}"


def _cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int):
        return isinstance(actual, int) and expected == actual
    if isinstance(expected, Decimal) or isinstance(actual, Decimal):
        return _cents(expected) == _cents(actual)
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(float(expected), float(actual), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return bool(expected == actual)


def compare(expected: Figures, actual: Figures) -> list[Mismatch]:
    """Every key on which ``actual`` differs from ``expected`` (whoson's), sorted by key.

    Counts must be equal ints, money equal once rounded to cents, floats
    close (relative 1e-9), ``None`` only equal to ``None``.

    >>> compare({"a": 1, "m": Decimal("1.005")}, {"a": 1, "m": Decimal("1.00")})
    []
    >>> [str(m) for m in compare({"a": 1, "r": 0.5}, {"a": 2})]
    ['a: whoson=1 peer=2', 'r: whoson=0.5 peer=None']
    """
    mismatches = []
    for key in sorted(expected.keys() | actual.keys()):
        left, right = expected.get(key), actual.get(key)
        if key not in actual or key not in expected or not _same(left, right):
            mismatches.append(Mismatch(key, left, right))
    return mismatches


def to_plain(figures: Figures) -> dict[str, Any]:
    """JSON-safe copy: Decimals become ``{"$d": "12.50"}``."""
    return {key: {"$d": str(value)} if isinstance(value, Decimal) else value for key, value in figures.items()}


def from_plain(plain: Mapping[str, Any]) -> Figures:
    """Inverse of :func:`to_plain`."""
    return {key: Decimal(value["$d"]) if isinstance(value, dict) else value for key, value in plain.items()}
