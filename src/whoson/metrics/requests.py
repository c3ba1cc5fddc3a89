"""The ``requests`` and ``acceptance`` families: request counts, outcomes, top urls, acceptance rates.

Everything about these figures is here: the tally keys (declared once), what
a request adds to them (and what a still pending one takes off), and how the
sections are read. Pending is decided at report time (it depends on
``as_of``): :func:`pending_into` is the adjustment the range view adds.

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "request", "ts": "2026-03-02T09:00:00Z", "visitor": "v1",
...      "request": "r1", "channel": "text", "initiator": "visitor", "url": "/help"},
...     {"id": "2", "type": "message", "ts": "2026-03-02T09:01:00Z", "visitor": "v1",
...      "request": "r1", "sender": "agent", "agent": "a1"},
... ])
>>> report = tracker.report()
>>> report.requests.total, report.requests.top_urls[0].url, report.acceptance.visitor_request_rate
(1, '/help', 1.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from whoson.core.models import Request
from whoson.metrics.derive import CHANNELS, INITIATORS
from whoson.metrics.params import ratio
from whoson.metrics.tally import Kind, Tally, declare

__all__ = [
    "NOT_CONVERSATION",
    "OFFLINE",
    "OTHER_SIDE",
    "PENDING",
    "PENDING_OTHER",
    "REQUESTS",
    "URLS",
    "AcceptanceFigures",
    "RequestFigures",
    "UrlRequests",
    "acceptance",
    "acceptance_figures",
    "accepted",
    "channel_requests",
    "decided",
    "pending_into",
    "request_figures",
    "request_into",
    "requests_by",
]

TOP = 10

REQUESTS = declare("req", Kind.COUNT, ("channel", "initiator"), hourly=True,
               doc="requests created in range (also kept per local hour for the hourly trend)")
OFFLINE = declare("offline", Kind.COUNT, doc="requests sent while no agent was online")
OTHER_SIDE = declare("other", Kind.COUNT, ("initiator",), doc="requests the other side responded to")
NOT_CONVERSATION = declare("not_conv", Kind.COUNT, ("initiator",), doc="requests that became no conversation")
PENDING = declare("pend", Kind.COUNT, ("initiator",), doc="requests still pending at as_of (report time)")
PENDING_OTHER = declare("pend_other", Kind.COUNT, ("initiator",),
                    doc="pending requests the other side responded to (report time)")
URLS = declare("urls", Kind.BAG, doc="url -> requests on it (the request's url, else the latest page view)")

# ------------------------------------------------------------------ contributions


def request_into(tally: Tally, request: Request, url: str | None, responded: bool, conversation: bool) -> None:
    """A request created in the tally's slot, on ``url``; ``responded``: the other side did."""
    initiator = request.initiator
    tally.count((REQUESTS, request.channel, initiator))
    if request.offline:
        tally.count((OFFLINE,))
    if url is not None:
        tally.put(URLS, url)
    if responded:
        tally.count((OTHER_SIDE, initiator))
    if not conversation:
        tally.count((NOT_CONVERSATION, initiator))


def pending_into(tally: Tally, request: Request, responded: bool) -> None:
    """What a request still pending at ``as_of`` takes off (added at report time)."""
    tally.count((PENDING, request.initiator))
    if responded:
        tally.count((PENDING_OTHER, request.initiator))


# ------------------------------------------------------------------ figures


def requests_by(tally: Tally, initiator: str) -> int:
    """Requests of one initiator, both channels."""
    return int(sum(tally.number((REQUESTS, channel, initiator)) for channel in CHANNELS))


def channel_requests(tally: Tally, channel: str) -> int:
    """Requests on one channel, every initiator."""
    return int(sum(tally.number((REQUESTS, channel, i)) for i in INITIATORS))


def decided(tally: Tally, initiator: str) -> int:
    """Requests of one initiator that are not pending."""
    return requests_by(tally, initiator) - int(tally.number((PENDING, initiator)))


def accepted(tally: Tally, initiator: str) -> int:
    """Decided requests of one initiator whose other side responded."""
    return int(tally.number((OTHER_SIDE, initiator))) - int(tally.number((PENDING_OTHER, initiator)))


def acceptance(tally: Tally, initiator: str) -> float | None:
    """Accepted / decided for one initiator."""
    return ratio(accepted(tally, initiator), decided(tally, initiator))


@attrs.frozen
class UrlRequests:
    """One row of ``top_urls``."""

    url: str
    requests: int


@attrs.frozen
class RequestFigures:
    """``requests`` section: how many, by channel and initiator, and how they ended."""

    total: int
    text: int
    video: int
    by_initiator: Mapping[str, int]
    breakdown: Mapping[str, Mapping[str, int]]
    unsuccessful: int
    unanswered_from_visitors: int
    pending: int
    offline: int
    top_urls: tuple[UrlRequests, ...]


def request_figures(tally: Tally) -> RequestFigures:
    """The ``requests`` section from the range's tally."""
    breakdown = {
        channel: MappingProxyType(
            {initiator: int(tally.number((REQUESTS, channel, initiator))) for initiator in INITIATORS}
        )
        for channel in CHANNELS
    }
    by_initiator = {initiator: requests_by(tally, initiator) for initiator in INITIATORS}
    pending = {initiator: int(tally.number((PENDING, initiator))) for initiator in INITIATORS}
    not_conversation = {i: int(tally.number((NOT_CONVERSATION, i))) for i in INITIATORS}
    urls = sorted(tally.multiset(URLS).items(), key=lambda item: (-item[1], str(item[0])))
    return RequestFigures(
        total=sum(by_initiator.values()),
        text=sum(breakdown["text"].values()),
        video=sum(breakdown["video"].values()),
        by_initiator=MappingProxyType(by_initiator),
        breakdown=MappingProxyType(breakdown),
        unsuccessful=sum(not_conversation.values()) - sum(pending.values()),
        unanswered_from_visitors=not_conversation["visitor"] - pending["visitor"],
        pending=sum(pending.values()),
        offline=int(tally.number((OFFLINE,))),
        top_urls=tuple(UrlRequests(str(url), n) for url, n in urls[:TOP]),
    )


@attrs.frozen
class AcceptanceFigures:
    """``acceptance`` section: the share of decided requests the other side took up."""

    agent_initiated_rate: float | None
    visitor_request_rate: float | None
    auto_invitation_rate: float | None


def acceptance_figures(tally: Tally) -> AcceptanceFigures:
    """The ``acceptance`` section: for agent and visitor requests "the other side
    responded" is exactly "became a conversation"; for auto invitations it is
    the visitor's response."""
    return AcceptanceFigures(
        agent_initiated_rate=acceptance(tally, "agent"),
        visitor_request_rate=acceptance(tally, "visitor"),
        auto_invitation_rate=acceptance(tally, "auto"),
    )
