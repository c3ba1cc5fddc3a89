"""Each rule condition, on facts taken from a live view."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.live.helpers import Feed, at
from whoson.live import VisitorFacts
from whoson.rules import (
    AgentsOnline,
    All,
    Any,
    CartValueAtLeast,
    CountryIn,
    CustomerKnown,
    DeviceIn,
    HasOrdered,
    HasSignal,
    Not,
    NotInChat,
    PagesViewedAtLeast,
    PageVisitsAtLeast,
    ReferrerMatches,
    Returning,
    TimeOnPage,
    TimeOnSite,
    UrlMatches,
    VisitedInOrder,
)


def facts(feed: Feed, seconds: float, visitor: str = "v1") -> VisitorFacts:
    found = feed.view.facts(visitor, at(seconds))
    assert found is not None
    return found


def shopper() -> Feed:
    feed = Feed()
    feed("page_view", 0, url="/", referrer="https://news.example/deals", device="Mobile",
         country="nl")
    feed("page_view", 10, url="/product/7")
    feed("page_view", 20, url="/")
    feed("page_view", 30, url="/cart")
    feed("cart_update", 35, value="49.95")
    return feed


class TestPageConditions:
    """url, time on page, time on site, pages viewed, page visits, visited in order."""

    def test_url_matches_glob_or_regex(self) -> None:
        f = facts(shopper(), 40)
        expected = [True, False, True, False]
        assert expected == [UrlMatches("*/cart*").holds(f), UrlMatches("/product*").holds(f),
                            UrlMatches(re.compile("ar")).holds(f),
                            UrlMatches(re.compile("^ar")).holds(f)]

    def test_time_on_page_and_its_due_instant(self) -> None:
        feed = shopper()
        condition = TimeOnPage(60)
        expected = (False, [at(90)])
        assert expected == (condition.holds(facts(feed, 89.999)),
                            list(condition.changes(facts(feed, 89.999))))
        expected = (True, [])
        f = facts(feed, 90)
        assert expected == (condition.holds(f), list(condition.changes(f)))

    def test_time_on_page_stops_at_a_leave(self) -> None:
        feed = shopper()
        feed("page_leave", 50, url="/cart")
        expected = (False, [])
        assert expected == (TimeOnPage(30).holds(facts(feed, 100)),
                            list(TimeOnPage(30).changes(facts(feed, 100))))
        assert TimeOnPage(20).holds(facts(feed, 100))

    def test_time_on_site(self) -> None:
        feed = shopper()
        expected = [False, True]
        assert expected == [TimeOnSite(300).holds(facts(feed, 299)),
                            TimeOnSite(300).holds(facts(feed, 300))]
        expected = [at(300)]
        assert expected == list(TimeOnSite(300).changes(facts(feed, 40)))

    def test_pages_viewed_and_page_visits(self) -> None:
        feed = shopper()
        feed("page_view", 40, url="/")
        f = facts(feed, 45)
        expected = [True, False, True, False]
        assert expected == [PagesViewedAtLeast(5).holds(f), PagesViewedAtLeast(6).holds(f),
                            PageVisitsAtLeast(3).holds(f), PageVisitsAtLeast(4).holds(f)]

    def test_visited_in_order_is_an_ordered_subsequence(self) -> None:
        f = facts(shopper(), 40)
        expected = [True, True, False, False]
        assert expected == [
            VisitedInOrder(("/product*", "/cart")).holds(f),
            VisitedInOrder(("/", "/", "/cart")).holds(f),
            VisitedInOrder(("/cart", "/product*")).holds(f),
            VisitedInOrder(("/", "/", "/", "/cart")).holds(f),
        ]


class TestVisitorConditions:
    """referrer, returning, customer, cart, orders, country and device."""

    def test_referrer(self) -> None:
        f = facts(shopper(), 40)
        expected = [True, False]
        assert expected == [ReferrerMatches("*news.example*").holds(f),
                            ReferrerMatches(re.compile("^https://search")).holds(f)]

    def test_returning(self) -> None:
        feed = shopper()
        expected = [False, True]
        f = facts(feed, 40)
        assert expected == [Returning().holds(f), Returning(False).holds(f)]
        feed("page_view", 4000, url="/")
        expected = [True, False]
        assert expected == [Returning().holds(facts(feed, 4001)),
                            Returning(False).holds(facts(feed, 4001))]

    def test_customer_known(self) -> None:
        feed = shopper()
        assert not CustomerKnown().holds(facts(feed, 40))
        feed("identify", 41, customer="c1")
        expected = [True, False]
        assert expected == [CustomerKnown().holds(facts(feed, 42)),
                            CustomerKnown(False).holds(facts(feed, 42))]

    def test_cart_value_at_least(self) -> None:
        f = facts(shopper(), 40)
        expected = [True, True, False]
        assert expected == [CartValueAtLeast(Decimal("49.95")).holds(f),
                            CartValueAtLeast(40).holds(f), CartValueAtLeast("49.96").holds(f)]

    def test_has_ordered_before(self) -> None:
        feed = shopper()
        expected = [False, True]
        f = facts(feed, 40)
        assert expected == [HasOrdered().holds(f), HasOrdered(False).holds(f)]
        feed("order", 41, order="A1", subtotal="49.95")
        assert HasOrdered().holds(facts(feed, 42))

    def test_country_and_device_case_insensitive(self) -> None:
        f = facts(shopper(), 40)
        expected = [True, False, True, False]
        assert expected == [CountryIn(["NL", "BE"]).holds(f), CountryIn("DE").holds(f),
                            DeviceIn(["mobile"]).holds(f), DeviceIn(["desktop"]).holds(f)]


class TestChatSignalAgents:
    """has signal, not in chat, agents online."""

    def test_has_signal_and_when_it_turns_on(self) -> None:
        feed = shopper()  # on /cart since 30: stuck_on_checkout at 120
        condition = HasSignal("stuck_on_checkout")
        expected = (False, [at(120)])
        f = facts(feed, 60)
        assert expected == (condition.holds(f), list(condition.changes(f)))
        assert condition.holds(facts(feed, 120))

    def test_unknown_signal_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown signal 'bored'"):
            HasSignal("bored")

    def test_not_in_chat(self) -> None:
        feed = shopper()
        assert NotInChat().holds(facts(feed, 40))
        feed("request", 41, request="r1", channel="text", initiator="visitor")
        assert not NotInChat().holds(facts(feed, 42))
        feed("message", 43, request="r1", sender="agent", agent="ann")
        assert not NotInChat().holds(facts(feed, 44))
        feed("request_end", 45, request="r1", reason="closed")
        assert NotInChat().holds(facts(feed, 46))

    def test_agents_online(self) -> None:
        feed = shopper()
        feed("agent_status", 0, visitor=None, agent="ann", status="online")
        feed("agent_status", 0, visitor=None, agent="bob", status="online")
        feed("agent_status", 50, visitor=None, agent="bob", status="away")
        expected = [True, True, False, False]
        assert expected == [AgentsOnline().holds(facts(feed, 40)),
                            AgentsOnline(2).holds(facts(feed, 40)),
                            AgentsOnline(2).holds(facts(feed, 60)),
                            AgentsOnline().holds(facts(feed, -1))]
        assert AgentsOnline().needs_agents()


class TestCombinators:
    """All, Any and Not combine conditions and their due instants."""

    def test_truth_tables(self) -> None:
        f = facts(shopper(), 40)
        yes, no = UrlMatches("/cart"), UrlMatches("/nope")
        expected = [True, False, True, False, False, True]
        assert expected == [All((yes, yes)).holds(f), All((yes, no)).holds(f),
                            Any((no, yes)).holds(f), Any((no, no)).holds(f),
                            Not(yes).holds(f), Not(no).holds(f)]

    def test_changes_are_the_union_of_the_parts(self) -> None:
        f = facts(shopper(), 40)
        combined = Any((TimeOnPage(60), Not(TimeOnSite(100)), All((AgentsOnline(),))))
        expected = [at(90), at(100)]
        assert expected == sorted(combined.changes(f))
        assert combined.needs_agents()

    def test_only_conditions_combine(self) -> None:
        with pytest.raises(TypeError, match="not a condition"):
            All(("/cart",))  # type: ignore[arg-type]

    def test_describe(self) -> None:
        condition = All((VisitedInOrder(("/product*", re.compile("cart$"))), Not(Returning())))
        expected = "(visited /product* -> /cart$/ and not returning visitor)"
        assert expected == condition.describe()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TimeOnPage(-1), "must be >= 0"),
        (lambda: PagesViewedAtLeast(0), "integer >= 1"),
        (lambda: CartValueAtLeast("-5"), ">= 0"),
        (lambda: CountryIn([]), "one or more"),
        (lambda: VisitedInOrder(()), "at least one"),
        (lambda: UrlMatches(""), "glob string or a compiled regex"),
    ],
)
def test_bad_parameters_are_refused(build, message: str) -> None:  # type: ignore[no-untyped-def]
    """Conditions check their parameters when built."""
    with pytest.raises((TypeError, ValueError), match=message):
        build()
