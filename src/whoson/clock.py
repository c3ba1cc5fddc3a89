"""Clocks: the only place whoson learns what time it is.

Library code takes ``now`` from an injected clock, so replaying a log with a
:class:`FixedClock` gives exactly the answer living it gave.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FixedClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` that returns an aware UTC datetime."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock.

    >>> SystemClock().now().tzinfo is UTC
    True
    """

    def now(self) -> datetime:
        """The current instant from the operating system."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: for tests, replays and examples.

    >>> clock = FixedClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    >>> clock.advance(seconds=90).isoformat()
    '2026-03-01T12:01:30+00:00'
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The instant the clock was last set to."""
        return self._now

    def set(self, instant: datetime) -> None:
        """Move the clock to ``instant`` (may go backwards, for replays)."""
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = instant.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by a ``timedelta(**delta)`` and return the new now."""
        self._now += timedelta(**delta)
        return self._now
