"""The ``experiments`` section and ``support.wait``: hand-derived scenarios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from tests.reference import reference_report
from tests.report_checks import assert_reports_equal
from whoson import FixedClock, Tracker
from whoson.core.parsing import parse_event
from whoson.core.time import format_ts
from whoson.metrics.experiments import cumulative_incidence, newcombe_interval

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
WEEK = timedelta(days=7)
MICRO = timedelta(microseconds=1)


def at(delta: timedelta = timedelta(0), **kwargs: float) -> str:
    return format_ts(T0 + delta + timedelta(**kwargs))


class Log:
    """Builds raw events with fresh ids."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, type_: str, ts: str, visitor: str, **fields: Any) -> None:
        self.events.append({"id": f"e{len(self.events):03d}", "type": type_, "ts": ts,
                            "visitor": visitor, **fields})

    def invite(self, ts: str, visitor: str, trigger: str) -> None:
        self.add("request", ts, visitor, request=f"r{len(self.events)}", channel="text",
                 initiator="auto", trigger=trigger)

    def order(self, ts: str, visitor: str, value: str) -> None:
        self.add("order", ts, visitor, order=f"o{len(self.events)}", subtotal=value)

    def report(self, as_of: datetime, **kwargs: Any) -> dict[str, Any]:
        tracker = Tracker(clock=FixedClock(as_of))
        result = tracker.record_many(self.events)
        assert 0 == result.rejected, [str(o.error) for o in result.errors]
        report: dict[str, Any] = tracker.report(as_of=as_of, **kwargs).to_dict()
        expected = reference_report([parse_event(e) for e in self.events], as_of=as_of, **kwargs)
        assert_reports_equal(report, expected)
        return report


class TestNewcombePublishedExamples:
    """Method 10 of Newcombe (1998), Statistics in Medicine 17:873-890, Table II, examples (a)-(h)."""

    @pytest.mark.parametrize(("counts", "expected"), [
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.0582, 0.8062)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
        ((0, 10, 0, 10), (-0.2775, 0.2775)),
        ((10, 10, 0, 20), (0.6791, 1.0)),
        ((10, 10, 0, 10), (0.6075, 1.0)),
    ])
    def test_table_ii(self, counts: tuple[int, int, int, int],
                      expected: tuple[float, float]) -> None:
        assert expected == tuple(round(x, 4) for x in newcombe_interval(*counts))


class TestExperiments:
    """Arms by first exposure, conversions at the window's edges, empty arms."""

    def setup_method(self) -> None:
        log = Log()
        # trigger "help": v1, v2 invited; v3, v4 held out; all exposed at T0.
        for visitor in ("v1", "v2"):
            log.invite(at(), visitor, "help")
        for visitor in ("v3", "v4"):
            log.add("holdout", at(), visitor, trigger="help", url="/help")
        log.order(at(WEEK), "v1", "40")  # exactly exposure + window: converted
        log.order(at(WEEK + MICRO), "v2", "99")  # one microsecond late: not converted
        log.order(at(), "v3", "30")  # at the exposure instant: converted
        log.order(at(-MICRO), "v4", "77")  # just before the exposure: not converted
        # v5: held out first, invited an hour later: counts as held out only.
        log.add("holdout", at(hours=1), "v5", trigger="help")
        log.invite(at(hours=2), "v5", "help")
        # trigger "promo": invitations only, so the held-out arm is empty.
        log.invite(at(hours=3), "v6", "promo")
        log.order(at(hours=4), "v6", "25")
        # an exposure before the range does not count.
        log.add("holdout", at(days=-1), "v7", trigger="help")
        self.log = log

    def rows(self) -> dict[str, dict[str, Any]]:
        report = self.log.report(T0 + timedelta(days=30), start=T0, end=T0 + timedelta(days=1))
        return {row["trigger"]: row for row in report["experiments"]}

    def test_help_row(self) -> None:
        row = self.rows()["help"]
        # Invited v1 (converted, 40) and v2; held out v3 (converted, 30), v4 and v5.
        expected = {
            "trigger": "help", "invited": 2, "held_out": 3,
            "invited_converted": 1, "held_out_converted": 1,
            "invited_conversion_rate": 0.5, "held_out_conversion_rate": 1 / 3,
            "lift": 0.5 - 1 / 3,
            "invited_gmv_per_visitor": Decimal(20), "held_out_gmv_per_visitor": Decimal(10),
            "incremental_gmv": Decimal(20),  # (20 - 10) * 2
        }
        assert expected == {k: row[k] for k in expected}

    def test_interval_by_hand(self) -> None:
        # Wilson for 1/2: (0.5 + z^2/4 -+ z sqrt(1/8 + z^2/16)) / (1 + z^2/2) = 0.0945, 0.9055;
        # for 1/3: 0.0615, 0.7923. Low = 1/6 - sqrt(0.4055^2 + 0.4590^2) = -0.4458;
        # high = 1/6 + sqrt(0.4055^2 + 0.2718^2) = 0.6548.
        expected = [-0.4458, 0.6548]
        assert expected == [round(x, 4) for x in self.rows()["help"]["lift_ci95"]]

    def test_empty_arm_gives_nulls(self) -> None:
        row = self.rows()["promo"]
        expected = {
            "invited": 1, "held_out": 0, "invited_converted": 1, "held_out_converted": 0,
            "invited_conversion_rate": 1.0, "held_out_conversion_rate": None, "lift": None,
            "lift_ci95": None, "invited_gmv_per_visitor": Decimal(25),
            "held_out_gmv_per_visitor": None, "incremental_gmv": None,
        }
        assert expected == {k: row[k] for k in expected}

    def test_sorted_by_trigger_and_only_triggers_in_range(self) -> None:
        assert ["help", "promo"] == list(self.rows())

    def test_no_exposures_no_rows(self) -> None:
        log = Log()
        log.add("page_view", at(), "v1", url="/")
        assert [] == log.report(T0 + timedelta(hours=1))["experiments"]


