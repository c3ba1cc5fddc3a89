"""Hypothesis strategies: small but rich, conflict-free whoson event streams.

A stream mixes every event type around a few days that may include a Europe/Berlin
DST change (2026-03-29, 2026-10-25). Ids come from small pools so that streams
collide on purpose: four visitors ``v0..v3``, three agents ``a0..a2``, requests
``r0..r5`` and orders ``o0..o7``. Request ``r{i}`` and order ``o{i}`` always
belong to visitor ``v{i % 4}``, so no stream breaks the request-ownership rule;
every event gets a fresh id, so there are no conflicting ids either.

>>> owner_of("r5"), owner_of("o2")
('v1', 'v2')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

from whoson.core.events import Event
from whoson.core.parsing import parse_event
from whoson.core.settings import ParseContext, RatingScale
from whoson.core.time import format_ts

__all__ = [
    "AGENTS",
    "ANCHORS",
    "REQUEST_IDS",
    "VISITORS",
    "Scenario",
    "event_streams",
    "owner_of",
    "scenarios",
    "shuffled_with_duplicates",
]

VISITORS = ("v0", "v1", "v2", "v3")
AGENTS = ("a0", "a1", "a2")
REQUEST_IDS = tuple(f"r{i}" for i in range(6))
ORDER_IDS = tuple(f"o{i}" for i in range(8))
URLS = ("/", "/shoes", "/cart", "/help")
TRIGGERS = ("t0", "t1", "t2")
LINKS = ("/sale", "/faq")
SESSIONS = ("s0", "s1")
# Page view fields the breakdowns read (analysis.md): a few values each, absent too.
LANDINGS = ("/?utm_source=mail&utm_campaign=spring", "/shoes?utm_source=ads&utm_source=x")
COUNTRIES = ("DE", "FR")
DEVICES = ("mobile", "desktop")
REFERRERS = ("https://www.google.com/search?q=shoes", "https://News.example/a", "/internal")
DEPARTMENTS = ("sales", "support")
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")
SCALES = (RatingScale(1, 5), RatingScale(0, 10))
# Just before Berlin springs forward / falls back, and an ordinary summer day.
ANCHORS = (
    datetime(2026, 3, 28, 20, tzinfo=UTC),
    datetime(2026, 10, 24, 20, tzinfo=UTC),
    datetime(2026, 6, 15, 6, tzinfo=UTC),
)
SPAN_MINUTES = 3 * 24 * 60

# Delays that sit on the default thresholds (10 min timeout, 30 min session).
_EDGE_MINUTES = (0, 1, 2, 5, 9, 10, 11, 29, 30, 31, 60, 240, 1440)
delays = st.one_of(
    st.sampled_from(_EDGE_MINUTES).map(lambda m: timedelta(minutes=m)),
    st.integers(0, 3 * 3600).map(lambda s: timedelta(seconds=s)),
)


def owner_of(entity_id: str) -> str:
    """The visitor a request id ``r{i}`` or order id ``o{i}`` belongs to."""
    return VISITORS[int(entity_id[1:]) % len(VISITORS)]


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


class _Stream:
    """Collects event mappings with fresh ids and parses them."""

    def __init__(self, scale: RatingScale) -> None:
        self.ctx = ParseContext(rating_scale=scale)
        self.events: list[Event] = []

    def add(self, type_: str, ts: datetime, visitor: str | None, **fields: Any) -> None:
        event_id = f"e{len(self.events):03d}"
        data: dict[str, Any] = {"id": event_id, "type": type_, "ts": format_ts(ts)}
        if visitor is not None:
            data["visitor"] = visitor
        data.update({k: v for k, v in fields.items() if v is not None})
        self.events.append(parse_event(data, self.ctx))


def _moment(draw: st.DrawFn, anchor: datetime) -> datetime:
    minutes = draw(st.integers(0, SPAN_MINUTES))
    extra = draw(st.sampled_from((0, 0, 0, 17, 59)))
    return anchor + timedelta(minutes=minutes, seconds=extra)


def _order(draw: st.DrawFn, stream: _Stream, ts: datetime, visitor: str) -> None:
    own = [o for o in ORDER_IDS if owner_of(o) == visitor]
    subtotal = draw(st.sampled_from(("0", "19.99", "50", "120.10")))
    discount = draw(st.sampled_from((None, "0", "5.5"))) if subtotal != "0" else None
    stream.add(
        "order", ts, visitor, order=draw(st.sampled_from(own)), subtotal=subtotal,
        discount=discount, shipping=draw(maybe(st.just("4.90"))),
    )


def _response(draw: st.DrawFn, stream: _Stream, t: datetime, rid: str, side: str) -> None:
    kind = draw(st.sampled_from(("message", "call_joined")))
    agent = draw(st.sampled_from(AGENTS)) if side == "agent" else None
    role = "sender" if kind == "message" else "participant"
    stream.add(kind, t, owner_of(rid), request=rid, agent=agent, **{role: side})


def _page_view(draw: st.DrawFn, stream: _Stream, t: datetime, visitor: str, url: str) -> None:
    """A page view with the fields breakdowns read, each sometimes absent."""
    stream.add(
        "page_view", t, visitor, url=draw(st.sampled_from((url, *LANDINGS))),
        session=draw(maybe(st.sampled_from(SESSIONS))),
        country=draw(maybe(st.sampled_from(COUNTRIES))),
        device=draw(maybe(st.sampled_from(DEVICES))),
        referrer=draw(maybe(st.sampled_from(REFERRERS))),
    )


def _request_story(draw: st.DrawFn, stream: _Stream, anchor: datetime, rid: str) -> None:
    """A request's life: creation (usually), responses, transfers, ends, survey, order."""
    visitor = owner_of(rid)
    t = _moment(draw, anchor)
    created = draw(st.integers(0, 9)) > 0
    if created:
        if draw(st.booleans()):  # a page view leads to it (same session or, at 31 min, not)
            lead = timedelta(minutes=draw(st.sampled_from((0, 2, 31))))
            _page_view(draw, stream, t - lead, visitor, draw(st.sampled_from(URLS)))
        initiator = draw(st.sampled_from(("visitor", "agent", "auto")))
        stream.add(
            "request", t, visitor, request=rid, channel=draw(st.sampled_from(("text", "video"))),
            initiator=initiator,
            agent=draw(st.sampled_from(AGENTS)) if initiator == "agent" else None,
            trigger=draw(st.sampled_from(TRIGGERS)) if initiator == "auto" else None,
            url=draw(maybe(st.sampled_from(URLS))), offline=draw(maybe(st.booleans())),
            department=draw(maybe(st.sampled_from(DEPARTMENTS))),
        )
        if draw(st.integers(0, 2)) > 0:  # usually answered: a conversation
            for side in ("visitor", "agent"):
                if side != initiator:
                    t += draw(delays)
                    _response(draw, stream, t, rid, side)
            if draw(st.booleans()):
                # Often closed with a verdict and followed by a purchase: keeps
                # first-contact resolution and attribution well exercised.
                t += draw(delays)
                stream.add("request_end", t, visitor, request=rid, reason="closed",
                           resolved=draw(st.booleans()))
                _order(draw, stream, t + draw(delays), visitor)
    steps = draw(st.lists(st.tuples(delays, st.integers(0, 12)), max_size=7))
    for delay, kind in steps:
        t += delay
        agent = draw(st.sampled_from(AGENTS))
        if kind <= 2:
            stream.add("message", t, visitor, request=rid, sender="visitor")
        elif kind <= 5:
            stream.add("message", t, visitor, request=rid, sender="agent", agent=agent)
        elif kind == 6:
            stream.add("call_joined", t, visitor, request=rid, participant="visitor")
        elif kind == 7:
            stream.add("call_joined", t, visitor, request=rid, participant="agent", agent=agent)
        elif kind == 8:
            stream.add(
                "transfer", t, visitor, request=rid,
                from_agent=draw(maybe(st.sampled_from(AGENTS))),
                to_agent=draw(maybe(st.sampled_from(AGENTS))),
                escalation=draw(maybe(st.booleans())),
            )
        elif kind <= 10:
            stream.add(
                "request_end", t, visitor, request=rid,
                reason=draw(maybe(st.sampled_from(("closed", "declined", "missed", "timeout")))),
                resolved=draw(maybe(st.booleans())),
            )
        elif kind == 11:
            _order(draw, stream, t, visitor)
        else:  # the same request id created a second time: the first must win
            stream.add(
                "request", t, visitor, request=rid,
                channel=draw(st.sampled_from(("text", "video"))), initiator="agent", agent=agent,
            )
    if draw(st.booleans()):
        _order(draw, stream, t + draw(delays), visitor)
    if draw(st.integers(0, 2)) > 0:
        t += draw(delays)
        scale = stream.ctx.rating_scale
        stream.add(
            "survey", t, visitor, request=draw(maybe(st.just(rid))),
            agent=draw(maybe(st.sampled_from(AGENTS))),
            rating=draw(maybe(st.integers(scale.low, scale.high))),
            submitted=draw(maybe(st.booleans())),
            feedback=draw(maybe(st.sampled_from(("", "great", "too slow")))),
        )


