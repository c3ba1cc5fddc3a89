"""The ``ratings`` family: average, distribution, CSAT, NPS and the feedback list."""

from __future__ import annotations

from tests.metrics.scenes import Scene
from whoson.core.settings import RatingScale


class TestRatings:
    """Rated surveys count; written feedback is listed newest first, rated or not."""

    def test_five_point_scale(self) -> None:
        """Ratings 5, 4 and 2 and one text-only survey, on 1..5: CSAT counts 4 and 5, no NPS."""
        ratings = (Scene()
                   .add("survey", 0, "v1", rating=5)
                   .add("survey", 1, "v2", rating=4)
                   .add("survey", 2, "v3", rating=2, feedback="slow")
                   .add("survey", 3, "v4", feedback="no rating")
                   .report(rating_scale=RatingScale(1, 5))).ratings
        assert (3, 11 / 3, 2 / 3, None) == (ratings.count, ratings.avg, ratings.csat, ratings.nps)
        assert {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1} == dict(ratings.distribution)
        assert ["v4", "v3", "v2", "v1"] == [entry.visitor for entry in ratings.feedback]

    def test_nps(self) -> None:
        """On 0..10, two promoters and one detractor among four ratings give an NPS of 25."""
        ratings = (Scene()
                   .add("survey", 0, "v1", rating=10)
                   .add("survey", 1, "v2", rating=9)
                   .add("survey", 2, "v3", rating=7)
                   .add("survey", 3, "v4", rating=3)
                   .report(rating_scale=RatingScale(0, 10))).ratings
        assert 25.0 == ratings.nps
