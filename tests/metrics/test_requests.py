"""The ``requests`` and ``acceptance`` families: counts, outcomes, top urls and acceptance rates."""

from __future__ import annotations

from tests.metrics.scenes import Scene, at


def _scene() -> Scene:
    return (Scene()
            # r1: answered visitor request on /a (a conversation)
            .add("request", 0, "v1", request="r1", channel="text", initiator="visitor", url="/a")
            .add("message", 1, "v1", request="r1", sender="agent", agent="a1")
            # r2: unanswered offline visitor video request on /b
            .add("request", 5, "v2", request="r2", channel="video", initiator="visitor", url="/b", offline=True)
            # r3: agent request the visitor answered (no url anywhere)
            .add("request", 10, "v3", request="r3", channel="text", initiator="agent", agent="a1")
            .add("message", 11, "v3", request="r3", sender="visitor")
            # r4: auto invitation on /a nobody answered
            .add("request", 20, "v1", request="r4", channel="text", initiator="auto", trigger="t1", url="/a"))


class TestRequests:
    """Requests by channel and initiator, how they ended, and the urls they came from."""

    def test_decided(self) -> None:
        """A day later every request is decided: two became no conversation, one was offline."""
        figures = _scene().report().requests
        assert (4, 3, 1, 0, 1) == (figures.total, figures.text, figures.video, figures.pending, figures.offline)
        assert {"visitor": 2, "agent": 1, "auto": 1} == dict(figures.by_initiator)
        assert {"visitor": 1, "agent": 1, "auto": 1} == dict(figures.breakdown["text"])
        assert (2, 1) == (figures.unsuccessful, figures.unanswered_from_visitors)
        assert [("/a", 2), ("/b", 1)] == [(row.url, row.requests) for row in figures.top_urls]

    def test_pending(self) -> None:
        """Five minutes after the auto invitation it is pending, so not (yet) unsuccessful."""
        figures = _scene().report(as_of=at(25)).requests
        assert (1, 1) == (figures.pending, figures.unsuccessful)

    def test_a_repeated_request_event_is_pending_once(self) -> None:
        """Two request events of one request at one instant make one pending request, not two."""
        scene = (Scene()
                 .add("request", 0, "v1", request="r1", channel="text", initiator="visitor", offline=True)
                 .add("request", 0, "v1", request="r1", channel="text", initiator="agent", agent="a0"))
        figures = scene.report(as_of=at(5)).requests
        assert (1, 1, 0, 0) == (figures.total, figures.pending, figures.unsuccessful,
                                figures.unanswered_from_visitors)
        assert scene.report(as_of=at(5)).acceptance.visitor_request_rate is None


class TestAcceptance:
    """Accepted / decided per initiator; pending requests are in neither."""

    def test_rates(self) -> None:
        """Visitors: one of two answered; agents: one of one; auto: none of one."""
        figures = _scene().report().acceptance
        assert (0.5, 1.0, 0.0) == (
            figures.visitor_request_rate, figures.agent_initiated_rate, figures.auto_invitation_rate)

    def test_pending_leaves_no_denominator(self) -> None:
        """With the only auto invitation pending, its rate has no denominator."""
        assert None is _scene().report(as_of=at(25)).acceptance.auto_invitation_rate
