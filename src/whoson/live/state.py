"""Per-visitor state, folded from the visitor's events in ``(ts, id)`` order.

The fold is the single source of truth: :meth:`VisitorState.step` takes the
next event in event-time order, and a late event is handled by folding the
visitor's events again from scratch (see :class:`~whoson.live.view.LiveView`).

Sessions follow the event contract: a ``page_view`` with an explicit
``session`` starts a new session iff that id differs from the last explicit id
seen for the visitor; any other event starts one iff the gap to the previous
event is at least the session timeout.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from whoson.core.events import (
    AutoMessageEvent,
    CallJoinedEvent,
    CartUpdateEvent,
    Event,
    HoldoutEvent,
    IdentifyEvent,
    MessageEvent,
    OrderEvent,
    PageLeaveEvent,
    PageViewEvent,
    RequestEndEvent,
    RequestEvent,
    SurveyEvent,
    TransferEvent,
)

__all__ = ["PageVisit", "RequestState", "SessionState", "VisitorState", "is_visitor_activity"]


def is_visitor_activity(event: Event) -> bool:
    """Whether the visitor (their browser or themselves) did this, rather than a rule or agent.

    Auto messages, holdouts, agent and auto requests, agent messages and call joins,
    transfers and request ends carry the visitor id but say nothing about the
    visitor still being there, so they do not keep a visitor online.

    >>> from whoson.core.events import parse_event
    >>> is_visitor_activity(parse_event({"id": "m", "type": "message", "request": "r",
    ...     "ts": "2026-03-01T12:00:00Z", "visitor": "v", "sender": "agent", "agent": "ann"}))
    False
    """
    if isinstance(event, (AutoMessageEvent, HoldoutEvent, TransferEvent, RequestEndEvent)):
        return False
    if isinstance(event, RequestEvent):
        return event.initiator == "visitor"
    if isinstance(event, (MessageEvent, CallJoinedEvent)):
        return event.side == "visitor"
    return True


@attrs.define
class PageVisit:
    """One page view: when it opened and, if a ``page_leave`` closed it, when."""

    url: str
    title: str | None
    opened: datetime
    closed: datetime | None = None


@attrs.define
class SessionState:
    """One visit: its pages and the facts of its first page view."""

    number: int
    started: datetime
    last: datetime
    pages: list[PageVisit] = attrs.field(factory=list)
    url_counts: dict[str, int] = attrs.field(factory=dict)
    referrer: str | None = None
    device: str | None = None
    country: str | None = None
    orders: int = 0
    order_value: Decimal = Decimal(0)

    @property
    def current_page(self) -> PageVisit | None:
        """The page opened last in this session, if any."""
        return self.pages[-1] if self.pages else None


@attrs.define
class RequestState:
    """What the events naming one request say about it so far."""

    request: str
    first_seen: datetime
    last_seen: datetime
    created: datetime | None = None
    channel: str | None = None
    initiator: str | None = None
    agent: str | None = None
    trigger: str | None = None
    url: str | None = None
    department: str | None = None
    offline: bool = False
    visitor_first: datetime | None = None
    agent_first: datetime | None = None
    current_agent: str | None = None
    ended: datetime | None = None
    end_reason: str | None = None
    resolved: bool | None = None
    rating: int | None = None
    feedback: str | None = None

    @property
    def visitor_responded(self) -> datetime | None:
        """When the visitor side responded (by creating it, for a visitor request)."""
        if self.initiator == "visitor" and self.created is not None:
            return self.created
        return self.visitor_first

    @property
    def agent_responded(self) -> datetime | None:
        """When the agent side responded (by creating it, for an agent request)."""
        if self.initiator == "agent" and self.created is not None:
            return self.created
        return self.agent_first

    @property
    def is_conversation(self) -> bool:
        """Both sides have responded."""
        return self.visitor_responded is not None and self.agent_responded is not None

    @property
    def waiting_since(self) -> datetime | None:
        """Since when the visitor waits for an agent; ``None`` if nobody waits.

        A visitor waits from creating the request (or, for an invitation, from
        their first answer to it) until an agent responds or the request ends.
        Offline requests are messages left for later: nobody waits live.
        """
        if self.ended is not None or self.offline or self.agent_responded is not None:
            return None
        return self.visitor_responded

    @property
    def first_response_seconds(self) -> float | None:
        """Seconds the visitor waited before an agent's first response, if one came."""
        since = self.visitor_responded
        answered = self.agent_first
        if self.offline or since is None or answered is None or self.initiator == "agent":
            return None
        if answered < since:
            return None
        return (answered - since).total_seconds()


