"""Report parameters and the small numeric helpers every metric family shares."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, DefaultContext
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from whoson.core.errors import ConfigError
from whoson.core.settings import RatingScale
from whoson.core.time import parse_duration, parse_ts

__all__ = [
    "ReportParams",
    "money_ratio",
    "parse_duration",
    "percentile",
    "rank_positions",
    "rank_quantile",
    "ratio",
    "resolve_instant",
    "zone",
]

# Money quotients use Python's default decimal context (28 significant digits),
# whatever the caller's thread-local context happens to be.
_MONEY_CONTEXT = DefaultContext.copy()

# Instants whoson accepts as range bounds: wide, but far from datetime's limits,
# where moving to another zone or adding a day would overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
# A report's daily rows: at most a century of them.
MAX_DAYS = 36_525


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ConfigError when unknown.

    >>> zone("Europe/Berlin").key
    'Europe/Berlin'
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"time zone {name!r} is not a known IANA zone name") from None


def resolve_instant(
    value: datetime | date | str | None, tz: ZoneInfo, name: str = "instant"
) -> datetime | None:
    """An instant in UTC: datetimes must be aware; a date means local midnight in ``tz``.

    >>> resolve_instant("2026-03-29", zone("Europe/Berlin")).isoformat()
    '2026-03-28T23:00:00+00:00'
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = (
                date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
                else parse_ts(text, name)
            )
        except (ValueError, OverflowError):
            raise ConfigError(
                f"{name} {text!r} must be an RFC 3339 instant with a UTC offset "
                "(2026-03-01T12:00:00Z) or a date (2026-03-01)"
            ) from None
    if not EARLIEST.year <= value.year < LATEST.year:
        raise ConfigError(f"{name} {value.isoformat()} must lie between the years 1900 and 9000")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigError(f"{name} {value.isoformat()} must be timezone-aware")
        moment = value.astimezone(UTC)
    else:
        moment = datetime.combine(value, time(0), tzinfo=tz).astimezone(UTC)
    return moment


@attrs.frozen
class ReportParams:
    """Everything a report depends on besides the events.

    ``start``/``end`` bound the half-open range (``None``: unbounded), in UTC.
    """

    as_of: datetime
    start: datetime | None = None
    end: datetime | None = None
    tz_name: str = "UTC"
    attribution_window: timedelta = timedelta(days=7)
    response_timeout: timedelta = timedelta(minutes=10)
    fcr_window: timedelta = timedelta(hours=24)
    session_timeout: timedelta = timedelta(minutes=30)
    rating_scale: RatingScale = RatingScale()
    cost: Decimal | None = None

    @property
    def tz(self) -> ZoneInfo:
        """The reporting time zone."""
        return zone(self.tz_name)

    def in_range(self, ts: datetime) -> bool:
        """Whether ``ts`` falls in ``[start, end)``."""
        return (self.start is None or ts >= self.start) and (self.end is None or ts < self.end)


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator`` or ``None`` for an empty denominator.

    >>> ratio(1, 4), ratio(0, 0)
    (0.25, None)
    """
    return numerator / denominator if denominator else None


def money_ratio(amount: Decimal, denominator: Decimal | int) -> Decimal | None:
    """Decimal division in the default 28-digit context, ``None`` when dividing by 0.

    >>> money_ratio(Decimal("100"), 3)
    Decimal('33.33333333333333333333333333')
    """
    if not denominator:
        return None
    return _MONEY_CONTEXT.divide(amount, Decimal(denominator))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile with linear interpolation between closest ranks (numpy's default).

    >>> percentile([1, 2, 3, 4, 5], 0.9)
    4.6
    """
    ordered = sorted(values)
    return rank_quantile(len(ordered), q, ordered.__getitem__)


def rank_positions(count: int, q: float) -> tuple[int, int, float]:
    """The two 0-based ranks the ``q`` quantile of ``count`` values lies between, and how far.

    >>> rank_positions(5, 0.9)
    (3, 4, 0.6000000000000001)
    """
    position = (count - 1) * q
    low = math.floor(position)
    return low, math.ceil(position), position - low


def rank_quantile(count: int, q: float, at: Callable[[int], float]) -> float | None:
    """The ``q`` quantile of ``count`` sorted values, ``at(rank)`` giving each; None when empty.

    >>> rank_quantile(3, 0.5, [10.0, 20.0, 40.0].__getitem__)
    20.0
    """
    if not count:
        return None
    low, high, fraction = rank_positions(count, q)
    low_value = at(low)
    return low_value + (at(high) - low_value) * fraction
