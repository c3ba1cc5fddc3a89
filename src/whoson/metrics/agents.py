"""The agent leaderboard: per agent ratings, initiated requests, conversations, sales."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from whoson.metrics.derive import mean_of, minutes, seconds
from whoson.metrics.ledger import View
from whoson.metrics.params import ratio
from whoson.metrics.tally import Tally

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


def _n(tally: Tally, name: str, agent: str) -> int:
    return int(tally.number((name, agent)))


def _initiated(tally: Tally, agent: str) -> tuple[int, float | None]:
    initiated = _n(tally, "a_init", agent)
    decided = initiated - _n(tally, "a_pend", agent)
    accepted = _n(tally, "a_init_other", agent) - _n(tally, "a_pend_other", agent)
    return initiated, ratio(accepted, decided)


def _rating(tally: Tally, agent: str) -> float | None:
    return mean_of(_n(tally, "a_rating_sum", agent), _n(tally, "a_rating_n", agent))


def _agent(agent: str, view: View) -> AgentFigures:
    total = view.total
    initiated, acceptance = _initiated(total, agent)
    conversations = _n(total, "a_conv", agent)
    daily = []
    for day in view.dates:
        tally = view.on(day)
        day_initiated, day_acceptance = _initiated(tally, agent)
        daily.append(AgentDay(
            date=day,
            avg_rating=_rating(tally, agent),
            initiated_requests=day_initiated,
            initiated_acceptance_rate=day_acceptance,
            conversations=_n(tally, "a_conv", agent),
        ))
    return AgentFigures(
        agent=agent,
        avg_rating=_rating(total, agent),
        initiated_requests=initiated,
        initiated_acceptance_rate=acceptance,
        conversations=conversations,
        attributed_sales=total.money(("a_att_sales", agent)),
        attributed_orders=_n(total, "a_att_orders", agent),
        first_response_avg=seconds(_n(total, "a_fr_sum", agent), _n(total, "a_fr_n", agent)),
        avg_handle_minutes=minutes(_n(total, "a_handle", agent), conversations),
        daily=tuple(daily),
    )


def agent_figures(view: View) -> tuple[AgentFigures, ...]:
    """The ``agents`` section, sorted by conversations (most first) then agent id.

    Listed: every agent named by an in-range event or credited with a figure.
    """
    rows = [_agent(str(agent), view) for agent in view.total.multiset("agents")]
    rows.sort(key=lambda row: (-row.conversations, row.agent))
    return tuple(rows)