def _visit(draw: st.DrawFn, stream: _Stream, anchor: datetime, visitor: str) -> None:
    """A burst of browsing: page views, widget, auto messages, cart, orders."""
    t = _moment(draw, anchor)
    for kind in draw(st.lists(st.integers(0, 14), min_size=1, max_size=8)):
        url = draw(st.sampled_from(URLS))
        if kind <= 2:
            _page_view(draw, stream, t, visitor, url)
        elif kind == 3:
            stream.add(draw(st.sampled_from(("heartbeat", "page_leave"))), t, visitor, url=url)
        elif kind == 4:
            stream.add("cart_update", t, visitor, value=draw(st.sampled_from(("0", "35.00", "9"))))
        elif kind == 5:
            _order(draw, stream, t, visitor)
        elif kind == 6:
            stream.add("widget_impression", t, visitor, url=url)
        elif kind == 7:
            stream.add("widget_click", t, visitor, url=url,
                       source=draw(maybe(st.sampled_from(("widget", "notification")))))
        elif kind == 8:
            stream.add("auto_message", t, visitor, trigger=draw(st.sampled_from(TRIGGERS)),
                       link=draw(maybe(st.sampled_from(LINKS))), url=url)
        elif kind == 9:
            stream.add("auto_message_click", t, visitor, trigger=draw(st.sampled_from(TRIGGERS)),
                       link=draw(maybe(st.sampled_from(LINKS))))
        elif kind == 10:
            stream.add("identify", t, visitor, customer=f"c-{visitor}")
        elif kind >= 13:
            stream.add("holdout", t, visitor, trigger=draw(st.sampled_from(TRIGGERS)), url=url)
        else:
            stream.add("page_view", t, visitor, url=url)
        t += draw(delays)


