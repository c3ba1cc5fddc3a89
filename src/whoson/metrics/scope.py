"""The selection a report works on: entities anchored in range, decided at ``as_of``.

Built once per report from a :class:`~whoson.core.projection.Projection`
that holds only events at or before ``as_of``; every metric family reads it.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import cached_property

from whoson.core.models import Conversation, Order, Outcome, Request, Session, Survey
from whoson.core.projection import Projection
from whoson.metrics.params import ReportParams

__all__ = ["Attribution", "Scope"]

_ONE_MICROSECOND = timedelta(microseconds=1)


class Attribution:
    """An attributed order with the conversation that gets the credit (last touch)."""

    __slots__ = ("conversation", "order")

    def __init__(self, order: Order, conversation: Conversation) -> None:
        self.order = order
        self.conversation = conversation

    @property
    def agent(self) -> str | None:
        """The conversation's last responding agent."""
        return self.conversation.last_agent


class Scope:
    """In-range requests, conversations, orders, surveys and sessions, with their outcomes."""

    def __init__(self, projection: Projection, params: ReportParams) -> None:
        self.projection = projection
        self.params = params
        self.tz = params.tz
        all_requests = list(projection.requests())
        self.requests: list[Request] = [r for r in all_requests if params.in_range(r.created)]
        self.outcomes: dict[str, Outcome] = {
            r.id: r.outcome(params.as_of, params.response_timeout) for r in self.requests
        }
        self.pairs: list[tuple[Request, Conversation]] = []
        for request in self.requests:
            conversation = request.conversation()
            if conversation is not None:
                self.pairs.append((request, conversation))
        self.conversations = [c for _, c in self.pairs]
        self._all_requests = all_requests
        self.orders: list[Order] = [o for o in projection.orders() if params.in_range(o.ts)]
        self.surveys: list[Survey] = [s for s in projection.surveys() if params.in_range(s.ts)]

    def local_date(self, ts: datetime) -> date:
        """The reporting zone's calendar date of ``ts``."""
        return ts.astimezone(self.tz).date()

    def local_hour(self, ts: datetime) -> int:
        """The reporting zone's hour of day of ``ts``."""
        return ts.astimezone(self.tz).hour

    @cached_property
    def dates(self) -> list[date]:
        """The daily rows' dates: every local date of the range, empty days included."""
        params = self.params
        first_ts = params.start if params.start is not None else self.projection.first_ts
        last_ts = params.end - _ONE_MICROSECOND if params.end is not None else self.projection.last_ts
        if first_ts is None or last_ts is None:
            return []
        first, last = self.local_date(first_ts), self.local_date(last_ts)
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def not_pending(self, requests: Iterable[Request]) -> list[Request]:
        """The requests whose outcome is decided (conversation or unsuccessful)."""
        return [r for r in requests if self.outcomes[r.id] is not Outcome.PENDING]

    @cached_property
    def visitor_requests_created(self) -> dict[str, list[datetime]]:
        """Creation times of every visitor-initiated request per visitor, sorted (for FCR)."""
        by_visitor: dict[str, list[datetime]] = defaultdict(list)
        for request in self._all_requests:
            if request.initiator == "visitor":
                by_visitor[request.visitor].append(request.created)
        for times in by_visitor.values():
            times.sort()
        return by_visitor

    @cached_property
    def attributions(self) -> dict[str, Attribution]:
        """In-range orders that are attributed, by order id, with their last-touch conversation."""
        window = self.params.attribution_window
        touches: dict[str, list[tuple[datetime, str, Conversation]]] = defaultdict(list)
        for request in self._all_requests:
            conversation = request.conversation()
            if conversation is not None:
                touches[request.visitor].append((conversation.engaged_at, request.id, conversation))
        for visitor_touches in touches.values():
            visitor_touches.sort(key=lambda entry: (entry[0], entry[1]))
        attributed: dict[str, Attribution] = {}
        for order in self.orders:
            entries = touches.get(order.visitor)
            if not entries:
                continue
            # Latest engagement at or before the order; a tie on time goes to the greater id.
            index = bisect.bisect_right(entries, order.ts, key=lambda entry: entry[0])
            if index and entries[index - 1][0] >= order.ts - window:
                attributed[order.id] = Attribution(order, entries[index - 1][2])
        return attributed

    def sessions_started_in_range(self) -> list[Session]:
        """Every session whose first event falls in range."""
        timeout = self.params.session_timeout
        return [
            session
            for visitor in self.projection.timelines
            for session in self.projection.sessions(visitor, timeout)
            if self.params.in_range(session.start)
        ]

    def visitors_with_events(self) -> dict[str, list[datetime]]:
        """Per visitor with any event in range, the in-range event times."""
        params = self.params
        found: dict[str, list[datetime]] = {}
        for visitor, timeline in self.projection.timelines.items():
            times = [e.ts for e in timeline if params.in_range(e.ts)]
            if times:
                found[visitor] = times
        return found
