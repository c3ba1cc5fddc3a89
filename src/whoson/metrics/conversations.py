"""The ``conversations`` family: requests both sides responded to, by channel and initiator.

The tally keys (declared once), what a conversation adds to them and how the
section is read are all here; the conversation's support figures (handling,
transfers, FCR) are in :mod:`whoson.metrics.support`.

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "request", "ts": "2026-03-02T09:00:00Z", "visitor": "v1",
...      "request": "r1", "channel": "video", "initiator": "visitor"},
...     {"id": "2", "type": "message", "ts": "2026-03-02T09:02:00Z", "visitor": "v1",
...      "request": "r1", "sender": "agent", "agent": "a1"},
...     {"id": "3", "type": "message", "ts": "2026-03-02T09:05:00Z", "visitor": "v1",
...      "request": "r1", "sender": "visitor"},
... ])
>>> figures = tracker.report().conversations
>>> figures.total, figures.video, figures.avg_duration_minutes
(1, 1, 3.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from whoson.core.models import Conversation
from whoson.metrics.derive import CHANNELS, INITIATORS, minutes
from whoson.metrics.slots import micros
from whoson.metrics.tally import Kind, Tally, declare

__all__ = [
    "CONVERSATIONS",
    "DURATION",
    "ConversationFigures",
    "conversation_count",
    "conversation_figures",
    "conversation_into",
]

CONVERSATIONS = declare("conv", Kind.COUNT, ("channel", "initiator"), doc="conversations of in-range requests")
DURATION = declare("conv_duration", Kind.SUM, doc="their durations, microseconds")

# ------------------------------------------------------------------ contributions


def conversation_into(tally: Tally, conversation: Conversation) -> None:
    """The conversation of a request created in the tally's slot."""
    tally.count((CONVERSATIONS, conversation.channel, conversation.initiator))
    tally.count((DURATION,), micros(conversation.duration))


# ------------------------------------------------------------------ figures


def conversation_count(tally: Tally, channels: tuple[str, ...] = CHANNELS) -> int:
    """Conversations on ``channels``, every initiator."""
    return int(sum(tally.number((CONVERSATIONS, c, i)) for c in channels for i in INITIATORS))


@attrs.frozen
class ConversationFigures:
    """``conversations`` section: requests both sides responded to."""

    total: int
    text: int
    video: int
    avg_duration_minutes: float | None
    by_initiator: Mapping[str, int]


def conversation_figures(tally: Tally) -> ConversationFigures:
    """The ``conversations`` section from the range's tally."""
    total = conversation_count(tally)
    return ConversationFigures(
        total=total,
        text=conversation_count(tally, ("text",)),
        video=conversation_count(tally, ("video",)),
        avg_duration_minutes=minutes(int(tally.number((DURATION,))), total),
        by_initiator=MappingProxyType({
            i: int(sum(tally.number((CONVERSATIONS, c, i)) for c in CHANNELS)) for i in INITIATORS
        }),
    )
