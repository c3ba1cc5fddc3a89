"""Conversation figures and support figures (response, handling, transfers, FCR, carts)."""

from __future__ import annotations

import bisect
from decimal import Decimal
from collections.abc import Iterable, Mapping

import attrs

from whoson.core.models import Conversation, Request
from whoson.metrics.params import mean, money_ratio, percentile, ratio
from whoson.metrics.requests import by_initiator
from whoson.metrics.scope import Scope

__all__ = [
    "ConversationFigures",
    "FirstResponse",
    "SupportFigures",
    "avg_handle_minutes",
    "conversation_figures",
    "first_response_seconds",
    "support_figures",
]


@attrs.frozen
class ConversationFigures:
    """``conversations`` section: requests both sides responded to."""

    total: int
    text: int
    video: int
    avg_duration_minutes: float | None
    by_initiator: Mapping[str, int]


def conversation_figures(scope: Scope) -> ConversationFigures:
    """The ``conversations`` section of the report."""
    conversations = scope.conversations
    return ConversationFigures(
        total=len(conversations),
        text=sum(1 for c in conversations if c.channel == "text"),
        video=sum(1 for c in conversations if c.channel == "video"),
        avg_duration_minutes=mean([c.duration.total_seconds() / 60 for c in conversations]),
        by_initiator=by_initiator(request for request, _ in scope.pairs),
    )


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


def first_response_seconds(requests: Iterable[Request]) -> list[float]:
    """Per visitor request with an agent response: seconds until that first response."""
    return [
        (r.first_agent_response - r.created).total_seconds()
        for r in requests
        if r.initiator == "visitor" and r.first_agent_response is not None
    ]


def avg_handle_minutes(conversations: Iterable[Conversation]) -> float | None:
    """Mean of (end - engaged at) in minutes."""
    return mean([c.handle_time.total_seconds() / 60 for c in conversations])


def _resolved_first_time(scope: Scope, conversation: Conversation) -> bool:
    if conversation.resolved is not True or conversation.transfers:
        return False
    # A new visitor request in (end, end + window] means the issue came back.
    created = scope.visitor_requests_created.get(conversation.visitor, [])
    after_end = bisect.bisect_right(created, conversation.end)
    return not (
        after_end < len(created) and created[after_end] <= conversation.end + scope.params.fcr_window
    )


def support_figures(scope: Scope) -> SupportFigures:
    """The ``support`` section of the report."""
    conversations = scope.conversations
    seconds = first_response_seconds(scope.requests)
    escalations = sum(1 for c in conversations if c.escalations)
    with_verdict = [c for c in conversations if c.resolved is not None]
    carts = [s for s in scope.sessions_started_in_range() if s.max_cart_value > 0]
    cost = scope.params.cost
    return SupportFigures(
        first_response=FirstResponse(
            avg=mean(seconds), median=percentile(seconds, 0.5), p90=percentile(seconds, 0.9)
        ),
        avg_handle_minutes=avg_handle_minutes(conversations),
        transfers=sum(1 for c in conversations if c.transfers),
        escalations=escalations,
        escalation_rate=ratio(escalations, len(conversations)),
        first_contact_resolution_rate=ratio(
            sum(1 for c in with_verdict if _resolved_first_time(scope, c)), len(with_verdict)
        ),
        cart_abandonment_rate=ratio(sum(1 for s in carts if not s.orders), len(carts)),
        cost_per_contact=money_ratio(cost, len(conversations)) if cost is not None else None,
    )
