"""Domain models: what the events say about visitors, requests, orders and agents.

Models are immutable snapshots built by :mod:`whoson.core.projection` for a
given moment (``as_of``); they hold no reference to a store or a clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import attrs

__all__ = [
    "Agent",
    "Conversation",
    "Order",
    "PageView",
    "Request",
    "RequestOutcome",
    "Session",
    "Survey",
    "Visitor",
]


class RequestOutcome(StrEnum):
    """Where a request stands at ``as_of``."""

    CONVERSATION = "conversation"
    PENDING = "pending"
    UNSUCCESSFUL = "unsuccessful"


@attrs.frozen
class PageView:
    """One opened page inside a session, with how long the visitor stayed on it.

    ``seconds`` runs to the visitor's next page view in the session, else to
    the session's last event.
    """

    url: str
    ts: datetime
    seconds: float
    title: str | None = None


@attrs.frozen
class Session:
    """A visit: the visitor's events without a long gap (or one explicit session id).

    ``number`` is 1 for the visitor's first session ever, 2 for the next, ...
    """

    visitor: str
    number: int
    start: datetime
    last_activity: datetime
    explicit_id: str | None
    pages: tuple[PageView, ...]
    max_cart_value: Decimal
    orders: int

    @property
    def returning(self) -> bool:
        """Whether this is not the visitor's first session."""
        return self.number > 1

    @property
    def duration(self) -> timedelta:
        """Time from the session's first to its last event."""
        return self.last_activity - self.start


@attrs.frozen
class Request:
    """A chat request and everything that happened to it up to ``as_of``.

    Response times include the initiator's creation where the contract says
    creating counts as responding (visitor and agent requests).
    """

    id: str
    visitor: str
    channel: str
    initiator: str
    created: datetime
    creator_agent: str | None
    trigger: str | None
    url: str | None
    offline: bool
    department: str | None
    first_visitor_response: datetime | None
    first_agent_response: datetime | None
    first_agent: str | None
    last_agent: str | None
    agents: frozenset[str]
    first_activity: datetime | None
    last_activity: datetime | None
    ended: datetime | None
    resolved: bool | None
    end_reason: str | None
    transfers: int
    escalations: int

    @property
    def is_conversation(self) -> bool:
        """Both sides have responded."""
        return self.first_visitor_response is not None and self.first_agent_response is not None

    @property
    def engaged_at(self) -> datetime | None:
        """When the request became a conversation (the later first response)."""
        if self.first_visitor_response is None or self.first_agent_response is None:
            return None
        return max(self.first_visitor_response, self.first_agent_response)

    @property
    def other_side_responded(self) -> bool:
        """The side that did not create the request answered (the visitor, for auto)."""
        if self.initiator == "visitor":
            return self.first_agent_response is not None
        return self.first_visitor_response is not None

    def outcome(self, as_of: datetime, response_timeout: timedelta) -> RequestOutcome:
        """Conversation, pending (young, not ended) or unsuccessful at ``as_of``."""
        if self.is_conversation:
            return RequestOutcome.CONVERSATION
        if self.ended is None and as_of - self.created < response_timeout:
            return RequestOutcome.PENDING
        return RequestOutcome.UNSUCCESSFUL

    def conversation(self) -> Conversation | None:
        """The conversation this request became, if it did."""
        engaged = self.engaged_at
        if engaged is None:
            return None
        start = self.first_activity if self.first_activity is not None else engaged
        end = self.last_activity if self.last_activity is not None else start
        return Conversation(
            request=self.id,
            visitor=self.visitor,
            channel=self.channel,
            initiator=self.initiator,
            created=self.created,
            start=start,
            end=end,
            engaged_at=engaged,
            agents=self.agents,
            last_agent=self.last_agent,
            transfers=self.transfers,
            escalations=self.escalations,
            resolved=self.resolved,
        )


@attrs.frozen
class Conversation:
    """A request both sides responded to; ``start``/``end`` bound its activity."""

    request: str
    visitor: str
    channel: str
    initiator: str
    created: datetime
    start: datetime
    end: datetime
    engaged_at: datetime
    agents: frozenset[str]
    last_agent: str | None
    transfers: int
    escalations: int
    resolved: bool | None

    @property
    def duration(self) -> timedelta:
        """From the first to the last message, call join or end."""
        return self.end - self.start

    @property
    def handle_time(self) -> timedelta:
        """From engagement to the end: handling without the wait."""
        return self.end - self.engaged_at


@attrs.frozen
class Order:
    """A purchase; ``value`` is subtotal minus discount, in the tracker's currency."""

    id: str
    visitor: str
    ts: datetime
    value: Decimal
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    tax: Decimal
    currency: str | None


@attrs.frozen
class Survey:
    """A satisfaction survey; ``agent`` falls back to the request's last responding agent."""

    event_id: str
    visitor: str
    ts: datetime
    request: str | None
    agent: str | None
    rating: int | None
    submitted: bool | None
    feedback: str | None


@attrs.frozen
class Visitor:
    """What is known of one browser across all its sessions."""

    id: str
    first_seen: datetime
    last_seen: datetime
    customer: str | None
    name: str | None
    email: str | None
    sessions: int
    orders: int
    lifetime_value: Decimal


@attrs.frozen
class Agent:
    """An agent as last reported by ``agent_status``."""

    id: str
    name: str | None
    status: str | None
    capacity: int | None
    since: datetime | None