@st.composite
def event_streams(
    draw: st.DrawFn,
    scale: RatingScale | None = None,
    anchor: datetime | None = None,
    min_size: int = 1,
) -> list[Event]:
    """A conflict-free list of typed events (unique ids), in generation order."""
    scale = scale if scale is not None else draw(st.sampled_from(SCALES))
    anchor = anchor if anchor is not None else draw(st.sampled_from(ANCHORS))
    stream = _Stream(scale)
    for rid in draw(st.lists(st.sampled_from(REQUEST_IDS), unique=True, max_size=6)):
        _request_story(draw, stream, anchor, rid)
    for visitor in draw(st.lists(st.sampled_from(VISITORS), max_size=6)):
        _visit(draw, stream, anchor, visitor)
    for _ in range(draw(st.integers(0, 3))):
        stream.add("agent_status", _moment(draw, anchor), None, agent=draw(st.sampled_from(AGENTS)),
                   status=draw(st.sampled_from(("online", "away", "offline"))))
    while len(stream.events) < min_size:
        _visit(draw, stream, anchor, draw(st.sampled_from(VISITORS)))
    return stream.events


@st.composite
def shuffled_with_duplicates(draw: st.DrawFn, events: list[Event]) -> list[Event]:
    """The same events in another order, some delivered more than once (equal copies)."""
    out = list(draw(st.permutations(events)))
    if events:
        for index in draw(st.lists(st.integers(0, len(events) - 1), max_size=len(events))):
            out.insert(draw(st.integers(0, len(out))), attrs.evolve(events[index]))
    return out


