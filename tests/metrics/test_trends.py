"""The ``trends`` family: one row per local date, one per local hour of day."""

from __future__ import annotations

from datetime import date

from tests.metrics.scenes import Scene, at


def _scene() -> Scene:
    return (Scene()
            .add("page_view", 0, "v1", url="/")
            .add("request", 1, "v1", request="r1", channel="text", initiator="visitor")
            .add("request", 24 * 60 + 60, "v2", request="r2", channel="video", initiator="visitor"))


class TestTrends:
    """Daily and hourly rows read the families' figures from one date's or hour's tally."""

    def test_daily(self) -> None:
        """A text request on the first day, a video request on the next."""
        daily = _scene().report(as_of=at(3 * 24 * 60)).trends.daily
        assert [(date(2026, 3, 2), 1, 1, 0), (date(2026, 3, 3), 1, 0, 1)] == [
            (row.date, row.visitors, row.text_requests, row.video_requests) for row in daily
        ]

    def test_hourly_in_zone(self) -> None:
        """09:01 and 10:00 UTC are 04:01 and 05:00 in New York (EST)."""
        hourly = _scene().report(as_of=at(3 * 24 * 60), tz="America/New_York").trends.hourly
        assert [(4, 1, 0), (5, 0, 1)] == [
            (row.hour, row.text_requests, row.video_requests) for row in hourly
            if row.text_requests or row.video_requests
        ]