class TestIncrementalGmvIsExact:
    """Incremental GMV is exact money, not a product of rounded per-visitor averages."""

    def test_thirds_do_not_leave_a_rounding_tail(self) -> None:
        log = Log()
        for visitor in ("a", "b", "c"):
            log.invite(at(), visitor, "help")
        for visitor in ("d", "e", "f"):
            log.add("holdout", at(), visitor, trigger="help")
        log.order(at(minutes=1), "a", "10.00")
        row = log.report(T0 + timedelta(days=30))["experiments"][0]
        # invited: 10.00 over 3 visitors; held out: nothing. (10/3 - 0) * 3 = 10 exactly.
        expected = Decimal("10.00")
        assert expected == row["incremental_gmv"]

    def test_equal_arms_give_the_difference_of_their_sums(self) -> None:
        log = Log()
        for visitor in ("a", "b", "c"):
            log.invite(at(), visitor, "help")
        for visitor in ("d", "e", "f"):
            log.add("holdout", at(), visitor, trigger="help")
        log.order(at(minutes=1), "a", "20.00")
        log.order(at(minutes=1), "d", "10.00")
        row = log.report(T0 + timedelta(days=30))["experiments"][0]
        # (20/3 - 10/3) * 3 = 20.00 - 10.00 = 10 exactly.
        expected = Decimal("10.00")
        assert expected == row["incremental_gmv"]


class TestWaitWithoutCensoring:
    """With every request decided, the curves are plain fractions of all requests."""

    def test_plain_fractions(self) -> None:
        log = Log()
        for number in range(4):
            created = at(hours=number)
            log.add("request", created, f"v{number}", request=f"q{number}", channel="text",
                    initiator="visitor")
        log.add("message", at(hours=0, seconds=10), "v0", request="q0", sender="agent", agent="a")
        log.add("message", at(hours=1, seconds=20), "v1", request="q1", sender="agent", agent="a")
        log.add("request_end", at(hours=2, seconds=40), "v2", request="q2", reason="cancelled")
        # q3: nothing more; its visitor leaves 120 s after their last event (the request).
        wait = log.report(T0 + timedelta(days=1))["support"]["wait"]
        expected = {
            "requests": 4, "answered": 2, "abandoned": 2, "still_waiting": 0,
            "answered_within": {"15": 0.25, "30": 0.5, "60": 0.5, "120": 0.5, "300": 0.5},
            "abandoned_within": {"15": 0.0, "30": 0.0, "60": 0.25, "120": 0.5, "300": 0.5},
            "median_answer_seconds": 20.0,
        }
        assert expected == wait

    def test_response_and_end_at_the_same_instant_is_answered(self) -> None:
        log = Log()
        log.add("request", at(), "v1", request="q", channel="text", initiator="visitor")
        log.add("request_end", at(seconds=30), "v1", request="q", reason="closed")
        log.add("message", at(seconds=30), "v1", request="q", sender="agent", agent="a")
        wait = log.report(T0 + timedelta(hours=1))["support"]["wait"]
        expected = (1, 0, 30.0)
        assert expected == (wait["answered"], wait["abandoned"], wait["median_answer_seconds"])

    def test_no_visitor_requests_all_null(self) -> None:
        log = Log()
        log.invite(at(), "v1", "help")
        wait = log.report(T0 + timedelta(hours=1))["support"]["wait"]
        expected = {"15": None, "30": None, "60": None, "120": None, "300": None}
        assert (0, expected, expected, None) == (
            wait["requests"], wait["answered_within"], wait["abandoned_within"],
            wait["median_answer_seconds"])


