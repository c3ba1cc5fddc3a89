"""The waiting queue and the expected wait."""

from __future__ import annotations

from tests.live.helpers import Feed, at
from whoson.live import LiveConfig, LiveView


def queue(feed: Feed, seconds: float) -> list[tuple[str, str, float]]:
    return [(w.request, w.visitor, w.wait_seconds) for w in feed.view.waiting(at(seconds))]


class TestWaiting:
    """waiting() lists unanswered, unended visitor requests, oldest first."""

    def test_oldest_first_with_wait_seconds(self) -> None:
        feed = Feed()
        for visitor, seconds in [("a", 0), ("b", 0), ("c", 0)]:
            feed("page_view", seconds, visitor=visitor, url="/help")
        feed("request", 30, visitor="b", request="rb", channel="text", initiator="visitor")
        feed("request", 10, visitor="a", request="ra", channel="video", initiator="visitor",
             department="sales")
        feed("request", 20, visitor="c", request="rc", channel="text", initiator="visitor")
        expected = [("ra", "a", 50.0), ("rc", "c", 40.0), ("rb", "b", 30.0)]
        assert expected == queue(feed, 60)
        first = feed.view.waiting(at(60))[0]
        expected = ("video", "visitor", "/help", "sales")
        assert expected == (first.channel, first.initiator,
                                                          first.url, first.department)

    def test_answered_ended_and_offline_requests_leave_the_queue(self) -> None:
        feed = Feed()
        for visitor in "abcd":
            feed("page_view", 0, visitor=visitor, url="/")
            feed("request", 5, visitor=visitor, request=f"r{visitor}", channel="text",
                 initiator="visitor", offline=visitor == "d")
        feed("message", 10, visitor="a", request="ra", sender="agent", agent="ann")
        feed("call_joined", 10, visitor="b", request="rb", participant="agent", agent="ann")
        feed("request_end", 10, visitor="c", request="rc", reason="cancelled")
        expected = []
        assert expected == queue(feed, 20)

    def test_a_visitor_still_waiting_after_long_stays_while_online(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/")
        feed("request", 5, request="r1", channel="text", initiator="visitor")
        for seconds in range(100, 1300, 100):
            feed("heartbeat", seconds)
        expected = [("r1", "v1", 1295.0)]
        assert expected == queue(feed, 1300)
        expected = []
        assert expected == queue(feed, 1200 + 121)  # gone: nobody waits any more

    def test_an_accepted_invitation_waits_from_the_acceptance(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/")
        feed("request", 5, request="r1", channel="text", initiator="auto", trigger="t")
        expected = []
        assert expected == queue(feed, 10)
        feed("message", 12, request="r1", sender="visitor")
        expected = [("r1", "v1", 8.0)]
        assert expected == queue(feed, 20)

    def test_an_agent_invitation_never_waits(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/")
        feed("request", 5, request="r1", channel="text", initiator="agent", agent="ann")
        feed("message", 12, request="r1", sender="visitor")
        expected = []
        assert expected == queue(feed, 20)


class TestExpectedWait:
    """expected_wait = median(recent first responses) * (1 + waiting / agents online)."""

    def answered(self, feed: Feed, visitor: str, created: float, answered: float) -> None:
        feed("page_view", created, visitor=visitor, url="/")
        feed("request", created, visitor=visitor, request=f"r-{visitor}", channel="text",
             initiator="visitor")
        feed("message", answered, visitor=visitor, request=f"r-{visitor}", sender="agent",
             agent="ann")

    def feed(self) -> Feed:
        feed = Feed()
        feed("agent_status", 0, visitor=None, agent="ann", status="online")
        feed("agent_status", 0, visitor=None, agent="bob", status="online")
        self.answered(feed, "a", 100, 120)  # 20 s
        self.answered(feed, "b", 200, 260)  # 60 s
        self.answered(feed, "c", 300, 330)  # 30 s
        return feed

    def test_median_when_nobody_waits(self) -> None:
        expected = 30.0
        assert expected == self.feed().view.expected_wait(at(400))

    def test_stretched_by_the_queue_per_agent(self) -> None:
        feed = self.feed()
        for visitor in ("x", "y", "z"):
            feed("page_view", 390, visitor=visitor, url="/")
            feed("request", 395, visitor=visitor, request=f"r-{visitor}", channel="text",
                 initiator="visitor")
        expected = 30.0 * (1 + 3 / 2)
        assert expected == feed.view.expected_wait(at(400))

    def test_none_without_agents_online(self) -> None:
        feed = self.feed()
        feed("agent_status", 350, visitor=None, agent="ann", status="away")
        feed("agent_status", 350, visitor=None, agent="bob", status="offline")
        assert feed.view.expected_wait(at(400)) is None

    def test_none_without_recent_answers(self) -> None:
        assert self.feed().view.expected_wait(at(330 + 3601)) is None
        assert Feed().view.expected_wait(at(0)) is None

    def test_window_and_sample_count_are_configuration(self) -> None:
        feed = Feed(LiveView(LiveConfig(expected_wait_window=200, expected_wait_samples=2)))
        feed("agent_status", 0, visitor=None, agent="ann", status="online")
        for visitor, created, answered in [("a", 0, 100), ("b", 10, 20), ("c", 30, 70),
                                           ("d", 100, 150)]:
            self.answered(feed, visitor, created, answered)
        # Window (150-200, 150]: b (20), c (70), a (100), d (150); the last two: a and d.
        expected = (100.0 + 50.0) / 2
        assert expected == feed.view.expected_wait(at(150))
        # Window (0, 220] minus ... at 300 the window (100, 300] keeps d only.
        expected = 50.0
        assert expected == feed.view.expected_wait(at(300))

    def test_first_response_ignores_visitor_messages(self) -> None:
        feed = Feed()
        feed("agent_status", 0, visitor=None, agent="ann", status="online")
        feed("page_view", 0, url="/")
        feed("request", 10, request="r1", channel="text", initiator="visitor")
        feed("message", 15, request="r1", sender="visitor")
        feed("message", 50, request="r1", sender="agent", agent="ann")
        expected = 40.0
        assert expected == feed.view.expected_wait(at(60))
