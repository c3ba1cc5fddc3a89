"""The live view: presence, ordering, pagination, filters and late events."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.live.helpers import Feed, at
from whoson.live import LiveConfig, LiveView


def online_ids(feed: Feed, seconds: float, **filters: object) -> list[str]:
    return [row.visitor for row in feed.view.online(at(seconds), **filters).rows]  # type: ignore[arg-type]


class TestPresence:
    """A visitor is online while their last activity is within the presence timeout."""

    def test_online_until_the_timeout_inclusive(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/")
        feed("heartbeat", 30)
        expected = ["v1"]
        assert expected == online_ids(feed, 150)
        expected = []
        assert expected == online_ids(feed, 150.000001)

    def test_any_event_of_the_visitor_counts_as_activity(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/")
        feed("cart_update", 100, value="10")
        expected = ["v1"]
        assert expected == online_ids(feed, 219)

    def test_events_of_rules_and_agents_are_not_the_visitors_activity(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/")
        feed("request", 10, request="r1", channel="text", initiator="visitor")
        feed("auto_message", 100, trigger="hello")
        feed("message", 110, request="r1", sender="agent", agent="ann")
        feed("request_end", 120, request="r1", reason="missed")
        online, gone = ["v1"], []
        assert online == online_ids(feed, 130)
        assert gone == online_ids(feed, 131)
        feed("message", 140, request="r1", sender="visitor")  # the visitor's own: back again
        assert online == online_ids(feed, 260)

    def test_a_leave_not_followed_by_a_page_view_means_gone_after_the_timeout(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/help")
        feed("page_leave", 10, url="/help")
        feed("heartbeat", 60, url="/help")  # activity after the leave does not bring them back
        expected = ["v1"]
        assert expected == online_ids(feed, 130)
        expected = []
        assert expected == online_ids(feed, 131)

    def test_a_page_view_after_a_leave_keeps_the_visitor(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/a")
        feed("page_leave", 10, url="/a")
        feed("page_view", 11, url="/b")
        expected = ["v1"]
        assert expected == online_ids(feed, 131)

    def test_a_leave_of_another_page_closes_nothing(self) -> None:
        feed = Feed()
        feed("page_view", 0, url="/a")
        feed("page_view", 5, url="/b")
        feed("page_leave", 6, url="/a")  # late beacon of the page navigated away from
        feed("heartbeat", 100)
        row = feed.view.online(at(200)).rows[0]
        expected = 195.0
        assert expected == row.on_page_seconds
        assert feed.view.is_present("v1", at(220))

    def test_presence_timeout_is_configuration(self) -> None:
        feed = Feed(LiveView(LiveConfig(presence_timeout=30)))
        feed("page_view", 0, url="/")
        expected = ["v1"]
        assert expected == online_ids(feed, 30)
        expected = []
        assert expected == online_ids(feed, 31)

    def test_now_must_be_aware(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            LiveView().online(at(0).replace(tzinfo=None))


class TestOrderAndPages:
    """Rows come newest activity first, paginated, with the total of all matches."""

    def setup_feed(self) -> Feed:
        feed = Feed()
        for number, seconds in enumerate([5, 1, 9, 3, 7]):
            feed("page_view", seconds, visitor=f"v{number}", url=f"/p{number}")
        return feed

    def test_sorted_by_last_activity_newest_first(self) -> None:
        expected = ["v2", "v4", "v0", "v3", "v1"]
        assert expected == online_ids(self.setup_feed(), 60)

    def test_limit_and_offset(self) -> None:
        feed = self.setup_feed()
        page = feed.view.online(at(60), limit=2, offset=1)
        expected = (["v4", "v0"], 5)
        assert expected == ([r.visitor for r in page.rows], page.total)
        page = feed.view.online(at(60), limit=2, offset=4)
        expected = (["v1"], 5)
        assert expected == ([r.visitor for r in page.rows], page.total)
        expected = []
        assert expected == list(feed.view.online(at(60), offset=9).rows)

    def test_total_counts_only_present_visitors(self) -> None:
        feed = self.setup_feed()
        expected = 2
        assert expected == feed.view.online(at(126)).total  # 126 - 120 = 6: v2 (9), v4 (7)

    def test_present_iterates_newest_first(self) -> None:
        expected = ["v2", "v4", "v0"]
        assert expected == list(self.setup_feed().view.present(at(124)))

    def test_negative_paging_is_refused(self) -> None:
        with pytest.raises(ValueError, match=">= 0"):
            LiveView().online(at(0), limit=-1)


class TestFilters:
    """Filters on url, country, chat and signal; total counts the matches."""

    def setup_feed(self) -> Feed:
        feed = Feed()
        feed("page_view", 0, visitor="a", url="/pricing", country="DE")
        feed("page_view", 1, visitor="b", url="/checkout", country="FR")
        feed("page_view", 2, visitor="c", url="/pricing/team", country="de")
        feed("request", 3, visitor="c", request="r1", channel="text", initiator="visitor")
        return feed

    def test_url_glob(self) -> None:
        expected = ["c", "a"]
        assert expected == online_ids(self.setup_feed(), 10, url="/pricing*")

    def test_url_regex(self) -> None:
        expected = ["a"]
        assert expected == online_ids(self.setup_feed(), 10, url=re.compile(r"^/pricing$"))

    def test_country_is_case_insensitive(self) -> None:
        expected = ["c", "a"]
        assert expected == online_ids(self.setup_feed(), 10, country="DE")

    def test_in_chat(self) -> None:
        feed = self.setup_feed()
        expected = ["c"]
        assert expected == online_ids(feed, 10, in_chat=True)
        expected = ["b", "a"]
        assert expected == online_ids(feed, 10, in_chat=False)

    def test_signal(self) -> None:
        feed = self.setup_feed()
        expected = ["b"]
        assert expected == online_ids(feed, 95, signal="stuck_on_checkout")
        expected = ["c"]
        assert expected == online_ids(feed, 95, signal="waiting")

    def test_filtered_pages(self) -> None:
        page = self.setup_feed().view.online(at(10), url="*", limit=1, offset=1)
        expected = (["b"], 3)
        assert expected == ([r.visitor for r in page.rows], page.total)


class TestLateEvents:
    """Late and out-of-order events give the state of the events in time order."""

    def events(self) -> list:
        feed = Feed(LiveView())
        make = feed.make
        return [
            make("page_view", 0, url="/", referrer="https://search.example/", country="NL"),
            make("page_view", 20, url="/shoes"),
            make("cart_update", 30, value="59.90"),
            make("page_view", 40, url="/cart"),
            make("request", 45, request="r1", channel="text", initiator="visitor"),
            make("message", 50, request="r1", sender="agent", agent="ann"),
            make("page_view", 60, url="/shoes"),
            make("identify", 61, customer="c7", name="Kim"),
        ]

    def test_any_arrival_order_gives_the_same_rows(self) -> None:
        events = self.events()
        in_order = LiveView()
        for event in events:
            in_order.apply(event)
        shuffled = LiveView()
        for event in [events[5], events[7], events[0], events[3], events[1], events[6],
                      events[4], events[2]]:
            shuffled.apply(event)
        assert in_order.online(at(90)) == shuffled.online(at(90))
        assert in_order.visitor("v1", at(90)) == shuffled.visitor("v1", at(90))

    def test_reapplying_an_event_is_a_no_op(self) -> None:
        events = self.events()
        once, twice = LiveView(), LiveView()
        for event in events:
            once.apply(event)
            twice.apply(event)
        twice.apply(events[2])
        assert once.online(at(90)) == twice.online(at(90))
        expected = 4
        assert expected == twice.online(at(90)).rows[0].pages_viewed


class TestAgents:
    """Agents online come from their latest agent_status at or before now."""

    def test_latest_status_wins(self) -> None:
        feed = Feed()
        feed("agent_status", 0, visitor=None, agent="ann", status="online")
        feed("agent_status", 0, visitor=None, agent="bob", status="online")
        feed("agent_status", 50, visitor=None, agent="ann", status="away")
        feed("agent_status", 10, visitor=None, agent="cat", status="online")  # late
        expected = ["ann", "bob", "cat"]
        assert expected == feed.view.agents_online(at(20))
        expected = ["bob", "cat"]
        assert expected == feed.view.agents_online(at(60))
        expected = []
        assert expected == feed.view.agents_online(at(-1))

    def test_agents_are_not_visitors(self) -> None:
        feed = Feed()
        feed("agent_status", 0, visitor=None, agent="ann", status="online")
        expected = (0, 0)
        assert expected == (len(feed.view), feed.view.online(at(1)).total)


def test_timedelta_config_accepts_seconds() -> None:
    """Durations in the config may be given as numbers of seconds."""
    assert timedelta(seconds=45) == LiveConfig(stuck_on_checkout=45).stuck_on_checkout
