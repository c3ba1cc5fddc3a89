"""The ``conversations`` family: requests both sides responded to, and how long they lasted."""

from __future__ import annotations

from tests.metrics.scenes import Scene


class TestConversations:
    """Counts by channel and initiator, and the mean duration from engagement to the last activity."""

    def test_counts_and_duration(self) -> None:
        """A 3-minute video conversation and an agent request answered once (0 minutes): 1.5 on average."""
        report = (Scene()
                  .add("request", 0, "v1", request="r1", channel="video", initiator="visitor")
                  .add("message", 2, "v1", request="r1", sender="agent", agent="a1")
                  .add("message", 5, "v1", request="r1", sender="visitor")
                  .add("request", 10, "v2", request="r2", channel="text", initiator="agent", agent="a2")
                  .add("message", 14, "v2", request="r2", sender="visitor")
                  .add("request", 20, "v3", request="r3", channel="text", initiator="visitor")
                  .report())
        figures = report.conversations
        assert (2, 1, 1, 1.5) == (figures.total, figures.text, figures.video, figures.avg_duration_minutes)
        assert {"visitor": 1, "agent": 1, "auto": 0} == dict(figures.by_initiator)

    def test_none(self) -> None:
        """Without conversations there is no mean duration."""
        figures = Scene().add("page_view", 0, "v1", url="/").report().conversations
        assert (0, None) == (figures.total, figures.avg_duration_minutes)
