"""The ``support`` family: first response, handling, transfers, escalations, FCR, carts, cost.

The tally keys (declared once), what a request, its conversation and a
session add to them, and how the section is read are all here; ``support.wait``
(how waiting ends) is read by :func:`whoson.metrics.experiments.wait_figures`.

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "request", "ts": "2026-03-02T09:00:00Z", "visitor": "v1",
...      "request": "r1", "channel": "text", "initiator": "visitor"},
...     {"id": "2", "type": "message", "ts": "2026-03-02T09:00:30Z", "visitor": "v1",
...      "request": "r1", "sender": "agent", "agent": "a1"},
... ])
>>> tracker.report().support.first_response.avg
30.0
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from whoson.core.models import Conversation, Session
from whoson.core.projection import SessionFacts
from whoson.metrics.conversations import conversation_count
from whoson.metrics.derive import minutes, quantiles, seconds
from whoson.metrics.experiments import WaitFigures
from whoson.metrics.params import money_ratio, ratio
from whoson.metrics.tally import Kind, Tally, declare

__all__ = [
    "CART_ABANDONED",
    "CART_SESSIONS",
    "ESCALATED",
    "FCR_RESOLVED",
    "FCR_SETTLED",
    "FIRST_RESPONSE",
    "HANDLE",
    "TRANSFERRED",
    "FirstResponse",
    "SupportFigures",
    "conversation_into",
    "first_response_into",
    "resolved_first_time",
    "session_into",
    "support_figures",
]

FIRST_RESPONSE = declare("first_response", Kind.RANKED,
                     doc="microseconds from each in-range visitor request to its first agent response")
HANDLE = declare("conv_handle", Kind.SUM, doc="handle times of conversations of in-range requests, microseconds")
TRANSFERRED = declare("transferred", Kind.COUNT, doc="conversations with a transfer")
ESCALATED = declare("escalated", Kind.COUNT, doc="conversations with an escalation")
FCR_SETTLED = declare("fcr_den", Kind.COUNT, doc="conversations marked resolved or not")
FCR_RESOLVED = declare("fcr_num", Kind.COUNT, doc="of those, resolved the first time")
CART_SESSIONS = declare("cart_sessions", Kind.COUNT, doc="in-range sessions with a cart value")
CART_ABANDONED = declare("cart_abandoned", Kind.COUNT, doc="of those, sessions without an order")

# ------------------------------------------------------------------ contributions


def first_response_into(tally: Tally, wait: int) -> None:
    """A visitor request created in the tally's slot, answered after ``wait`` microseconds."""
    tally.put(FIRST_RESPONSE, wait)


def resolved_first_time(conversation: Conversation, window: timedelta, visitor_requests: list[datetime]) -> bool:
    """Resolved, never transferred, and no new visitor request in ``(end, end + window]``.

    ``visitor_requests``: the creation times of the visitor's ``visitor`` requests, sorted.
    """
    if conversation.resolved is not True or conversation.transfers:
        return False
    # A new visitor request in (end, end + window] means the issue came back.
    after_end = bisect.bisect_right(visitor_requests, conversation.end)
    return not (
        after_end < len(visitor_requests)
        and visitor_requests[after_end] <= conversation.end + window
    )


def conversation_into(
    tally: Tally, conversation: Conversation, handle: int, window: timedelta, visitor_requests: list[datetime]
) -> None:
    """The conversation of a request created in the tally's slot (``handle`` in microseconds)."""
    tally.count((HANDLE,), handle)
    if conversation.transfers:
        tally.count((TRANSFERRED,))
    if conversation.escalations:
        tally.count((ESCALATED,))
    if conversation.resolved is not None:
        tally.count((FCR_SETTLED,))
        if resolved_first_time(conversation, window, visitor_requests):
            tally.count((FCR_RESOLVED,))


def session_into(tally: Tally, session: Session | SessionFacts) -> None:
    """A session starting in the tally's slot: did it fill a cart, and leave it?"""
    if session.max_cart_value > 0:
        tally.count((CART_SESSIONS,))
        if not session.orders:
            tally.count((CART_ABANDONED,))


# ------------------------------------------------------------------ figures


@attrs.frozen
class FirstResponse:
    """Seconds from a visitor request to the first agent response."""

    avg: float | None
    median: float | None
    p90: float | None


@attrs.frozen
class SupportFigures:
    """``support`` section: speed, handling, transfers, resolution, carts, cost."""

    first_response: FirstResponse
    avg_handle_minutes: float | None
    transfers: int
    escalations: int
    escalation_rate: float | None
    first_contact_resolution_rate: float | None
    cart_abandonment_rate: float | None
    cost_per_contact: Decimal | None
    wait: WaitFigures


def support_figures(tally: Tally, cost: Decimal | None, wait: WaitFigures) -> SupportFigures:
    """The ``support`` section from the range's tally (``wait``: see :mod:`whoson.metrics.experiments`)."""
    conversations = conversation_count(tally)
    waits = tally.ranked(FIRST_RESPONSE)
    median, p90 = quantiles(waits, 0.5, 0.9, scale=1_000_000)
    escalations = int(tally.number((ESCALATED,)))
    return SupportFigures(
        first_response=FirstResponse(avg=seconds(waits.total, waits.count), median=median, p90=p90),
        avg_handle_minutes=minutes(int(tally.number((HANDLE,))), conversations),
        transfers=int(tally.number((TRANSFERRED,))),
        escalations=escalations,
        escalation_rate=ratio(escalations, conversations),
        first_contact_resolution_rate=ratio(
            int(tally.number((FCR_RESOLVED,))), int(tally.number((FCR_SETTLED,)))
        ),
        cart_abandonment_rate=ratio(
            int(tally.number((CART_ABANDONED,))), int(tally.number((CART_SESSIONS,)))
        ),
        cost_per_contact=money_ratio(cost, conversations) if cost is not None else None,
        wait=wait,
    )
