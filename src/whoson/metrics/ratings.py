"""Rating figures: average, distribution, CSAT, NPS (0..10 scales) and feedback."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from whoson.core.settings import RatingScale
from whoson.metrics.derive import mean_of
from whoson.metrics.params import ratio
from whoson.metrics.tally import Tally

__all__ = ["Feedback", "RatingFigures", "average_rating", "rating_figures"]


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
    return {value: int(tally.number(("rating", value))) for value in scale.values}


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
        (entry for entry in tally.multiset("feedback") if isinstance(entry, tuple)),
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
