"""Fifteen-minute UTC slots, and the report settings a contribution depends on.

Slots are 15 minutes of UTC: every real time zone's offset and daylight-saving
shift is a multiple of 15 minutes, so a slot lies inside one local hour and
one local date, whatever the reporting zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs

from whoson.metrics.tally import Tally

__all__ = ["SLOT", "Keep", "Settings", "SlotTallies", "Slots", "keep_all", "micros", "slot_of", "slot_start"]

SLOT = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS = timedelta(microseconds=1)

SlotTallies = dict[int, Tally]
Keep = Callable[[datetime], bool]


def slot_of(ts: datetime) -> int:
    """The 15-minute UTC slot holding ``ts``.

    >>> slot_of(datetime(1970, 1, 1, 0, 29, tzinfo=UTC))
    1
    """
    return (ts - _EPOCH) // SLOT


def slot_start(slot: int) -> datetime:
    """The first instant of ``slot``.

    >>> slot_start(1)
    datetime.datetime(1970, 1, 1, 0, 15, tzinfo=datetime.timezone.utc)
    """
    return _EPOCH + slot * SLOT


def micros(delta: timedelta) -> int:
    """A duration in whole microseconds (exact integer arithmetic for sums).

    >>> micros(timedelta(seconds=2))
    2000000
    """
    return delta // _MICROS


@attrs.frozen
class Settings:
    """The report parameters a contribution depends on."""

    session_timeout: timedelta = timedelta(minutes=30)
    attribution_window: timedelta = timedelta(days=7)
    fcr_window: timedelta = timedelta(hours=24)


def keep_all(_: datetime) -> bool:
    """Keep every anchor time (the incremental path: slots are never cut)."""
    return True


class Slots:
    """Collects tallies per slot, dropping anything anchored outside ``keep``."""

    __slots__ = ("keep", "tallies")

    def __init__(self, keep: Keep) -> None:
        self.tallies: SlotTallies = {}
        self.keep = keep

    def at(self, ts: datetime) -> Tally | None:
        """The tally of the slot holding ``ts``, or None when ``ts`` is filtered out."""
        if not self.keep(ts):
            return None
        return self.tally(slot_of(ts))

    def tally(self, slot: int) -> Tally:
        """The tally of ``slot``, created empty."""
        tally = self.tallies.get(slot)
        if tally is None:
            tally = self.tallies[slot] = Tally()
        return tally
