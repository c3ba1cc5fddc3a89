"""Hypothesis properties of breakdowns, pages and comparison (analysis.md): production equals
the independent reference, incremental upkeep equals a recomputation, and sums agree."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reference import reference_report
from tests.report_checks import assert_reports_equal
from tests.strategies import Scenario, scenarios, shuffled_with_duplicates
from whoson import FixedClock, Tracker
from whoson.core.events import Event
from whoson.core.projection import Projection
from whoson.metrics.breakdowns import DIMENSIONS, REQUEST_DIMENSIONS, SESSION_DIMENSIONS
from whoson.metrics.report import build_report

dimensions = st.sampled_from(DIMENSIONS)


def _tracker(scenario: Scenario, events: list[Event] | None = None) -> Tracker:
    tracker = Tracker(clock=FixedClock(scenario.as_of), tz=scenario.tz, rating_scale=scenario.scale)
    result = tracker.record_many(scenario.events if events is None else events)
    assert result.rejected == 0, [str(o.error) for o in result.errors]
    return tracker


def _report(scenario: Scenario, **overrides: Any) -> dict[str, Any]:
    report: dict[str, Any] = _tracker(scenario).report(
        **scenario.report_kwargs(**overrides)).to_dict()
    return report


def _scratch(scenario: Scenario, by: str) -> dict[str, Any]:
    """The report computed without any ledger: every visitor afresh for the range."""
    tracker = Tracker(clock=FixedClock(scenario.as_of), tz=scenario.tz, rating_scale=scenario.scale)
    projection = Projection()
    for event in {e.id: e for e in scenario.events}.values():
        if event.ts <= scenario.as_of:
            projection.apply(event)
    kwargs = scenario.report_kwargs()
    params = tracker.report_params(kwargs.pop("start"), kwargs.pop("end"), **kwargs)
    return build_report(projection, params, by=by).to_dict()


class TestBreakdownMatchesReference:
    """Breakdown rows equal the reference derivation for every dimension."""

    @given(scenarios(), dimensions)
    def test_random_streams(self, scenario: Scenario, by: str) -> None:
        expected = reference_report(scenario.events, **scenario.report_kwargs(by=by))
        assert_reports_equal(_report(scenario, by=by), expected)


class TestCompareMatchesReference:
    """``previous`` and ``change`` equal the reference's, for dates and instants alike."""

    @settings(max_examples=40)
    @given(scenarios().filter(lambda s: s.start is not None and s.end is not None), dimensions)
    def test_previous(self, scenario: Scenario, by: str) -> None:
        kwargs = scenario.report_kwargs(by=by, compare="previous")
        assert_reports_equal(_report(scenario, by=by, compare="previous"),
                             reference_report(scenario.events, **kwargs))

    @settings(max_examples=20)
    @given(scenarios(ranged=False))
    def test_explicit_range(self, scenario: Scenario) -> None:
        first = min(e.ts for e in scenario.events)
        window = (first, first + timedelta(hours=30))
        assert_reports_equal(
            _report(scenario, compare=window),
            reference_report(scenario.events, **scenario.report_kwargs(compare=window)))


class TestIncrementalBreakdownEqualsScratch:
    """A breakdown kept by the ledger while events arrive equals one computed afresh."""

    @settings(max_examples=40)
    @given(scenarios().flatmap(lambda s: st.tuples(
        st.just(s), shuffled_with_duplicates(s.events), st.randoms(use_true_random=False))),
        dimensions)
    def test_incremental(self, case: tuple[Scenario, list[Event], random.Random], by: str) -> None:
        scenario, delivered, rnd = case
        tracker = Tracker(clock=FixedClock(scenario.as_of), tz=scenario.tz,
                          rating_scale=scenario.scale)
        kwargs = scenario.report_kwargs(by=by)
        for event in delivered:
            tracker.record(event)
            if rnd.random() < 0.2:
                tracker.report(**kwargs)
        assert_reports_equal(tracker.report(**kwargs).to_dict(), _scratch(scenario, by))


class TestBreakdownSums:
    """Rows add up to the report where every entity has exactly one value."""

    @given(scenarios(), dimensions)
    def test_partition(self, scenario: Scenario, by: str) -> None:
        report = _report(scenario, by=by)
        rows = report["breakdown"]
        # Every request, conversation and attributed order has exactly one value.
        assert sum(r["requests"] for r in rows) == report["requests"]["total"]
        assert sum(r["conversations"] for r in rows) == report["conversations"]["total"]
        assert sum(r["attributed_orders"] for r in rows) == report["sales"]["attributed_orders"]
        assert (sum((r["attributed_gmv"] for r in rows), Decimal(0))
                == report["sales"]["attributed_gmv"])
        assert [r["value"] for r in rows] == sorted(
            (r["value"] for r in rows), key=lambda v: (-next(
                x["visitors"] for x in rows if x["value"] == v), v))
        for row in rows:
            assert row["with_click"] <= row["with_impression"] <= row["visitors"]
            assert row["visitors"] <= report["visitors"]["total"]
        if by in SESSION_DIMENSIONS and report["visitors"]["total"]:
            # Every in-range event is in one session: each visitor is in some value.
            assert max(r["visitors"] for r in rows) <= report["visitors"]["total"] <= sum(
                r["visitors"] for r in rows)
        if by in REQUEST_DIMENSIONS:
            assert all(r["visitors"] or r["attributed_orders"] for r in rows)


class TestPagesSums:
    """Pages never count more than the report: views, viewers and requests per url."""

    @given(scenarios())
    def test_bounds(self, scenario: Scenario) -> None:
        report = _report(scenario)
        urls = [p["url"] for p in report["pages"]]
        assert len(urls) == len(set(urls))
        for page in report["pages"]:
            assert 1 <= page["visitors"] <= min(page["page_views"], report["visitors"]["total"])
            assert page["conversations"] <= page["requests"] <= report["requests"]["total"]
            assert page["chat_rate"] is not None
            assert 0 <= page["chat_rate"] <= 1
        top = {u["url"]: u["requests"] for u in report["requests"]["top_urls"]}
        for page in report["pages"]:
            if page["url"] in top:
                assert page["requests"] == top[page["url"]]
