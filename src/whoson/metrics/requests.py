"""Request figures (counts, outcomes, top urls) and acceptance rates."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from whoson.metrics.derive import CHANNELS, INITIATORS, acceptance, requests_by
from whoson.metrics.tally import Tally

__all__ = [
    "AcceptanceFigures",
    "RequestFigures",
    "UrlRequests",
    "acceptance_figures",
    "request_figures",
]

TOP = 10


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
            {initiator: int(tally.number(("req", channel, initiator))) for initiator in INITIATORS}
        )
        for channel in CHANNELS
    }
    by_initiator = {initiator: requests_by(tally, initiator) for initiator in INITIATORS}
    pending = {initiator: int(tally.number(("pend", initiator))) for initiator in INITIATORS}
    not_conversation = {i: int(tally.number(("not_conv", i))) for i in INITIATORS}
    urls = sorted(tally.multiset("urls").items(), key=lambda item: (-item[1], str(item[0])))
    return RequestFigures(
        total=sum(by_initiator.values()),
        text=sum(breakdown["text"].values()),
        video=sum(breakdown["video"].values()),
        by_initiator=MappingProxyType(by_initiator),
        breakdown=MappingProxyType(breakdown),
        unsuccessful=sum(not_conversation.values()) - sum(pending.values()),
        unanswered_from_visitors=not_conversation["visitor"] - pending["visitor"],
        pending=sum(pending.values()),
        offline=int(tally.number(("offline",))),
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
