"""The ``agents`` family: the leaderboard's per-agent ratings, initiated requests, conversations, sales.

The per-agent tally keys (declared once), what each entity adds for the
agents it credits, and how the leaderboard is read are all here. An agent is
listed when an in-range event names it or a figure credits it (:data:`AGENTS`).

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "request", "ts": "2026-03-02T09:00:00Z", "visitor": "v1",
...      "request": "r1", "channel": "text", "initiator": "agent", "agent": "a1"},
...     {"id": "2", "type": "message", "ts": "2026-03-02T09:01:00Z", "visitor": "v1",
...      "request": "r1", "sender": "visitor"},
... ])
>>> [(row.agent, row.initiated_requests, row.conversations) for row in tracker.report().agents]
[('a1', 1, 1)]
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from whoson.core.models import Conversation, Request
from whoson.metrics.derive import mean_of, minutes, seconds
from whoson.metrics.params import ratio
from whoson.metrics.tally import Key, Kind, Tally, declare

if TYPE_CHECKING:
    from whoson.metrics.ledger import View

__all__ = [
    "AGENTS",
    "AGENT_CONVERSATIONS",
    "AGENT_HANDLE",
    "ATTRIBUTED_AGENT_ORDERS",
    "ATTRIBUTED_AGENT_SALES",
    "FIRST_RESPONSES",
    "FIRST_RESPONSE_SUM",
    "INITIATED",
    "INITIATED_OTHER",
    "INITIATED_PENDING",
    "INITIATED_PENDING_OTHER",
    "RATED",
    "RATING_SUM",
    "AgentDay",
    "AgentFigures",
    "agent_figures",
    "conversation_into",
    "named_into",
    "order_into",
    "pending_into",
    "request_into",
    "survey_into",
]

AGENTS = declare("agents", Kind.SET, doc="agents named by an in-range event or credited with a figure")
INITIATED = declare("a_init", Kind.COUNT, ("agent",), doc="in-range agent requests the agent created")
INITIATED_OTHER = declare("a_init_other", Kind.COUNT, ("agent",), doc="of those, the visitor responded")
INITIATED_PENDING = declare("a_pend", Kind.COUNT, ("agent",), doc="of those, pending at as_of (report time)")
INITIATED_PENDING_OTHER = declare("a_pend_other", Kind.COUNT, ("agent",),
                              doc="pending ones the visitor responded to (report time)")
FIRST_RESPONSE_SUM = declare("a_fr_sum", Kind.SUM, ("agent",),
                         doc="waits of in-range visitor requests the agent answered first, microseconds")
FIRST_RESPONSES = declare("a_fr_n", Kind.COUNT, ("agent",), doc="how many such requests")
AGENT_CONVERSATIONS = declare("a_conv", Kind.COUNT, ("agent",),
                          doc="conversations of in-range requests the agent took part in")
AGENT_HANDLE = declare("a_handle", Kind.SUM, ("agent",), doc="their handle times, microseconds")
ATTRIBUTED_AGENT_ORDERS = declare("a_att_orders", Kind.COUNT, ("agent",),
                              doc="in-range orders attributed to a conversation the agent was last in")
ATTRIBUTED_AGENT_SALES = declare("a_att_sales", Kind.MONEY, ("agent",), doc="their value")
RATING_SUM = declare("a_rating_sum", Kind.SUM, ("agent",), doc="ratings of in-range surveys crediting the agent")
RATED = declare("a_rating_n", Kind.COUNT, ("agent",), doc="how many such ratings")

# ------------------------------------------------------------------ contributions


def named_into(tally: Tally, agent: str) -> None:
    """An in-range event names ``agent`` (in its ``agent``, ``from_agent`` or ``to_agent``)."""
    tally.put(AGENTS, agent)


def request_into(tally: Tally, request: Request, responded: bool, wait: int | None) -> None:
    """A request created in range: its creating agent, and the agent who answered a visitor first
    (``wait``: microseconds to that answer, None when unanswered)."""
    if request.initiator == "agent" and request.creator_agent is not None:
        agent = request.creator_agent
        tally.put(AGENTS, agent)
        tally.count((INITIATED, agent))
        if responded:
            tally.count((INITIATED_OTHER, agent))
    if wait is not None and request.first_agent is not None:
        tally.put(AGENTS, request.first_agent)
        tally.count((FIRST_RESPONSE_SUM, request.first_agent), wait)
        tally.count((FIRST_RESPONSES, request.first_agent))


def pending_into(tally: Tally, request: Request, responded: bool) -> None:
    """What an agent request still pending at ``as_of`` takes off its creator (report time)."""
    if request.initiator == "agent" and request.creator_agent is not None:
        tally.count((INITIATED_PENDING, request.creator_agent))
        if responded:
            tally.count((INITIATED_PENDING_OTHER, request.creator_agent))


def conversation_into(tally: Tally, conversation: Conversation, handle: int) -> None:
    """The conversation of an in-range request, for every agent in it (``handle`` in microseconds)."""
    for agent in conversation.agents:
        tally.put(AGENTS, agent)
        tally.count((AGENT_CONVERSATIONS, agent))
        tally.count((AGENT_HANDLE, agent), handle)


def order_into(tally: Tally, conversation: Conversation, value: Decimal) -> None:
    """An in-range order attributed to ``conversation``, credited to its last agent."""
    agent = conversation.last_agent
    if agent is not None:
        tally.put(AGENTS, agent)
        tally.count((ATTRIBUTED_AGENT_ORDERS, agent))
        tally.count((ATTRIBUTED_AGENT_SALES, agent), value)


def survey_into(tally: Tally, agent: str | None, rating: int | None) -> None:
    """An in-range survey's rating, credited to its agent (or the request's fallback agent)."""
    # An agent the survey names is listed through its event (see named_into); one
    # found through the survey's request only when the rating credits them.
    if rating is not None and agent is not None:
        tally.put(AGENTS, agent)
        tally.count((RATING_SUM, agent), rating)
        tally.count((RATED, agent))


# ------------------------------------------------------------------ figures


@attrs.frozen
class AgentDay:
    """One local date of an agent's ``daily`` trend."""

    date: date
    avg_rating: float | None
    initiated_requests: int
    initiated_acceptance_rate: float | None
    conversations: int


