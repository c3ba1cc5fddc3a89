"""Building hand-written event scenarios for the live view and rules tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from whoson.core.events import Event
from whoson.core.parsing import parse_event
from whoson.core.time import format_ts
from whoson.live import LiveView

__all__ = ["T0", "Feed", "at"]

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """The instant ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


class Feed:
    """Makes events ``seconds`` after T0 with increasing ids, and applies them to a view."""

    def __init__(self, view: LiveView | None = None) -> None:
        self.view = view if view is not None else LiveView()
        self.count = 0
        self.events: list[Event] = []

    def make(self, kind: str, seconds: float, visitor: str | None = "v1", **fields: Any) -> Event:
        """The event, not applied."""
        self.count += 1
        data: dict[str, Any] = {"id": f"e{self.count:05d}", "type": kind,
                                "ts": format_ts(at(seconds)), **fields}
        if visitor is not None:
            data["visitor"] = visitor
        return parse_event(data)

    def __call__(self, kind: str, seconds: float, visitor: str | None = "v1",
                 **fields: Any) -> Event:
        """Make the event and apply it to the view."""
        event = self.make(kind, seconds, visitor, **fields)
        self.events.append(event)
        self.view.apply(event)
        return event
