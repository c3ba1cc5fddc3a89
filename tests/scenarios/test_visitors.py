"""Hand-derived scenarios for the ``visitors`` section of the report.

Reading: a session's events are every event carrying the visitor id (any type,
requests and messages included), ordered by (ts, event id); the gap is measured
from the visitor's previous event of any type.
Reading: an event that carries an explicit ``session`` id is split only by the
id rule (a different id than the last explicit one), never by the inactivity
gap ("which then wins"); events without an explicit id use the gap rule.
Reading: ``returning`` counts visitors (not sessions); a visitor whose first
session ever started before the range and who starts another in range is
returning, and so is a visitor with two sessions in range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.scenarios.helpers import Events, report


class TestUniqueVisitors:
    """``visitors.total`` counts distinct visitors with any event in range."""

    def test_each_visitor_once_whatever_the_event_type(self) -> None:
        """Visitors with several events of different types count once; agent_status has none."""
        ev = Events()
        events = [
            ev.agent_status("2026-03-02T08:00:00Z", "a1"),  # no visitor: not counted
            ev.page_view("v1", "2026-03-02T10:00:00Z", "/shoes"),
            ev.page_view("v1", "2026-03-02T10:05:00Z", "/boots"),
            ev.heartbeat("v1", "2026-03-02T10:06:00Z", "/boots"),
            ev.impression("v2", "2026-03-02T11:00:00Z"),
            ev.order("v3", "2026-03-02T12:00:00Z", "o1", "10.00"),
            ev.survey("v4", "2026-03-02T13:00:00Z", feedback="hi"),
        ]
        d = report(events, as_of="2026-03-03T00:00:00Z")
        # v1, v2, v3, v4 -> 4 distinct visitors; agent_status carries no visitor.
        expected = 4
        assert expected == d["visitors"]["total"]

    def test_only_events_in_range_count(self) -> None:
        """A visitor seen only before the range start is not in range."""
        ev = Events()
        events = [
            ev.page_view("v1", "2026-03-01T23:59:59Z", "/a"),  # before start: v1 out
            ev.page_view("v2", "2026-03-02T00:00:00Z", "/a"),  # at start: in ([start, end))
            ev.page_view("v3", "2026-03-02T23:59:59Z", "/a"),  # in
            ev.page_view("v4", "2026-03-03T00:00:00Z", "/a"),  # at end: out
        ]
        d = report(
            events, as_of="2026-03-04T00:00:00Z",
            start=datetime(2026, 3, 2, tzinfo=UTC), end=datetime(2026, 3, 3, tzinfo=UTC),
        )
        # v2 and v3 only.
        expected = 2
        assert expected == d["visitors"]["total"]


class TestWidget:
    """Widget impressions, clicks and the click-through rate over unique visitors."""

    def test_click_without_impression_implies_one(self) -> None:
        """A click without an impression still makes the visitor one with an impression."""
        ev = Events()
        events = [
            ev.impression("v1", "2026-03-02T10:00:00Z"),
            ev.click("v1", "2026-03-02T10:01:00Z"),
            ev.impression("v2", "2026-03-02T10:02:00Z"),
            ev.click("v3", "2026-03-02T10:03:00Z", source="notification"),  # no impression
            ev.impression("v4", "2026-03-02T10:04:00Z"),
            ev.impression("v4", "2026-03-02T10:05:00Z"),  # second impression: v4 still once
        ]
        d = report(events, as_of="2026-03-03T00:00:00Z")
        expected = {
            "with_impression": 4,  # v1, v2, v3 (click implies impression), v4
            "with_click": 2,  # v1, v3
            "widget_ctr": 0.5,  # 2 / 4
        }
        assert expected == {key: d["visitors"][key] for key in expected}

    def test_ctr_is_null_without_impressions(self) -> None:
        """No visitor saw the widget: the rate has an empty denominator and is null."""
        ev = Events()
        d = report([ev.page_view("v1", "2026-03-02T10:00:00Z", "/")], as_of="2026-03-03T00:00:00Z")
        # with_impression = 0 -> widget_ctr = null, not 0.
        expected = (0, 0, None)
        assert expected == (
            d["visitors"]["with_impression"], d["visitors"]["with_click"],
            d["visitors"]["widget_ctr"],
        )

    def test_clicks_outside_range_do_not_count(self) -> None:
        """An impression in range and a click the next day (out of range) is no click."""
        ev = Events()
        events = [
            ev.impression("v1", "2026-03-02T23:00:00Z"),
            ev.click("v1", "2026-03-03T00:00:01Z"),  # outside [03-02, 03-03)
            ev.impression("v2", "2026-03-02T12:00:00Z"),
            ev.click("v2", "2026-03-02T12:00:30Z"),
            ev.impression("v3", "2026-03-02T12:00:00Z"),
        ]
        d = report(
            events, as_of="2026-03-04T00:00:00Z",
            start=datetime(2026, 3, 2, tzinfo=UTC), end=datetime(2026, 3, 3, tzinfo=UTC),
        )
        # with_impression = {v1, v2, v3} = 3; with_click = {v2} = 1; ctr = 1/3.
        expected = (3, 1)
        assert expected == (d["visitors"]["with_impression"], d["visitors"]["with_click"])
        expected = 1 / 3
        assert expected == d["visitors"]["widget_ctr"]


class TestSessions:
    """Sessions by inactivity timeout or explicit ids, and returning visitors."""

    def test_inactivity_gap_of_exactly_the_timeout_starts_a_new_session(self) -> None:
        """Gaps < 30 min stay in the session; a gap of exactly 30 min starts a new one."""
        ev = Events()
        events = [
            ev.page_view("v1", "2026-03-02T10:00:00Z", "/a"),  # v1 session 1 starts
            ev.heartbeat("v1", "2026-03-02T10:20:00Z", "/a"),  # gap 20 min
            ev.page_view("v1", "2026-03-02T10:49:59Z", "/b"),  # gap 29:59 -> same session
            ev.page_view("v1", "2026-03-02T11:19:59Z", "/c"),  # gap exactly 30:00 -> session 2
            ev.page_view("v2", "2026-03-02T10:00:00Z", "/a"),  # v2 session 1
            ev.page_view("v2", "2026-03-02T10:29:59Z", "/a"),  # gap 29:59 -> same
        ]
        d = report(events, as_of="2026-03-03T00:00:00Z")
        # v1: 2 sessions, v2: 1 -> 3. v1's second session is not its first -> returning = 1.
        expected = (3, 1, 2)
        assert expected == (
            d["visitors"]["sessions"], d["visitors"]["returning"], d["visitors"]["total"]
        )

    def test_any_event_type_keeps_the_session_alive(self) -> None:
        """Events other than page views (cart, order, request, message) extend the session."""
        ev = Events()
        events = [
            ev.page_view("v1", "2026-03-02T10:00:00Z", "/a"),
            ev.cart_update("v1", "2026-03-02T10:25:00Z", "12.00"),  # gap 25
            ev.request("v1", "2026-03-02T10:50:00Z", "r1"),  # gap 25
            ev.agent_msg("v1", "2026-03-02T11:15:00Z", "r1", "a1"),  # gap 25 (carries v1)
            ev.order("v1", "2026-03-02T11:40:00Z", "o1", "12.00"),  # gap 25
        ]
        d = report(events, as_of="2026-03-03T00:00:00Z")
        # Every gap is 25 min < 30 min -> one session, no returning visitor.
        expected = (1, 0)
        assert expected == (d["visitors"]["sessions"], d["visitors"]["returning"])

    def test_session_timeout_parameter(self) -> None:
        """A report with a 10-minute session timeout splits at gaps >= 10 min."""
        ev = Events()
        events = [
            ev.page_view("v1", "2026-03-02T10:00:00Z", "/a"),
            ev.page_view("v1", "2026-03-02T10:09:59Z", "/b"),  # gap 9:59 -> same
            ev.page_view("v1", "2026-03-02T10:20:00Z", "/c"),  # gap 10:01 -> new
            ev.page_view("v1", "2026-03-02T10:30:00Z", "/d"),  # gap exactly 10:00 -> new
        ]
        default = report(events, as_of="2026-03-03T00:00:00Z")
        short = report(events, as_of="2026-03-03T00:00:00Z", session_timeout=timedelta(minutes=10))
        # Default 30 min: all gaps < 30 -> 1 session. 10 min: sessions start 10:00, 10:20, 10:30.
        expected = (1, 3)
        assert expected == (default["visitors"]["sessions"], short["visitors"]["sessions"])
        # With 10 min, v1 has sessions after its first -> returning.
        expected = (0, 1)
        assert expected == (default["visitors"]["returning"], short["visitors"]["returning"])

    def test_explicit_session_ids(self) -> None:
        """A page_view with another explicit session id starts a session; the same id does not."""
        ev = Events()
        events = [
            ev.page_view("v1", "2026-03-02T10:00:00Z", "/a", session="A"),  # session 1
            ev.page_view("v1", "2026-03-02T10:01:00Z", "/b", session="B"),  # differs -> session 2
            ev.heartbeat("v1", "2026-03-02T10:02:00Z", "/b"),  # no id, gap 1 min -> same
            ev.page_view("v1", "2026-03-02T10:03:00Z", "/c", session="B"),  # same id -> same
            ev.page_view("v1", "2026-03-02T11:03:00Z", "/d", session="B"),
            # ^ gap 60 min but the explicit id is unchanged: the host's id wins -> same session
            ev.page_view("v1", "2026-03-02T11:04:00Z", "/e", session="C"),  # differs -> session 3
        ]
        d = report(events, as_of="2026-03-03T00:00:00Z")
        # Sessions A, B, C -> 3; v1 has sessions after its first -> returning 1.
        expected = (3, 1)
        assert expected == (d["visitors"]["sessions"], d["visitors"]["returning"])

    def test_returning_needs_an_earlier_session_ever(self) -> None:
        """A visitor whose first session was before the range is returning in range."""
        ev = Events()
        events = [
            ev.page_view("v1", "2026-03-01T10:00:00Z", "/a"),  # v1 first session (before range)
            ev.page_view("v1", "2026-03-02T10:00:00Z", "/a"),  # v1 second session, in range
            ev.page_view("v2", "2026-03-02T11:00:00Z", "/a"),  # v2 first session, in range
            ev.page_view("v3", "2026-03-01T12:00:00Z", "/a"),  # v3 only before the range
            ev.page_view("v4", "2026-03-01T23:50:00Z", "/a"),  # v4 session starts before range
            ev.page_view("v4", "2026-03-02T00:10:00Z", "/b"),  # gap 20 min: same session
        ]
        d = report(
            events, as_of="2026-03-03T00:00:00Z", start=datetime(2026, 3, 2, tzinfo=UTC),
        )
        expected = {
            "total": 3,  # v1, v2, v4 have events in range; v3 does not
            "sessions": 2,  # v1's 03-02 session and v2's; v4's session started on 03-01
            "returning": 1,  # v1 (its first session ever was on 03-01); v2 is new
        }
        assert expected == {key: d["visitors"][key] for key in expected}
