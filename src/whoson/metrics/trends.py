"""The ``trends`` family: daily and hourly rows in the reporting time zone (DST days are still one day).

Trends have no tally keys of their own: each row reads the families' figures
from one local date's (or hour's) tally, with the families' own functions.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from whoson.core.settings import RatingScale
from whoson.metrics.conversations import conversation_count
from whoson.metrics.ratings import average_rating
from whoson.metrics.requests import acceptance, channel_requests
from whoson.metrics.sales import ATTRIBUTED_GMV
from whoson.metrics.tally import Tally
from whoson.metrics.visitors import VISITORS, widget_ctr

if TYPE_CHECKING:
    from whoson.metrics.ledger import View

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


def _daily_row(day: date, tally: Tally, scale: RatingScale) -> DailyRow:
    text = channel_requests(tally, "text")
    video = channel_requests(tally, "video")
    return DailyRow(
        date=day,
        visitors=tally.distinct(VISITORS),
        widget_ctr=widget_ctr(tally),
        requests=text + video,
        text_requests=text,
        video_requests=video,
        visitor_request_acceptance_rate=acceptance(tally, "visitor"),
        conversations=conversation_count(tally),
        video_conversations=conversation_count(tally, ("video",)),
        avg_rating=average_rating(tally, scale),
        attributed_gmv=tally.money((ATTRIBUTED_GMV,)),
    )


def trends(view: View, scale: RatingScale) -> Trends:
    """The ``trends`` section: one row per local date and per hour of day."""
    daily = tuple(_daily_row(day, view.on(day), scale) for day in view.dates)
    hourly = tuple(
        HourlyRow(
            hour,
            channel_requests(view.at_hour(hour), "text"),
            channel_requests(view.at_hour(hour), "video"),
        )
        for hour in range(24)
    )
    return Trends(daily=daily, hourly=hourly)
