"""The folds the report and the live view share: one request, and where sessions start.

:class:`RequestFold` accumulates every event naming one request id. Each
piece of state is a minimum, maximum, set or count of ``(ts, id)`` marks, so
the fold depends only on which events arrived, never on their order: the
projection (the report) applies events as they come, the live view applies a
visitor's events in time order, and both read the same request.

:class:`SessionCut` decides, one event at a time in ``(ts, id)`` order, where
a visitor's sessions start; :func:`whoson.core.projection.sessionise` and the
live view's per-visitor fold both ask it.

>>> from whoson.core.parsing import parse_event
>>> fold = RequestFold()
>>> for raw in [
...     {"id": "1", "type": "request", "ts": "2026-03-01T12:00:00Z", "visitor": "v",
...      "request": "r", "channel": "text", "initiator": "visitor"},
...     {"id": "3", "type": "request_end", "ts": "2026-03-01T12:09:00Z", "visitor": "v",
...      "request": "r", "reason": "timeout"},
...     {"id": "2", "type": "request_end", "ts": "2026-03-01T12:05:00Z", "visitor": "v",
...      "request": "r", "reason": "closed", "resolved": True},
... ]:
...     fold.apply(parse_event(raw))
>>> fold.ended.isoformat(), fold.end_reason, fold.resolved
('2026-03-01T12:09:00+00:00', 'timeout', None)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from whoson.core.events import (
    CallJoinedEvent,
    Event,
    MessageEvent,
    PageViewEvent,
    RequestEndEvent,
    RequestEvent,
    SurveyEvent,
    TransferEvent,
)
from whoson.core.models import Request

__all__ = ["AgentMark", "Mark", "RequestFold", "SessionCut", "later", "sooner"]

# (ts, event id) pairs order events exactly as the contract's tie rules ask.
Mark = tuple[datetime, str]
AgentMark = tuple[datetime, str, str]

_M = TypeVar("_M", Mark, AgentMark, tuple[datetime, str, int], tuple[datetime, str, str | None])


def sooner(current: _M | None, new: _M) -> _M:
    """The earlier of two marks (``current`` may be ``None``)."""
    return new if current is None or new < current else current


def later(current: _M | None, new: _M) -> _M:
    """The later of two marks (``current`` may be ``None``)."""
    return new if current is None or new > current else current


class RequestFold:
    """Order-independent accumulation of everything naming one request id.

    The earliest ``request`` event creates it (a re-used id is ignored), the
    latest ``request_end`` gives its end, reason and ``resolved`` (metrics.md,
    "With several request_end events the latest gives the end and
    resolved"), and the latest survey naming it its rating and feedback.
    ``apply`` is O(1).
    """

    __slots__ = (
        "agents",
        "assigned",
        "creation",
        "end",
        "escalations",
        "feedback_mark",
        "first_activity",
        "first_agent",
        "first_seen",
        "first_visitor",
        "last_activity",
        "last_agent",
        "last_seen",
        "rating_mark",
        "transfers",
    )

    def __init__(self) -> None:
        self.creation: RequestEvent | None = None
        self.first_visitor: Mark | None = None
        self.first_agent: AgentMark | None = None
        self.last_agent: AgentMark | None = None
        self.assigned: AgentMark | None = None
        self.agents: set[str] = set()
        self.first_activity: Mark | None = None
        self.last_activity: Mark | None = None
        self.first_seen: datetime | None = None
        self.last_seen: datetime | None = None
        self.end: RequestEndEvent | None = None
        self.rating_mark: tuple[datetime, str, int] | None = None
        self.feedback_mark: tuple[datetime, str, str | None] | None = None
        self.transfers = 0
        self.escalations = 0

    def apply(self, event: Event) -> None:
        """Fold in one event naming this request (each event once, any order)."""
        ts = event.ts
        if self.first_seen is None or ts < self.first_seen:
            self.first_seen = ts
        if self.last_seen is None or ts > self.last_seen:
            self.last_seen = ts
        mark = (ts, event.id)
        if isinstance(event, RequestEvent):
            if self.creation is None or event.sort_key < self.creation.sort_key:
                self.creation = event
            if event.initiator == "agent" and event.agent is not None:
                self.assigned = later(self.assigned, (event.ts, event.id, event.agent))
        elif isinstance(event, (MessageEvent, CallJoinedEvent)):
            self._add_response(event, mark)
        elif isinstance(event, TransferEvent):
            self.transfers += 1
            if event.is_escalation:
                self.escalations += 1
            if event.to_agent is not None:
                self.assigned = later(self.assigned, (event.ts, event.id, event.to_agent))
        elif isinstance(event, RequestEndEvent):
            if self.end is None or event.sort_key > self.end.sort_key:
                self.end = event
        elif isinstance(event, SurveyEvent):
            if event.rating is not None:
                self.rating_mark = later(self.rating_mark, (event.ts, event.id, event.rating))
            if event.feedback is not None:
                self.feedback_mark = later(self.feedback_mark, (event.ts, event.id, event.feedback))

    def _add_response(self, event: MessageEvent | CallJoinedEvent, mark: Mark) -> None:
        self.first_activity = sooner(self.first_activity, mark)
        self.last_activity = later(self.last_activity, mark)
        if event.side == "visitor":
            self.first_visitor = sooner(self.first_visitor, mark)
        elif event.agent is not None:
            agent_mark = (event.ts, event.id, event.agent)
            self.first_agent = sooner(self.first_agent, agent_mark)
            self.last_agent = later(self.last_agent, agent_mark)
            self.assigned = later(self.assigned, agent_mark)
            self.agents.add(event.agent)

    # -- reading ------------------------------------------------------------------

    @property
    def created(self) -> datetime | None:
        """When the (earliest) ``request`` event says it was created."""
        return self.creation.ts if self.creation is not None else None

    @property
    def initiator(self) -> str | None:
        """``visitor``, ``agent`` or ``auto`` (``None`` before the creation event)."""
        return self.creation.initiator if self.creation is not None else None

    @property
    def ended(self) -> datetime | None:
        """When the latest ``request_end`` ended it."""
        return self.end.ts if self.end is not None else None

    @property
    def resolved(self) -> bool | None:
        """The latest ``request_end``'s verdict."""
        return self.end.resolved if self.end is not None else None

    @property
    def end_reason(self) -> str | None:
        """The latest ``request_end``'s reason."""
        return self.end.reason if self.end is not None else None

    @property
    def rating(self) -> int | None:
        """The latest survey rating naming this request."""
        return self.rating_mark[2] if self.rating_mark is not None else None

    @property
    def feedback(self) -> str | None:
        """The latest survey feedback naming this request."""
        return self.feedback_mark[2] if self.feedback_mark is not None else None

    @property
    def current_agent(self) -> str | None:
        """The agent last put on it: the latest agent response, transfer target or agent creation."""
        return self.assigned[2] if self.assigned is not None else None

    @property
    def visitor_responded(self) -> datetime | None:
        """When the visitor side first responded (creating a visitor request counts)."""
        if self.initiator == "visitor":
            return self.created
        return self.first_visitor[0] if self.first_visitor is not None else None

    @property
    def agent_responded(self) -> datetime | None:
        """When the agent side first responded (creating an agent request counts)."""
        creation = self.creation
        if creation is not None and creation.initiator == "agent" and creation.agent is not None:
            return creation.ts
        return self.first_agent[0] if self.first_agent is not None else None

    @property
    def is_conversation(self) -> bool:
        """Both sides have responded."""
        return self.visitor_responded is not None and self.agent_responded is not None

    def last_responding_agent(self) -> str | None:
        """The agent of the latest agent-side response (creating an agent request counts).

        Known even before the ``request`` event itself has arrived.
        """
        last = self.last_agent
        creation = self.creation
        if creation is not None and creation.initiator == "agent" and creation.agent is not None:
            last = later(last, (creation.ts, creation.id, creation.agent))
        return last[2] if last is not None else None

    def model(self) -> Request | None:
        """The request as the report reads it, once its creation event has arrived."""
        creation = self.creation
        if creation is None:
            return None
        first_agent_id = self.first_agent[2] if self.first_agent else None
        agents = set(self.agents)
        if creation.initiator == "agent" and creation.agent is not None:
            first_agent_id = creation.agent
            agents.add(creation.agent)
        last_activity = self.last_activity
        if self.end is not None:
            last_activity = later(last_activity, (self.end.ts, self.end.id))
        return Request(
            id=creation.request,
            visitor=creation.visitor or "",
            channel=creation.channel,
            initiator=creation.initiator,
            created=creation.ts,
            creator_agent=creation.agent,
            trigger=creation.trigger,
            url=creation.url,
            offline=creation.is_offline,
            department=creation.department,
            first_visitor_response=self.visitor_responded,
            first_agent_response=self.agent_responded,
            first_agent=first_agent_id,
            last_agent=self.last_responding_agent(),
            agents=frozenset(agents),
            first_activity=self.first_activity[0] if self.first_activity else None,
            last_activity=last_activity[0] if last_activity else None,
            ended=self.ended,
            resolved=self.resolved,
            end_reason=self.end_reason,
            transfers=self.transfers,
            escalations=self.escalations,
        )


class SessionCut:
    """Where a visitor's sessions start, decided one event at a time in ``(ts, id)`` order.

    A session starts at the visitor's first event, at a ``page_view`` whose
    explicit ``session`` differs from the last explicit one, or, for an event
    without an explicit id, after a gap of at least ``timeout``.

    >>> from whoson.testing import make_event
    >>> cut = SessionCut(timedelta(minutes=30))
    >>> [cut.starts(make_event("heartbeat", id=str(m), ts=make_event("heartbeat").ts
    ...                         + timedelta(minutes=m))) for m in (0, 10, 45)]
    [True, False, True]
    """

    __slots__ = ("last_explicit", "previous", "timeout")

    def __init__(self, timeout: timedelta) -> None:
        self.timeout = timeout
        self.last_explicit: str | None = None
        self.previous: datetime | None = None

    def starts(self, event: Event) -> bool:
        """Whether ``event`` (the next one in time order) starts a new session."""
        explicit = event.session if isinstance(event, PageViewEvent) else None
        if self.previous is None:
            new = True
        elif explicit is not None:
            new = explicit != self.last_explicit
        else:
            new = event.ts - self.previous >= self.timeout
        if explicit is not None:
            self.last_explicit = explicit
        self.previous = event.ts
        return new
