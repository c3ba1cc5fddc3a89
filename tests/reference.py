"""An independent, deliberately naive reference implementation of the whoson report.

Written straight from ``/work/shared/spec/metrics.md`` without looking at the
production code, so that the two derivations catch each other's misreadings.
Everything is a plain loop over the event list (quadratic is fine); every
definition is one small function whose comment paraphrases the spec line it
implements. Only tests import this module.

Readings (where metrics.md can be read more than one way; the choices made here):

1. Input events are deduplicated by id first; then every event with
   ``ts > as_of`` is dropped before anything else (also for unique visitors,
   sessions, "first session ever", the daily-row span and the agent list).
2. An event is "in range" by its own ``ts`` unless it is an entity with another
   anchor: requests (and their conversation, outcome, first response, handle
   time, transfers) by the request's creation ``ts``; orders by the order's
   ``ts``; sessions by their start. Messages, transfers, request_ends are not
   entities: they only feed the request they name, whenever they happen.
3. ``visitors.total`` counts distinct ``visitor`` values of in-range events of
   any type; ``agent_status`` (no visitor) contributes nothing.
4. A request id without a (non-ignored) ``request`` event is not a request: it
   counts in no request/conversation/acceptance/support/attribution figure.
   Its messages are still events of their visitor (visitors, sessions) and
   still name their agent (agent list), and a survey naming it still falls
   back to its last responding agent (the agent of its latest agent-side
   message/call).
5. A second ``request``/``order`` event for an already created id is ignored
   *as a creation* only: it is still an event of its visitor (visitors.total,
   sessions, daily visitors) and still names its agent for the agent list, but
   a session containing only an ignored ``order`` event has no order.
6. Responses before the creation ``ts`` are taken as they are (no clamping);
   the initiator side's first response is the creation ``ts`` for ``visitor``
   and ``agent`` requests. ``ended`` = any ``request_end`` at or before as_of.
7. ``acceptance.auto_invitation_rate`` numerator: non-pending auto requests in
   range with at least one visitor-side message/call (the visitor responded),
   whether or not an agent also did.
8. An agent "responded" in a conversation when it sent an agent-side message or
   call_joined for that request (any time up to as_of), or created it (agent
   request). Transfers (from/to) are not responses.
9. Agent ``initiated_requests`` = in-range ``agent`` requests whose creation
   ``agent`` is this agent; ``initiated_acceptance_rate`` = those that became
   conversations / those not pending (pending excluded from the denominator).
10. Agents listed: every agent named in the ``agent``, ``from_agent`` or
    ``to_agent`` field of an in-range event of any type (including
    agent_status, surveys, messages of uncreated requests, ignored second
    creations), plus every agent with a non-zero count behind one of its row
    figures: conversations, initiated_requests, attributed_orders, rated surveys
    (avg_rating), first responses (first_response_avg). A survey without a
    rating credits nobody.
11. ``ratings.avg`` and every ``avg_rating``: plain float mean, no rounding.
    ``csat`` = share of ratings >= high - 1. ``nps`` = (share 9..10 - share
    0..6) * 100 only when the scale is exactly 0..10, else None; None also
    when there are no ratings.
12. ``ratings.feedback``: in-range surveys with a rating or a non-empty
    ``feedback`` string; newest first by (ts, event id) descending; ``agent``
    is the survey's agent or its fallback (None when neither); ``feedback``
    None when absent.
13. ``sales.conversion_rate``: among distinct visitors of in-range
    conversations, those with at least one attributed in-range order
    (attributed to any conversation, in range or not).
14. Attribution considers every conversation of the order's visitor known at
    as_of, wherever its creation falls; the last responding agent is decided
    from responses up to as_of (also ones after the order).
15. ``support.first_response`` and ``first_response_avg`` count agent-side
    messages/calls only (never the creation); the per-agent figure goes to the
    agent of the earliest agent-side response by (ts, event id).
16. FCR: the denominator takes conversations in range whose latest
    ``request_end`` (by ts, event id) has ``resolved`` set; an earlier
    request_end's value does not count. "No transfer" = no transfer event for
    the request at all. The new request must be another ``visitor`` request of
    the same visitor created in ``(end, end + fcr_window]`` (and <= as_of).
17. Sessions: per visitor, events by (ts, id). A page_view with an explicit
    ``session`` starts a new session iff that id differs from the last explicit
    id seen for the visitor (None before the first one, so the first explicit
    id after implicit events starts a session; the last explicit id is never
    reset). Any other event (or a page_view without ``session``) starts one iff
    the gap to the previous event is >= session_timeout.
18. ``cart_abandonment_rate``: in-range sessions with any cart_update value > 0
    among their events; abandoned when none of their events is a winning
    ``order`` event.
19. ``auto_messages.top_triggers``: click counts per trigger over in-range
    ``auto_message_click`` events (only triggers with >= 1 click), ties by
    trigger ascending. ``top_links``: the same grouped by (trigger, link) over
    in-range clicks whose event carries a ``link``; ties by (trigger, link).
20. ``requests.top_urls``: the url fallback page_view is the visitor's latest
    page_view with ts <= the creation ts, by (ts, event id).
21. Daily rows: first date = local date of ``start`` (else of the earliest
    kept event); last date = local date of ``end - 1us`` (else of the newest
    kept event, also when only ``start`` is given). No events and an open
    bound, or first > last: no rows. A daily figure counts the in-range
    entities whose anchor falls on that local date; ``visitors`` and
    ``widget_ctr`` are that day's unique-visitor figures.
22. ``trends.hourly``: in-range requests by local hour of creation (the
    repeated hour of a DST fall-back day lands in the same bucket).
23. Money sums are Decimal (Decimal(0) when empty); quotients use a fresh
    ``decimal.Context()`` (28 digits, half-even); None when the divisor is 0
    (and cost_per_contact None without cost).
24. Unless given, ``as_of`` is the newest input event's ts; with no events at
    all it must be given.
25. ``experiments`` (experiments.md): exposures are the winning creations of
    in-range ``auto`` requests that carry a trigger, and every in-range
    ``holdout`` event; a second ``request`` event for an id is no exposure.
    Orders are the winning ``order`` events of the visitor, at or before
    as_of, whatever the range.
26. ``support.wait``: the visitor's "last event" is the newest kept event
    carrying the visitor id (any type); the presence timeout is 120 s. A
    response or end before the creation gives a negative time, taken as it is.

Readings of analysis.md (pages, breakdowns, comparison):

27. ``pages``: one row per url of an in-range page_view; ``requests`` and
    ``conversations`` count in-range requests whose ``top_urls`` url (reading
    20) is the row's url; ``chat_rate`` = viewers who also have such a request /
    viewers.
28. A breakdown value comes from the session holding the entity's own event
    (the request event for a request and its conversation, the order event for
    an order, each in-range event for ``visitors``/``with_impression``/
    ``with_click``). A session's values come from its first page_view (none:
    ``(none)``; field missing: ``(none)``; no referrer: ``(direct)``; a
    referrer without a host name is kept as sent); ``returning`` is ``new``
    for the visitor's first session.
29. Request-level dimensions take the request's field (``(none)`` when
    missing); an order takes its attributing conversation's request's value;
    ``visitors`` are the visitors of that value's in-range requests, and the
    widget counts are those of them with an in-range impression/click anywhere.
30. ``compare="previous"``: both bounds dates -> the same number of dates
    just before; otherwise the same duration just before. ``change`` walks
    every int/float/Decimal/None leaf of dicts outside lists (``range`` left
    out), dotted; delta/ratio None when either side is None, ratio also when
    previous is 0; Decimal ratios in a fresh 28-digit context.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from whoson.core.events import (
    AutoMessageClickEvent,
    AutoMessageEvent,
    CallJoinedEvent,
    CartUpdateEvent,
    Event,
    HoldoutEvent,
    MessageEvent,
    OrderEvent,
    PageViewEvent,
    RequestEndEvent,
    RequestEvent,
    SurveyEvent,
    TransferEvent,
    WidgetClickEvent,
    WidgetImpressionEvent,
)
from whoson.core.settings import RatingScale
from whoson.core.time import format_ts

__all__ = ["percentile", "reference_report"]

INITIATORS = ("visitor", "agent", "auto")
CHANNELS = ("text", "video")
Response = MessageEvent | CallJoinedEvent
DEFAULT_SCALE = RatingScale(1, 5)


# ---------------------------------------------------------------- small helpers


def mean(values: list[float]) -> float | None:
    """Arithmetic mean, None for no values."""
    return sum(values) / len(values) if values else None


def rate(numerator: int, denominator: int) -> float | None:
    """A fraction; None when the denominator is empty."""
    return numerator / denominator if denominator else None


def money_div(amount: Decimal, divisor: Decimal | int) -> Decimal | None:
    """Decimal division in the default 28-digit context; None when dividing by 0."""
    if divisor == 0:
        return None
    return Context().divide(Decimal(amount), Decimal(divisor))


def percentile(values: list[float], q: float) -> float | None:
    """numpy's default ('linear') percentile: interpolate between closest ranks."""
    xs = sorted(values)
    if not xs:
        return None
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(math.ceil(pos), len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def seconds(delta: timedelta) -> float:
    return delta.total_seconds()


# ---------------------------------------------------------------- the prepared world


@dataclass
class Req:
    """One created request and its outcome at as_of."""

    event: RequestEvent
    visitor: str
    visitor_first: datetime | None
    agent_first: datetime | None
    first_agent_response: Response | None
    conversation: bool
    engaged_at: datetime | None
    start: datetime | None
    end: datetime | None
    ended: bool
    pending: bool
    resolved: bool | None
    transferred: bool
    escalated: bool
    visitor_responded: bool
    responders: set[str]
    last_agent: str | None

    @property
    def id(self) -> str:
        return self.event.request

    @property
    def created(self) -> datetime:
        return self.event.ts

    @property
    def channel(self) -> str:
        return self.event.channel

    @property
    def initiator(self) -> str:
        return self.event.initiator


@dataclass
class World:
    """The kept events and the report parameters."""

    events: list[Event]
    as_of: datetime
    start: datetime | None
    end: datetime | None
    zone: ZoneInfo
    tz: str
    attribution_window: timedelta
    response_timeout: timedelta
    fcr_window: timedelta
    session_timeout: timedelta
    scale: RatingScale
    cost: Decimal | None
    requests: dict[str, Req] = field(default_factory=dict)
    orders: dict[str, OrderEvent] = field(default_factory=dict)
    sessions: dict[str, list[list[Event]]] = field(default_factory=dict)

    def in_range(self, ts: datetime) -> bool:
        # "[start, end)", half-open; an open bound takes everything.
        return (self.start is None or self.start <= ts) and (self.end is None or ts < self.end)

    def local_date(self, ts: datetime) -> date:
        return ts.astimezone(self.zone).date()


def to_instant(bound: datetime | date | None, zone: ZoneInfo) -> datetime | None:
    # "Range bounds given as dates mean local midnight."
    if bound is None:
        return None
    if isinstance(bound, datetime):
        if bound.tzinfo is None:
            raise ValueError("range bounds must be aware datetimes or dates")
        return bound.astimezone(UTC)
    return datetime.combine(bound, time(0), tzinfo=zone).astimezone(UTC)


def dedupe(events: Iterable[Event]) -> list[Event]:
    # Duplicate delivery (same id, same content) is one event.
    by_id: dict[str, Event] = {}
    for event in events:
        by_id.setdefault(event.id, event)
    return list(by_id.values())


def kept_events(events: list[Event], as_of: datetime) -> list[Event]:
    # "Events with ts after as_of are ignored entirely."
    return sorted((e for e in events if e.ts <= as_of), key=lambda e: e.sort_key)


def winning_creations(world: World, kind: type[Event], key: str) -> dict[str, Any]:
    # "The same order or request id created twice: the earliest (ts, event id) wins."
    winners: dict[str, Event] = {}
    for event in world.events:  # already sorted by (ts, id)
        if isinstance(event, kind):
            winners.setdefault(getattr(event, key), event)
    return winners


def responses_of(world: World, request_id: str) -> list[Response]:
    # "A response is a message (side = sender) or call_joined (side = participant)."
    return [
        e for e in world.events
        if isinstance(e, (MessageEvent, CallJoinedEvent)) and e.request == request_id
    ]


def ends_of(world: World, request_id: str) -> list[RequestEndEvent]:
    return [e for e in world.events if isinstance(e, RequestEndEvent) and e.request == request_id]


def transfers_of(world: World, request_id: str) -> list[TransferEvent]:
    return [e for e in world.events if isinstance(e, TransferEvent) and e.request == request_id]


def last_responding_agent(world: World, request_id: str) -> str | None:
    # "the agent of the latest agent-side response up to as_of (creating an agent
    # request counts as responding)".
    candidates: list[tuple[datetime, str, str]] = [
        (e.ts, e.id, e.agent) for e in responses_of(world, request_id)
        if e.side == "agent" and e.agent is not None
    ]
    created = world.requests.get(request_id)
    if created is not None and created.initiator == "agent" and created.event.agent is not None:
        candidates.append((created.event.ts, created.event.id, created.event.agent))
    return max(candidates)[2] if candidates else None


def first_of_side(responses: list[Response], side: str) -> datetime | None:
    times = [e.ts for e in responses if e.side == side]
    return min(times) if times else None


def analyse_request(world: World, created: RequestEvent) -> Req:
    """The request outcome, decided at as_of."""
    responses = responses_of(world, created.request)
    # "the initiator's [first response] is the creation time; an auto request
    # needs both from message/call events".
    visitor_first = first_of_side(responses, "visitor")
    agent_first = first_of_side(responses, "agent")
    if created.initiator == "visitor":
        visitor_first = created.ts
    if created.initiator == "agent":
        agent_first = created.ts
    agent_responses = [e for e in responses if e.side == "agent"]
    first_agent = min(agent_responses, key=lambda e: e.sort_key) if agent_responses else None
    # "conversation: both the visitor and an agent have responded".
    conversation = visitor_first is not None and agent_first is not None
    engaged_at = max(visitor_first, agent_first) if conversation else None  # type: ignore[type-var]
    ends = ends_of(world, created.request)
    # "start = earliest message/call of either side; end = latest message/call/request_end".
    start = min((e.ts for e in responses), default=None)
    end = max([e.ts for e in responses] + [e.ts for e in ends], default=None)
    # "With several request_end events the latest gives the end and resolved."
    latest_end = max(ends, key=lambda e: e.sort_key) if ends else None
    # "pending: no conversation yet, not ended, created less than
    # response_timeout before as_of" (strict).
    pending = (
        not conversation and not ends
        and world.as_of - created.ts < world.response_timeout
    )
    transfers = transfers_of(world, created.request)
    responders = {e.agent for e in agent_responses if e.agent is not None}
    if created.initiator == "agent" and created.agent is not None:
        responders.add(created.agent)
    return Req(
        event=created,
        visitor=created.visitor or "",
        visitor_first=visitor_first,
        agent_first=agent_first,
        first_agent_response=first_agent,
        conversation=conversation,
        engaged_at=engaged_at,
        start=start,
        end=end,
        ended=bool(ends),
        pending=pending,
        resolved=latest_end.resolved if latest_end is not None else None,
        transferred=bool(transfers),
        escalated=any(t.is_escalation for t in transfers),
        visitor_responded=any(e.side == "visitor" for e in responses),
        responders=responders,
        last_agent=None,  # filled once every request is known
    )


def sessionise(world: World, visitor: str) -> list[list[Event]]:
    # "every event carrying the visitor id takes part, ordered by (ts, event id).
    # A new session starts at the visitor's first event, at a page_view whose
    # explicit session differs from the last explicit one, or, without an
    # explicit id, after a gap >= session_timeout."
    sessions: list[list[Event]] = []
    last_explicit: str | None = None
    previous: Event | None = None
    for event in world.events:
        if event.visitor != visitor:
            continue
        explicit = event.session if isinstance(event, PageViewEvent) else None
        if previous is None:
            new = True
        elif explicit is not None:
            new = explicit != last_explicit
        else:
            new = event.ts - previous.ts >= world.session_timeout
        if explicit is not None:
            last_explicit = explicit
        if new:
            sessions.append([])
        sessions[-1].append(event)
        previous = event
    return sessions


def build_world(events: list[Event], **params: Any) -> World:
    world = World(events=events, **params)
    creations: dict[str, RequestEvent] = winning_creations(world, RequestEvent, "request")
    for request_id, created in creations.items():
        world.requests[request_id] = analyse_request(world, created)
    for request_id, req in world.requests.items():
        req.last_agent = last_responding_agent(world, request_id)
    world.orders = winning_creations(world, OrderEvent, "order")
    for visitor in sorted({e.visitor for e in events if e.visitor is not None}):
        world.sessions[visitor] = sessionise(world, visitor)
    return world


# ---------------------------------------------------------------- selections


def requests_in_range(world: World) -> list[Req]:
    # "a request and its conversation [are counted] by the request's creation ts".
    return [r for r in world.requests.values() if world.in_range(r.created)]


def conversations_in_range(world: World) -> list[Req]:
    return [r for r in requests_in_range(world) if r.conversation]


def orders_in_range(world: World) -> list[OrderEvent]:
    # "an order by its ts".
    return [o for o in world.orders.values() if world.in_range(o.ts)]


def events_in_range(world: World, kind: type[Event] = Event) -> list[Any]:
    # "a survey, impression, click or auto message by its ts" (any other event too).
    return [e for e in world.events if isinstance(e, kind) and world.in_range(e.ts)]


def sessions_in_range(world: World) -> list[tuple[str, int, list[Event]]]:
    # "a session by its start"; the index tells the visitor's n-th session ever.
    return [
        (visitor, index, session)
        for visitor, sessions in world.sessions.items()
        for index, session in enumerate(sessions)
        if world.in_range(session[0].ts)
    ]


def attributing_conversation(world: World, order: OrderEvent) -> Req | None:
    # "attributed when its visitor has a conversation engaged at or before the
    # order's ts and no more than attribution_window before it" (inclusive);
    # "last touch = greatest engaged at (tie: greater request id)".
    candidates = [
        r for r in world.requests.values()
        if r.conversation and r.visitor == order.visitor and r.engaged_at is not None
        and order.ts - world.attribution_window <= r.engaged_at <= order.ts
    ]
    return max(candidates, key=lambda r: (r.engaged_at, r.id), default=None)


def attributed_orders(world: World) -> list[tuple[OrderEvent, Req]]:
    # "orders in range that are attributed".
    pairs = []
    for order in orders_in_range(world):
        conversation = attributing_conversation(world, order)
        if conversation is not None:
            pairs.append((order, conversation))
    return pairs


def survey_agent(world: World, survey: SurveyEvent) -> str | None:
    # "A survey's agent: its agent, else the last responding agent of its request."
    if survey.agent is not None:
        return survey.agent
    if survey.request is None:
        return None
    return last_responding_agent(world, survey.request)


def rated_surveys(world: World) -> list[SurveyEvent]:
    # "surveys in range with a rating (submitted or closed out)".
    return [s for s in events_in_range(world, SurveyEvent) if s.rating is not None]


def request_url(world: World, req: Req) -> str | None:
    # "its url, else the url of the visitor's latest page_view at or before the request".
    if req.event.url is not None:
        return req.event.url
    views = [
        e for e in world.events
        if isinstance(e, PageViewEvent) and e.visitor == req.visitor and e.ts <= req.created
    ]
    return max(views, key=lambda e: e.sort_key).url if views else None


# ---------------------------------------------------------------- sections


def visitors_section(world: World) -> dict[str, Any]:
    in_range = events_in_range(world)
    # "total: unique visitors with any event in range".
    total = {e.visitor for e in in_range if e.visitor is not None}
    sessions = sessions_in_range(world)
    # "returning: visitors with a session starting in range that is not their first session ever".
    returning = {visitor for visitor, index, _ in sessions if index > 0}
    # "with_impression: unique visitors with widget_impression or widget_click".
    impressed = {
        e.visitor for e in in_range if isinstance(e, (WidgetImpressionEvent, WidgetClickEvent))
    }
    clicked = {e.visitor for e in in_range if isinstance(e, WidgetClickEvent)}
    return {
        "total": len(total),
        "sessions": len(sessions),
        "returning": len(returning),
        "with_impression": len(impressed),
        "with_click": len(clicked),
        "widget_ctr": rate(len(clicked), len(impressed)),
    }


def top_urls(world: World) -> list[dict[str, Any]]:
    # "[{url, requests}] most first, ties by url, 10 at most"; requests without url left out.
    counts = Counter(
        url for r in requests_in_range(world) if (url := request_url(world, r)) is not None
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]
    return [{"url": url, "requests": n} for url, n in ranked]


def requests_section(world: World) -> dict[str, Any]:
    reqs = requests_in_range(world)
    # "unsuccessful: requests neither conversation nor pending".
    unsuccessful = [r for r in reqs if not r.conversation and not r.pending]
    return {
        "total": len(reqs),
        "text": sum(1 for r in reqs if r.channel == "text"),
        "video": sum(1 for r in reqs if r.channel == "video"),
        "by_initiator": {i: sum(1 for r in reqs if r.initiator == i) for i in INITIATORS},
        "breakdown": {
            c: {i: sum(1 for r in reqs if r.channel == c and r.initiator == i) for i in INITIATORS}
            for c in CHANNELS
        },
        "unsuccessful": len(unsuccessful),
        # "unanswered_from_visitors = unsuccessful visitor requests".
        "unanswered_from_visitors": sum(1 for r in unsuccessful if r.initiator == "visitor"),
        "pending": sum(1 for r in reqs if r.pending),
        # "offline: requests flagged offline".
        "offline": sum(1 for r in reqs if r.event.is_offline),
        "top_urls": top_urls(world),
    }


def acceptance_rate(reqs: list[Req], initiator: str) -> float | None:
    # "<initiator> requests that became conversations / <initiator> requests (not pending)".
    settled = [r for r in reqs if r.initiator == initiator and not r.pending]
    return rate(sum(1 for r in settled if r.conversation), len(settled))


def auto_invitation_rate(reqs: list[Req]) -> float | None:
    # "auto requests the visitor responded to / auto requests (not pending)".
    settled = [r for r in reqs if r.initiator == "auto" and not r.pending]
    return rate(sum(1 for r in settled if r.visitor_responded), len(settled))


def acceptance_section(world: World) -> dict[str, Any]:
    reqs = requests_in_range(world)
    return {
        "agent_initiated_rate": acceptance_rate(reqs, "agent"),
        "visitor_request_rate": acceptance_rate(reqs, "visitor"),
        "auto_invitation_rate": auto_invitation_rate(reqs),
    }


def minutes(delta: timedelta) -> float:
    return seconds(delta) / 60


def duration_minutes(conv: Req) -> float:
    # "avg_duration_minutes: mean(end - start) over conversations".
    assert conv.end is not None
    assert conv.start is not None
    return minutes(conv.end - conv.start)


def handle_minutes(conv: Req) -> float:
    # "avg_handle_minutes: mean(end - engaged at)".
    assert conv.end is not None
    assert conv.engaged_at is not None
    return minutes(conv.end - conv.engaged_at)


def conversations_section(world: World) -> dict[str, Any]:
    convs = conversations_in_range(world)
    return {
        "total": len(convs),
        "text": sum(1 for c in convs if c.channel == "text"),
        "video": sum(1 for c in convs if c.channel == "video"),
        "avg_duration_minutes": mean([duration_minutes(c) for c in convs]),
        "by_initiator": {i: sum(1 for c in convs if c.initiator == i) for i in INITIATORS},
    }


def sales_section(world: World) -> dict[str, Any]:
    attributed = attributed_orders(world)
    gmv = sum((o.value for o, _ in attributed), Decimal(0))
    by_channel = {
        c: sum((o.value for o, conv in attributed if conv.channel == c), Decimal(0))
        for c in CHANNELS
    }
    # "conversion_rate: visitors with a conversation in range who placed an
    # attributed order in range / visitors with a conversation in range".
    conversing = {c.visitor for c in conversations_in_range(world)}
    buyers = {o.visitor for o, _ in attributed}
    everything = orders_in_range(world)
    all_gmv = sum((o.value for o in everything), Decimal(0))
    return {
        "attributed_orders": len(attributed),
        "attributed_gmv": gmv,
        "attributed_gmv_by_channel": by_channel,
        "aov": money_div(gmv, len(attributed)),
        "conversion_rate": rate(len(conversing & buyers), len(conversing)),
        "all_orders": len(everything),
        "all_gmv": all_gmv,
        "all_aov": money_div(all_gmv, len(everything)),
        # "sales_per_conversation: attributed_gmv / conversations.total".
        "sales_per_conversation": money_div(gmv, len(conversations_in_range(world))),
    }


def nps(ratings: list[int], scale: RatingScale) -> float | None:
    # "on a 0..10 scale only: share 9-10 minus share 0-6, times 100; else null".
    if (scale.low, scale.high) != (0, 10) or not ratings:
        return None
    promoters = sum(1 for r in ratings if r >= 9)
    detractors = sum(1 for r in ratings if r <= 6)
    return (promoters / len(ratings) - detractors / len(ratings)) * 100


def feedback_list(world: World) -> list[dict[str, Any]]:
    # "[{ts, visitor, agent, rating, feedback}] surveys with a rating or text, newest first".
    chosen = [
        s for s in events_in_range(world, SurveyEvent)
        if s.rating is not None or (s.feedback is not None and s.feedback != "")
    ]
    chosen.sort(key=lambda s: s.sort_key, reverse=True)
    return [
        {
            "ts": format_ts(s.ts),
            "visitor": s.visitor,
            "agent": survey_agent(world, s),
            "rating": s.rating,
            "feedback": s.feedback,
        }
        for s in chosen
    ]


def ratings_section(world: World) -> dict[str, Any]:
    values = [s.rating for s in rated_surveys(world)]
    scale = world.scale
    return {
        "count": len(values),
        "avg": mean([float(v) for v in values]),
        "distribution": {str(v): values.count(v) for v in scale.values},
        # "csat: share of ratings in the top two values of the scale".
        "csat": rate(sum(1 for v in values if v >= scale.high - 1), len(values)),
        "nps": nps(values, scale),
        "feedback": feedback_list(world),
    }


def first_response_seconds(req: Req) -> float | None:
    # "seconds from a visitor request to the first agent response".
    if req.initiator != "visitor" or req.first_agent_response is None:
        return None
    return seconds(req.first_agent_response.ts - req.created)


def first_response_values(world: World) -> list[float]:
    return [
        s for r in requests_in_range(world) if (s := first_response_seconds(r)) is not None
    ]


def first_contact_resolved(world: World, conv: Req) -> bool:
    # "ended resolved=true, had no transfer, and whose visitor made no new
    # [visitor-initiated] request created in (end, end + fcr_window]".
    assert conv.end is not None
    if conv.resolved is not True or conv.transferred:
        return False
    return not any(
        other.visitor == conv.visitor and other.initiator == "visitor" and other.id != conv.id
        and conv.end < other.created <= conv.end + world.fcr_window
        for other in world.requests.values()
    )


def cart_abandonment_rate(world: World) -> float | None:
    # "sessions started in range with a cart_update value > 0 inside the session;
    # abandoned when the session has no order".
    winning = {o.id for o in world.orders.values()}
    with_cart = [
        s for _, _, s in sessions_in_range(world)
        if any(isinstance(e, CartUpdateEvent) and e.value > 0 for e in s)
    ]
    abandoned = [s for s in with_cart if not any(e.id in winning for e in s)]
    return rate(len(abandoned), len(with_cart))


def support_section(world: World) -> dict[str, Any]:
    convs = conversations_in_range(world)
    waits = first_response_values(world)
    resolved_set = [c for c in convs if c.resolved is not None]
    escalations = sum(1 for c in convs if c.escalated)
    return {
        "first_response": {
            "avg": mean(waits),
            "median": percentile(waits, 0.5),
            "p90": percentile(waits, 0.9),
        },
        "avg_handle_minutes": mean([handle_minutes(c) for c in convs]),
        "transfers": sum(1 for c in convs if c.transferred),
        "escalations": escalations,
        "escalation_rate": rate(escalations, len(convs)),
        "first_contact_resolution_rate": rate(
            sum(1 for c in resolved_set if first_contact_resolved(world, c)), len(resolved_set)
        ),
        "cart_abandonment_rate": cart_abandonment_rate(world),
        # "cost_per_contact: cost / conversations.total (null without cost)".
        "cost_per_contact": None if world.cost is None else money_div(world.cost, len(convs)),
        "wait": wait_section(world),
    }


def auto_messages_section(world: World) -> dict[str, Any]:
    clicks = events_in_range(world, AutoMessageClickEvent)
    by_trigger = Counter(c.trigger for c in clicks)
    by_link = Counter((c.trigger, c.link) for c in clicks if c.link is not None)
    return {
        "shown": len(events_in_range(world, AutoMessageEvent)),
        "clicks": len(clicks),
        # "[{trigger, clicks}] most clicked first, 10 at most".
        "top_triggers": [
            {"trigger": t, "clicks": n}
            for t, n in sorted(by_trigger.items(), key=lambda i: (-i[1], i[0]))[:10]
        ],
        # "[{trigger, link, clicks}] clicks on messages that carry a link, 10 at most".
        "top_links": [
            {"trigger": t, "link": link, "clicks": n}
            for (t, link), n in sorted(by_link.items(), key=lambda i: (-i[1], i[0]))[:10]
        ],
    }


# ---------------------------------------------------------------- trends and agents


def report_dates(world: World) -> list[date]:
    # "one row per local date in range, empty days included"; default range:
    # "from the local date of the earliest event to the local date of the newest
    # event at or before as_of"; "with an end only, the last row is the date of end - 1 us".
    if world.start is not None:
        first = world.local_date(world.start)
    elif world.events:
        first = world.local_date(world.events[0].ts)
    else:
        return []
    if world.end is not None:
        last = world.local_date(world.end - timedelta(microseconds=1))
    elif world.events:
        last = world.local_date(world.events[-1].ts)
    else:
        return []
    days = []
    day = first
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    return days


def daily_row(world: World, day: date) -> dict[str, Any]:
    events = [e for e in events_in_range(world) if world.local_date(e.ts) == day]
    visitors = {e.visitor for e in events if e.visitor is not None}
    impressed = {
        e.visitor for e in events if isinstance(e, (WidgetImpressionEvent, WidgetClickEvent))
    }
    clicked = {e.visitor for e in events if isinstance(e, WidgetClickEvent)}
    reqs = [r for r in requests_in_range(world) if world.local_date(r.created) == day]
    convs = [r for r in reqs if r.conversation]
    ratings = [float(s.rating) for s in rated_surveys(world) if world.local_date(s.ts) == day]
    gmv = sum(
        (o.value for o, _ in attributed_orders(world) if world.local_date(o.ts) == day),
        Decimal(0),
    )
    return {
        "date": day.isoformat(),
        "visitors": len(visitors),
        "widget_ctr": rate(len(clicked), len(impressed)),
        "requests": len(reqs),
        "text_requests": sum(1 for r in reqs if r.channel == "text"),
        "video_requests": sum(1 for r in reqs if r.channel == "video"),
        "visitor_request_acceptance_rate": acceptance_rate(reqs, "visitor"),
        "conversations": len(convs),
        "video_conversations": sum(1 for c in convs if c.channel == "video"),
        "avg_rating": mean(ratings),
        "attributed_gmv": gmv,
    }


def hourly_rows(world: World) -> list[dict[str, Any]]:
    # "24 rows, hour 0..23 local" of requests in range.
    reqs = requests_in_range(world)

    def count(hour: int, channel: str) -> int:
        return sum(
            1 for r in reqs
            if r.channel == channel and r.created.astimezone(world.zone).hour == hour
        )

    return [
        {"hour": h, "text_requests": count(h, "text"), "video_requests": count(h, "video")}
        for h in range(24)
    ]


def agent_ratings(world: World, agent: str) -> list[SurveyEvent]:
    # "avg_rating uses surveys naming the agent, or the agent of the survey's request".
    return [s for s in rated_surveys(world) if survey_agent(world, s) == agent]


def agent_initiated(world: World, agent: str) -> list[Req]:
    return [
        r for r in requests_in_range(world)
        if r.initiator == "agent" and r.event.agent == agent
    ]


def agent_conversations(world: World, agent: str) -> list[Req]:
    # "An agent's conversations counts conversations in which that agent responded."
    return [c for c in conversations_in_range(world) if agent in c.responders]


def agent_attributed(world: World, agent: str) -> list[OrderEvent]:
    # "attributed_sales/attributed_orders use the last-touch agent".
    return [o for o, conv in attributed_orders(world) if conv.last_agent == agent]


def agent_first_responses(world: World, agent: str) -> list[float]:
    # "mean first response over visitor requests in range whose first agent
    # response came from this agent".
    return [
        s for r in requests_in_range(world)
        if (s := first_response_seconds(r)) is not None
        and r.first_agent_response is not None and r.first_agent_response.agent == agent
    ]


def agent_daily_row(world: World, agent: str, day: date) -> dict[str, Any]:
    initiated = [r for r in agent_initiated(world, agent) if world.local_date(r.created) == day]
    settled = [r for r in initiated if not r.pending]
    return {
        "date": day.isoformat(),
        "avg_rating": mean([
            float(s.rating) for s in agent_ratings(world, agent) if world.local_date(s.ts) == day
        ]),
        "initiated_requests": len(initiated),
        "initiated_acceptance_rate": rate(sum(1 for r in settled if r.conversation), len(settled)),
        "conversations": sum(
            1 for c in agent_conversations(world, agent) if world.local_date(c.created) == day
        ),
    }


def agent_row(world: World, agent: str, days: list[date]) -> dict[str, Any]:
    initiated = agent_initiated(world, agent)
    settled = [r for r in initiated if not r.pending]
    convs = agent_conversations(world, agent)
    orders = agent_attributed(world, agent)
    return {
        "agent": agent,
        "avg_rating": mean([float(s.rating) for s in agent_ratings(world, agent)]),
        "initiated_requests": len(initiated),
        "initiated_acceptance_rate": rate(sum(1 for r in settled if r.conversation), len(settled)),
        "conversations": len(convs),
        "attributed_sales": sum((o.value for o in orders), Decimal(0)),
        "attributed_orders": len(orders),
        "first_response_avg": mean(agent_first_responses(world, agent)),
        "avg_handle_minutes": mean([handle_minutes(c) for c in convs]),
        "daily": [agent_daily_row(world, agent, day) for day in days],
    }


def named_agents(event: Event) -> set[str]:
    # "every agent named by an in-range event (agent, from_agent, to_agent)".
    names = {getattr(event, f, None) for f in ("agent", "from_agent", "to_agent")}
    return {n for n in names if isinstance(n, str)}


def listed_agents(world: World) -> set[str]:
    agents: set[str] = set()
    for event in events_in_range(world):
        agents |= named_agents(event)
    # "... or credited with any figure in range".
    everyone = {a for e in world.events for a in named_agents(e)}
    for agent in everyone - agents:
        if (
            agent_conversations(world, agent) or agent_initiated(world, agent)
            or agent_attributed(world, agent) or agent_ratings(world, agent)
            or agent_first_responses(world, agent)
        ):
            agents.add(agent)
    return agents


def agents_section(world: World, days: list[date]) -> list[dict[str, Any]]:
    # "sorted by conversations desc then id".
    rows = [agent_row(world, agent, days) for agent in listed_agents(world)]
    return sorted(rows, key=lambda row: (-row["conversations"], row["agent"]))


# ---------------------------------------------------------------- experiments and waiting

Z95 = 1.959963984540054  # the 0.975 quantile of the standard normal


def wilson_by_quadratic(x: int, n: int) -> tuple[float, float]:
    # Wilson's interval: the pi with (p - pi)^2 = z^2 pi (1 - pi) / n, i.e. the
    # roots of (1 + z^2/n) pi^2 - (2p + z^2/n) pi + p^2 = 0.
    p = x / n
    a = 1 + Z95 * Z95 / n
    b = -(2 * p + Z95 * Z95 / n)
    c = p * p
    root = math.sqrt(max(0.0, b * b - 4 * a * c))
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def newcombe(x1: int, n1: int, x2: int, n2: int) -> list[float]:
    # Newcombe (1998) method 10: the difference minus / plus the root of the
    # squared distances to the relevant Wilson limits of each arm.
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_by_quadratic(x1, n1)
    l2, u2 = wilson_by_quadratic(x2, n2)
    return [
        p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    ]


def experiments_section(world: World) -> list[dict[str, Any]]:
    # "A visitor's exposure to a trigger is the earliest (by ts, then event id)
    # of its in-range request events with initiator auto and that trigger and
    # its in-range holdout events with that trigger."
    exposures: list[tuple[str, str, datetime, str, str]] = []
    for req in world.requests.values():
        if req.initiator == "auto" and req.event.trigger is not None and world.in_range(req.created):
            exposures.append((req.event.trigger, req.visitor, req.created, req.event.id, "invited"))
    for event in events_in_range(world, HoldoutEvent):
        exposures.append((event.trigger, event.visitor, event.ts, event.id, "held_out"))
    rows = []
    for trigger in sorted({e[0] for e in exposures}):
        arms: dict[str, list[tuple[bool, Decimal]]] = {"invited": [], "held_out": []}
        for visitor in sorted({e[1] for e in exposures if e[0] == trigger}):
            mine = [e for e in exposures if e[0] == trigger and e[1] == visitor]
            _, _, ts, _, arm = min(mine, key=lambda e: (e[2], e[3]))
            # "Converted: an order with exposure <= order.ts <= exposure + window."
            values = [o.value for o in world.orders.values() if o.visitor == visitor
                      and ts <= o.ts <= ts + world.attribution_window]
            arms[arm].append((bool(values), sum(values, Decimal(0))))
        inv, held = arms["invited"], arms["held_out"]
        x1, x2 = sum(1 for c, _ in inv if c), sum(1 for c, _ in held if c)
        r1, r2 = rate(x1, len(inv)), rate(x2, len(held))
        g1 = money_div(sum((g for _, g in inv), Decimal(0)), len(inv))
        g2 = money_div(sum((g for _, g in held), Decimal(0)), len(held))
        rows.append({
            "trigger": trigger,
            "invited": len(inv),
            "held_out": len(held),
            "invited_converted": x1,
            "held_out_converted": x2,
            "invited_conversion_rate": r1,
            "held_out_conversion_rate": r2,
            "lift": None if r1 is None or r2 is None else r1 - r2,
            "lift_ci95": newcombe(x1, len(inv), x2, len(held)) if inv and held else None,
            "invited_gmv_per_visitor": g1,
            "held_out_gmv_per_visitor": g2,
            # "(invited gmv per visitor - held-out gmv per visitor) * invited", in exact
            # arithmetic: invited gmv - held-out gmv * invited / held out.
            "incremental_gmv": None if g1 is None or g2 is None else (
                sum((g for _, g in inv), Decimal(0))
                - money_div(sum((g for _, g in held), Decimal(0)) * len(inv), len(held))),
        })
    return rows


def wait_outcomes(world: World) -> list[tuple[str, float]]:
    """(answered / abandoned / waiting, seconds) per visitor request created in range."""
    out: list[tuple[str, float]] = []
    for req in requests_in_range(world):
        if req.initiator != "visitor":
            continue
        answer = req.first_agent_response.ts if req.first_agent_response is not None else None
        ends = [e.ts for e in ends_of(world, req.id)]
        end = min(ends) if ends else None
        last = max(e.ts for e in world.events if e.visitor == req.visitor)
        if answer is not None and (end is None or answer <= end):
            out.append(("answered", seconds(answer - req.created)))
        elif end is not None:
            out.append(("abandoned", seconds(end - req.created)))
        elif last + timedelta(seconds=120) <= world.as_of:
            out.append(("abandoned", seconds(last + timedelta(seconds=120) - req.created)))
        else:
            out.append(("waiting", seconds(world.as_of - req.created)))
    return out


def aalen_johansen(outcomes: list[tuple[str, float]], kind: str, t: float) -> float:
    # F_k(t) = sum over event times u <= t of S(u-) * d_k(u) / n(u), with the
    # Kaplan-Meier S(u-) = prod over event times v < u of (1 - d(v) / n(v)),
    # n(u) = requests with time >= u (censored at u still at risk).
    times = sorted({x for k, x in outcomes if k != "waiting"})
    total = 0.0
    for u in times:
        if u > t:
            break
        survival = 1.0
        for v in times:
            if v >= u:
                break
            n_v = sum(1 for _, x in outcomes if x >= v)
            d_v = sum(1 for k, x in outcomes if x == v and k != "waiting")
            survival *= 1 - d_v / n_v
        n_u = sum(1 for _, x in outcomes if x >= u)
        d_k = sum(1 for k, x in outcomes if x == u and k == kind)
        total += survival * d_k / n_u
    return total


def wait_section(world: World) -> dict[str, Any]:
    outcomes = wait_outcomes(world)
    points = ("15", "30", "60", "120", "300")
    event_times = sorted({x for k, x in outcomes if k == "answered"})
    median = next((u for u in event_times
                   if aalen_johansen(outcomes, "answered", u) >= 0.5 - 1e-12), None)
    return {
        "requests": len(outcomes),
        "answered": sum(1 for k, _ in outcomes if k == "answered"),
        "abandoned": sum(1 for k, _ in outcomes if k == "abandoned"),
        "still_waiting": sum(1 for k, _ in outcomes if k == "waiting"),
        "answered_within": {
            p: aalen_johansen(outcomes, "answered", float(p)) if outcomes else None for p in points
        },
        "abandoned_within": {
            p: aalen_johansen(outcomes, "abandoned", float(p)) if outcomes else None for p in points
        },
        "median_answer_seconds": median,
    }


# ---------------------------------------------------------------- pages and breakdowns


def pages_section(world: World) -> list[dict[str, Any]]:
    views = events_in_range(world, PageViewEvent)
    reqs = requests_in_range(world)
    rows = []
    for url in {v.url for v in views}:
        viewers = {v.visitor for v in views if v.url == url}
        on_url = [r for r in reqs if request_url(world, r) == url]
        requesters = {r.visitor for r in on_url}
        rows.append({
            "url": url,
            "page_views": sum(1 for v in views if v.url == url),
            "visitors": len(viewers),
            "requests": len(on_url),
            "conversations": sum(1 for r in on_url if r.conversation),
            "chat_rate": rate(len(viewers & requesters), len(viewers)),
        })
    return sorted(rows, key=lambda row: (-row["page_views"], row["url"]))


REQUEST_LEVEL = ("channel", "initiator", "department")


def session_value(world: World, dim: str, event: Event) -> str:
    # "the value of the session its own event belongs to".
    assert event.visitor is not None
    index, session = next(
        (n, session) for n, session in enumerate(world.sessions[event.visitor])
        if any(e.id == event.id for e in session)
    )
    if dim == "returning":
        return "new" if index == 0 else "returning"
    first = next((e for e in session if isinstance(e, PageViewEvent)), None)
    if first is None:
        return "(none)"
    if dim == "referrer":
        if first.referrer is None:
            return "(direct)"
        return urlsplit(first.referrer).hostname or first.referrer
    if dim == "landing_page":
        return first.url
    if dim in ("utm_source", "utm_campaign"):
        found = parse_qs(urlsplit(first.url).query).get(dim)
        return found[0] if found else "(none)"
    value = getattr(first, dim)
    return "(none)" if value is None else str(value)


def request_value(world: World, dim: str, req: Req) -> str:
    if dim in REQUEST_LEVEL:
        value = getattr(req.event, dim)
        return "(none)" if value is None else str(value)
    return session_value(world, dim, req.event)


def order_value(world: World, dim: str, order: OrderEvent, conv: Req) -> str:
    if dim in REQUEST_LEVEL:
        return request_value(world, dim, conv)
    return session_value(world, dim, order)


def breakdown_section(world: World, dim: str) -> list[dict[str, Any]]:
    reqs = requests_in_range(world)
    attributed = attributed_orders(world)
    widget_events = [
        e for e in events_in_range(world) if isinstance(e, (WidgetImpressionEvent, WidgetClickEvent))
    ]
    request_values = {r.id: request_value(world, dim, r) for r in reqs}
    order_values = {o.order: order_value(world, dim, o, c) for o, c in attributed}
    values = set(request_values.values()) | set(order_values.values())
    if dim not in REQUEST_LEVEL:
        event_values = {
            e.id: session_value(world, dim, e) for e in events_in_range(world) if e.visitor is not None
        }
        values |= set(event_values.values())
    rows = []
    for value in values:
        mine = [r for r in reqs if request_values[r.id] == value]
        orders = [(o, c) for o, c in attributed if order_values[o.order] == value]
        if dim in REQUEST_LEVEL:
            visitors = {r.visitor for r in mine}
            impressed = visitors & {e.visitor for e in widget_events}
            clicked = visitors & {e.visitor for e in widget_events if isinstance(e, WidgetClickEvent)}
        else:
            in_value = [e for e in events_in_range(world)
                        if e.visitor is not None and event_values[e.id] == value]
            visitors = {e.visitor for e in in_value}
            impressed = {e.visitor for e in widget_events if event_values[e.id] == value}
            clicked = {e.visitor for e in widget_events
                       if isinstance(e, WidgetClickEvent) and event_values[e.id] == value}
        conversing = {r.visitor for r in mine if r.conversation}
        buyers = {o.visitor for o, _ in orders}
        rows.append({
            "value": value,
            "visitors": len(visitors),
            "with_impression": len(impressed),
            "with_click": len(clicked),
            "widget_ctr": rate(len(clicked), len(impressed)),
            "requests": len(mine),
            "conversations": sum(1 for r in mine if r.conversation),
            "visitor_request_rate": acceptance_rate(mine, "visitor"),
            "attributed_orders": len(orders),
            "attributed_gmv": sum((o.value for o, _ in orders), Decimal(0)),
            "conversion_rate": rate(len(conversing & buyers), len(conversing)),
        })
    return sorted(rows, key=lambda row: (-row["visitors"], row["value"]))


# ---------------------------------------------------------------- comparison


def previous_range(
    start: datetime | date | None, end: datetime | date | None, zone: ZoneInfo
) -> tuple[datetime | date, datetime | date]:
    # "when both bounds are dates, the previous range is the same number of local
    # days just before; otherwise the same duration just before".
    if start is None or end is None:
        raise ValueError("compare needs a start and an end")
    if not isinstance(start, datetime) and not isinstance(end, datetime):
        return start - (end - start), start
    lo, hi = to_instant(start, zone), to_instant(end, zone)
    assert lo is not None
    assert hi is not None
    return lo - (hi - lo), lo


def numeric_leaves(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    leaves = []
    for key, value in tree.items():
        if prefix == "" and key in ("range", "previous", "change"):
            continue
        if isinstance(value, dict):
            leaves.extend(numeric_leaves(value, f"{prefix}{key}."))
        elif value is None or (isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)):
            leaves.append((f"{prefix}{key}", value))
    return leaves


def change_table(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    before, now = dict(numeric_leaves(previous)), dict(numeric_leaves(current))
    table = {}
    for key in now:
        x, y = before[key], now[key]
        both = x is not None and y is not None
        table[key] = {
            "previous": x,
            "current": y,
            "delta": y - x if both else None,
            "ratio": None if not both or x == 0
            else (money_div(y, x) if isinstance(x, Decimal) else y / x),
        }
    return table


# ---------------------------------------------------------------- the report


def reference_report(
    events: list[Event],
    *,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    tz: str = "UTC",
    as_of: datetime | None = None,
    attribution_window: timedelta = timedelta(days=7),
    response_timeout: timedelta = timedelta(minutes=10),
    fcr_window: timedelta = timedelta(hours=24),
    session_timeout: timedelta = timedelta(minutes=30),
    rating_scale: RatingScale = DEFAULT_SCALE,
    cost: Decimal | None = None,
    by: str | None = None,
    compare: str | tuple[datetime | date, datetime | date] | None = None,
) -> dict[str, Any]:
    """The whoson report of ``events`` as a plain dict with metrics.md's key tree
    (and analysis.md's ``pages``, ``breakdown``, ``previous``, ``change``)."""
    unique = dedupe(events)
    if as_of is None:
        if not unique:
            raise ValueError("as_of is required when there are no events")
        as_of = max(e.ts for e in unique)
    if as_of.tzinfo is None:
        raise ValueError("as_of must be aware")
    as_of = as_of.astimezone(UTC)
    zone = ZoneInfo(tz)
    lo, hi = to_instant(start, zone), to_instant(end, zone)
    world = build_world(
        kept_events(unique, as_of),
        as_of=as_of, start=lo, end=hi, zone=zone, tz=tz,
        attribution_window=attribution_window, response_timeout=response_timeout,
        fcr_window=fcr_window, session_timeout=session_timeout, scale=rating_scale, cost=cost,
    )
    days = report_dates(world)
    report: dict[str, Any] = {
        "range": {
            "start": None if lo is None else format_ts(lo),
            "end": None if hi is None else format_ts(hi),
            "tz": tz,
            "as_of": format_ts(as_of),
        },
        "visitors": visitors_section(world),
        "requests": requests_section(world),
        "acceptance": acceptance_section(world),
        "conversations": conversations_section(world),
        "sales": sales_section(world),
        "ratings": ratings_section(world),
        "support": support_section(world),
        "auto_messages": auto_messages_section(world),
        "trends": {
            "daily": [daily_row(world, day) for day in days],
            "hourly": hourly_rows(world),
        },
        "agents": agents_section(world, days),
        "experiments": experiments_section(world),
        "pages": pages_section(world),
    }
    if by is not None:
        report["breakdown"] = breakdown_section(world, by)
    if compare is not None:
        before = previous_range(start, end, zone) if compare == "previous" else compare
        previous = reference_report(
            events, start=before[0], end=before[1], tz=tz, as_of=as_of,
            attribution_window=attribution_window, response_timeout=response_timeout,
            fcr_window=fcr_window, session_timeout=session_timeout, rating_scale=rating_scale,
            cost=cost, by=by,
        )
        report["previous"] = previous
        report["change"] = change_table(previous, report)
    return report