@dataclass
class Scenario:
    """A stream plus the report parameters to ask about it."""

    events: list[Event]
    scale: RatingScale
    tz: str
    as_of: datetime
    start: datetime | date | None = None
    end: datetime | date | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def report_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for both ``reference_report`` and ``Tracker.report``."""
        kwargs: dict[str, Any] = {
            "start": self.start, "end": self.end, "tz": self.tz, "as_of": self.as_of,
            "rating_scale": self.scale, **self.params,
        }
        kwargs.update(overrides)
        return kwargs


def _bound(draw: st.DrawFn, anchor: datetime, tz: str) -> datetime | date | None:
    kind = draw(st.sampled_from(("none", "none", "instant", "date")))
    if kind == "none":
        return None
    moment = anchor + timedelta(minutes=draw(st.integers(-120, SPAN_MINUTES + 120)))
    if kind == "date":
        return moment.astimezone(ZoneInfo(tz)).date()
    return moment


def _sort_key(bound: datetime | date, tz: str) -> datetime:
    if isinstance(bound, datetime):
        return bound
    return datetime.combine(bound, datetime.min.time(), tzinfo=ZoneInfo(tz))


@st.composite
def scenarios(draw: st.DrawFn, ranged: bool = True, vary_params: bool = True) -> Scenario:
    """A stream, a zone, an as_of (newest event, random, or on a timeout edge) and a range."""
    scale = draw(st.sampled_from(SCALES))
    anchor = draw(st.sampled_from(ANCHORS))
    events = draw(event_streams(scale=scale, anchor=anchor))
    tz = draw(st.sampled_from(ZONES))
    params: dict[str, Any] = {}
    if vary_params:
        params = {
            "attribution_window": draw(st.sampled_from(
                (timedelta(days=7), timedelta(hours=1), timedelta(minutes=30), timedelta(0)))),
            "response_timeout": draw(st.sampled_from(
                (timedelta(minutes=10), timedelta(minutes=1), timedelta(hours=1)))),
            "fcr_window": draw(st.sampled_from((timedelta(hours=24), timedelta(hours=1)))),
            "session_timeout": draw(st.sampled_from((timedelta(minutes=30), timedelta(minutes=5)))),
            "cost": draw(st.sampled_from((None, Decimal("100"), Decimal("7.5")))),
        }
    timeout = params.get("response_timeout", timedelta(minutes=10))
    how = draw(st.sampled_from(("newest", "random", "edge")))
    requests = [e for e in events if e.type == "request"]
    if how == "edge" and requests:
        created = draw(st.sampled_from(requests)).ts
        as_of = created + timeout - draw(st.sampled_from((timedelta(0), timedelta(microseconds=1))))
    elif how == "random":
        as_of = anchor + timedelta(minutes=draw(st.integers(0, SPAN_MINUTES + 60)))
    else:
        as_of = max(e.ts for e in events)
    start = end = None
    if ranged:
        start, end = _bound(draw, anchor, tz), _bound(draw, anchor, tz)
        if start is not None and end is not None and _sort_key(start, tz) > _sort_key(end, tz):
            start, end = end, start
    return Scenario(events, scale, tz, as_of, start, end, params)
