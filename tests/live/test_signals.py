"""Signals: lingering, revisiting, stuck_on_checkout, cart_at_risk and waiting."""

from __future__ import annotations

import re

import pytest

from tests.live.helpers import Feed, at
from whoson.live import LiveConfig, LiveView, Signal, format_duration


def signals(feed: Feed, seconds: float, only: str | None = None) -> list[tuple[str, str]]:
    row = feed.view.online(at(seconds)).rows[0]
    return [(s.name, s.reason) for s in row.signals if only is None or s.name == only]


class TestLingering:
    """lingering: on one page for at least the threshold (120 s unless configured)."""

    def test_turns_on_at_the_threshold(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/pricing")
        feed("heartbeat", 100)
        expected = []
        assert expected == signals(feed, 119.999)
        expected = [("lingering", "on /pricing for 2m00s")]
        assert expected == signals(feed, 120)
        expected = [("lingering", "on /pricing for 3m05s")]
        assert expected == signals(feed, 185)

    def test_per_url_override_first_match_wins(self) -> None:
        config = LiveConfig(lingering_by_url=((re.compile("^/pricing"), 30), ("/pri*", 300)))
        feed = Feed(LiveView(config))
        feed("page_view", 0, url="/pricing")
        feed("page_view", 0, visitor="v2", url="/prices")
        feed("heartbeat", 150, visitor="v2")
        row = feed.view.online(at(30), url="/pricing").rows[0]
        expected = [("lingering", "on /pricing for 30s")]
        assert expected == [(s.name, s.reason) for s in row.signals]
        row = feed.view.online(at(200), url="/prices").rows[0]
        expected = ()
        assert expected == row.signals  # 200 s: over the default 120 s, under the /pri* 300 s

    def test_a_closed_page_does_not_linger_on(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/pricing")
        feed("page_leave", 60, url="/pricing")
        expected = []
        assert expected == signals(feed, 170)


class TestRevisiting:
    """revisiting: the current url opened at least 3 times in this session."""

    def test_third_visit(self) -> None:
        feed = Feed()
        for seconds, url in [(0, "/size-guide"), (5, "/boots"), (10, "/size-guide"),
                             (15, "/boots"), (20, "/size-guide")]:
            feed("page_view", seconds, url=url)
        expected = [("revisiting", "opened /size-guide 3 times this visit")]
        assert expected == signals(feed, 25)

    def test_counts_restart_with_a_new_session(self) -> None:
        feed = Feed()
        for seconds in (0, 5, 10):
            feed("page_view", seconds, url="/faq")
        feed("page_view", 2000, url="/faq")
        expected = []
        assert expected == signals(feed, 2001)


class TestStuckOnCheckout:
    """stuck_on_checkout: on a checkout/cart page for 90 s, or revisiting it."""

    def test_time_on_a_checkout_page(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="https://shop.example/checkout/payment")
        expected = []
        assert expected == signals(feed, 89)
        expected = [("stuck_on_checkout",
                 "on checkout page https://shop.example/checkout/payment for 1m30s")]
        assert expected == signals(feed, 90)

    def test_revisiting_the_cart(self) -> None:
        feed = Feed()
        for seconds, url in [(0, "/cart"), (5, "/"), (10, "/cart"), (15, "/"), (20, "/cart")]:
            feed("page_view", seconds, url=url)
        expected = [("revisiting", "opened /cart 3 times this visit"),
                ("stuck_on_checkout", "opened checkout page /cart 3 times this visit")]
        assert expected == signals(feed, 25)

    def test_patterns_are_configuration(self) -> None:
        feed = Feed(LiveView(LiveConfig(checkout_urls=("/basket*",), stuck_on_checkout=10)))
        feed("page_view", 0, url="/basket")
        feed("page_view", 0, visitor="v2", url="/checkout")
        rows = feed.view.online(at(50), signal="stuck_on_checkout").rows
        expected = ["v1"]
        assert expected == [r.visitor for r in rows]


class TestCartAtRisk:
    """cart_at_risk: a non-empty cart after 10 minutes on site with no order this visit."""

    def feed(self) -> Feed:
        feed = Feed()
        feed("page_view", 0, url="/")
        feed("cart_update", 30, value="42.00")
        feed("heartbeat", 590)
        return feed

    def test_after_ten_minutes(self) -> None:
        feed = self.feed()
        expected = []
        assert expected == signals(feed, 599, "cart_at_risk")
        expected = [("cart_at_risk", "42.00 in cart after 10m00s on site, no order")]
        assert expected == signals(feed, 600, "cart_at_risk")

    def test_not_with_an_order_this_visit(self) -> None:
        feed = self.feed()
        feed("order", 400, order="A1", subtotal="42.00")
        expected = []
        assert expected == signals(feed, 650, "cart_at_risk")

    def test_not_with_an_emptied_cart(self) -> None:
        feed = self.feed()
        feed("cart_update", 500, value="0")
        expected = []
        assert expected == signals(feed, 650, "cart_at_risk")


class TestWaiting:
    """waiting: a request of the visitor is in the waiting queue, with its wait."""

    def test_wait_seconds(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/help")
        feed("request", 10, request="r1", channel="text", initiator="visitor")
        row = feed.view.online(at(55)).rows[0]
        assert (Signal("waiting", "waiting 45s for an agent", 45.0),) == row.signals

    def test_answered_is_not_waiting(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/help")
        feed("request", 10, request="r1", channel="text", initiator="visitor")
        feed("message", 20, request="r1", sender="agent", agent="ann")
        expected = []
        assert expected == signals(feed, 55)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (59.99, "59s"), (60, "1m00s"), (185, "3m05s"), (3599, "59m59s"),
     (3600, "1h00m"), (7325, "2h02m"), (-3, "0s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    """Durations in reasons read as 45s, 3m05s or 1h02m."""
    assert text == format_duration(seconds)
