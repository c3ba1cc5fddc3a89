"""The ``support`` family: first response, transfers, escalations, FCR, carts and cost per contact."""

from __future__ import annotations

from decimal import Decimal

from tests.metrics.scenes import Scene


def _scene() -> Scene:
    return (Scene()
            .add("request", 0, "v1", request="r1", channel="text", initiator="visitor")
            .add("message", 0.5, "v1", request="r1", sender="agent", agent="a1")
            .add("transfer", 1, "v1", request="r1", from_agent="a1", to_agent="a2", escalation=True)
            .add("request_end", 3, "v1", request="r1", resolved=True)
            .add("request", 10, "v2", request="r2", channel="text", initiator="visitor")
            .add("message", 11, "v2", request="r2", sender="agent", agent="a2")
            .add("request_end", 12, "v2", request="r2", resolved=True)
            .add("request", 20, "v3", request="r3", channel="text", initiator="visitor")
            .add("message", 22, "v3", request="r3", sender="agent", agent="a1")
            .add("cart_update", 0.2, "v1", value="10.00")
            .add("cart_update", 30, "v4", value="20.00")
            .add("order", 35, "v4", order="o1", subtotal="20.00"))


class TestSupport:
    """Each support figure of a small hand-checked scene."""

    def test_first_response(self) -> None:
        """Answers after 30, 60 and 120 seconds: 70 on average, 60 in the middle."""
        first = _scene().report().support.first_response
        assert (70.0, 60.0) == (first.avg, first.median)

    def test_transfers_and_resolution(self) -> None:
        """One escalating transfer in three conversations; of two resolved, the transferred one is not FCR."""
        figures = _scene().report().support
        assert (1, 1) == (figures.transfers, figures.escalations)
        assert 1 / 3 == figures.escalation_rate
        assert 0.5 == figures.first_contact_resolution_rate

    def test_carts_and_cost(self) -> None:
        """Of two sessions with a cart, one ended without an order; 90 over three conversations is 30 each."""
        figures = _scene().report(cost="90").support
        assert 0.5 == figures.cart_abandonment_rate
        assert Decimal("30") == figures.cost_per_contact
