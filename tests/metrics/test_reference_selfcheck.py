"""Hand-computed cases for the reference report, so the oracle is not trusted blindly.

Every expected figure below was worked out by hand from metrics.md.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import given

from tests.reference import percentile, reference_report
from tests.report_checks import (
    additive_counts,
    assert_reports_equal,
    check_agent_orders_add_up,
    check_click_within_impression,
    check_conversations_bounded,
    check_daily_sums,
    check_distribution_sum,
    check_rates_in_unit_interval,
)
from tests.strategies import Scenario, scenarios, shuffled_with_duplicates
from whoson.core.events import Event
from whoson.core.parsing import parse_event
from whoson.core.settings import ParseContext, RatingScale

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
_ids = itertools.count()


def at(**delta: float) -> datetime:
    return T0 + timedelta(**delta)


def ev(type_: str, ts: datetime, visitor: str | None = "v1", scale: RatingScale | None = None,
       **fields: Any) -> Event:
    data = {"id": f"x{next(_ids):04d}", "type": type_, "ts": ts.isoformat(), **fields}
    if visitor is not None:
        data["visitor"] = visitor
    return parse_event(data, ParseContext(rating_scale=scale or RatingScale(1, 5)))


def pick(report: dict[str, Any], *paths: str) -> dict[str, Any]:
    """The figures at dotted ``paths`` of a report."""
    out = {}
    for path in paths:
        value: Any = report
        for key in path.split("."):
            value = value[key]
        out[path] = value
    return out


def answered_visitor_request() -> list[Event]:
    return [
        ev("page_view", at(minutes=-5), url="/shoes"),
        ev("request", T0, request="r1", channel="text", initiator="visitor"),
        ev("message", at(seconds=30), request="r1", sender="agent", agent="a0"),
        ev("message", at(minutes=1), request="r1", sender="visitor"),
        ev("request_end", at(minutes=5), request="r1", reason="closed", resolved=True),
    ]


class TestOneAnsweredRequest:
    """A visitor request answered by an agent is one conversation with its timings."""

    def test_counts_and_timings(self) -> None:
        expected = {
            "requests.total": 1,
            "requests.by_initiator": {"visitor": 1, "agent": 0, "auto": 0},
            "requests.top_urls": [{"url": "/shoes", "requests": 1}],
            "conversations.total": 1,
            "acceptance.visitor_request_rate": 1.0,
            "acceptance.agent_initiated_rate": None,
            "conversations.avg_duration_minutes": 4.5,
            "support.avg_handle_minutes": 4.5,
            "support.first_response": {"avg": 30.0, "median": 30.0, "p90": 30.0},
            "support.first_contact_resolution_rate": 1.0,
        }
        assert expected == pick(reference_report(answered_visitor_request()), *expected)

    def test_agent_row(self) -> None:
        expected = {
            "agent": "a0", "conversations": 1, "first_response_avg": 30.0,
            "avg_handle_minutes": 4.5, "initiated_requests": 0, "initiated_acceptance_rate": None,
        }
        (row,) = reference_report(answered_visitor_request())["agents"]
        assert expected == pick(row, *expected)

    def test_range_and_default_as_of(self) -> None:
        expected = {
            "range": {"start": None, "end": None, "tz": "UTC", "as_of": "2026-03-02T12:05:00Z"},
            "dates": ["2026-03-02"],
        }
        report = reference_report(answered_visitor_request())
        actual = {"range": report["range"], "dates": [r["date"] for r in report["trends"]["daily"]]}
        assert expected == actual

    @pytest.mark.parametrize(
        ("after_end", "fcr"),
        [(timedelta(0), 1.0), (timedelta(microseconds=1), 0.0), (timedelta(hours=24), 0.0),
         (timedelta(hours=24, microseconds=1), 1.0)],
    )
    def test_new_visitor_request_within_fcr_window(self, after_end: timedelta, fcr: float) -> None:
        again = at(minutes=5) + after_end
        events = [*answered_visitor_request(),
                  ev("request", again, request="r2", channel="text", initiator="visitor")]
        report = reference_report(events, end=at(minutes=4), as_of=at(hours=30))
        assert fcr == report["support"]["first_contact_resolution_rate"]


class TestPending:
    """Pending is strict and leaves the rate denominators; an end settles it."""

    events: ClassVar[list[Event]] = [
        ev("request", T0, request="r1", channel="text", initiator="visitor")
    ]
    figures = (
        "requests.pending", "requests.unsuccessful", "requests.unanswered_from_visitors",
        "acceptance.visitor_request_rate",
    )

    def test_pending_just_before_timeout(self) -> None:
        expected = dict(zip(self.figures, (1, 0, 0, None), strict=True))
        report = reference_report(self.events, as_of=at(minutes=10) - timedelta(microseconds=1))
        assert expected == pick(report, *self.figures)

    def test_unsuccessful_at_timeout(self) -> None:
        expected = dict(zip(self.figures, (0, 1, 1, 0.0), strict=True))
        assert expected == pick(reference_report(self.events, as_of=at(minutes=10)), *self.figures)

    def test_ended_request_is_not_pending(self) -> None:
        expected = dict(zip(self.figures, (0, 1, 1, 0.0), strict=True))
        events = [*self.events, ev("request_end", at(minutes=1), request="r1", reason="cancelled")]
        assert expected == pick(reference_report(events, as_of=at(minutes=2)), *self.figures)

    def test_late_answer_still_makes_a_conversation(self) -> None:
        expected = {
            "conversations.total": 1, "requests.unsuccessful": 0,
            "support.first_response": {"avg": 3600.0, "median": 3600.0, "p90": 3600.0},
        }
        late = ev("message", at(hours=1), request="r1", sender="agent", agent="a1")
        assert expected == pick(reference_report([*self.events, late]), *expected)


class TestAutoRequest:
    """An auto request needs both sides from messages; the visitor's answer is an acceptance."""

    def test_visitor_answer_without_agent(self) -> None:
        expected = {
            "acceptance.auto_invitation_rate": 1.0, "conversations.total": 0,
            "requests.unsuccessful": 1, "requests.unanswered_from_visitors": 0,
        }
        events = [
            ev("request", T0, request="r1", channel="text", initiator="auto", trigger="t0"),
            ev("message", at(minutes=1), request="r1", sender="visitor"),
        ]
        assert expected == pick(reference_report(events, as_of=at(minutes=30)), *expected)

    def test_engaged_at_is_the_later_side(self) -> None:
        expected = {
            "conversations.avg_duration_minutes": 9.0, "support.avg_handle_minutes": 6.0,
            "conversations.video": 1, "support.first_response": {
                "avg": None, "median": None, "p90": None},
        }
        events = [
            ev("request", T0, request="r1", channel="video", initiator="auto"),
            ev("call_joined", at(minutes=2), request="r1", participant="agent", agent="a0"),
            ev("call_joined", at(minutes=5), request="r1", participant="visitor"),
            ev("request_end", at(minutes=11), request="r1"),
        ]
        assert expected == pick(reference_report(events), *expected)


