"""Hypothesis properties of the production report: it equals the independent
reference (tests/reference.py) and keeps every invariant listed in metrics.md."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reference import reference_report
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
from tests.strategies import ANCHORS, SPAN_MINUTES, Scenario, scenarios, shuffled_with_duplicates
from whoson import FixedClock, Tracker
from whoson.core.events import Event


def fresh_tracker(scenario: Scenario) -> Tracker:
    return Tracker(clock=FixedClock(scenario.as_of), tz=scenario.tz, rating_scale=scenario.scale)


def production_report(scenario: Scenario, events: list[Event] | None = None,
                      **overrides: Any) -> dict[str, Any]:
    """Feed ``events`` (default: the scenario's) to a fresh tracker and report."""
    tracker = fresh_tracker(scenario)
    result = tracker.record_many(scenario.events if events is None else events)
    assert result.rejected == 0, [str(o.error) for o in result.errors]
    report: dict[str, Any] = tracker.report(**scenario.report_kwargs(**overrides)).to_dict()
    return report


def static_report(scenario: Scenario) -> dict[str, Any]:
    return production_report(scenario)


class TestMatchesReference:
    """The production report equals the reference derivation, key by key."""

    @given(scenarios())
    def test_random_streams(self, scenario: Scenario) -> None:
        expected = reference_report(scenario.events, **scenario.report_kwargs())
        assert_reports_equal(production_report(scenario), expected)

    @given(scenarios(ranged=False, vary_params=False))
    def test_default_parameters_and_range(self, scenario: Scenario) -> None:
        expected = reference_report(
            scenario.events, tz=scenario.tz, as_of=scenario.as_of, rating_scale=scenario.scale
        )
        tracker = fresh_tracker(scenario)
        tracker.record_many(scenario.events)
        assert_reports_equal(tracker.report(as_of=scenario.as_of).to_dict(), expected)


class TestRatesInUnitInterval:
    """Every rate is a fraction in [0, 1], or None when its denominator is empty."""

    @given(scenarios())
    def test_rates(self, scenario: Scenario) -> None:
        check_rates_in_unit_interval(static_report(scenario))


class TestConversationsBounded:
    """conversations.total <= requests.total - pending."""

    @given(scenarios())
    def test_bound(self, scenario: Scenario) -> None:
        check_conversations_bounded(static_report(scenario))


class TestClickWithinImpression:
    """Visitors who clicked the widget are among those who saw it."""

    @given(scenarios())
    def test_bound(self, scenario: Scenario) -> None:
        check_click_within_impression(static_report(scenario))


class TestDistributionSum:
    """The rating distribution adds up to ratings.count."""

    @given(scenarios())
    def test_sum(self, scenario: Scenario) -> None:
        check_distribution_sum(static_report(scenario))


class TestDailyRowsSum:
    """Daily (and hourly, and per-agent daily) rows add up to the range totals."""

    @given(scenarios())
    def test_sums(self, scenario: Scenario) -> None:
        check_daily_sums(static_report(scenario))


class TestAgentOrdersSum:
    """Agents' attributed orders add up to sales.attributed_orders."""

    @given(scenarios())
    def test_sum(self, scenario: Scenario) -> None:
        check_agent_orders_add_up(static_report(scenario))


class TestArrivalOrderAndDuplicates:
    """Shuffling the stream and delivering some events twice changes nothing."""

    @given(scenarios().flatmap(
        lambda s: shuffled_with_duplicates(s.events).map(lambda events: (s, events))))
    def test_same_report(self, case: tuple[Scenario, list[Event]]) -> None:
        scenario, delivered = case
        assert_reports_equal(production_report(scenario, delivered), static_report(scenario))


@st.composite
def split_points(draw: st.DrawFn) -> tuple[Scenario, datetime, datetime, datetime]:
    scenario = draw(scenarios(ranged=False))
    anchor = min(ANCHORS, key=lambda a: abs(a - scenario.events[0].ts))
    offsets = sorted(draw(st.lists(
        st.integers(-60, SPAN_MINUTES + 60), min_size=3, max_size=3)))
    lo, mid, hi = (anchor + timedelta(minutes=m) for m in offsets)
    return scenario, lo, mid, hi


class TestSplitRangeAdditivity:
    """Reports on [a, m) and [m, b) add up to the report on [a, b) for additive counts."""

    @given(split_points())
    def test_adds_up(self, case: tuple[Scenario, datetime, datetime, datetime]) -> None:
        scenario, lo, mid, hi = case
        whole = additive_counts(production_report(scenario, start=lo, end=hi))
        left = additive_counts(production_report(scenario, start=lo, end=mid))
        right = additive_counts(production_report(scenario, start=mid, end=hi))
        assert whole == {key: left[key] + right[key] for key in whole}

    @given(scenarios(ranged=False))
    def test_open_ended_halves(self, scenario: Scenario) -> None:
        mid = sorted(e.ts for e in scenario.events)[len(scenario.events) // 2]
        whole = additive_counts(production_report(scenario))
        left = additive_counts(production_report(scenario, end=mid))
        right = additive_counts(production_report(scenario, start=mid))
        assert whole == {key: left[key] + right[key] for key in whole}


class TestIncrementalEqualsFromScratch:
    """A tracker fed event by event, reporting in between, ends where a fresh one starts."""

    @settings(max_examples=50)
    @given(scenarios().flatmap(
        lambda s: st.tuples(st.just(s), shuffled_with_duplicates(s.events), st.randoms())))
    def test_incremental(self, case: tuple[Scenario, list[Event], random.Random]) -> None:
        scenario, delivered, rnd = case
        tracker = fresh_tracker(scenario)
        kwargs = scenario.report_kwargs()
        for event in delivered:
            tracker.record(event)
            if rnd.random() < 0.2:
                tracker.report(**kwargs)
        assert_reports_equal(tracker.report(**kwargs).to_dict(), static_report(scenario))
