"""Comparing a report with another range: the previous range and the ``change`` table.

``compare="previous"`` takes the range that ends where the report's starts:
the same number of local days when both bounds are dates, else the same
duration. ``change`` holds every numeric leaf of the report outside lists
(``range`` left out), keyed by its dotted path from the root.

>>> from datetime import date
>>> previous_bounds("previous", date(2026, 3, 29), date(2026, 4, 5))
(datetime.date(2026, 3, 22), datetime.date(2026, 3, 29))
>>> change = changes({"visitors": {"total": 4, "widget_ctr": None}},
...                  {"visitors": {"total": 6, "widget_ctr": 0.5}})
>>> change["visitors.total"].delta, change["visitors.total"].ratio, change["visitors.widget_ctr"].delta
(2, 1.5, None)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from whoson.core.errors import ConfigError
from whoson.metrics.params import money_ratio

__all__ = [
    "Change", "Instant", "changes", "numeric_leaves", "parse_compare", "previous_bounds",
]

Instant = datetime | date | str | None
Number = int | float | Decimal
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@attrs.frozen
class Change:
    """One figure of both reports: ``delta`` = current - previous, ``ratio`` = current / previous.

    Both are None when either side is None; ``ratio`` also when previous is 0.
    Money keeps Decimal (its ratio in the 28-digit default context).
    """

    previous: Number | None
    current: Number | None
    delta: Number | None
    ratio: Number | None


def _as_date(bound: Instant) -> date | None:
    """The date a bound names when it is one (a ``date`` or ``YYYY-MM-DD`` text)."""
    if isinstance(bound, datetime):
        return None
    if isinstance(bound, date):
        return bound
    if isinstance(bound, str) and _DATE.fullmatch(bound.strip()):
        return date.fromisoformat(bound.strip())
    return None


def parse_compare(text: str) -> str | tuple[str, str]:
    """``previous`` or ``START..END`` as given on the command line.

    >>> parse_compare("previous"), parse_compare("2026-03-01..2026-03-08")
    ('previous', ('2026-03-01', '2026-03-08'))
    """
    if text == "previous":
        return text
    start, dots, end = text.partition("..")
    if not dots or not start.strip() or not end.strip():
        raise ConfigError(f"compare {text!r} must be 'previous' or START..END")
    return start.strip(), end.strip()


def previous_bounds(
    compare: object, start_at: datetime | date | None, end_at: datetime | date | None,
    start: Instant = None, end: Instant = None,
) -> tuple[Instant, Instant]:
    """The bounds of the range to compare with.

    ``start_at``/``end_at`` are the report's bounds resolved to instants (or
    dates); ``start``/``end`` the bounds as the caller gave them (to tell
    dates). ``compare`` is ``"previous"`` or an explicit ``(start, end)`` pair.
    """
    if isinstance(compare, (tuple, list)) and len(compare) == 2:
        return compare[0], compare[1]
    if compare != "previous":
        raise ConfigError(f"compare {compare!r} must be 'previous' or a (start, end) pair")
    if start_at is None or end_at is None:
        raise ConfigError("compare='previous' needs a range with both a start and an end")
    first = _as_date(start if start is not None else start_at)
    last = _as_date(end if end is not None else end_at)
    if first is not None and last is not None:
        return first - (last - first), first
    assert isinstance(start_at, datetime)
    assert isinstance(end_at, datetime)
    return start_at - (end_at - start_at), start_at


def numeric_leaves(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every number (or null) of a report tree outside lists, with its dotted path.

    >>> list(numeric_leaves({"a": {"b": 1, "c": None, "d": [2]}, "e": "text"}))
    [('a.b', 1), ('a.c', None)]
    """
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from numeric_leaves(value, path + ".")
        elif value is None or (isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)):
            yield path, value


_LEFT_OUT = ("range", "previous", "change")


def changes(previous: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Change]:
    """Every numeric leaf outside lists of two report trees (``to_dict()`` form), dotted."""
    before = dict(numeric_leaves({k: v for k, v in previous.items() if k not in _LEFT_OUT}))
    now = dict(numeric_leaves({k: v for k, v in current.items() if k not in _LEFT_OUT}))
    table: dict[str, Change] = {}
    for key in [*now, *(k for k in before if k not in now)]:
        x, y = before.get(key), now.get(key)
        table[key] = Change(x, y, _delta(x, y), _ratio(x, y))
    return table


def _delta(x: Number | None, y: Number | None) -> Number | None:
    if x is None or y is None:
        return None
    if isinstance(x, Decimal) or isinstance(y, Decimal):
        return Decimal(y) - Decimal(x)
    return y - x


def _ratio(x: Number | None, y: Number | None) -> Number | None:
    if x is None or y is None or x == 0:
        return None
    if isinstance(x, Decimal) or isinstance(y, Decimal):
        return money_ratio(Decimal(y), Decimal(x))
    return y / x
