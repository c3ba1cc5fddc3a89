"""Events to models: sessions, request outcomes, orders, surveys, agents.

:class:`Projection` folds events in, one at a time, in any order. Every piece
of state it keeps is a minimum, maximum, set, count or sorted list of the
events seen, so the state depends only on *which* events arrived, never on
their arrival order. Each event must arrive once: the store removes
duplicates before the projection sees them.

>>> from whoson.core.parsing import parse_event
>>> p = Projection()
>>> for raw in [
...     {"id": "1", "type": "request", "ts": "2026-03-01T12:00:00Z", "visitor": "v",
...      "request": "r", "channel": "text", "initiator": "visitor"},
...     {"id": "2", "type": "message", "ts": "2026-03-01T12:00:30Z", "visitor": "v",
...      "request": "r", "sender": "agent", "agent": "ann"},
... ]:
...     p.apply(parse_event(raw))
>>> request = p.request("r")
>>> request.is_conversation, request.engaged_at.isoformat(), request.last_agent
(True, '2026-03-01T12:00:30+00:00', 'ann')
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sortedcontainers import SortedList

from whoson.core.events import (
    AgentStatusEvent,
    CallJoinedEvent,
    CartUpdateEvent,
    Event,
    IdentifyEvent,
    MessageEvent,
    OrderEvent,
    PageViewEvent,
    RequestEndEvent,
    RequestEvent,
    SurveyEvent,
    TransferEvent,
)
from whoson.core.folds import RequestFold, SessionCut
from whoson.core.models import Agent, Order, PageView, Request, Session, Survey, Visitor

__all__ = ["Projection", "SessionFacts", "session_facts", "session_groups", "sessionise"]

from whoson.core.folds import Mark


def _order_model(event: OrderEvent) -> Order:
    return Order(
        id=event.order,
        visitor=event.visitor or "",
        ts=event.ts,
        value=event.value,
        subtotal=event.subtotal,
        discount=event.discount or Decimal(0),
        shipping=event.shipping or Decimal(0),
        tax=event.tax or Decimal(0),
        currency=event.currency,
    )


def _event_key(event: Event) -> Mark:
    return event.sort_key


def _every_order(_: OrderEvent) -> bool:
    return True


def sessionise(
    visitor: str,
    events: list[Event],
    timeout: timedelta,
    counts: Callable[[OrderEvent], bool] = _every_order,
) -> list[Session]:
    """Split one visitor's events, sorted by ``(ts, id)``, into sessions.

    The split is :func:`session_groups`'s. ``counts`` tells which ``order``
    events count as orders (a re-used order id does not).
    """
    groups = session_groups(events, timeout)
    return [_session(visitor, number, group, counts) for number, group in enumerate(groups, start=1)]


class SessionFacts(NamedTuple):
    """What a report counts of one session, without its page views.

    The fields mean what the :class:`~whoson.core.models.Session` fields of the
    same name mean.
    """

    start: datetime
    number: int
    max_cart_value: Decimal
    orders: int

    @property
    def returning(self) -> bool:
        """Whether this is not the visitor's first session."""
        return self.number > 1


def session_facts(
    events: list[Event],
    timeout: timedelta,
    counts: Callable[[OrderEvent], bool] = _every_order,
) -> list[SessionFacts]:
    """:func:`sessionise`'s sessions as :class:`SessionFacts`, in one pass, no page views built.

    Cost: O(k) for k events, a few operations per event (``sessionise``
    also builds a list per session and a ``PageView`` per page view).

    >>> from whoson.testing import make_event
    >>> start = make_event("page_view").ts
    >>> events = [make_event("page_view", id=str(m), ts=start + timedelta(minutes=m)) for m in (0, 10, 45)]
    >>> [(f.number, f.returning, f.orders) for f in session_facts(events, timedelta(minutes=30))]
    [(1, False, 0), (2, True, 0)]
    """
    facts: list[SessionFacts] = []
    cut = SessionCut(timeout)
    starts = cut.starts
    start: datetime | None = None
    number = 0
    cart: Decimal | None = None
    orders = 0
    for event in events:
        if starts(event):
            if start is not None:
                facts.append(SessionFacts(start, number, Decimal(0) if cart is None else cart, orders))
            start, number, cart, orders = event.ts, number + 1, None, 0
        if isinstance(event, CartUpdateEvent):
            # max() keeps the first of equal values; so does a strict comparison.
            if cart is None or event.value > cart:
                cart = event.value
        elif isinstance(event, OrderEvent) and counts(event):
            orders += 1
    if start is not None:
        facts.append(SessionFacts(start, number, Decimal(0) if cart is None else cart, orders))
    return facts


