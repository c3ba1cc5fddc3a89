"""Per-visitor state, folded from the visitor's events in ``(ts, id)`` order.

The fold is the single source of truth: :meth:`VisitorState.step` takes the
next event in event-time order, and a late event is handled by folding the
visitor's events again from scratch (see :class:`~whoson.live.view.LiveView`).

Sessions start where :class:`~whoson.core.folds.SessionCut` says, and each
request is a :class:`~whoson.core.folds.RequestFold`: the same folds the
report reads, so the live view and the report never disagree on a session
boundary or on how a request ended.
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
    TransferEvent,
)
from whoson.core.folds import RequestFold, SessionCut

__all__ = ["PageVisit", "RequestState", "SessionState", "VisitorState", "is_visitor_activity"]


def is_visitor_activity(event: Event) -> bool:
    """Whether the visitor (their browser or themselves) did this, rather than a rule or agent.

    Auto messages, holdouts, agent and auto requests, agent messages and call joins,
    transfers and request ends carry the visitor id but say nothing about the
    visitor still being there, so they do not keep a visitor online.

    >>> from whoson.core.parsing import parse_event
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


class RequestState(RequestFold):
    """One request as the live view reads it: the shared fold of
    :class:`~whoson.core.folds.RequestFold` (the report reads the same one),
    plus the page the visitor was on when it was created and the waits.
    """

    __slots__ = ("page_url", "request")

    def __init__(self, request: str) -> None:
        super().__init__()
        self.request = request
        # The visitor's page when the (earliest) request event arrived: the url
        # of a request that does not name one.
        self.page_url: str | None = None

    @property
    def channel(self) -> str | None:
        """``text`` or ``video`` (``None`` before the creation event)."""
        return self.creation.channel if self.creation is not None else None

    @property
    def agent(self) -> str | None:
        """The agent who created it (agent requests)."""
        return self.creation.agent if self.creation is not None else None

    @property
    def trigger(self) -> str | None:
        """The rule that created it (auto requests)."""
        return self.creation.trigger if self.creation is not None else None

    @property
    def department(self) -> str | None:
        """The department the request was sent to."""
        return self.creation.department if self.creation is not None else None

    @property
    def offline(self) -> bool:
        """A message left for later rather than a live chat."""
        return self.creation is not None and self.creation.is_offline

    @property
    def url(self) -> str | None:
        """The request's url, else the page the visitor was on when creating it."""
        if self.creation is not None and self.creation.url is not None:
            return self.creation.url
        return self.page_url

    @property
    def agent_first(self) -> datetime | None:
        """The first agent message or call join (creating the request does not count)."""
        return self.first_agent[0] if self.first_agent is not None else None

    @property
    def first_seen_at(self) -> datetime:
        """When the first event naming it happened."""
        assert self.first_seen is not None, "a request state exists only once it has an event"
        return self.first_seen

    @property
    def last_seen_at(self) -> datetime:
        """When the latest event naming it happened."""
        assert self.last_seen is not None, "a request state exists only once it has an event"
        return self.last_seen

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
    session_timeout: timedelta = timedelta(minutes=30)
    cut: SessionCut = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.cut = SessionCut(self.session_timeout)

    @property
    def anchor(self) -> datetime | None:
        """The instant presence counts from: the leave, if the visitor left, else the
        last activity (``None`` before any activity of the visitor's own)."""
        return self.left_at if self.left_at is not None else self.last_activity

    @property
    def session(self) -> SessionState:
        """The current (latest) session."""
        return self.sessions[-1]

    def step(self, event: Event) -> None:
        """Fold ``event``, which must not sort before any event folded so far."""
        self.events.append(event)
        if self.cut.starts(event):
            self.sessions.append(SessionState(len(self.sessions) + 1, event.ts, event.ts))
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
            state = self.requests[request_id] = RequestState(request_id)
        if isinstance(event, RequestEvent) and state.creation is None:
            page = self.session.current_page
            state.page_url = page.url if page is not None else None
        state.apply(event)