class TestWaitWithCensoring:
    """A still-waiting request is censored at its age; checked against a hand computation."""

    def test_hand_computed_aalen_johansen(self) -> None:
        as_of = T0 + timedelta(hours=5)
        log = Log()

        def request(visitor: str, created: datetime) -> None:
            log.add("request", format_ts(created), visitor, request=f"q-{visitor}",
                    channel="text", initiator="visitor")

        request("a", T0)  # answered at 10 s
        log.add("message", at(seconds=10), "a", request="q-a", sender="agent", agent="x")
        request("b", as_of - timedelta(seconds=30))  # still waiting: censored at 30 s
        request("c", T0 + timedelta(hours=1))  # answered at 50 s
        log.add("message", at(hours=1, seconds=50), "c", request="q-c", sender="agent", agent="x")
        request("d", T0 + timedelta(hours=2))  # ended unanswered at 60 s
        log.add("request_end", at(hours=2, seconds=60), "d", request="q-d", reason="cancelled")
        request("e", T0 + timedelta(hours=3))  # answered at 60 s, tied with d
        log.add("message", at(hours=3, seconds=60), "e", request="q-e", sender="agent", agent="x")
        wait = log.report(as_of)["support"]["wait"]
        # n = 5. t=10: F_ans = 1/5, S = 4/5. t=30: b censored, 3 at risk.
        # t=50: F_ans += 4/5 * 1/3 = 7/15, S = 8/15. t=60 (2 at risk, one of each):
        # F_ans += 8/15 * 1/2 -> 11/15, F_ab = 8/15 * 1/2 = 4/15.
        expected = {
            "requests": 5, "answered": 3, "abandoned": 1, "still_waiting": 1,
            "answered_within": {"15": 0.2, "30": 0.2, "60": 11 / 15, "120": 11 / 15,
                                "300": 11 / 15},
            "abandoned_within": {"15": 0.0, "30": 0.0, "60": 4 / 15, "120": 4 / 15,
                                 "300": 4 / 15},
            "median_answer_seconds": 60.0,  # 7/15 < 1/2 at 50 s, 11/15 at 60 s
        }
        assert expected == wait

    def test_exact_steps(self) -> None:
        curve = cumulative_incidence([("answered", 10), ("waiting", 30), ("answered", 50),
                                      ("abandoned", 60), ("answered", 60)])
        expected = [(10, Fraction(1, 5), Fraction(0)), (50, Fraction(7, 15), Fraction(0)),
                    (60, Fraction(11, 15), Fraction(4, 15))]
        assert expected == curve

    def test_censoring_at_an_event_time_keeps_the_request_at_risk(self) -> None:
        # Events before censoring: at t=10 both requests are at risk, F = 1/2.
        curve = cumulative_incidence([("answered", 10), ("waiting", 10)])
        assert [(10, Fraction(1, 2), Fraction(0))] == curve


class TestHumanReport:
    """The text report shows the wait curves and one line per experiment."""

    def test_sections(self) -> None:
        from whoson.cli.render import render_report

        log = Log()
        log.invite(at(), "v1", "help\u202e")
        log.order(at(hours=1), "v1", "40")
        log.add("holdout", at(), "v2", trigger="help\u202e")
        log.add("request", at(), "v3", request="q", channel="text", initiator="visitor")
        tracker = Tracker(clock=FixedClock(T0 + timedelta(days=1)))
        tracker.record_many(log.events)
        text = render_report(tracker.report())
        line = next(row for row in text.splitlines() if row.startswith("help"))
        # v1 converted (100%), v2 not (0%): +100 pp. Wilson for 1/1 is [1/(1+z^2), 1] and
        # for 0/1 [0, z^2/(1+z^2)] = [0, 0.7935], so low = 1 - sqrt(2) * 0.7935 = -0.1222.
        expected = ["help\\u202e", "1", "100.0%", "1", "0.0%", "+100.0", "pp", "-12.2", "pp",
                    "..", "+100.0", "pp", "40.00"]
        assert expected == line.split()
        assert "  answered / abandoned / still waiting  0 / 1 / 0" in text.splitlines()

    def test_still_waiting_requests_are_explained(self) -> None:
        from whoson.cli.render import render_report

        log = Log()
        log.add("request", at(), "v1", request="q", channel="text", initiator="visitor")
        log.add("heartbeat", at(seconds=50), "v1", url="/")
        tracker = Tracker(clock=FixedClock(T0 + timedelta(seconds=90)))
        tracker.record_many(log.events)
        lines = render_report(tracker.report()).splitlines()
        # As of 90 s the visitor is still on (last seen at 50 s) and nobody has answered.
        assert "  median time to an answer              - (not reached: under half of the requests answered)" in lines
        assert ("1 still waiting: counted up to their wait so far (censored), so the shares are "
                "estimates; none is counted as answered or abandoned yet") in lines