def session_groups(events: list[Event], timeout: timedelta) -> list[list[Event]]:
    """One visitor's events, sorted by ``(ts, id)``, grouped by session, oldest first.

    Sessions start where :class:`~whoson.core.folds.SessionCut` says (the
    live view asks it too).
    """
    groups: list[list[Event]] = []
    cut = SessionCut(timeout)
    for event in events:
        if cut.starts(event):
            groups.append([])
        groups[-1].append(event)
    return groups


def _session(
    visitor: str, number: int, events: list[Event], counts: Callable[[OrderEvent], bool]
) -> Session:
    views = [e for e in events if isinstance(e, PageViewEvent)]
    last = events[-1].ts
    pages = tuple(
        PageView(
            url=view.url,
            ts=view.ts,
            seconds=((views[i + 1].ts if i + 1 < len(views) else last) - view.ts).total_seconds(),
            title=view.title,
        )
        for i, view in enumerate(views)
    )
    carts = [e.value for e in events if isinstance(e, CartUpdateEvent)]
    explicit = next((v.session for v in views if v.session is not None), None)
    return Session(
        visitor=visitor,
        number=number,
        start=events[0].ts,
        last_activity=last,
        explicit_id=explicit,
        pages=pages,
        max_cart_value=max(carts, default=Decimal(0)),
        orders=sum(1 for e in events if isinstance(e, OrderEvent) and counts(e)),
    )


