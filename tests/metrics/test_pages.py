"""The ``pages`` family: views, viewers, requests, conversations and chat rate per url."""

from __future__ import annotations

from tests.metrics.scenes import Scene


class TestPages:
    """Each viewed url is a row; requests on it count by the request's url."""

    def test_rows(self) -> None:
        """/a: three views by two visitors, one of whom chatted there; /b: one view, no request."""
        pages = (Scene()
                 .add("page_view", 0, "v1", url="/a")
                 .add("page_view", 1, "v1", url="/a")
                 .add("page_view", 2, "v2", url="/a")
                 .add("page_view", 3, "v2", url="/b")
                 .add("request", 4, "v2", request="r1", channel="text", initiator="visitor", url="/a")
                 .add("message", 5, "v2", request="r1", sender="agent", agent="a1")
                 .report()).pages
        assert [("/a", 3, 2, 1, 1, 0.5), ("/b", 1, 1, 0, 0, 0.0)] == [
            (p.url, p.page_views, p.visitors, p.requests, p.conversations, p.chat_rate) for p in pages
        ]
