"""River's habit: the incremental figures equal the batch formula at every prefix of a stream.

A tracker is fed a stream one event at a time (its ledger takes each
visitor's contribution back out and adds the fresh one); after every single
event its report equals the independent reference (tests/reference.py)
computed from the events delivered so far, not only at the end.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reference import reference_report
from tests.report_checks import assert_reports_equal
from tests.strategies import Scenario, scenarios, shuffled_with_duplicates
from whoson import FixedClock, Tracker
from whoson.core.events import Event
from whoson.metrics.breakdowns import DIMENSIONS

# Small streams, few examples: every example reports once per event, twice over.
_EXAMPLES = 12


def _delivered(scenario: Scenario) -> st.SearchStrategy[tuple[Scenario, list[Event]]]:
    return shuffled_with_duplicates(scenario.events).map(lambda events: (scenario, events))


def _check_every_prefix(scenario: Scenario, delivered: list[Event], **extra: Any) -> None:
    # as_of at the newest event of the whole stream: every prefix is read from the ledger.
    as_of = max(e.ts for e in scenario.events)
    kwargs = scenario.report_kwargs(as_of=as_of, **extra)
    tracker = Tracker(clock=FixedClock(as_of), tz=scenario.tz, rating_scale=scenario.scale)
    assert tracker._ledger.serves(tracker.report_params(scenario.start, scenario.end, as_of=as_of))
    for count, event in enumerate(delivered, start=1):
        assert tracker.record_many([event]).rejected == 0
        expected = reference_report(delivered[:count], **kwargs)
        assert_reports_equal(tracker.report(**kwargs).to_dict(), expected, f"after {count} events")


class TestEveryPrefix:
    """After each event of a stream, the incremental report equals the reference of the prefix."""

    @settings(max_examples=_EXAMPLES)
    @given(scenarios(vary_params=False).flatmap(_delivered))
    def test_report(self, case: tuple[Scenario, list[Event]]) -> None:
        """Every figure, in any zone and range (bounds in mid-slot too), arrivals shuffled and repeated."""
        scenario, delivered = case
        _check_every_prefix(scenario, delivered)

    @settings(max_examples=_EXAMPLES)
    @given(scenarios(vary_params=False).flatmap(_delivered), st.sampled_from(DIMENSIONS))
    def test_breakdown(self, case: tuple[Scenario, list[Event]], by: str) -> None:
        """The breakdown's followed tallies, kept up to date event by event, equal the reference too."""
        scenario, delivered = case
        _check_every_prefix(scenario, delivered, by=by)
