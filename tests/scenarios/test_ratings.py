"""Hand-derived scenarios for the ``ratings`` section.

Reading: a ``feedback`` entry of a survey without a rating has ``rating``
null, and one without text has ``feedback`` null; ``agent`` is null when
neither the survey nor its request names one.
Reading: ``submitted`` does not matter for ratings or for the feedback list
(a closed-out survey with a rating or text is listed too).
"""

from __future__ import annotations

import pytest

from tests.scenarios.helpers import Events, close, report, tracker
from whoson import RatingScale, WhosonError

AS_OF = "2026-03-03T00:00:00Z"


def surveys_1_to_5() -> list[dict[str, object]]:
    """Six surveys on the default 1..5 scale, with and without rating or text."""
    ev = Events()
    return [
        # r1 answered by a1 (its last responding agent).
        ev.request("v1", "2026-03-02T09:00:00Z", "r1"),
        ev.agent_msg("v1", "2026-03-02T09:01:00Z", "r1", "a1"),
        ev.survey("v6", "2026-03-02T10:05:00Z", rating=5, submitted=True),
        ev.survey("v1", "2026-03-02T10:10:00Z", request="r1", rating=5, submitted=True,
                  feedback="Great"),  # agent from the request: a1
        # closed out with a rating: counts; its own agent a2 wins over r1's a1.
        ev.survey("v1", "2026-03-02T10:20:00Z", request="r1", agent="a2", rating=4,
                  submitted=False),
        ev.survey("v3", "2026-03-02T10:30:00Z", rating=2, submitted=True, feedback="slow"),
        ev.survey("v4", "2026-03-02T10:40:00Z", submitted=True, feedback="no stars"),  # text only
        ev.survey("v5", "2026-03-02T10:50:00Z", submitted=False),  # nothing: nowhere
    ]


class TestRatingsOneToFive:
    """Count, mean, distribution, CSAT and the feedback list on 1..5."""

    def test_figures(self) -> None:
        """Ratings 5, 5, 4, 2: mean 4, CSAT 3/4, no NPS on 1..5."""
        r = report(surveys_1_to_5(), as_of=AS_OF)["ratings"]
        expected = {
            "count": 4,  # 5, 5, 4 (closed out), 2; text-only and empty surveys have no rating
            "avg": 4.0,  # (5 + 5 + 4 + 2) / 4 = 16 / 4
            "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 2},
            "csat": 0.75,  # top two values 4, 5: three of four ratings
            "nps": None,  # the scale is not 0..10
        }
        assert expected == {key: r[key] for key in expected}

    def test_feedback_newest_first(self) -> None:
        """Surveys with a rating or text, newest first; the empty survey is left out."""
        r = report(surveys_1_to_5(), as_of=AS_OF)["ratings"]
        expected = [
            {"ts": "2026-03-02T10:40:00Z", "visitor": "v4", "agent": None, "rating": None,
             "feedback": "no stars"},
            {"ts": "2026-03-02T10:30:00Z", "visitor": "v3", "agent": None, "rating": 2,
             "feedback": "slow"},
            {"ts": "2026-03-02T10:20:00Z", "visitor": "v1", "agent": "a2", "rating": 4,
             "feedback": None},
            {"ts": "2026-03-02T10:10:00Z", "visitor": "v1", "agent": "a1", "rating": 5,
             "feedback": "Great"},
            {"ts": "2026-03-02T10:05:00Z", "visitor": "v6", "agent": None, "rating": 5,
             "feedback": None},
        ]
        assert expected == r["feedback"]

    def test_no_ratings(self) -> None:
        """Only a text survey: count 0, zero distribution, null averages and shares."""
        ev = Events()
        r = report([ev.survey("v1", "2026-03-02T10:00:00Z", feedback="hello")],
                   as_of=AS_OF)["ratings"]
        expected = {
            "count": 0,
            "avg": None,
            "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
            "csat": None,
            "nps": None,
        }
        assert expected == {key: r[key] for key in expected}
        expected = 1
        assert expected == len(r["feedback"])  # the text survey is still listed


class TestNps:
    """NPS and CSAT on a 0..10 scale."""

    def test_nps_on_zero_to_ten(self) -> None:
        """Ratings 10 10 9 9 9 8 7 6 2 0: NPS (5 - 3) / 10 * 100 = 20."""
        ev = Events()
        ratings = [10, 10, 9, 9, 9, 8, 7, 6, 2, 0]
        events = [ev.survey(f"v{i}", f"2026-03-02T10:{i:02d}:00Z", rating=rating, submitted=True)
                  for i, rating in enumerate(ratings)]
        r = report(events, as_of=AS_OF, tracker_kw={"rating_scale": RatingScale(0, 10)})["ratings"]
        distribution = {str(value): 0 for value in range(11)}
        distribution.update({"10": 2, "9": 3, "8": 1, "7": 1, "6": 1, "2": 1, "0": 1})
        expected = {
            "count": 10,
            "avg": 7.0,  # 70 / 10
            "distribution": distribution,  # all 11 keys "0".."10", zeros included
            "csat": 0.5,  # top two values 9 and 10: 5 of 10
            # promoters (9-10) 5/10, detractors (0-6: 6, 2, 0) 3/10 -> (0.5 - 0.3) * 100
            "nps": 20.0,
        }
        assert close(expected) == {key: r[key] for key in expected}

    def test_report_with_another_scale_than_the_store_is_an_error(self) -> None:
        """A 1..5 tracker asked for a 0..10 report refuses."""
        ev = Events()
        t = tracker([ev.survey("v1", "2026-03-02T10:00:00Z", rating=5)], as_of=AS_OF)
        with pytest.raises(WhosonError):
            t.report(rating_scale=RatingScale(0, 10))
