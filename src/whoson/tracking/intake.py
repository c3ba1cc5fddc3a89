"""Input events into a batch: validation with the tracker's settings, outcomes merged back.

Events that fail validation never reach the store; :meth:`Intake.merge`
puts their rejections back among the store's outcomes, in input order.

>>> from whoson.core.settings import ParseContext
>>> from whoson.core.batch import BatchResult
>>> intake = Intake.of([{"id": "a", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z",
...                      "visitor": "v"}, {"id": "b"}], lambda raw: admit(raw, ParseContext()))
>>> len(intake.events), sorted(intake.early)
(1, [1])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from whoson.core.batch import AppendOutcome, BatchResult, Status
from whoson.core.errors import InvalidEvent
from whoson.core.events import EVENT_TYPES, Event, MessageEvent, OrderEvent, SurveyEvent
from whoson.core.parsing import admit as admit_event
from whoson.core.parsing import parse_event
from whoson.core.settings import ParseContext

__all__ = ["EventInput", "Intake", "accepted", "admit"]

EventInput = Event | Mapping[str, Any]

# Typed events no setting changes (no rating, currency or message text): admitted as they are.
_AS_IS = frozenset(cls for cls in EVENT_TYPES.values() if cls not in (MessageEvent, OrderEvent, SurveyEvent))


def admit(raw: EventInput, ctx: ParseContext, store_text: bool = False) -> Event:
    """``raw`` validated with ``ctx``; a chat message's ``text`` dropped unless ``store_text``."""
    if raw.__class__ in _AS_IS:
        return raw
    event = admit_event(raw, ctx) if isinstance(raw, Event) else parse_event(raw, ctx)
    if not store_text and isinstance(event, MessageEvent) and "text" in event.extra:
        event = attrs.evolve(event, extra={k: v for k, v in event.extra.items() if k != "text"})
    return event


@attrs.define
class Intake:
    """A batch as validated: the events to store, their input indexes, the early rejections."""

    events: list[Event]
    indexes: list[int]
    early: dict[int, AppendOutcome]
    count: int

    @classmethod
    def of(cls, raws: Iterable[EventInput], admit: Callable[[EventInput], Event]) -> Intake:
        """Validate each input with ``admit``; O(batch)."""
        intake = cls([], [], {}, 0)
        for index, raw in enumerate(raws):
            intake.count = index + 1
            try:
                event = admit(raw)
            except InvalidEvent as error:
                event_id = raw.id if isinstance(raw, Event) else _raw_id(raw)
                intake.early[index] = AppendOutcome(index, event_id, Status.REJECTED, error)
                continue
            intake.events.append(event)
            intake.indexes.append(index)
        return intake

    def merge(self, result: BatchResult) -> BatchResult:
        """The store's ``result`` for :attr:`events` with the early rejections, in input order."""
        if not self.early:
            return result
        merged: list[AppendOutcome] = []
        stored = iter(zip(self.indexes, result.outcomes, strict=False))
        for i in range(self.count):
            if i in self.early:
                merged.append(self.early[i])
                continue
            position, outcome = next(stored, (i, None))
            if outcome is None:
                unwritten = InvalidEvent("batch", None, "not written: strict batch had a rejection")
                merged.append(AppendOutcome(i, None, Status.REJECTED, unwritten))
            else:
                merged.append(attrs.evolve(outcome, index=position))
        return BatchResult(tuple(merged)).evolve(fired=result.fired)


def accepted(events: Sequence[Event], result: BatchResult) -> list[Event]:
    """The events of a batch that the store accepted (the statuses run parallel)."""
    return [e for e, status in zip(events, result.statuses(), strict=False) if status is Status.ACCEPTED]


def _raw_id(raw: Any) -> str | None:
    if isinstance(raw, Mapping):
        value = raw.get("id")
        return value if isinstance(value, str) else None
    return None
