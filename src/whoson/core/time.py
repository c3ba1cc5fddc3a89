"""Time values of the contract: RFC 3339 timestamps in UTC, and durations.

Every instant inside whoson is an aware UTC :class:`~datetime.datetime`;
:func:`parse_ts` reads one and :func:`format_ts` writes it back. Every
setting that is a length of time (report windows, live thresholds, rule
conditions and cooldowns) is read by the one :func:`parse_duration`.

>>> format_ts(parse_ts("2026-03-01T13:00:00+01:00"))
'2026-03-01T12:00:00Z'
>>> parse_duration("1h30m"), parse_duration(90)
(datetime.timedelta(seconds=5400), datetime.timedelta(seconds=90))
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from whoson.core.errors import ConfigError, InvalidEvent

__all__ = ["LONGEST_DURATION", "format_ts", "parse_duration", "parse_ts"]

_fromisoformat = datetime.fromisoformat


def parse_ts(raw: Any, field: str = "ts") -> datetime:
    """An RFC 3339 timestamp with a UTC offset, in UTC, between the years 1900 and 9000.

    >>> parse_ts("2026-03-29T02:30:00+02:00").isoformat()
    '2026-03-29T00:30:00+00:00'
    >>> try:
    ...     parse_ts("2026-03-29T02:30:00")
    ... except InvalidEvent as err:
    ...     print(err.rule)
    must carry a UTC offset (Z or +hh:mm); no guessing
    """
    try:
        moment = _parse_ts(raw, field)
    except OverflowError:
        moment = datetime.min.replace(tzinfo=UTC)
    if not _FIRST_YEAR <= moment.year < _LAST_YEAR:
        raise InvalidEvent(field, raw, f"must lie between the years {_FIRST_YEAR} and {_LAST_YEAR}")
    return moment


# Far from datetime's own limits, where moving to a local zone would overflow.
_FIRST_YEAR, _LAST_YEAR = 1900, 9000


# RFC 3339 allows a leap second (second 60); Python's datetime has none.
_LEAP = re.compile(r"^(.{10}[Tt ]\d\d:\d\d):60(?:[.,]\d+)?(?=[Zz+-]|$)")
_GENERIC = "Invalid isoformat string"


def _parse_ts(raw: Any, field: str) -> datetime:
    if type(raw) is str:
        # Fast path for a clean string; anything odd takes the checked path below.
        try:
            parsed = _fromisoformat(raw)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is UTC:
                return parsed
            if parsed.tzinfo is not None and parsed.utcoffset() is not None:
                return parsed.astimezone(UTC)
    if isinstance(raw, datetime):
        parsed = raw
    else:
        if not isinstance(raw, str):
            raise InvalidEvent(field, raw, "must be an RFC 3339 string")
        text = raw.strip()
        if text.endswith("z"):  # RFC 3339 section 5.6: "T" and "Z" may be lower case
            text = text[:-1] + "Z"
        # A leap second is read as the last microsecond of its minute.
        text = _LEAP.sub(r"\1:59.999999", text, count=1)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as err:
            why = str(err)
            rule = "must be an RFC 3339 timestamp such as 2026-03-01T12:00:00Z"
            raise InvalidEvent(field, raw, rule if _GENERIC in why else f"{rule} ({why})") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidEvent(field, raw, "must carry a UTC offset (Z or +hh:mm); no guessing")
    return parsed.astimezone(UTC)


def format_ts(moment: datetime) -> str:
    """Write a UTC instant the way whoson stores it (``Z``, microseconds only if any).

    >>> format_ts(parse_ts("2026-03-01T12:00:00.250+00:00"))
    '2026-03-01T12:00:00.250000Z'
    """
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


# Durations beyond a century are typing mistakes, not settings.
LONGEST_DURATION = timedelta(days=36_525)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NUMBER = r"\d+(?:\.\d+)?"
_SECONDS = re.compile(rf"\s*({_NUMBER})\s*")
_TEXT = re.compile(rf"(?:\s*{_NUMBER}\s*[smhdw])+\s*")
_PART = re.compile(rf"({_NUMBER})\s*([smhdw])")
_RULE = "must be a number of seconds or a duration like '90s', '10m', '1h'"


def parse_duration(value: Any) -> timedelta:
    """Read a length of time: a timedelta, a number of seconds, or text.

    Text is a number of seconds (``"90"``) or one or more parts with a unit,
    ``s``, ``m``, ``h``, ``d`` or ``w`` (``"90s"``, ``"1.5h"``, ``"1h30m"``,
    ``"7d"``; any case, spaces allowed). A timedelta passes through as it is;
    numbers may be negative (range checks belong to the setting that reads
    the value); anything beyond 100 years (:data:`LONGEST_DURATION`), and
    anything else, raises :class:`~whoson.core.errors.ConfigError` naming the
    value and the rule. Costs a regular-expression match: read settings once.

    >>> parse_duration("7d"), parse_duration("1.5h"), parse_duration("90")
    (datetime.timedelta(days=7), datetime.timedelta(seconds=5400), datetime.timedelta(seconds=90))
    >>> parse_duration("soon")
    Traceback (most recent call last):
    ...
    whoson.core.errors.ConfigError: must be a number of seconds or a duration like '90s', '10m', '1h' (got 'soon')
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ConfigError(f"{_RULE} (got {value!r})")
    if isinstance(value, (int, float, Decimal)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.lower()
        plain = _SECONDS.fullmatch(text)
        if plain is not None:
            seconds = float(plain.group(1))
        elif _TEXT.fullmatch(text) is not None:
            seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
        else:
            raise ConfigError(f"{_RULE} (got {value!r})")
    else:
        raise ConfigError(f"{_RULE} (got {value!r})")
    if math.isnan(seconds):
        raise ConfigError(f"{_RULE} (got {value!r})")
    if abs(seconds) > LONGEST_DURATION.total_seconds():
        raise ConfigError(f"must be a duration of at most {LONGEST_DURATION.days} days (got {value!r})")
    return timedelta(seconds=seconds)
