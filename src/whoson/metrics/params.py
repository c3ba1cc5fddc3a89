"""Report parameters and the small numeric helpers every metric family shares.

Every report option is resolved in one place: :meth:`ReportParams.resolve`
turns the keywords of :class:`ReportOptions` (as :meth:`whoson.Tracker.report`,
``whoson report``, the dashboard and :func:`whoson.report` take them) into a
checked :class:`ReportParams`, filling what is left out (or ``None``) from
:class:`ReportDefaults`, the one table of defaults.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, DefaultContext
from typing import TypedDict, Unpack
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from whoson.core.errors import ConfigError
from whoson.core.settings import RatingScale
from whoson.core.time import parse_duration, parse_ts

__all__ = [
    "DEFAULTS",
    "MAX_DAYS",
    "Instant",
    "ReportDefaults",
    "ReportOptions",
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

Instant = datetime | date | str | None
"""A range bound or moment as callers give it: an aware datetime, a date (local midnight) or text."""


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


class ReportOptions(TypedDict, total=False):
    """The report's keyword options, declared once.

    :meth:`whoson.Tracker.report`, ``whoson report``, the dashboard and
    :func:`whoson.report` all take these names; a name left out, or ``None``,
    means its default (:class:`ReportDefaults`; ``as_of``: the clock's now).
    Durations are ``timedelta`` or text such as ``"7d"``.
    """

    tz: str | None
    as_of: datetime | str | None
    attribution_window: timedelta | str | None
    response_timeout: timedelta | str | None
    fcr_window: timedelta | str | None
    session_timeout: timedelta | str | None
    rating_scale: RatingScale | str | None
    cost: Decimal | int | str | None


@attrs.frozen
class ReportDefaults:
    """The default of every report option, in one place.

    A tracker replaces the zone, the session timeout and the rating scale
    with its own settings; the rating scale is then the only one a report
    may ask for (asking for another is an error).

    >>> DEFAULTS.attribution_window, DEFAULTS.tz_name
    (datetime.timedelta(days=7), 'UTC')
    """

    tz_name: str = "UTC"
    attribution_window: timedelta = timedelta(days=7)
    response_timeout: timedelta = timedelta(minutes=10)
    fcr_window: timedelta = timedelta(hours=24)
    session_timeout: timedelta = timedelta(minutes=30)
    rating_scale: RatingScale = RatingScale()


DEFAULTS = ReportDefaults()
"""The library's defaults (a tracker without settings of its own reports with these)."""


@attrs.frozen
class ReportParams:
    """Everything a report depends on besides the events.

    ``start``/``end`` bound the half-open range (``None``: unbounded), in UTC.
    Build one from caller options with :meth:`resolve`.
    """

    as_of: datetime
    start: datetime | None = None
    end: datetime | None = None
    tz_name: str = DEFAULTS.tz_name
    attribution_window: timedelta = DEFAULTS.attribution_window
    response_timeout: timedelta = DEFAULTS.response_timeout
    fcr_window: timedelta = DEFAULTS.fcr_window
    session_timeout: timedelta = DEFAULTS.session_timeout
    rating_scale: RatingScale = DEFAULTS.rating_scale
    cost: Decimal | None = None

    @classmethod
    def resolve(
        cls,
        start: Instant = None,
        end: Instant = None,
        *,
        now: Callable[[], datetime],
        defaults: ReportDefaults = DEFAULTS,
        **options: Unpack[ReportOptions],
    ) -> ReportParams:
        """Check ``options`` and fill the rest from ``defaults``: the one resolution path.

        Dates mean local midnight in the report's zone; ``now()`` is read only
        when ``as_of`` is left out. Raises :class:`~whoson.core.errors.ConfigError`
        for a bad value, ``TypeError`` for an unknown option. O(1).

        >>> from datetime import UTC, datetime
        >>> params = ReportParams.resolve("2026-03-01", "2026-03-08", tz="Europe/Berlin",
        ...                               attribution_window="3d", now=lambda: datetime(2026, 3, 9, tzinfo=UTC))
        >>> params.start.isoformat(), params.attribution_window.days, params.fcr_window
        ('2026-02-28T23:00:00+00:00', 3, datetime.timedelta(days=1))
        """
        unknown = sorted(options.keys() - ReportOptions.__optional_keys__)
        if unknown:
            raise TypeError(f"report() got an unexpected keyword argument {unknown[0]!r}")
        tz = options.get("tz")
        tz_name = tz if tz is not None else defaults.tz_name
        local = zone(tz_name)
        asked = options.get("rating_scale")
        if asked is not None:
            scale = RatingScale.parse(asked) if isinstance(asked, str) else asked
            if scale != defaults.rating_scale:
                raise ConfigError(
                    f"rating scale {scale} asked for, but the events were checked against "
                    f"{defaults.rating_scale}"
                )
        as_of = options.get("as_of")
        moment = resolve_instant(as_of, local, "as_of") if as_of is not None else now()
        assert moment is not None
        start_at = resolve_instant(start, local, "start")
        end_at = resolve_instant(end, local, "end")
        if start_at is not None and end_at is not None:
            if end_at < start_at:
                raise ConfigError(f"range end {end_at} is before its start {start_at}")
            if (end_at - start_at).days > MAX_DAYS:
                raise ConfigError(f"the range spans more than {MAX_DAYS} days (one row a day)")
        cost = _cost(options.get("cost"))
        return cls(
            as_of=moment,
            start=start_at,
            end=end_at,
            tz_name=tz_name,
            attribution_window=_duration(options.get("attribution_window"), defaults.attribution_window),
            response_timeout=_duration(options.get("response_timeout"), defaults.response_timeout),
            fcr_window=_duration(options.get("fcr_window"), defaults.fcr_window),
            session_timeout=_duration(options.get("session_timeout"), defaults.session_timeout),
            rating_scale=defaults.rating_scale,
            cost=cost,
        )

    @property
    def tz(self) -> ZoneInfo:
        """The reporting time zone."""
        return zone(self.tz_name)

    def in_range(self, ts: datetime) -> bool:
        """Whether ``ts`` falls in ``[start, end)``."""
        return (self.start is None or ts >= self.start) and (self.end is None or ts < self.end)


def _duration(value: timedelta | str | None, default: timedelta) -> timedelta:
    return default if value is None else parse_duration(value)


def _cost(cost: Decimal | int | str | None) -> Decimal | None:
    """A channel cost: a finite, non-negative decimal amount of sane size."""
    if cost is None:
        return None
    try:
        value = Decimal(str(cost).strip())
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or value.adjusted() > 15:
        raise ConfigError(f"cost {cost!r} must be a non-negative decimal amount such as 1250.00")
    return value


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
