"""Conversation figures and support figures (response, handling, transfers, FCR, carts)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

from whoson.metrics.derive import (
    CHANNELS,
    INITIATORS,
    minutes,
    quantiles,
    seconds,
)
from whoson.metrics.experiments import WaitFigures
from whoson.metrics.params import money_ratio, ratio
from whoson.metrics.tally import Tally

__all__ = [
    "ConversationFigures",
    "FirstResponse",
    "SupportFigures",
    "conversation_count",
    "conversation_figures",
    "support_figures",
]


def conversation_count(tally: Tally, channels: tuple[str, ...] = CHANNELS) -> int:
    """Conversations on ``channels``, every initiator."""
    return int(sum(tally.number(("conv", c, i)) for c in channels for i in INITIATORS))


@attrs.frozen
class ConversationFigures:
    """``conversations`` section: requests both sides responded to."""

    total: int
    text: int
    video: int
    avg_duration_minutes: float | None
    by_initiator: Mapping[str, int]


def conversation_figures(tally: Tally) -> ConversationFigures:
    """The ``conversations`` section from the range's tally."""
    total = conversation_count(tally)
    return ConversationFigures(
        total=total,
        text=conversation_count(tally, ("text",)),
        video=conversation_count(tally, ("video",)),
        avg_duration_minutes=minutes(int(tally.number(("conv_duration",))), total),
        by_initiator=MappingProxyType({
            i: int(sum(tally.number(("conv", c, i)) for c in CHANNELS)) for i in INITIATORS
        }),
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
    wait: WaitFigures


def support_figures(tally: Tally, cost: Decimal | None, wait: WaitFigures) -> SupportFigures:
    """The ``support`` section from the range's tally (``wait``: see :mod:`whoson.metrics.experiments`)."""
    conversations = conversation_count(tally)
    waits = tally.ranked("first_response")
    median, p90 = quantiles(waits, 0.5, 0.9, scale=1_000_000)
    escalations = int(tally.number(("escalated",)))
    return SupportFigures(
        first_response=FirstResponse(avg=seconds(waits.total, waits.count), median=median, p90=p90),
        avg_handle_minutes=minutes(int(tally.number(("conv_handle",))), conversations),
        transfers=int(tally.number(("transferred",))),
        escalations=escalations,
        escalation_rate=ratio(escalations, conversations),
        first_contact_resolution_rate=ratio(
            int(tally.number(("fcr_num",))), int(tally.number(("fcr_den",)))
        ),
        cart_abandonment_rate=ratio(
            int(tally.number(("cart_abandoned",))), int(tally.number(("cart_sessions",)))
        ),
        cost_per_contact=money_ratio(cost, conversations) if cost is not None else None,
        wait=wait,
    )
