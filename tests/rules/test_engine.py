"""The rules engine: firing on events and on the clock, limits, and the invitation guard."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.live.helpers import at
from tests.rules.harness import Harness
from whoson.core.errors import ConfigError
from whoson.core.events import AutoMessageEvent, RequestEvent
from whoson.live import LiveView
from whoson.rules import (
    AgentsOnline,
    HasSignal,
    Invite,
    Limits,
    NotInChat,
    Rule,
    RuleEngine,
    ShowMessage,
    TimeOnPage,
    UrlMatches,
    VisitedInOrder,
    fired_id,
)

CHECKOUT_HELP = Rule("checkout-help", [UrlMatches("*/checkout*"), TimeOnPage(60)],
                     Invite("text", "Need a hand with checkout?", link="/help/payment"))


class TestTimeBasedRules:
    """Time-based conditions fire when the clock reaches them, with no new event."""

    def test_sixty_seconds_on_checkout_fires_at_sixty_seconds_by_tick(self) -> None:
        h = Harness([CHECKOUT_HELP])
        h("page_view", 0, url="/checkout")
        expected = at(60)
        assert expected == h.engine.next_due()
        expected = []
        assert expected == h.tick(59.999999)
        fired = h.tick(60)
        expected_ids = [f"rule:checkout-help:v1:{1772452800000000}:message",
                        f"rule:checkout-help:v1:{1772452800000000}:request"]
        assert expected_ids == [e.id for e in fired]
        message, request = fired
        assert isinstance(message, AutoMessageEvent)
        assert isinstance(request, RequestEvent)
        expected_message = ("checkout-help", "/help/payment", "/checkout", at(60),
                            "Need a hand with checkout?")
        assert expected_message == (message.trigger, message.link, message.url, message.ts,
                                    message.extra["message"])
        expected_request = ("rule:checkout-help:v1:1772452800000000", "text", "auto",
                            "checkout-help", "/checkout")
        assert expected_request == (request.request, request.channel, request.initiator,
                                    request.trigger, request.url)

    def test_a_late_tick_fires_at_the_tick(self) -> None:
        h = Harness([CHECKOUT_HELP])
        h("page_view", 0, url="/checkout")
        expected = [("checkout-help", "v1", 75.0)]
        h.tick(75)
        assert expected == h.firings()

    def test_ids_name_the_session_whenever_the_tick_comes(self) -> None:
        """Two engines over the same events, ticked at 61 s and 75 s, fire the same ids (stamped apart)."""
        fired = []
        for tick_at in (61, 75):
            h = Harness([CHECKOUT_HELP])
            h("page_view", 0, url="/checkout")
            fired.append(h.tick(tick_at))
        early, late = fired
        expected_ids = ["rule:checkout-help:v1:1772452800000000:message",
                        "rule:checkout-help:v1:1772452800000000:request"]
        assert (expected_ids, expected_ids) == ([e.id for e in early], [e.id for e in late])
        assert (at(61), at(75)) == (early[0].ts, late[0].ts)

    def test_later_firings_in_a_session_are_numbered(self) -> None:
        """A rule that may fire again in a session numbers its firings; a replaying engine counts alike."""
        rule = Rule("hello", [UrlMatches("/")], ShowMessage("Hi"),
                    limits=Limits(once_per_session=False, cooldown=300))
        h = Harness([rule])
        h("page_view", 0, url="/")
        h("page_view", 400, url="/")
        session = 1772452800000000
        expected = [f"rule:hello:v1:{session}:message", f"rule:hello:v1:{session}:2:message"]
        assert expected == [e.id for e in h.fired]
        restarted = Harness([rule])
        for event in h.log:
            restarted.record(event, event.ts)
        restarted("page_view", 800, url="/", id="later")
        # Replaying the log fires the same two ids again (duplicates), then the third.
        assert [*expected, f"rule:hello:v1:{session}:3:message"] == [e.id for e in restarted.fired]

    def test_leaving_the_page_before_the_threshold_cancels(self) -> None:
        h = Harness([CHECKOUT_HELP])
        h("page_view", 0, url="/checkout")
        h("page_view", 30, url="/")
        expected = []
        assert expected == h.tick(60)
        h("page_view", 40, url="/checkout")
        expected = at(100)
        assert expected == h.engine.next_due()
        h.tick(100)
        expected_firings = [("checkout-help", "v1", 100.0)]
        assert expected_firings == h.firings()

    def test_a_page_leave_stops_the_page_clock(self) -> None:
        h = Harness([CHECKOUT_HELP])
        h("page_view", 0, url="/checkout")
        h("page_leave", 50, url="/checkout")
        expected = []
        assert expected == h.tick(60)
        assert h.engine.next_due() is None

    def test_gone_visitors_are_not_invited(self) -> None:
        h = Harness([Rule("slow", [TimeOnPage(200)], ShowMessage("Still there?"))])
        h("page_view", 0, url="/")
        expected = []
        assert expected == h.tick(200)  # no activity for 200 s > presence timeout

    def test_signal_turns_on_by_time(self) -> None:
        rule = Rule("rescue-cart", [HasSignal("cart_at_risk")], ShowMessage("Free shipping!"))
        h = Harness([rule])
        h("page_view", 0, url="/")
        h("cart_update", 10, value="30")
        for seconds in range(100, 600, 100):
            h("heartbeat", seconds)
        expected = []
        assert expected == h.firings()
        h.tick(600)
        expected = [("rescue-cart", "v1", 600.0)]
        assert expected == h.firings()


class TestSequences:
    """visited pages in order: an ordered subsequence of this session's pages."""

    RULE = Rule("funnel", [VisitedInOrder(("*/product*", "*/cart*", "*/checkout*"))],
                ShowMessage("Questions about your order?"))

    def test_in_order_fires(self) -> None:
        h = Harness([self.RULE])
        for seconds, url in [(0, "/product/1"), (10, "/"), (20, "/cart"), (30, "/checkout")]:
            h("page_view", seconds, url=url)
        expected = [("funnel", "v1", 30.0)]
        assert expected == h.firings()

    def test_out_of_order_does_not_fire(self) -> None:
        h = Harness([self.RULE])
        for seconds, url in [(0, "/checkout"), (10, "/cart"), (20, "/product/1")]:
            h("page_view", seconds, url=url)
        expected = []
        assert expected == h.firings()

    def test_the_sequence_must_be_in_one_session(self) -> None:
        h = Harness([self.RULE])
        h("page_view", 0, url="/product/1")
        h("page_view", 10, url="/cart")
        h("page_view", 2000, url="/checkout")
        expected = []
        assert expected == h.firings()


