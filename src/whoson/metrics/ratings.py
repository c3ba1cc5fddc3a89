"""Rating figures: average, distribution, CSAT, NPS (0..10 scales) and feedback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from whoson.core.events import RatingScale
from whoson.core.models import Survey
from whoson.metrics.params import mean, ratio
from whoson.metrics.scope import Scope

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


def average_rating(surveys: Iterable[Survey]) -> float | None:
    """Mean rating over the surveys that carry one."""
    return mean([s.rating for s in surveys if s.rating is not None])


def _nps(ratings: list[int], scale: RatingScale) -> float | None:
    if (scale.low, scale.high) != (0, 10) or not ratings:
        return None
    promoters = sum(1 for r in ratings if r >= 9)
    detractors = sum(1 for r in ratings if r <= 6)
    return (promoters - detractors) / len(ratings) * 100


def rating_figures(scope: Scope) -> RatingFigures:
    """The ``ratings`` section of the report."""
    scale = scope.params.rating_scale
    ratings = [s.rating for s in scope.surveys if s.rating is not None]
    counts = Counter(ratings)
    top_two = {scale.high, scale.high - 1}
    with_content = [s for s in scope.surveys if s.rating is not None or s.feedback]
    with_content.sort(key=lambda s: (s.ts, s.event_id), reverse=True)
    return RatingFigures(
        count=len(ratings),
        avg=mean(ratings),
        distribution=MappingProxyType({str(v): counts[v] for v in scale.values}),
        csat=ratio(sum(1 for r in ratings if r in top_two), len(ratings)),
        nps=_nps(ratings, scale),
        feedback=tuple(Feedback(s.ts, s.visitor, s.agent, s.rating, s.feedback) for s in with_content),
    )
