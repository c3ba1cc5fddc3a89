"""Small hand-written event scenes for the family tests: events a few minutes apart, and their report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from whoson import FixedClock, Tracker
from whoson.core.events import Event
from whoson.core.parsing import parse_event
from whoson.core.time import format_ts
from whoson.metrics.report import Report

BASE = datetime(2026, 3, 2, 9, tzinfo=UTC)
DAY_LATER = BASE + timedelta(days=1)


def at(minutes: float) -> datetime:
    """``minutes`` after 2026-03-02 09:00 UTC."""
    return BASE + timedelta(minutes=minutes)


class Scene:
    """Events numbered as they are written."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, minutes: float, visitor: str | None, **fields: Any) -> Scene:
        """One more event ``minutes`` after the base instant."""
        event = {"id": str(len(self.events) + 1), "type": kind, "ts": format_ts(at(minutes)), **fields}
        if visitor is not None:
            event["visitor"] = visitor
        self.events.append(event)
        return self

    def parsed(self) -> list[Event]:
        """The events as typed events."""
        return [parse_event(event) for event in self.events]

    def report(self, as_of: datetime = DAY_LATER, **options: Any) -> Report:
        """The report of the scene at ``as_of`` (tracker options such as ``rating_scale`` go to the tracker)."""
        tracker_options = {k: options.pop(k) for k in ("rating_scale",) if k in options}
        tracker = Tracker(clock=FixedClock(as_of), **tracker_options)
        result = tracker.record_many(self.events)
        assert 0 == result.rejected, [str(outcome.error) for outcome in result.errors]
        return tracker.report(as_of=as_of, **options)
