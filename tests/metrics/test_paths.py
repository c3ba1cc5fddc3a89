"""Every report path (ledger, spare ledgers of other windows, the ledger turned back to a past
as_of) writes the same bytes as a report computed from scratch on the events up to as_of."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import Scenario, scenarios, shuffled_with_duplicates
from whoson import FixedClock, Tracker
from whoson.codec import dumps
from whoson.core.events import Event
from whoson.core.projection import Projection
from whoson.metrics import ledger
from whoson.metrics.report import build_report
from whoson.metrics.reporter import SPARE_LEDGERS

_EXAMPLES = 60


def _tracker(scenario: Scenario) -> Tracker:
    return Tracker(clock=FixedClock(scenario.as_of), tz=scenario.tz, rating_scale=scenario.scale)


def _scratch(tracker: Tracker, delivered: list[Event], kwargs: dict[str, Any]) -> str:
    """The oracle: a fresh projection of the events up to as_of, every contribution computed afresh."""
    params = tracker.report_params(kwargs["start"], kwargs["end"],
                                   **{k: v for k, v in kwargs.items() if k not in ("start", "end")})
    projection = Projection()
    for event in {e.id: e for e in delivered}.values():
        if event.ts <= params.as_of:
            projection.apply(event)
    return dumps(build_report(projection, params).to_dict())


def _report(tracker: Tracker, kwargs: dict[str, Any]) -> str:
    return dumps(tracker.report(**kwargs).to_dict())


# Past views turn the ledger back (1.0), build afresh (0.0), or choose by the default share.
_SHARES = st.sampled_from((1.0, 0.0, ledger.FRESH_SHARE))


@contextmanager
def _fresh_share(share: float) -> Iterator[None]:
    kept = ledger.FRESH_SHARE
    ledger.FRESH_SHARE = share
    try:
        yield
    finally:
        ledger.FRESH_SHARE = kept


def _delivered(scenario: Scenario) -> st.SearchStrategy[tuple[Scenario, list[Event]]]:
    return shuffled_with_duplicates(scenario.events).map(lambda events: (scenario, events))


class TestEveryPathEqualsScratch:
    """Random streams, as_of, windows, zones and (mid-slot) ranges: every path's bytes equal scratch."""

    @settings(max_examples=_EXAMPLES, deadline=None)
    @given(scenarios(vary_params=True).flatmap(_delivered), _SHARES)
    def test_one_report(self, case: tuple[Scenario, list[Event]], share: float) -> None:
        """A report with random parameters (past as_of and other windows included) equals scratch."""
        scenario, delivered = case
        tracker = _tracker(scenario)
        assert tracker.record_many(delivered).rejected == 0
        kwargs = scenario.report_kwargs()
        with _fresh_share(share):
            assert _scratch(tracker, delivered, kwargs) == _report(tracker, kwargs)

    @settings(max_examples=_EXAMPLES, deadline=None)
    @given(scenarios(vary_params=True).flatmap(_delivered), st.integers(0, 100), st.integers(-90, 30), _SHARES)
    def test_kept_up_to_date(self, case: tuple[Scenario, list[Event]], cut: int, back: int, share: float) -> None:
        """A spare ledger built by one report follows later events; a past as_of before and after
        them, and the default report in between, all equal scratch."""
        scenario, delivered = case
        tracker = _tracker(scenario)
        split = len(delivered) * cut // 100
        kwargs = scenario.report_kwargs()
        assert tracker.record_many(delivered[:split]).rejected == 0
        assert _scratch(tracker, delivered[:split], kwargs) == _report(tracker, kwargs)
        assert tracker.record_many(delivered[split:]).rejected == 0
        plain = {k: v for k, v in kwargs.items() if k not in scenario.params}
        assert _scratch(tracker, delivered, plain) == _report(tracker, plain)
        earlier = scenario.report_kwargs(as_of=scenario.as_of + timedelta(minutes=back))
        with _fresh_share(share):
            assert _scratch(tracker, delivered, earlier) == _report(tracker, earlier)
        assert _scratch(tracker, delivered, kwargs) == _report(tracker, kwargs)

    @settings(max_examples=20, deadline=None)
    @given(scenarios(vary_params=False).flatmap(_delivered), st.lists(st.integers(-120, 30), max_size=4))
    def test_many_past_instants(self, case: tuple[Scenario, list[Event]], minutes: list[int]) -> None:
        """Reports at several past as_of (ledger turned back), one after another, leave the ledger as it was."""
        scenario, delivered = case
        tracker = _tracker(scenario)
        assert tracker.record_many(delivered).rejected == 0
        with _fresh_share(1.0):
            for offset in [*minutes, 0]:
                kwargs = scenario.report_kwargs(as_of=scenario.as_of + timedelta(minutes=offset))
                assert _scratch(tracker, delivered, kwargs) == _report(tracker, kwargs)


class TestSpareLedgers:
    """Ledgers of other windows are kept, the least recently used dropped beyond the limit."""

    def test_least_recently_used_is_dropped(self) -> None:
        """Asking for one window more than the limit drops the one asked for longest ago."""
        tracker = Tracker()
        tracker.record({"id": "1", "type": "page_view", "ts": "2026-03-01T10:00:00Z",
                        "visitor": "v", "url": "/"})
        windows = [f"{hours}h" for hours in range(1, SPARE_LEDGERS + 2)]
        for window in windows:
            tracker.report(attribution_window=window)
        kept = [settings.attribution_window for settings in tracker._reporter.spare]
        expected = [timedelta(hours=hours) for hours in range(2, SPARE_LEDGERS + 2)]
        assert expected == kept