class TestLimits:
    """Once per session by default, cool-down, and a global rate per minute."""

    def test_not_twice_in_one_session_but_again_in_a_new_one(self) -> None:
        h = Harness([Rule("pricing", [UrlMatches("/pricing")], ShowMessage("Compare plans?"))])
        h("page_view", 0, url="/pricing")
        h("page_view", 30, url="/")
        h("page_view", 60, url="/pricing")
        h("page_view", 60 + 1800, url="/pricing")  # 30 minutes later: a new session
        expected = [("pricing", "v1", 0.0), ("pricing", "v1", 1860.0)]
        assert expected == h.firings()

    def test_cooldown(self) -> None:
        rule = Rule("nudge", [UrlMatches("*")], ShowMessage("Hi"),
                    limits=Limits(once_per_session=False, cooldown=300))
        h = Harness([rule])
        h("page_view", 0, url="/")
        for seconds in (100, 200, 299):
            h("heartbeat", seconds)
        expected_due = at(300)
        assert expected_due == h.engine.next_due()
        h.tick(300)
        h("heartbeat", 301)
        expected = [("nudge", "v1", 0.0), ("nudge", "v1", 300.0)]
        assert expected == h.firings()

    def test_rate_per_minute_is_global_and_retries_when_the_window_frees(self) -> None:
        rule = Rule("welcome", [UrlMatches("/")], ShowMessage("Welcome!"),
                    limits=Limits(rate_per_minute=2))
        h = Harness([rule])
        for number, seconds in enumerate([0, 1, 2]):
            h("page_view", seconds, visitor=f"v{number}", url="/")
        expected = [("welcome", "v0", 0.0), ("welcome", "v1", 1.0)]
        assert expected == h.firings()
        expected_due = at(60)
        assert expected_due == h.engine.next_due()
        h.tick(60)
        expected = [*expected, ("welcome", "v2", 60.0)]
        assert expected == h.firings()

    def test_disabled_rules_never_fire(self) -> None:
        h = Harness([Rule("off", [], ShowMessage("x"), enabled=False)])
        h("page_view", 0, url="/")
        expected = []
        assert expected == h.firings()

    def test_rule_names_must_be_unique(self) -> None:
        rule = Rule("same", [], ShowMessage("x"))
        with pytest.raises(ConfigError, match="repeated: same"):
            RuleEngine([rule, rule], LiveView())


