"""The ``visitors`` family: unique visitors, sessions, returning visitors, widget CTR.

Everything about these figures is here: the tally keys (declared once), what
an event or a session adds to them, and how the section is read.

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "widget_impression", "ts": "2026-03-01T10:00:00Z", "visitor": "v1"},
...     {"id": "2", "type": "widget_click", "ts": "2026-03-01T10:01:00Z", "visitor": "v2"},
...     {"id": "3", "type": "page_view", "ts": "2026-03-01T10:02:00Z", "visitor": "v3", "url": "/"},
... ])
>>> figures = tracker.report().visitors
>>> figures.total, figures.with_impression, figures.with_click, figures.widget_ctr
(3, 2, 1, 0.5)
"""

from __future__ import annotations

import attrs

from whoson.core.events import Event, WidgetClickEvent, WidgetImpressionEvent
from whoson.core.models import Session
from whoson.core.projection import SessionFacts
from whoson.metrics.params import ratio
from whoson.metrics.tally import Kind, Tally, declare

__all__ = [
    "CLICKED",
    "RETURNING",
    "SEEN",
    "SESSIONS",
    "VISITORS",
    "VisitorFigures",
    "presence_into",
    "session_into",
    "visitor_figures",
    "widget_ctr",
    "widget_into",
]

VISITORS = declare("visitors", Kind.SET, doc="visitors with an in-range event (one mark per slot)")
SEEN = declare("seen", Kind.SET, doc="visitors with a widget impression (a click implies one)")
CLICKED = declare("clicked", Kind.SET, doc="visitors with a widget click")
SESSIONS = declare("sessions", Kind.COUNT, doc="sessions starting in range")
RETURNING = declare("returning", Kind.SET, doc="visitors with a returning session starting in range")

# ------------------------------------------------------------------ contributions


def presence_into(tally: Tally, visitor: str) -> None:
    """``visitor`` was present in the tally's slot (one mark per slot: enough for distinct counts)."""
    tally.put(VISITORS, visitor)


def widget_into(tally: Tally, event: Event, visitor: str) -> None:
    """A widget impression or click: the visitor saw (and clicked) the widget."""
    kind = type(event)
    if kind is WidgetImpressionEvent:
        tally.put(SEEN, visitor)
    elif kind is WidgetClickEvent:
        # A click implies an impression.
        tally.put(SEEN, visitor)
        tally.put(CLICKED, visitor)


def session_into(tally: Tally, session: Session | SessionFacts, visitor: str) -> None:
    """A session of ``visitor`` starting in the tally's slot."""
    tally.count((SESSIONS,))
    if session.returning:
        tally.put(RETURNING, visitor)


# ------------------------------------------------------------------ figures


@attrs.frozen
class VisitorFigures:
    """``visitors`` section: who came, how often, and who saw or clicked the widget."""

    total: int
    sessions: int
    returning: int
    with_impression: int
    with_click: int
    widget_ctr: float | None


def widget_ctr(tally: Tally) -> float | None:
    """Visitors who clicked the widget / visitors who saw it (None when nobody saw it)."""
    return ratio(tally.distinct(CLICKED), tally.distinct(SEEN))


def visitor_figures(tally: Tally) -> VisitorFigures:
    """The ``visitors`` section from the range's tally."""
    seen = tally.distinct(SEEN)
    clicked = tally.distinct(CLICKED)
    return VisitorFigures(
        total=tally.distinct(VISITORS),
        sessions=int(tally.number((SESSIONS,))),
        returning=tally.distinct(RETURNING),
        with_impression=seen,
        with_click=clicked,
        widget_ctr=ratio(clicked, seen),
    )