class TestAttribution:
    """The window is inclusive at both ends; last touch picks the latest engagement."""

    @staticmethod
    def conversation(rid: str, start: datetime, agent: str) -> list[Event]:
        return [
            ev("request", start, request=rid, channel="text", initiator="agent", agent=agent),
            ev("message", start + timedelta(minutes=1), request=rid, sender="visitor"),
        ]

    @staticmethod
    def order(ts: datetime) -> Event:
        return ev("order", ts, order="o1", subtotal="100.00", discount="15", shipping="5")

    @pytest.mark.parametrize(
        ("offset", "attributed"),
        [(timedelta(0), 1), (timedelta(days=7), 1),
         (timedelta(days=7, microseconds=1), 0), (-timedelta(microseconds=1), 0)],
    )
    def test_window_edges(self, offset: timedelta, attributed: int) -> None:
        expected = {
            "sales.attributed_orders": attributed,
            "sales.attributed_gmv": Decimal("85.00") * attributed,
            "sales.all_orders": 1,
            "sales.all_gmv": Decimal("85.00"),
        }
        engaged = at(minutes=1)
        events = [*self.conversation("r1", T0, "a0"), self.order(engaged + offset)]
        assert expected == pick(reference_report(events, as_of=at(days=8)), *expected)

    def test_last_touch_and_last_responding_agent(self) -> None:
        # r2 is the last touch; a2 answered in it last (after the order, before
        # as_of); a0 is only named before the range.
        expected = {
            "agents": {"a1": 0, "a2": 1},
            "by_channel": {"text": Decimal("85.00"), "video": Decimal(0)},
            "aov": Decimal("85"),
            "conversion_rate": 1.0,
            "sales_per_conversation": Decimal("85"),
        }
        events = [
            *self.conversation("r1", T0, "a0"),
            *self.conversation("r2", at(hours=1), "a1"),
            ev("message", at(hours=3), request="r2", sender="agent", agent="a2"),
            self.order(at(hours=2)),
        ]
        report = reference_report(events, start=at(minutes=30))
        actual = {
            "agents": {a["agent"]: a["attributed_orders"] for a in report["agents"]},
            "by_channel": report["sales"]["attributed_gmv_by_channel"],
            "aov": report["sales"]["aov"],
            "conversion_rate": report["sales"]["conversion_rate"],
            "sales_per_conversation": report["sales"]["sales_per_conversation"],
        }
        assert expected == actual

    def test_agent_credited_only_by_an_order_is_listed(self) -> None:
        expected = [("a0", 0, 1, Decimal("85.00"))]
        events = [*self.conversation("r1", T0, "a0"), self.order(at(hours=2))]
        report = reference_report(events, start=at(hours=1))
        assert expected == [
            (a["agent"], a["conversations"], a["attributed_orders"], a["attributed_sales"])
            for a in report["agents"]
        ]