class TestInvitationGuard:
    """Invitations never go to a visitor in chat or with a pending request."""

    def test_no_invitation_while_a_request_is_open(self) -> None:
        rule = Rule("invite-all", [UrlMatches("*")], Invite("text", "Chat?"))
        h = Harness([rule])
        h("request", 0, request="r1", channel="text", initiator="visitor")
        h("page_view", 1, url="/")
        h("message", 5, request="r1", sender="agent", agent="ann")
        h("heartbeat", 6)
        expected = []
        assert expected == h.firings()
        h("request_end", 10, request="r1", reason="closed")
        expected = [("invite-all", "v1", 10.0)]
        assert expected == h.firings()

    def test_messages_ignore_chat_unless_the_rule_asks(self) -> None:
        plain = Rule("tip", [UrlMatches("*")], ShowMessage("Tip"))
        polite = Rule("polite-tip", [UrlMatches("*"), NotInChat()], ShowMessage("Tip"))
        h = Harness([plain, polite])
        h("request", 0, request="r1", channel="text", initiator="visitor")
        h("page_view", 1, url="/")
        expected = [("tip", "v1", 1.0)]
        assert expected == h.firings()

    def test_one_invitation_per_evaluation(self) -> None:
        first = Rule("first", [UrlMatches("*")], Invite("text", "One"))
        second = Rule("second", [UrlMatches("*")], Invite("video", "Two"))
        note = Rule("note", [UrlMatches("*")], ShowMessage("Three"))
        h = Harness([first, second, note])
        h("page_view", 0, url="/")
        expected = [("first", "v1", 0.0), ("note", "v1", 0.0)]
        assert expected == h.firings()

    def test_later_rules_see_the_invitation_as_pending(self) -> None:
        invite = Rule("invite", [UrlMatches("*")], Invite("text", "Chat?"))
        polite = Rule("polite", [UrlMatches("*"), NotInChat()], ShowMessage("Psst"))
        h = Harness([invite, polite])
        h("page_view", 0, url="/")
        expected = [("invite", "v1", 0.0)]
        assert expected == h.firings()

    def test_an_invitation_blocks_further_ones_until_it_ends(self) -> None:
        first = Rule("first", [UrlMatches("/a")], Invite("text", "One"))
        second = Rule("second", [UrlMatches("/b")], Invite("text", "Two"))
        h = Harness([first, second])
        h("page_view", 0, url="/a")
        h("page_view", 10, url="/b")
        expected = [("first", "v1", 0.0)]
        assert expected == h.firings()
        h("request_end", 20, request=fired_id("first", "v1", at(0)), reason="declined")
        expected = [*expected, ("second", "v1", 20.0)]
        assert expected == h.firings()


class TestAgentsOnline:
    """An agent coming online re-evaluates the visitors online."""

    def test_fires_when_an_agent_comes_online(self) -> None:
        rule = Rule("staffed", [UrlMatches("/help*"), AgentsOnline()], Invite("text", "Ask us"))
        h = Harness([rule])
        h("page_view", 0, visitor="a", url="/help")
        h("page_view", 5, visitor="b", url="/")
        h("page_view", 6, visitor="c", url="/help/returns")
        expected = []
        assert expected == h.firings()
        h("agent_status", 10, visitor=None, agent="ann", status="online")
        expected = [("staffed", "c", 10.0), ("staffed", "a", 10.0)]
        assert expected == h.firings()


class TestFiredEvents:
    """Fired events are ordinary, deterministic events."""

    def test_recording_fired_events_does_not_refire(self) -> None:
        h = Harness([Rule("hello", [], ShowMessage("Hello"),
                          limits=Limits(once_per_session=False))])
        h("page_view", 0, url="/")
        fired = list(h.fired)
        expected = []
        assert expected == h.engine.on_event(fired[0], at(0))  # the same instant: never twice
        expected = 1
        assert expected == len(h.fired)

    def test_long_ids_are_hashed_within_the_contract(self) -> None:
        visitor = "v" * 200
        base = fired_id("r" * 100, visitor, at(0))
        assert len(base) + len(":request") <= 200
        expected = base
        assert expected == fired_id("r" * 100, visitor, at(0))
        assert fired_id("r" * 100, visitor, at(0) + timedelta(microseconds=1)) != base

    def test_a_restarted_engine_respects_recorded_firings(self) -> None:
        h = Harness([Rule("pricing", [UrlMatches("/pricing")], ShowMessage("Compare?"))])
        h("page_view", 0, url="/pricing")
        restarted = Harness(h.engine.rules)
        for event in h.log:
            restarted.record(event, event.ts)
        restarted("page_view", 30, url="/pricing")
        recorded = {event.id for event in h.log}
        expected = []
        assert expected == [event for event in restarted.fired if event.id not in recorded]

    def test_observed_history_counts_for_the_limits(self) -> None:
        h = Harness([Rule("pricing", [UrlMatches("/pricing")], ShowMessage("Compare?"))])
        h("page_view", 0, url="/pricing")
        rebuilt = Harness(h.engine.rules)
        for event in h.log:
            rebuilt.view.apply(event)
            rebuilt.engine.observe(event)
        expected = (1, [])
        assert expected == (len(h.fired), rebuilt.engine.tick(at(10)))
        rebuilt("page_view", 30, url="/pricing")
        expected = []
        assert expected == rebuilt.fired
