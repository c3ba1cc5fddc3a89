"""The ``auto_messages`` family: shown, clicked, and the most clicked triggers and links."""

from __future__ import annotations

from tests.metrics.scenes import Scene


class TestAutoMessages:
    """Clicks are counted per trigger and per (trigger, link), most clicked first."""

    def test_tops(self) -> None:
        """Three shown, three clicked: t1 twice (once on a link), t2 once on a link."""
        auto = (Scene()
                .add("auto_message", 0, "v1", trigger="t1")
                .add("auto_message_click", 1, "v1", trigger="t1", link="/sale")
                .add("auto_message", 5, "v2", trigger="t1")
                .add("auto_message", 6, "v1", trigger="t2")
                .add("auto_message_click", 7, "v2", trigger="t1")
                .add("auto_message_click", 8, "v1", trigger="t2", link="/faq")
                .report()).auto_messages
        assert (3, 3) == (auto.shown, auto.clicks)
        assert [("t1", 2), ("t2", 1)] == [(row.trigger, row.clicks) for row in auto.top_triggers]
        assert [("t1", "/sale", 1), ("t2", "/faq", 1)] == [(r.trigger, r.link, r.clicks) for r in auto.top_links]