@attrs.define
class VisitorState:
    """Everything the live view knows about one visitor.

    ``events`` is kept sorted by ``(ts, id)``; the other fields are the fold
    of those events. ``left_at`` is set by a ``page_leave`` of the current
    page and cleared by the next ``page_view``.
    """

    visitor: str
    events: list[Event] = attrs.field(factory=list)
    sessions: list[SessionState] = attrs.field(factory=list)
    customer: str | None = None
    name: str | None = None
    email: str | None = None
    cart_value: Decimal = Decimal(0)
    orders: dict[str, OrderEvent] = attrs.field(factory=dict)
    lifetime_value: Decimal = Decimal(0)
    requests: dict[str, RequestState] = attrs.field(factory=dict)
    last_event: datetime | None = None
    last_activity: datetime | None = None
    left_at: datetime | None = None
    last_explicit_session: str | None = None

    @property
    def anchor(self) -> datetime | None:
        """The instant presence counts from: the leave, if the visitor left, else the
        last activity (``None`` before any activity of the visitor's own)."""
        return self.left_at if self.left_at is not None else self.last_activity

    @property
    def session(self) -> SessionState:
        """The current (latest) session."""
        return self.sessions[-1]

    def step(self, event: Event, session_timeout: timedelta) -> None:
        """Fold ``event``, which must not sort before any event folded so far."""
        self.events.append(event)
        self._sessionise(event, session_timeout)
        self.last_event = event.ts
        if is_visitor_activity(event):
            self.last_activity = event.ts
        self.session.last = event.ts
        if isinstance(event, PageViewEvent):
            self._page_view(event)
        elif isinstance(event, PageLeaveEvent):
            page = self.session.current_page
            if page is None or event.url is None or event.url == page.url:
                # A leave naming another page is a late beacon of a page already
                # replaced by navigation: it does not close the current one.
                if page is not None and page.closed is None:
                    page.closed = event.ts
                self.left_at = event.ts
        elif isinstance(event, IdentifyEvent):
            self.customer = event.customer
            self.name = event.name if event.name is not None else self.name
            self.email = event.email if event.email is not None else self.email
        elif isinstance(event, CartUpdateEvent):
            self.cart_value = event.value
        elif isinstance(event, OrderEvent):
            if event.order not in self.orders:
                self.orders[event.order] = event
                self.lifetime_value += event.value
                self.session.orders += 1
                self.session.order_value += event.value
        elif event.request_id is not None:
            self._request_event(event, event.request_id)

    def _sessionise(self, event: Event, timeout: timedelta) -> None:
        explicit = event.session if isinstance(event, PageViewEvent) else None
        if not self.sessions:
            new = True
        elif explicit is not None:
            new = explicit != self.last_explicit_session
        else:
            new = event.ts - self.session.last >= timeout
        if explicit is not None:
            self.last_explicit_session = explicit
        if new:
            self.sessions.append(SessionState(len(self.sessions) + 1, event.ts, event.ts))

    def _page_view(self, event: PageViewEvent) -> None:
        session = self.session
        if not session.pages:
            session.referrer = event.referrer
            session.device = event.device
            session.country = event.country
        previous = session.current_page
        if previous is not None and previous.closed is None:
            previous.closed = event.ts
        session.pages.append(PageVisit(event.url, event.title, event.ts))
        session.url_counts[event.url] = session.url_counts.get(event.url, 0) + 1
        self.left_at = None

    def _request_event(self, event: Event, request_id: str) -> None:
        state = self.requests.get(request_id)
        if state is None:
            state = RequestState(request_id, event.ts, event.ts)
            self.requests[request_id] = state
        state.last_seen = event.ts
        if isinstance(event, RequestEvent):
            if state.created is None:
                state.created = event.ts
                state.channel = event.channel
                state.initiator = event.initiator
                state.agent = event.agent
                state.trigger = event.trigger
                page = self.session.current_page
                state.url = event.url if event.url is not None else page.url if page else None
                state.department = event.department
                state.offline = event.is_offline
                if event.agent is not None and state.current_agent is None:
                    state.current_agent = event.agent
        elif isinstance(event, (MessageEvent, CallJoinedEvent)):
            if event.side == "visitor":
                if state.visitor_first is None:
                    state.visitor_first = event.ts
            else:
                if state.agent_first is None:
                    state.agent_first = event.ts
                state.current_agent = event.agent
        elif isinstance(event, TransferEvent):
            if event.to_agent is not None:
                state.current_agent = event.to_agent
        elif isinstance(event, RequestEndEvent):
            if state.ended is None:
                state.ended = event.ts
                state.end_reason = event.reason
            state.resolved = event.resolved if event.resolved is not None else state.resolved
        elif isinstance(event, SurveyEvent):
            if event.rating is not None:
                state.rating = event.rating
            if event.feedback is not None:
                state.feedback = event.feedback
