"""The ``visitors`` family: who came, sessions, returning visitors, widget CTR."""

from __future__ import annotations

from tests.metrics.scenes import Scene
from whoson.metrics.tally import Tally
from whoson.metrics.visitors import CLICKED, SEEN, widget_into


class TestWidget:
    """Widget impressions and clicks count visitors; a click implies an impression."""

    def test_ctr(self) -> None:
        """One impression, one click, one page view: three visitors, two saw, one clicked."""
        report = (Scene()
                  .add("widget_impression", 0, "v1")
                  .add("widget_click", 1, "v2")
                  .add("page_view", 2, "v3", url="/")
                  .report())
        figures = report.visitors
        assert (3, 2, 1, 0.5) == (figures.total, figures.with_impression, figures.with_click, figures.widget_ctr)

    def test_nobody_saw_the_widget(self) -> None:
        """Without impressions the CTR has no denominator."""
        assert None is Scene().add("page_view", 0, "v1", url="/").report().visitors.widget_ctr

    def test_click_contribution(self) -> None:
        """A click puts its visitor among those who saw and those who clicked; an impression only the first."""
        click, impression = Scene().add("widget_click", 0, "v1").add("widget_impression", 1, "v2").parsed()
        tally = Tally()
        widget_into(tally, click, "v1")
        widget_into(tally, impression, "v2")
        assert ({"v1", "v2"}, {"v1"}) == (set(tally.members(SEEN)), set(tally.members(CLICKED)))


class TestSessions:
    """A gap over the session timeout starts a new session; later sessions are returning."""

    def test_sessions_and_returning(self) -> None:
        """v1 comes back after 50 minutes (two sessions, one returning); v2 comes once."""
        report = (Scene()
                  .add("page_view", 0, "v1", url="/")
                  .add("page_view", 10, "v1", url="/a")
                  .add("page_view", 60, "v1", url="/")
                  .add("page_view", 5, "v2", url="/")
                  .report())
        figures = report.visitors
        assert (2, 3, 1) == (figures.total, figures.sessions, figures.returning)
