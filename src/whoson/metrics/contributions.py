"""What one visitor adds to the report, slot by slot.

Every report figure is a sum (or a distinct count) over entities anchored in
time: requests, conversations, orders, surveys, sessions, widget and auto
message events. All of a visitor's entities depend only on that visitor's own
events, so a visitor's contribution can be computed on its own, added into
15-minute slots, and taken back out when the visitor sends a new event.

Slots are 15 minutes of UTC: every real time zone's offset and daylight-saving
shift is a multiple of 15 minutes, so a slot lies inside one local hour and
one local date, whatever the reporting zone.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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
from whoson.metrics.experiments import experiment_contribution
from whoson.metrics.tally import Tally

__all__ = [
    "SLOT",
    "Settings",
    "SlotTallies",
    "VisitorContext",
    "agent_status_contribution",
    "event_into",
    "order_into",
    "request_into",
    "widget_into",
    "slot_of",
    "slot_start",
    "visitor_contribution",
]

SLOT = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS = timedelta(microseconds=1)

SlotTallies = dict[int, Tally]
Keep = Callable[[datetime], bool]


def slot_of(ts: datetime) -> int:
    """The 15-minute UTC slot holding ``ts``.

    >>> slot_of(datetime(1970, 1, 1, 0, 29, tzinfo=UTC))
    1
    """
    return (ts - _EPOCH) // SLOT


def slot_start(slot: int) -> datetime:
    """The first instant of ``slot``."""
    return _EPOCH + slot * SLOT


def micros(delta: timedelta) -> int:
    """A duration in whole microseconds (exact integer arithmetic for sums)."""
    return delta // _MICROS


@attrs.frozen
class Settings:
    """The report parameters a contribution depends on."""

    session_timeout: timedelta = timedelta(minutes=30)
    attribution_window: timedelta = timedelta(days=7)
    fcr_window: timedelta = timedelta(hours=24)


def _keep_all(_: datetime) -> bool:
    return True


class _Slots:
    """Collects tallies per slot, dropping anything anchored outside ``keep``."""

    def __init__(self, keep: Keep) -> None:
        self.tallies: SlotTallies = {}
        self.keep = keep

    def at(self, ts: datetime) -> Tally | None:
        """The tally of the slot holding ``ts``, or None when ``ts`` is filtered out."""
        if not self.keep(ts):
            return None
        return self.tally(slot_of(ts))

    def tally(self, slot: int) -> Tally:
        """The tally of ``slot``, created empty."""
        tally = self.tallies.get(slot)
        if tally is None:
            tally = self.tallies[slot] = Tally()
        return tally


def agent_status_contribution(
    mentions: list[tuple[datetime, str]], keep: Keep = _keep_all
) -> SlotTallies:
    """``agent_status`` events name agents without any visitor."""
    slots = _Slots(keep)
    for ts, agent in mentions:
        tally = slots.at(ts)
        if tally is not None:
            tally.put("agents", agent)
    return slots.tallies


def visitor_contribution(
    projection: Projection, visitor: str, settings: Settings, keep: Keep = _keep_all
) -> SlotTallies:
    """Everything ``visitor`` adds to the report, per slot.

    ``keep`` filters entities by their anchor time (the from-scratch path uses
    it for ranges that do not fall on slot boundaries).
    """
    slots = _Slots(keep)
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


def _events(projection: Projection, visitor: str, slots: _Slots) -> None:
    keep = slots.keep
    current: int | None = None
    tally = Tally()
    for event in projection.timelines.get(visitor, ()):
        ts = event.ts
        if not keep(ts):
            continue
        slot = slot_of(ts)
        if slot != current:
            current = slot
            tally = slots.tally(slot)
            # Presence is one mark per slot: enough for distinct counts.
            tally.put("visitors", visitor)
        event_into(tally, event, visitor)


def event_into(tally: Tally, event: Event, visitor: str) -> None:
    """What one in-range event of ``visitor`` adds, besides the visitor's presence."""
    kind = type(event)
    for name in _AGENT_FIELDS[kind]:
        agent = getattr(event, name)
        if agent is not None:
            tally.put("agents", agent)
    if kind is PageViewEvent:
        assert isinstance(event, PageViewEvent)
        tally.put("page_views", event.url)
        tally.put("viewers", (event.url, visitor))
    elif kind is WidgetImpressionEvent or kind is WidgetClickEvent:
        widget_into(tally, event, visitor)
    elif kind is AutoMessageEvent:
        tally.count(("auto_shown",))
    elif isinstance(event, AutoMessageClickEvent):
        tally.count(("auto_clicks",))
        tally.put("trigger_clicks", event.trigger)
        if event.link:
            tally.put("link_clicks", (event.trigger, event.link))