class TestIdentityAndAsOf:
    """Duplicate creations: earliest wins; events after as_of do not exist."""

    def test_earliest_creation_wins(self) -> None:
        expected = {
            "requests.total": 1, "requests.text": 1, "requests.video": 0,
            "requests.by_initiator": {"visitor": 0, "agent": 1, "auto": 0},
            "sales.all_orders": 1, "sales.all_gmv": Decimal("10"),
        }
        events = [
            ev("request", at(minutes=1), request="r1", channel="video", initiator="visitor"),
            ev("request", T0, request="r1", channel="text", initiator="agent", agent="a0"),
            ev("order", T0, order="o1", subtotal="10"),
            ev("order", at(minutes=1), order="o1", subtotal="99"),
        ]
        assert expected == pick(reference_report(events, as_of=at(hours=1)), *expected)

    def test_events_after_as_of_are_ignored(self) -> None:
        expected = {
            "visitors.total": 1,
            "support.first_contact_resolution_rate": None,
            "conversations.avg_duration_minutes": 0.5,
        }
        events = [*answered_visitor_request(), ev("page_view", at(hours=1), visitor="v2", url="/")]
        assert expected == pick(reference_report(events, as_of=at(minutes=2)), *expected)


class TestSessions:
    """Explicit session ids win; otherwise a 30-minute gap starts a new session."""

    def test_timeout_gap(self) -> None:
        expected = {"visitors.sessions": 2, "visitors.returning": 1, "visitors.total": 1}
        events = [
            ev("page_view", T0, url="/"),
            ev("heartbeat", at(minutes=29, seconds=59)),
            ev("page_view", at(minutes=59, seconds=59), url="/"),
        ]
        assert expected == pick(reference_report(events), *expected)

    def test_explicit_session_survives_gap(self) -> None:
        expected = {"visitors.sessions": 2}
        events = [ev("page_view", T0, url="/", session="s"),
                  ev("page_view", at(hours=2), url="/", session="s"),
                  ev("page_view", at(hours=2, minutes=1), url="/", session="t")]
        assert expected == pick(reference_report(events), *expected)

    def test_cart_abandonment(self) -> None:
        expected = {"support.cart_abandonment_rate": 0.5, "visitors.sessions": 3}
        events = [
            ev("cart_update", T0, value="20"),
            ev("cart_update", at(hours=1), value="20"),
            ev("order", at(hours=1, minutes=5), order="o1", subtotal="20"),
            ev("cart_update", at(hours=3), value="0"),
        ]
        assert expected == pick(reference_report(events), *expected)


class TestLocalCalendar:
    """Daily and hourly buckets are local; DST days are one row."""

    def test_berlin_spring_forward(self) -> None:
        expected = {
            "start": "2026-03-28T23:00:00Z", "end": "2026-03-29T22:00:00Z",
            "rows": [("2026-03-29", 2)], "hour 0": (1, 0), "hour 23": (0, 1),
        }
        events = [
            ev("request", datetime(2026, 3, 28, 23, 30, tzinfo=UTC), request="r1",
               channel="text", initiator="visitor"),
            ev("request", datetime(2026, 3, 29, 21, 59, tzinfo=UTC), request="r2",
               channel="video", initiator="visitor"),
            ev("request", datetime(2026, 3, 29, 22, 0, tzinfo=UTC), request="r3",
               channel="video", initiator="visitor"),
        ]
        report = reference_report(events, tz="Europe/Berlin", start=date(2026, 3, 29),
                                  end=date(2026, 3, 30))
        hourly = {r["hour"]: (r["text_requests"], r["video_requests"])
                  for r in report["trends"]["hourly"]}
        actual = {
            "start": report["range"]["start"], "end": report["range"]["end"],
            "rows": [(r["date"], r["requests"]) for r in report["trends"]["daily"]],
            "hour 0": hourly[0], "hour 23": hourly[23],
        }
        assert expected == actual

    def test_default_and_end_only_rows(self) -> None:
        expected = {
            "default": ["2026-03-02", "2026-03-03"], "end only": ["2026-03-01", "2026-03-02"],
        }
        events = [ev("heartbeat", datetime(2026, 3, 1, 23, tzinfo=UTC)),
                  ev("heartbeat", datetime(2026, 3, 3, 9, tzinfo=UTC))]
        default = reference_report(events, tz="Europe/Berlin")
        end_only = reference_report(events, end=datetime(2026, 3, 3, tzinfo=UTC))
        actual = {
            "default": [r["date"] for r in default["trends"]["daily"]],
            "end only": [r["date"] for r in end_only["trends"]["daily"]],
        }
        assert expected == actual


