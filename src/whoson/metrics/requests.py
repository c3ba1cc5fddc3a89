"""Request figures (counts, outcomes, top urls) and acceptance rates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from whoson.core.models import Outcome, Request
from whoson.metrics.params import ratio
from whoson.metrics.scope import Scope

__all__ = [
    "AcceptanceFigures",
    "RequestFigures",
    "UrlRequests",
    "acceptance_figures",
    "acceptance_rate",
    "request_figures",
]

INITIATORS = ("visitor", "agent", "auto")
CHANNELS = ("text", "video")
TOP = 10


def by_initiator(requests: Iterable[Request]) -> Mapping[str, int]:
    """Counts per initiator, every initiator present."""
    counts = Counter(r.initiator for r in requests)
    return MappingProxyType({name: counts[name] for name in INITIATORS})


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


def _request_url(scope: Scope, request: Request) -> str | None:
    if request.url is not None:
        return request.url
    return scope.projection.latest_page_url(request.visitor, request.created)


def request_figures(scope: Scope) -> RequestFigures:
    """The ``requests`` section of the report."""
    requests = scope.requests
    outcomes = scope.outcomes
    unsuccessful = [r for r in requests if outcomes[r.id] is Outcome.UNSUCCESSFUL]
    urls = Counter(url for r in requests if (url := _request_url(scope, r)) is not None)
    top = sorted(urls.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return RequestFigures(
        total=len(requests),
        text=sum(1 for r in requests if r.channel == "text"),
        video=sum(1 for r in requests if r.channel == "video"),
        by_initiator=by_initiator(requests),
        breakdown=MappingProxyType(
            {ch: by_initiator(r for r in requests if r.channel == ch) for ch in CHANNELS}
        ),
        unsuccessful=len(unsuccessful),
        unanswered_from_visitors=sum(1 for r in unsuccessful if r.initiator == "visitor"),
        pending=sum(1 for r in requests if outcomes[r.id] is Outcome.PENDING),
        offline=sum(1 for r in requests if r.offline),
        top_urls=tuple(UrlRequests(url, n) for url, n in top),
    )


@attrs.frozen
class AcceptanceFigures:
    """``acceptance`` section: the share of decided requests the other side took up."""

    agent_initiated_rate: float | None
    visitor_request_rate: float | None
    auto_invitation_rate: float | None


def acceptance_rate(scope: Scope, requests: Iterable[Request]) -> float | None:
    """Share of the decided (not pending) ``requests`` the other side responded to.

    For agent and visitor requests that is exactly "became a conversation";
    for auto invitations it is the visitor's response.
    """
    decided = scope.not_pending(requests)
    return ratio(sum(1 for r in decided if r.other_side_responded), len(decided))


def acceptance_figures(scope: Scope) -> AcceptanceFigures:
    """The ``acceptance`` section of the report."""
    requests = scope.requests
    return AcceptanceFigures(
        agent_initiated_rate=acceptance_rate(scope, (r for r in requests if r.initiator == "agent")),
        visitor_request_rate=acceptance_rate(
            scope, (r for r in requests if r.initiator == "visitor")
        ),
        auto_invitation_rate=acceptance_rate(scope, (r for r in requests if r.initiator == "auto")),
    )
