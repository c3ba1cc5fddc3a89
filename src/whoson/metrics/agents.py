"""The agent leaderboard: per agent ratings, initiated requests, conversations, sales."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import attrs

from whoson.core.models import Conversation, Request, Survey
from whoson.metrics.conversations import avg_handle_minutes
from whoson.metrics.params import mean
from whoson.metrics.ratings import average_rating
from whoson.metrics.requests import acceptance_rate
from whoson.metrics.sales import total_value
from whoson.metrics.scope import Attribution, Scope

__all__ = ["AgentDay", "AgentFigures", "agent_figures"]


@attrs.frozen
class AgentDay:
    """One local date of an agent's ``daily`` trend."""

    date: date
    avg_rating: float | None
    initiated_requests: int
    initiated_acceptance_rate: float | None
    conversations: int


@attrs.frozen
class AgentFigures:
    """One row of the ``agents`` leaderboard."""

    agent: str
    avg_rating: float | None
    initiated_requests: int
    initiated_acceptance_rate: float | None
    conversations: int
    attributed_sales: Decimal
    attributed_orders: int
    first_response_avg: float | None
    avg_handle_minutes: float | None
    daily: tuple[AgentDay, ...]


class _Credit:
    """What one agent is credited with in range."""

    def __init__(self) -> None:
        self.surveys: list[Survey] = []
        self.initiated: list[Request] = []
        self.conversations: list[Conversation] = []
        self.attributions: list[Attribution] = []
        self.first_responses: list[float] = []


def _credits(scope: Scope) -> dict[str, _Credit]:
    credits: dict[str, _Credit] = defaultdict(_Credit)
    params = scope.params
    for agent, times in scope.projection.agent_mentions.items():
        if any(params.in_range(ts) for ts in times.irange(params.start, params.end, (True, False))):
            credits[agent]  # named by an in-range event: listed even with no figure
    for survey in scope.surveys:
        if survey.agent is not None:
            credits[survey.agent].surveys.append(survey)
    for request in scope.requests:
        if request.initiator == "agent" and request.creator_agent is not None:
            credits[request.creator_agent].initiated.append(request)
        if (
            request.initiator == "visitor"
            and request.first_agent is not None
            and request.first_agent_response is not None
        ):
            seconds = (request.first_agent_response - request.created).total_seconds()
            credits[request.first_agent].first_responses.append(seconds)
    for conversation in scope.conversations:
        for agent in conversation.agents:
            credits[agent].conversations.append(conversation)
    for attribution in scope.attributions.values():
        if attribution.agent is not None:
            credits[attribution.agent].attributions.append(attribution)
    return credits


def agent_figures(scope: Scope) -> tuple[AgentFigures, ...]:
    """The ``agents`` section, sorted by conversations (most first) then agent id."""
    rows = []
    day = scope.local_date
    for agent, credit in _credits(scope).items():
        surveys_by_day: dict[date, list[Survey]] = defaultdict(list)
        for survey in credit.surveys:
            surveys_by_day[day(survey.ts)].append(survey)
        initiated_by_day: dict[date, list[Request]] = defaultdict(list)
        for request in credit.initiated:
            initiated_by_day[day(request.created)].append(request)
        conversations_by_day: dict[date, int] = defaultdict(int)
        for conversation in credit.conversations:
            conversations_by_day[day(conversation.created)] += 1
        rows.append(
            AgentFigures(
                agent=agent,
                avg_rating=average_rating(credit.surveys),
                initiated_requests=len(credit.initiated),
                initiated_acceptance_rate=acceptance_rate(scope, credit.initiated),
                conversations=len(credit.conversations),
                attributed_sales=total_value(a.order for a in credit.attributions),
                attributed_orders=len(credit.attributions),
                first_response_avg=mean(credit.first_responses),
                avg_handle_minutes=avg_handle_minutes(credit.conversations),
                daily=tuple(
                    AgentDay(
                        date=d,
                        avg_rating=average_rating(surveys_by_day[d]),
                        initiated_requests=len(initiated_by_day[d]),
                        initiated_acceptance_rate=acceptance_rate(scope, initiated_by_day[d]),
                        conversations=conversations_by_day[d],
                    )
                    for d in scope.dates
                ),
            )
        )
    rows.sort(key=lambda row: (-row.conversations, row.agent))
    return tuple(rows)
