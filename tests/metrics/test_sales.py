"""The ``sales`` family: last-touch attribution, GMV, AOV and conversion."""

from __future__ import annotations

from decimal import Decimal

from tests.metrics.scenes import Scene


def _scene() -> Scene:
    return (Scene()
            .add("request", 0, "v1", request="r1", channel="text", initiator="visitor")
            .add("message", 1, "v1", request="r1", sender="agent", agent="a1")
            .add("order", 30, "v1", order="o1", subtotal="50.00")
            .add("order", 40, "v2", order="o2", subtotal="30.00"))


class TestSales:
    """Orders after a conversation are attributed to it; every order counts in the totals."""

    def test_attributed(self) -> None:
        """v1 talked and bought 50 (attributed, text); v2 bought 30 without talking."""
        sales = _scene().report().sales
        assert (1, Decimal("50.00"), Decimal("50.00")) == (sales.attributed_orders, sales.attributed_gmv, sales.aov)
        assert {"text": Decimal("50.00"), "video": Decimal(0)} == dict(sales.attributed_gmv_by_channel)
        assert (2, Decimal("80.00"), Decimal("40.00")) == (sales.all_orders, sales.all_gmv, sales.all_aov)
        assert (1.0, Decimal("50.00")) == (sales.conversion_rate, sales.sales_per_conversation)

    def test_window(self) -> None:
        """With a 10-minute attribution window the order 29 minutes after engagement is not attributed."""
        sales = _scene().report(attribution_window="10m").sales
        assert (0, Decimal(0), 0.0) == (sales.attributed_orders, sales.attributed_gmv, sales.conversion_rate)
