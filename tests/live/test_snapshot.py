"""Row snapshots and visitor details: every field of the live spec."""

from __future__ import annotations

from decimal import Decimal

from tests.live.helpers import T0, Feed, at
from whoson.live import LiveView, TrailStep

# Exactly the row fields of the live contract, in its order.
ROW_KEYS = [
    "visitor", "customer", "name", "url", "title", "on_page_seconds", "session_started",
    "on_site_seconds", "pages_viewed", "trail", "page_visits", "visits",
    "referrer", "device", "country", "cart_value", "orders", "lifetime_value", "chat",
    "signals", "invite_score",
]


def shop_visit() -> Feed:
    feed = Feed()
    feed("page_view", 0, url="/", title="Home", referrer="https://search.example/?q=boots",
         device="mobile", country="NL")
    feed("page_view", 20, url="/boots", title="Boots", device="desktop", country="DE")
    feed("page_view", 50, url="/", title="Home")
    feed("cart_update", 55, value="80.00")
    feed("cart_update", 58, value="59.90")
    feed("page_view", 65, url="/boots", title="Boots")
    return feed


class TestRow:
    """A row carries the current page, the session and the visitor's totals."""

    def test_current_page_and_session(self) -> None:
        row = shop_visit().view.online(at(100)).rows[0]
        expected = ("/boots", "Boots", 35.0)
        assert expected == (row.url, row.title, row.on_page_seconds)
        expected = (T0, 100.0, 4)
        assert expected == (row.session_started, row.on_site_seconds, row.pages_viewed)
        expected = 2
        assert expected == row.page_visits

    def test_trail_in_order_with_time_on_each_page(self) -> None:
        row = shop_visit().view.online(at(100)).rows[0]
        expected = (TrailStep("/", 20.0), TrailStep("/boots", 30.0), TrailStep("/", 15.0),
                    TrailStep("/boots", 35.0))
        assert expected == row.trail

    def test_referrer_device_country_from_the_first_page_view(self) -> None:
        row = shop_visit().view.online(at(100)).rows[0]
        expected = ("https://search.example/?q=boots", "mobile", "NL")
        assert expected == (row.referrer, row.device, row.country)

    def test_latest_cart_value(self) -> None:
        assert Decimal("59.90") == shop_visit().view.online(at(100)).rows[0].cart_value

    def test_a_leave_stops_the_page_clock(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/a")
        feed("page_leave", 40, url="/a")
        row = feed.view.online(at(100)).rows[0]
        expected = (40.0, 100.0)
        assert expected == (row.on_page_seconds, row.on_site_seconds)

    def test_visits_and_returning_by_inactivity_gap(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/")
        feed("page_view", 1799, url="/a")  # gap just under 30 minutes: same visit
        expected = (1, False)
        assert expected == self.visits(feed, 1800)
        feed("page_view", 1799 + 1800, url="/b")  # gap of exactly 30 minutes: a new visit
        expected = (2, True)
        assert expected == self.visits(feed, 3600)
        row = feed.view.online(at(3600)).rows[0]
        assert (1, ("/b",), at(3599)) == (row.pages_viewed, tuple(s.url for s in row.trail),
                                          row.session_started)

    def test_explicit_session_ids_win(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/", session="s1")
        feed("page_view", 10, url="/a", session="s2")  # new id: new session at once
        feed("page_view", 20, url="/b")
        expected = (2, True)
        assert expected == self.visits(feed, 30)
        expected = 2
        assert expected == feed.view.online(at(30)).rows[0].pages_viewed

    @staticmethod
    def visits(feed: Feed, seconds: float) -> tuple[int, bool]:
        row = feed.view.online(at(seconds)).rows[0]
        return row.visits, row.returning

    def test_identify_orders_and_lifetime_value(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/")
        feed("identify", 1, customer="c42", name="Kim Lee")
        feed("order", 2, order="A1", subtotal="100.00", discount="15.00", shipping="4.90")
        feed("order", 3, order="A1", subtotal="100.00", discount="15.00")  # same order again
        feed("order", 4, order="A2", subtotal="10.50")
        row = feed.view.online(at(10)).rows[0]
        expected = ("c42", "Kim Lee")
        assert expected == (row.customer, row.name)
        assert (2, Decimal("95.50")) == (row.orders, row.lifetime_value)

    def test_to_dict_has_exactly_the_spec_keys(self) -> None:
        feed = shop_visit()
        feed("request", 70, request="r1", channel="text", initiator="visitor")
        out = feed.view.online(at(100)).rows[0].to_dict()
        expected = ROW_KEYS
        assert expected == list(out)
        expected = "2026-03-02T12:00:00Z"
        assert expected == out["session_started"]
        expected = {"url": "/", "seconds": 20.0}
        assert expected == out["trail"][0]
        expected = [{"name": "waiting", "reason": "waiting 30s for an agent", "wait_seconds": 30.0}]
        assert expected == out["signals"]

    def test_a_session_without_page_view_has_no_page(self) -> None:
        feed = Feed()
        feed("identify", 0, customer="c1")
        row = feed.view.online(at(5)).rows[0]
        expected = (None, None, (), 0)
        assert expected == (row.url, row.on_page_seconds, row.trail, row.page_visits)


class TestChat:
    """chat is none, pending or in_conversation (with the agent) in the current session."""

    def feed(self) -> Feed:
        feed = Feed()
        feed("page_view", 0, url="/help")
        return feed

    @staticmethod
    def chat(feed: Feed, seconds: float) -> tuple[str, str | None]:
        row = feed.view.online(at(seconds)).rows[0]
        return row.chat, row.agent

    def test_visitor_request_is_pending_until_an_agent_responds(self) -> None:
        feed = self.feed()
        expected = ("none", None)
        assert expected == self.chat(feed, 5)
        feed("request", 10, request="r1", channel="text", initiator="visitor")
        expected = ("pending", None)
        assert expected == self.chat(feed, 15)
        feed("message", 20, request="r1", sender="agent", agent="ann")
        expected = ("in_conversation", "ann")
        assert expected == self.chat(feed, 25)
        feed("transfer", 30, request="r1", from_agent="ann", to_agent="bob")
        expected = ("in_conversation", "bob")
        assert expected == self.chat(feed, 35)
        feed("request_end", 40, request="r1", reason="closed")
        expected = ("none", None)
        assert expected == self.chat(feed, 45)

    def test_agent_invitation_is_pending_until_the_visitor_answers(self) -> None:
        feed = self.feed()
        feed("request", 10, request="r1", channel="video", initiator="agent", agent="ann")
        expected = ("pending", "ann")
        assert expected == self.chat(feed, 15)
        feed("call_joined", 20, request="r1", participant="visitor")
        expected = ("in_conversation", "ann")
        assert expected == self.chat(feed, 25)

    def test_auto_invitation_needs_both_sides(self) -> None:
        feed = self.feed()
        feed("request", 10, request="r1", channel="text", initiator="auto", trigger="t")
        feed("message", 20, request="r1", sender="visitor")
        expected = ("pending", None)
        assert expected == self.chat(feed, 25)
        feed("message", 30, request="r1", sender="agent", agent="ann")
        expected = ("in_conversation", "ann")
        assert expected == self.chat(feed, 35)

    def test_an_unended_request_of_an_earlier_session_does_not_count(self) -> None:
        feed = self.feed()
        feed("request", 10, request="r1", channel="text", initiator="visitor")
        feed("page_view", 4000, url="/")
        expected = ("none", None)
        assert expected == self.chat(feed, 4001)

    def test_messages_before_a_late_request_event(self) -> None:
        feed = self.feed()
        feed("message", 20, request="r1", sender="agent", agent="ann")
        feed("message", 25, request="r1", sender="visitor")
        expected = ("in_conversation", "ann")
        assert expected == self.chat(feed, 30)


class TestVisitorDetail:
    """visitor(id) gives the row plus past sessions, requests with ratings and orders."""

    def history(self) -> Feed:
        feed = Feed()
        feed("page_view", 0, url="/", referrer="https://ads.example/")
        feed("request", 10, request="r1", channel="text", initiator="visitor")
        feed("message", 40, request="r1", sender="agent", agent="ann")
        feed("request_end", 100, request="r1", reason="closed", resolved=True)
        feed("survey", 110, request="r1", agent="ann", rating=4, feedback="quick")
        feed("order", 200, order="A1", subtotal="30.00")
        feed("page_view", 5000, url="/boots")
        feed("request", 5010, request="r2", channel="video", initiator="visitor")
        feed("request_end", 5020, request="r2", reason="cancelled")
        return feed

    def test_history(self) -> None:
        detail = self.history().view.visitor("v1", at(5030))
        assert detail is not None
        # The request at 5010 is the visitor's last own activity; its end is not.
        assert (True, at(5010)) == (detail.online, detail.last_seen)
        assert [(1, 200.0, "/", 1, Decimal("30.00")), (2, 20.0, "/boots", 0, Decimal(0))] == [
            (s.number, s.seconds, s.landing, s.orders, s.order_value) for s in detail.sessions
        ]
        expected = [("r1", True, "ann", 4, "quick", True), ("r2", False, None, None, None, None)]
        assert expected == [
            (c.request, c.conversation, c.agent, c.rating, c.feedback, c.resolved)
            for c in detail.conversations
        ]
        assert [("A1", Decimal("30.00"))] == [(o.order, o.value) for o in detail.orders]

    def test_a_gone_visitor_is_shown_as_last_seen(self) -> None:
        detail = self.history().view.visitor("v1", at(9000))
        assert detail is not None
        expected = (False, "/boots", 10.0)  # frozen at the last activity, 5010
        assert expected == (detail.online, detail.snapshot.url,
                                           detail.snapshot.on_page_seconds)

    def test_unknown_visitor(self) -> None:
        assert LiveView().visitor("nobody", at(0)) is None

    def test_to_dict(self) -> None:
        detail = self.history().view.visitor("v1", at(5030))
        assert detail is not None
        out = detail.to_dict()
        expected = ["snapshot", "online", "last_seen", "sessions", "conversations", "orders"]
        assert expected == list(out)
        expected = ROW_KEYS
        assert expected == list(out["snapshot"])
        expected = "2026-03-02T12:00:10Z"
        assert expected == out["conversations"][0]["started"]