def widget_into(tally: Tally, event: Event, visitor: str) -> None:
    """A widget impression or click: the visitor saw (and clicked) the widget."""
    kind = type(event)
    if kind is WidgetImpressionEvent:
        tally.put("seen", visitor)
    elif kind is WidgetClickEvent:
        # A click implies an impression.
        tally.put("seen", visitor)
        tally.put("clicked", visitor)


def _sessions(projection: Projection, visitor: str, settings: Settings, slots: _Slots) -> None:
    for session in projection.session_facts(visitor, settings.session_timeout):
        tally = slots.at(session.start)
        if tally is None:
            continue
        tally.count(("sessions",))
        if session.returning:
            tally.put("returning", visitor)
        if session.max_cart_value > 0:
            tally.count(("cart_sessions",))
            if not session.orders:
                tally.count(("cart_abandoned",))


def _resolved_first_time(
    conversation: Conversation, window: timedelta, visitor_requests: list[datetime]
) -> bool:
    if conversation.resolved is not True or conversation.transfers:
        return False
    # A new visitor request in (end, end + window] means the issue came back.
    after_end = bisect.bisect_right(visitor_requests, conversation.end)
    return not (
        after_end < len(visitor_requests)
        and visitor_requests[after_end] <= conversation.end + window
    )


def request_into(
    tally: Tally,
    projection: Projection,
    request: Request,
    settings: Settings,
    visitor_requests: list[datetime],
) -> None:
    """What one request (and its conversation) adds, into the tally of its anchor."""
    channel, initiator = request.channel, request.initiator
    tally.count(("req", channel, initiator))
    if request.offline:
        tally.count(("offline",))
    url = request.url or projection.latest_page_url(request.visitor, request.created)
    if url is not None:
        tally.put("urls", url)
        tally.put("requesters", (url, request.visitor))
    responded = request.other_side_responded
    if responded:
        tally.count(("other", initiator))
    conversation = request.conversation()
    if conversation is None:
        tally.count(("not_conv", initiator))
    if initiator == "agent" and request.creator_agent is not None:
        agent = request.creator_agent
        tally.put("agents", agent)
        tally.count(("a_init", agent))
        if responded:
            tally.count(("a_init_other", agent))
    if initiator == "visitor" and request.first_agent_response is not None:
        wait = micros(request.first_agent_response - request.created)
        tally.put("first_response", wait)
        if request.first_agent is not None:
            tally.put("agents", request.first_agent)
            tally.count(("a_fr_sum", request.first_agent), wait)
            tally.count(("a_fr_n", request.first_agent))
    if conversation is not None:
        if url is not None:
            tally.put("conv_urls", url)
        _conversation(conversation, tally, settings, visitor_requests)


def _conversation(
    conversation: Conversation, tally: Tally, settings: Settings, visitor_requests: list[datetime]
) -> None:
    tally.count(("conv", conversation.channel, conversation.initiator))
    tally.count(("conv_duration",), micros(conversation.duration))
    handle = micros(conversation.handle_time)
    tally.count(("conv_handle",), handle)
    if conversation.transfers:
        tally.count(("transferred",))
    if conversation.escalations:
        tally.count(("escalated",))
    if conversation.resolved is not None:
        tally.count(("fcr_den",))
        if _resolved_first_time(conversation, settings.fcr_window, visitor_requests):
            tally.count(("fcr_num",))
    tally.put("talked", conversation.visitor)
    for agent in conversation.agents:
        tally.put("agents", agent)
        tally.count(("a_conv", agent))
        tally.count(("a_handle", agent), handle)


def order_into(tally: Tally, order: Order, conversation: Conversation | None) -> None:
    """What one order adds, attributed to ``conversation`` (None: not attributed)."""
    tally.count(("orders",))
    tally.count(("gmv",), order.value)
    if conversation is None:
        return
    tally.count(("att_orders",))
    tally.count(("att_gmv",), order.value)
    tally.count(("att_gmv", conversation.channel), order.value)
    tally.put("bought", order.visitor)
    agent = conversation.last_agent
    if agent is not None:
        tally.put("agents", agent)
        tally.count(("a_att_orders", agent))
        tally.count(("a_att_sales", agent), order.value)


def _surveys(projection: Projection, visitor: str, slots: _Slots) -> None:
    for survey in projection.surveys_of(visitor):
        tally = slots.at(survey.ts)
        if tally is None:
            continue
        # An agent the survey names is listed through its event (see _events); one
        # found through the survey's request only when the rating credits them.
        agent = survey.agent
        if survey.rating is not None:
            tally.count(("rating", survey.rating))
            if agent is not None:
                tally.put("agents", agent)
                tally.count(("a_rating_sum", agent), survey.rating)
                tally.count(("a_rating_n", agent))
        if survey.rating is not None or survey.feedback:
            entry = (survey.ts, survey.event_id, survey.visitor, agent, survey.rating,
                     survey.feedback)
            tally.put("feedback", entry)