@attrs.frozen
class AgentFigures:
    """One row of the ``agents`` leaderboard."""

    agent: str
    avg_rating: float | None
    initiated_requests: int
    initiated_acceptance_rate: float | None
    conversations: int
    attributed_sales: Decimal
    attributed_orders: int
    first_response_avg: float | None
    avg_handle_minutes: float | None
    daily: tuple[AgentDay, ...]


def _n(tally: Tally, key: Key, agent: str) -> int:
    return int(tally.number((key, agent)))


def _initiated(tally: Tally, agent: str) -> tuple[int, float | None]:
    initiated = _n(tally, INITIATED, agent)
    decided = initiated - _n(tally, INITIATED_PENDING, agent)
    accepted = _n(tally, INITIATED_OTHER, agent) - _n(tally, INITIATED_PENDING_OTHER, agent)
    return initiated, ratio(accepted, decided)


def _rating(tally: Tally, agent: str) -> float | None:
    return mean_of(_n(tally, RATING_SUM, agent), _n(tally, RATED, agent))


def _agent(agent: str, view: View) -> AgentFigures:
    total = view.total
    initiated, acceptance = _initiated(total, agent)
    conversations = _n(total, AGENT_CONVERSATIONS, agent)
    daily = []
    for day in view.dates:
        tally = view.on(day)
        day_initiated, day_acceptance = _initiated(tally, agent)
        daily.append(AgentDay(
            date=day,
            avg_rating=_rating(tally, agent),
            initiated_requests=day_initiated,
            initiated_acceptance_rate=day_acceptance,
            conversations=_n(tally, AGENT_CONVERSATIONS, agent),
        ))
    return AgentFigures(
        agent=agent,
        avg_rating=_rating(total, agent),
        initiated_requests=initiated,
        initiated_acceptance_rate=acceptance,
        conversations=conversations,
        attributed_sales=total.money((ATTRIBUTED_AGENT_SALES, agent)),
        attributed_orders=_n(total, ATTRIBUTED_AGENT_ORDERS, agent),
        first_response_avg=seconds(_n(total, FIRST_RESPONSE_SUM, agent), _n(total, FIRST_RESPONSES, agent)),
        avg_handle_minutes=minutes(_n(total, AGENT_HANDLE, agent), conversations),
        daily=tuple(daily),
    )


def agent_figures(view: View) -> tuple[AgentFigures, ...]:
    """The ``agents`` section, sorted by conversations (most first) then agent id.

    Listed: every agent named by an in-range event or credited with a figure.
    """
    rows = [_agent(str(agent), view) for agent in view.total.multiset(AGENTS)]
    rows.sort(key=lambda row: (-row.conversations, row.agent))
    return tuple(rows)