class Projection:
    """Indexed, order-independent state of every event applied so far.

    Costs: :meth:`apply` is O(log n), and O(k) for an event older than the
    visitor's newest (k = that visitor's events). Model accessors build
    immutable models on demand; sessions are cached per visitor until the
    visitor's next event.
    """

    def __init__(self) -> None:
        self.count = 0
        self.first_ts: datetime | None = None
        self.last_ts: datetime | None = None
        # Per visitor, events sorted by (ts, id); plain lists because events
        # mostly arrive in order, where appending is O(1).
        self.timelines: dict[str, list[Event]] = {}
        # Per visitor, (ts, id, url) of page views in order: for a request's page.
        self.page_views: dict[str, list[tuple[datetime, str, str]]] = {}
        self._requests: dict[str, RequestFold] = {}
        # Request models built from the folds, dropped when an event reaches the fold.
        self._request_models: dict[str, Request | None] = {}
        self._orders: dict[str, OrderEvent] = {}
        self._surveys: dict[str, SurveyEvent] = {}
        self._identities: dict[str, IdentifyEvent] = {}
        self._agent_status: dict[str, AgentStatusEvent] = {}
        # (ts, agent) of agent_status events: the only agent mentions without a visitor.
        self.status_mentions: list[tuple[datetime, str]] = []
        self._visitor_requests: dict[str, set[str]] = {}
        # (ts, request id) of every request event, for finding young requests fast.
        self.creations: SortedList = SortedList()
        self._visitor_orders: dict[str, set[str]] = {}
        self._visitor_surveys: dict[str, list[str]] = {}
        # Per visitor: sessions by timeout, and session facts by ("facts", timeout).
        self._session_cache: dict[str, dict[Any, list[Any]]] = {}

    # -- folding events in -------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one (never seen before) event into the state. O(log n)."""
        self.count += 1
        ts = event.ts
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        visitor = event.visitor
        if visitor is not None:
            timeline = self.timelines.get(visitor)
            if timeline is None:
                self.timelines[visitor] = [event]
            elif timeline[-1].sort_key <= event.sort_key:
                timeline.append(event)
            else:
                bisect.insort(timeline, event, key=_event_key)
            self._session_cache.pop(visitor, None)
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _request_state(self, request_id: str, visitor: str | None) -> RequestFold:
        self._request_models.pop(request_id, None)
        state = self._requests.get(request_id)
        if state is None:
            state = self._requests[request_id] = RequestFold()
        if visitor is not None:
            self._visitor_requests.setdefault(visitor, set()).add(request_id)
        return state

    def _on_request_event(self, event: MessageEvent | CallJoinedEvent | TransferEvent | RequestEndEvent) -> None:
        self._request_state(event.request, event.visitor).apply(event)

    def _on_page_view(self, event: PageViewEvent) -> None:
        assert event.visitor is not None
        entry = (event.ts, event.id, event.url)
        views = self.page_views.get(event.visitor)
        if views is None:
            self.page_views[event.visitor] = [entry]
        elif views[-1] <= entry:
            views.append(entry)
        else:
            bisect.insort(views, entry)

    def _on_request(self, event: RequestEvent) -> None:
        creation = (event.ts, event.request)
        # A second request event for the same request at the same instant is one creation.
        if creation not in self.creations:
            self.creations.add(creation)
        self._request_state(event.request, event.visitor).apply(event)

    def _on_order(self, event: OrderEvent) -> None:
        current = self._orders.get(event.order)
        if current is None or event.sort_key < current.sort_key:
            self._orders[event.order] = event
            if current is not None and current.visitor is not None:
                # The earlier event wins the id: the old winner's sessions lose that order.
                self._session_cache.pop(current.visitor, None)
        if event.visitor is not None:
            self._visitor_orders.setdefault(event.visitor, set()).add(event.order)

    def _on_survey(self, event: SurveyEvent) -> None:
        self._surveys[event.id] = event
        if event.request is not None:
            self._request_state(event.request, None).apply(event)
        if event.visitor is not None:
            self._visitor_surveys.setdefault(event.visitor, []).append(event.id)

    def _on_identify(self, event: IdentifyEvent) -> None:
        assert event.visitor is not None
        current = self._identities.get(event.visitor)
        if current is None or event.sort_key > current.sort_key:
            self._identities[event.visitor] = event

    def _on_agent_status(self, event: AgentStatusEvent) -> None:
        self.status_mentions.append((event.ts, event.agent))
        current = self._agent_status.get(event.agent)
        if current is None or event.sort_key > current.sort_key:
            self._agent_status[event.agent] = event

    # -- reading models ----------------------------------------------------

    def request(self, request_id: str) -> Request | None:
        """The request with this id, if its creation event has arrived."""
        return self._request_model(request_id) if request_id in self._requests else None

    def requests(self) -> Iterator[Request]:
        """Every created request (creation event seen), in no particular order."""
        for state in self._requests.values():
            model = state.model()
            if model is not None:
                yield model

    def _request_model(self, request_id: str) -> Request | None:
        """The model of a known request id, built once until an event reaches its fold."""
        models = self._request_models
        if request_id in models:
            return models[request_id]
        model = models[request_id] = self._requests[request_id].model()
        return model

    def requests_of(self, visitor: str) -> Iterator[Request]:
        """The visitor's created requests."""
        for request_id in self._visitor_requests.get(visitor, ()):
            model = self._request_model(request_id)
            if model is not None and model.visitor == visitor:
                yield model

    def orders_of(self, visitor: str) -> Iterator[Order]:
        """The visitor's orders (each order id once)."""
        for order_id in self._visitor_orders.get(visitor, ()):
            event = self._orders[order_id]
            if event.visitor == visitor:
                yield _order_model(event)

    def surveys_of(self, visitor: str) -> Iterator[Survey]:
        """The visitor's surveys."""
        for event_id in self._visitor_surveys.get(visitor, ()):
            yield self._survey_model(self._surveys[event_id])

    def _is_counted_order(self, event: OrderEvent) -> bool:
        return self._orders.get(event.order) is event

    def order_owner(self, order_id: str) -> str | None:
        """The visitor of the order event that currently counts for ``order_id``."""
        event = self._orders.get(order_id)
        return event.visitor if event is not None else None

    def orders(self) -> Iterator[Order]:
        """Every order id once: its earliest ``order`` event wins."""
        for event in self._orders.values():
            yield _order_model(event)

    def surveys(self) -> Iterator[Survey]:
        """Every survey, its agent falling back to the request's last responding agent."""
        for event in self._surveys.values():
            yield self._survey_model(event)

    def _survey_model(self, event: SurveyEvent) -> Survey:
        agent = event.agent
        if agent is None and event.request is not None:
            state = self._requests.get(event.request)
            agent = state.last_responding_agent() if state is not None else None
        return Survey(
            event_id=event.id,
            visitor=event.visitor or "",
            ts=event.ts,
            request=event.request,
            agent=agent,
            rating=event.rating,
            submitted=event.submitted,
            feedback=event.feedback,
        )

    def sessions(self, visitor: str, timeout: timedelta) -> list[Session]:
        """The visitor's sessions, oldest first (cached until the visitor's next event)."""
        by_timeout = self._session_cache.setdefault(visitor, {})
        cached: list[Session] | None = by_timeout.get(timeout)
        if cached is None:
            timeline = self.timelines.get(visitor)
            cached = by_timeout[timeout] = (
                sessionise(visitor, timeline, timeout, self._is_counted_order) if timeline else []
            )
        return cached

    def session_facts(self, visitor: str, timeout: timedelta) -> list[SessionFacts]:
        """What a report counts of the visitor's sessions, oldest first (cached like :meth:`sessions`).

        The same sessions as :meth:`sessions`, without building their page
        views: for callers that only count sessions, carts and orders.
        """
        by_timeout = self._session_cache.setdefault(visitor, {})
        key = ("facts", timeout)
        cached: list[SessionFacts] | None = by_timeout.get(key)
        if cached is None:
            timeline = self.timelines.get(visitor)
            cached = by_timeout[key] = (
                session_facts(timeline, timeout, self._is_counted_order) if timeline else []
            )
        return cached

    def latest_page_url(self, visitor: str, at: datetime) -> str | None:
        """The url of the visitor's latest page view at or before ``at``. O(log n)."""
        views = self.page_views.get(visitor)
        if not views:
            return None
        index = bisect.bisect_right(views, (at, "\U0010ffff"))
        return views[index - 1][2] if index else None

    def visitor(self, visitor_id: str, timeout: timedelta = timedelta(minutes=30)) -> Visitor | None:
        """What is known of one visitor, or ``None`` if never seen."""
        timeline = self.timelines.get(visitor_id)
        if not timeline:
            return None
        identity = self._identities.get(visitor_id)
        orders = list(self.orders_of(visitor_id))
        return Visitor(
            id=visitor_id,
            first_seen=timeline[0].ts,
            last_seen=timeline[-1].ts,
            customer=identity.customer if identity else None,
            name=identity.name if identity else None,
            email=identity.email if identity else None,
            sessions=len(self.sessions(visitor_id, timeout)),
            orders=len(orders),
            lifetime_value=sum((o.value for o in orders), Decimal(0)),
        )

    def agents(self) -> Iterator[Agent]:
        """Every agent that sent an ``agent_status``, as last reported."""
        for agent_id, event in sorted(self._agent_status.items()):
            yield Agent(agent_id, event.name, event.status, event.capacity, event.ts)


_HANDLERS: dict[type[Event], Callable[[Projection, Any], None]] = {
    PageViewEvent: Projection._on_page_view,
    RequestEvent: Projection._on_request,
    MessageEvent: Projection._on_request_event,
    CallJoinedEvent: Projection._on_request_event,
    TransferEvent: Projection._on_request_event,
    RequestEndEvent: Projection._on_request_event,
    OrderEvent: Projection._on_order,
    SurveyEvent: Projection._on_survey,
    IdentifyEvent: Projection._on_identify,
    AgentStatusEvent: Projection._on_agent_status,
}