class TestRatings:
    """Distribution covers the scale, csat the top two values, nps only on 0..10."""

    def test_zero_to_ten(self) -> None:
        scale = RatingScale(0, 10)
        expected = {
            "count": 4, "avg": 7.25, "csat": 0.5, "nps": 25.0,
            "distribution": {str(v): 0 for v in range(11)} | {"3": 1, "7": 1, "9": 1, "10": 1},
            "feedback": [(None, None, "meh"), ("a0", 3, None), ("a0", 7, None),
                         ("a0", 9, None), ("a0", 10, None)],
        }
        events = [ev("survey", at(minutes=i), scale=scale, rating=r, agent="a0")
                  for i, r in enumerate((10, 9, 7, 3))]
        events.append(ev("survey", at(minutes=9), scale=scale, feedback="meh"))
        events.append(ev("survey", at(minutes=9), scale=scale, feedback=""))
        ratings = reference_report(events, rating_scale=scale)["ratings"]
        actual = pick(ratings, "count", "avg", "csat", "nps", "distribution")
        actual["feedback"] = [(f["agent"], f["rating"], f["feedback"]) for f in ratings["feedback"]]
        assert expected == actual

    def test_agent_fallback_to_last_responder(self) -> None:
        expected = {"agents": [("a0", 4.0)], "nps": None, "csat": 1.0}
        events = [*answered_visitor_request(), ev("survey", at(minutes=6), request="r1", rating=4)]
        report = reference_report(events)
        actual = {
            "agents": [(a["agent"], a["avg_rating"]) for a in report["agents"]],
            "nps": report["ratings"]["nps"], "csat": report["ratings"]["csat"],
        }
        assert expected == actual


class TestPercentile:
    """Linear interpolation between closest ranks, as numpy's default."""

    def test_values(self) -> None:
        expected = (25.0, 37.0, None)
        actual = (percentile([40, 10, 30, 20], 0.5), percentile([10, 20, 30, 40], 0.9),
                  percentile([], 0.5))
        assert expected == actual

    def test_matches_numpy(self) -> None:
        np = pytest.importorskip("numpy")
        values = [3.0, 1.5, 99.0, 7.25, 7.25, 0.0, 12.0]
        for q in (0.5, 0.9):
            assert float(np.percentile(values, q * 100)) == pytest.approx(percentile(values, q))


class TestReferenceInvariants:
    """The reference itself satisfies metrics.md's invariants on random streams."""

    @given(scenarios())
    def test_static_invariants(self, scenario: Scenario) -> None:
        report = reference_report(scenario.events, **scenario.report_kwargs())
        check_rates_in_unit_interval(report)
        check_conversations_bounded(report)
        check_click_within_impression(report)
        check_distribution_sum(report)
        check_daily_sums(report)
        check_agent_orders_add_up(report)

    @given(scenarios().flatmap(
        lambda s: shuffled_with_duplicates(s.events).map(lambda events: (s, events))))
    def test_arrival_order_and_duplicates(self, case: tuple[Scenario, list[Event]]) -> None:
        scenario, delivered = case
        expected = reference_report(scenario.events, **scenario.report_kwargs())
        assert_reports_equal(reference_report(delivered, **scenario.report_kwargs()), expected)

    @given(scenarios(ranged=False))
    def test_split_range_adds_up(self, scenario: Scenario) -> None:
        times = sorted(e.ts for e in scenario.events)
        lo, mid, hi = times[0], times[len(times) // 2], times[-1] + timedelta(seconds=1)
        kw = scenario.report_kwargs
        whole = additive_counts(reference_report(scenario.events, **kw(start=lo, end=hi)))
        left = additive_counts(reference_report(scenario.events, **kw(start=lo, end=mid)))
        right = additive_counts(reference_report(scenario.events, **kw(start=mid, end=hi)))
        assert whole == {key: left[key] + right[key] for key in whole}
