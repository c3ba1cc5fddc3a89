"""Daily and hourly trends in the reporting time zone (DST days are still one day)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import attrs

from whoson.core.models import Request, Survey
from whoson.metrics.params import ratio
from whoson.metrics.ratings import average_rating
from whoson.metrics.requests import acceptance_rate
from whoson.metrics.scope import Scope

__all__ = ["DailyRow", "HourlyRow", "Trends", "trends"]


@attrs.frozen
class DailyRow:
    """One local date of ``trends.daily``."""

    date: date
    visitors: int
    widget_ctr: float | None
    requests: int
    text_requests: int
    video_requests: int
    visitor_request_acceptance_rate: float | None
    conversations: int
    video_conversations: int
    avg_rating: float | None
    attributed_gmv: Decimal


@attrs.frozen
class HourlyRow:
    """One local hour of day of ``trends.hourly``."""

    hour: int
    text_requests: int
    video_requests: int


@attrs.frozen
class Trends:
    """``trends`` section."""

    daily: tuple[DailyRow, ...]
    hourly: tuple[HourlyRow, ...]


def trends(scope: Scope) -> Trends:
    """The ``trends`` section: one row per local date and per hour of day."""
    day = scope.local_date
    visitors: dict[date, set[str]] = defaultdict(set)
    for visitor, times in scope.visitors_with_events().items():
        for ts in times:
            visitors[day(ts)].add(visitor)
    params = scope.params
    seen: dict[date, set[str]] = defaultdict(set)
    clicked: dict[date, set[str]] = defaultdict(set)
    for ts, visitor in scope.projection.impressions:
        if params.in_range(ts):
            seen[day(ts)].add(visitor)
    for ts, visitor in scope.projection.clicks:
        if params.in_range(ts):
            clicked[day(ts)].add(visitor)
    requests: dict[date, list[Request]] = defaultdict(list)
    for request in scope.requests:
        requests[day(request.created)].append(request)
    conversations: dict[date, list[str]] = defaultdict(list)
    for conversation in scope.conversations:
        conversations[day(conversation.created)].append(conversation.channel)
    surveys: dict[date, list[Survey]] = defaultdict(list)
    for survey in scope.surveys:
        surveys[day(survey.ts)].append(survey)
    gmv: dict[date, list[Decimal]] = defaultdict(list)
    for attribution in scope.attributions.values():
        gmv[day(attribution.order.ts)].append(attribution.order.value)
    daily = tuple(
        DailyRow(
            date=d,
            visitors=len(visitors[d]),
            widget_ctr=ratio(len(clicked[d]), len(seen[d])),
            requests=len(requests[d]),
            text_requests=sum(1 for r in requests[d] if r.channel == "text"),
            video_requests=sum(1 for r in requests[d] if r.channel == "video"),
            visitor_request_acceptance_rate=acceptance_rate(
                scope, (r for r in requests[d] if r.initiator == "visitor")
            ),
            conversations=len(conversations[d]),
            video_conversations=conversations[d].count("video"),
            avg_rating=average_rating(surveys[d]),
            attributed_gmv=sum(gmv[d], Decimal(0)),
        )
        for d in scope.dates
    )
    hours: dict[tuple[int, str], int] = defaultdict(int)
    for request in scope.requests:
        hours[scope.local_hour(request.created), request.channel] += 1
    hourly = tuple(HourlyRow(h, hours[h, "text"], hours[h, "video"]) for h in range(24))
    return Trends(daily=daily, hourly=hourly)
