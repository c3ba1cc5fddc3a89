"""What one visitor adds to the report, slot by slot: the walk over a visitor's entities.

Every report figure is a sum (or a distinct count) over entities anchored in
time: requests, conversations, orders, surveys, sessions, widget and auto
message events. All of a visitor's entities depend only on that visitor's own
events, so a visitor's contribution can be computed on its own, added into
15-minute slots (:mod:`whoson.metrics.slots`), and taken back out when the
visitor sends a new event.

This module only walks the entities and hands each to the report families
that count it; what an entity adds to a family's figures (and the family's
declared tally keys) lives in that family's module: :mod:`~whoson.metrics.visitors`,
:mod:`~whoson.metrics.requests`, :mod:`~whoson.metrics.conversations`,
:mod:`~whoson.metrics.support`, :mod:`~whoson.metrics.sales`,
:mod:`~whoson.metrics.ratings`, :mod:`~whoson.metrics.auto_messages`,
:mod:`~whoson.metrics.agents`, :mod:`~whoson.metrics.pages` and
:mod:`~whoson.metrics.experiments`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs

from whoson.core.events import (
    EVENT_TYPES,
    AutoMessageClickEvent,
    AutoMessageEvent,
    Event,
    PageViewEvent,
    WidgetClickEvent,
    WidgetImpressionEvent,
)
from whoson.core.models import Conversation, Order, Request
from whoson.core.projection import Projection
from whoson.metrics import (
    agents,
    auto_messages,
    conversations,
    pages,
    ratings,
    requests,
    sales,
    support,
    visitors,
)
from whoson.metrics.experiments import experiment_contribution
from whoson.metrics.slots import (
    SLOT,
    Keep,
    Settings,
    Slots,
    SlotTallies,
    keep_all,
    micros,
    slot_of,
    slot_start,
)
from whoson.metrics.tally import Tally
from whoson.metrics.visitors import widget_into

__all__ = [
    "SLOT",
    "Settings",
    "SlotTallies",
    "VisitorContext",
    "agent_status_contribution",
    "event_into",
    "order_into",
    "pending_into",
    "request_into",
    "widget_into",
    "slot_of",
    "slot_start",
    "visitor_contribution",
]


def agent_status_contribution(
    mentions: list[tuple[datetime, str]], keep: Keep = keep_all
) -> SlotTallies:
    """``agent_status`` events name agents without any visitor."""
    slots = Slots(keep)
    for ts, agent in mentions:
        tally = slots.at(ts)
        if tally is not None:
            agents.named_into(tally, agent)
    return slots.tallies


def visitor_contribution(
    projection: Projection, visitor: str, settings: Settings, keep: Keep = keep_all
) -> SlotTallies:
    """Everything ``visitor`` adds to the report, per slot.

    ``keep`` filters entities by their anchor time (the from-scratch path uses
    it for ranges that do not fall on slot boundaries).
    """
    slots = Slots(keep)
    _events(projection, visitor, slots)
    _sessions(projection, visitor, settings, slots)
    context = VisitorContext.of(projection, visitor)
    for request in context.requests:
        tally = slots.at(request.created)
        if tally is not None:
            request_into(tally, projection, request, settings, context.visitor_requests)
    for order in projection.orders_of(visitor):
        tally = slots.at(order.ts)
        if tally is not None:
            order_into(tally, order, context.last_touch(order.ts, settings.attribution_window))
    _surveys(projection, visitor, slots)
    experiment_contribution(projection, visitor, settings.attribution_window, slots.at)
    return slots.tallies


@attrs.frozen
class VisitorContext:
    """A visitor's requests and what attribution and FCR look up among them."""

    requests: list[Request]
    # (engaged at, request id, conversation), in last-touch order.
    conversations: list[tuple[datetime, str, Conversation]]
    # Creation times of the visitor's ``visitor`` requests, sorted.
    visitor_requests: list[datetime]

    @classmethod
    def of(cls, projection: Projection, visitor: str) -> VisitorContext:
        """The context of ``visitor`` as the projection holds it now."""
        requests = list(projection.requests_of(visitor))
        conversations = sorted(
            ((c.engaged_at, r.id, c) for r in requests if (c := r.conversation()) is not None),
            key=lambda item: (item[0], item[1]),
        )
        visitor_requests = sorted(r.created for r in requests if r.initiator == "visitor")
        return cls(requests, conversations, visitor_requests)

    def last_touch(self, ts: datetime, window: timedelta) -> Conversation | None:
        """The conversation an order at ``ts`` is attributed to, if any.

        Last touch: the latest engagement in ``[ts - window, ts]`` (ties: greater id).
        """
        conversations = self.conversations
        index = bisect.bisect_right(conversations, ts, key=lambda item: item[0])
        if not index or conversations[index - 1][0] < ts - window:
            return None
        return conversations[index - 1][2]


