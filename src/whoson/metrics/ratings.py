"""The ``ratings`` family: average, distribution, CSAT, NPS (0..10 scales) and feedback.

The tally keys (declared once), what a survey adds to them and how the
section is read are all here (a rating's agent: :mod:`whoson.metrics.agents`).

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "survey", "ts": "2026-03-02T09:00:00Z", "visitor": "v1", "rating": 5},
...     {"id": "2", "type": "survey", "ts": "2026-03-02T09:05:00Z", "visitor": "v2", "rating": 3},
... ])
>>> ratings = tracker.report().ratings
>>> ratings.count, ratings.avg, ratings.csat
(2, 4.0, 0.5)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from whoson.core.models import Survey
from whoson.core.settings import RatingScale
from whoson.metrics.derive import mean_of
from whoson.metrics.params import ratio
from whoson.metrics.tally import Kind, Tally, declare

__all__ = ["FEEDBACK", "RATINGS", "Feedback", "RatingFigures", "average_rating", "rating_figures", "survey_into"]

RATINGS = declare("rating", Kind.COUNT, ("value",), doc="in-range surveys with each rating value")
FEEDBACK = declare("feedback", Kind.BAG,
               doc="(ts, event id, visitor, agent, rating, text) of in-range surveys with a rating or text")

# ------------------------------------------------------------------ contributions


def survey_into(tally: Tally, survey: Survey) -> None:
    """A survey in the tally's slot: its rating, and its entry in ``feedback``."""
    if survey.rating is not None:
        tally.count((RATINGS, survey.rating))
    if survey.rating is not None or survey.feedback:
        entry = (survey.ts, survey.event_id, survey.visitor, survey.agent, survey.rating, survey.feedback)
        tally.put(FEEDBACK, entry)


# ------------------------------------------------------------------ figures


@attrs.frozen
class Feedback:
    """One survey with a rating or written feedback."""

    ts: datetime
    visitor: str
    agent: str | None
    rating: int | None
    feedback: str | None


@attrs.frozen
class RatingFigures:
    """``ratings`` section."""

    count: int
    avg: float | None
    distribution: Mapping[str, int]
    csat: float | None
    nps: float | None
    feedback: tuple[Feedback, ...]


def _counts(tally: Tally, scale: RatingScale) -> dict[int, int]:
    return {value: int(tally.number((RATINGS, value))) for value in scale.values}


def average_rating(tally: Tally, scale: RatingScale) -> float | None:
    """Mean rating of the tally's surveys."""
    counts = _counts(tally, scale)
    return mean_of(sum(v * n for v, n in counts.items()), sum(counts.values()))


def _nps(counts: dict[int, int], scale: RatingScale) -> float | None:
    total = sum(counts.values())
    if (scale.low, scale.high) != (0, 10) or not total:
        return None
    promoters = sum(n for v, n in counts.items() if v >= 9)
    detractors = sum(n for v, n in counts.items() if v <= 6)
    return (promoters - detractors) / total * 100


def _feedback(tally: Tally) -> tuple[Feedback, ...]:
    entries = sorted(
        (entry for entry in tally.multiset(FEEDBACK) if isinstance(entry, tuple)),
        key=lambda entry: (entry[0], entry[1]),
        reverse=True,
    )
    return tuple(Feedback(ts, visitor, agent, rating, text)
                 for ts, _, visitor, agent, rating, text in entries)


def rating_figures(tally: Tally, scale: RatingScale) -> RatingFigures:
    """The ``ratings`` section from the range's tally."""
    counts = _counts(tally, scale)
    total = sum(counts.values())
    return RatingFigures(
        count=total,
        avg=average_rating(tally, scale),
        distribution=MappingProxyType({str(v): n for v, n in counts.items()}),
        csat=ratio(counts[scale.high] + counts[scale.high - 1], total),
        nps=_nps(counts, scale),
        feedback=_feedback(tally),
    )
