"""The ``agents`` family: the leaderboard's per-agent figures and who is listed."""

from __future__ import annotations

from decimal import Decimal

from tests.metrics.scenes import Scene
from whoson.metrics.agents import AgentFigures


def _rows() -> dict[str, AgentFigures]:
    report = (Scene()
              .add("request", 0, "v1", request="r1", channel="text", initiator="agent", agent="a1")
              .add("message", 2, "v1", request="r1", sender="visitor")
              .add("agent_status", 5, None, agent="a3", status="online")
              .add("request", 10, "v2", request="r2", channel="text", initiator="visitor")
              .add("message", 11, "v2", request="r2", sender="agent", agent="a2")
              .add("survey", 20, "v2", request="r2", rating=4)
              .add("order", 30, "v1", order="o1", subtotal="40.00")
              .report())
    return {row.agent: row for row in report.agents}


class TestAgents:
    """Each agent is credited with what its requests, conversations, ratings and orders add."""

    def test_listed_in_order(self) -> None:
        """Most conversations first, ties by id; an agent only named by agent_status is listed too."""
        assert ["a1", "a2", "a3"] == list(_rows())

    def test_initiator(self) -> None:
        """a1 created r1, which the visitor answered, and sold the order after it."""
        a1 = _rows()["a1"]
        assert (1, 1.0, 1) == (a1.initiated_requests, a1.initiated_acceptance_rate, a1.conversations)
        assert (1, Decimal("40.00")) == (a1.attributed_orders, a1.attributed_sales)

    def test_answerer(self) -> None:
        """a2 answered r2 after a minute and its survey rated 4 credits a2."""
        a2 = _rows()["a2"]
        assert (0, None, 60.0, 4.0) == (
            a2.initiated_requests, a2.initiated_acceptance_rate, a2.first_response_avg, a2.avg_rating)