# Per event type, the fields that may name an agent (most types have none).
_AGENT_FIELDS: dict[type[Event], tuple[str, ...]] = {
    cls: tuple(name for name in ("agent", "from_agent", "to_agent") if name in attrs.fields_dict(cls))
    for cls in EVENT_TYPES.values()
}


# Per event type, the family function that counts one in-range event of it (most types: none).
_EVENT_INTO: dict[type[Event], Callable[[Tally, Any, str], None]] = {
    PageViewEvent: pages.page_view_into,
    WidgetImpressionEvent: widget_into,
    WidgetClickEvent: widget_into,
    AutoMessageEvent: auto_messages.shown_into,
    AutoMessageClickEvent: auto_messages.click_into,
}


def _events(projection: Projection, visitor: str, slots: Slots) -> None:
    keep = slots.keep
    current: int | None = None
    tally = Tally()
    agent_fields, event_into_of = _AGENT_FIELDS, _EVENT_INTO
    for event in projection.timelines.get(visitor, ()):
        ts = event.ts
        if not keep(ts):
            continue
        slot = slot_of(ts)
        if slot != current:
            current = slot
            tally = slots.tally(slot)
            visitors.presence_into(tally, visitor)
        # event_into, inlined: this loop runs once per event of the report.
        kind = type(event)
        for name in agent_fields[kind]:
            agent = getattr(event, name)
            if agent is not None:
                agents.named_into(tally, agent)
        into = event_into_of.get(kind)
        if into is not None:
            into(tally, event, visitor)


def event_into(tally: Tally, event: Event, visitor: str) -> None:
    """What one in-range event of ``visitor`` adds, besides the visitor's presence."""
    kind = type(event)
    for name in _AGENT_FIELDS[kind]:
        agent = getattr(event, name)
        if agent is not None:
            agents.named_into(tally, agent)
    into = _EVENT_INTO.get(kind)
    if into is not None:
        into(tally, event, visitor)


def _sessions(projection: Projection, visitor: str, settings: Settings, slots: Slots) -> None:
    for session in projection.session_facts(visitor, settings.session_timeout):
        tally = slots.at(session.start)
        if tally is None:
            continue
        visitors.session_into(tally, session, visitor)
        support.session_into(tally, session)


def request_into(
    tally: Tally,
    projection: Projection,
    request: Request,
    settings: Settings,
    visitor_requests: list[datetime],
) -> None:
    """What one request (and its conversation) adds, into the tally of its anchor."""
    url = request.url or projection.latest_page_url(request.visitor, request.created)
    responded = request.other_side_responded
    conversation = request.conversation()
    requests.request_into(tally, request, url, responded, conversation is not None)
    wait = None
    if request.initiator == "visitor" and request.first_agent_response is not None:
        wait = micros(request.first_agent_response - request.created)
        support.first_response_into(tally, wait)
    agents.request_into(tally, request, responded, wait)
    if url is not None:
        pages.request_into(tally, url, request.visitor, conversation is not None)
    if conversation is not None:
        handle = micros(conversation.handle_time)
        conversations.conversation_into(tally, conversation)
        support.conversation_into(tally, conversation, handle, settings.fcr_window, visitor_requests)
        sales.conversation_into(tally, conversation)
        agents.conversation_into(tally, conversation, handle)


def pending_into(tally: Tally, request: Request) -> None:
    """What a request still pending at ``as_of`` takes off (the range view adds it at report time)."""
    responded = request.other_side_responded
    requests.pending_into(tally, request, responded)
    agents.pending_into(tally, request, responded)


def order_into(tally: Tally, order: Order, conversation: Conversation | None) -> None:
    """What one order adds, attributed to ``conversation`` (None: not attributed)."""
    sales.order_into(tally, order, conversation)
    if conversation is not None:
        agents.order_into(tally, conversation, order.value)


def _surveys(projection: Projection, visitor: str, slots: Slots) -> None:
    for survey in projection.surveys_of(visitor):
        tally = slots.at(survey.ts)
        if tally is None:
            continue
        ratings.survey_into(tally, survey)
        agents.survey_into(tally, survey.agent, survey.rating)
