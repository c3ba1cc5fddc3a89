"""The incremental ledger equals a from-scratch recomputation, whatever the arrival order."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.report_checks import assert_reports_equal
from tests.strategies import event_streams, shuffled_with_duplicates
from whoson import FixedClock, Tracker
from whoson.core.events import Event
from whoson.core.projection import Projection
from whoson.core.settings import RatingScale
from whoson.metrics.contributions import Settings, slot_of, slot_start
from whoson.metrics.ledger import Ledger, from_scratch
from whoson.metrics.report import build_report
from whoson.metrics.tally import Tally

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")


def _as_of(events: list[Event]) -> datetime:
    return max(e.ts for e in events) + timedelta(minutes=3)


def _scratch(events: list[Event], as_of: datetime, **kwargs: object) -> dict[str, object]:
    projection = Projection()
    for event in {e.id: e for e in events}.values():
        projection.apply(event)
    tracker = Tracker(clock=FixedClock(as_of))
    params = tracker.report_params(as_of=as_of, **kwargs)  # type: ignore[arg-type]
    return build_report(projection, params).to_dict()


class TestIncrementalEqualsScratch:
    """Slots kept event by event, with reports in between, read like a fresh recomputation."""

    @given(
        st.data(),
        event_streams(scale=RatingScale()),
        st.sampled_from(ZONES),
        st.randoms(use_true_random=False),
    )
    def test_interleaved_reports(
        self, data: st.DataObject, events: list[Event], tz: str, rnd: random.Random
    ) -> None:
        """Reports taken between arrivals (in several zones, filling their day caches) force
        retractions and cache invalidations; the end result is unchanged."""
        delivered = data.draw(shuffled_with_duplicates(events))
        as_of = _as_of(events)
        tracker = Tracker(clock=FixedClock(as_of))
        params = tracker.report_params(as_of=as_of, tz=tz)
        assert tracker._ledger.serves(params)
        for event in delivered:
            assert tracker.record_many([event]).rejected == 0
            if rnd.random() < 0.3:
                tracker.report(as_of=as_of, tz=rnd.choice(ZONES))
        assert_reports_equal(tracker.report(as_of=as_of, tz=tz).to_dict(),
                             _scratch(events, as_of, tz=tz))

    @given(event_streams(scale=RatingScale()), st.sampled_from(ZONES))
    def test_date_bounds_read_slots(self, events: list[Event], tz: str) -> None:
        """Date bounds fall on slot boundaries in every zone, so they read slots too."""
        as_of = _as_of(events)
        first = min(e.ts for e in events).date()
        start, end = first, first + timedelta(days=1)
        tracker = Tracker(clock=FixedClock(as_of))
        assert tracker.record_many(events).rejected == 0
        params = tracker.report_params(start, end, as_of=as_of, tz=tz)
        assert tracker._ledger.serves(params)
        assert_reports_equal(tracker.report(start, end, as_of=as_of, tz=tz).to_dict(),
                             _scratch(events, as_of, start=start, end=end, tz=tz))

    @given(
        event_streams(scale=RatingScale()),
        st.sampled_from(ZONES),
        st.integers(0, 3 * 24 * 3600),
        st.integers(1, 2 * 24 * 3600),
        st.booleans(),
    )
    def test_bounds_inside_slots(
        self, events: list[Event], tz: str, offset: int, length: int, open_end: bool
    ) -> None:
        """Instants inside slots (as in "the last 24 hours") read the ledger and equal scratch."""
        as_of = _as_of(events)
        start = min(e.ts for e in events) - timedelta(hours=12) + timedelta(seconds=offset)
        end = None if open_end else start + timedelta(seconds=length)
        tracker = Tracker(clock=FixedClock(as_of))
        assert tracker.record_many(events).rejected == 0
        tracker.report(as_of=as_of, tz=tz)  # fill the day cache first
        params = tracker.report_params(start, end, as_of=as_of, tz=tz)
        assert tracker._ledger.serves(params)
        assert_reports_equal(tracker.report(start, end, as_of=as_of, tz=tz).to_dict(),
                             _scratch(events, as_of, start=start, end=end, tz=tz))

    @settings(max_examples=30)
    @given(event_streams(scale=RatingScale()))
    def test_retracting_everything_leaves_nothing(self, events: list[Event]) -> None:
        """Taking every visitor's contribution back out leaves only empty tallies."""
        projection = Projection()
        ledger = Ledger(projection, Settings())
        for event in {e.id: e for e in events if e.visitor is not None}.values():
            ledger.before_apply(event)
            projection.apply(event)
        ledger.catch_up()
        for visitor in list(projection.timelines):
            ledger._touch(visitor)
        assert all(tally.is_empty() for tally in ledger.slots.values())


class TestServes:
    """The ledger answers only the reports its slots can answer exactly."""

    def setup_method(self) -> None:
        self.tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))
        self.tracker.record({"id": "1", "type": "page_view", "ts": "2026-03-01T10:00:00Z",
                             "visitor": "v", "url": "/"})

    def serves(self, *args: object, **kwargs: object) -> bool:
        params = self.tracker.report_params(*args, **kwargs)  # type: ignore[arg-type]
        return self.tracker._ledger.serves(params)

    def test_defaults(self) -> None:
        """The default report reads slots."""
        assert self.serves()

    def test_unaligned_bound(self) -> None:
        """A bound inside a slot is served too: only that slot's visitors are recomputed."""
        assert self.serves(datetime(2026, 3, 1, 10, 7, tzinfo=UTC))

    def test_other_windows(self) -> None:
        """Slots hold contributions for the tracker's windows only."""
        assert not self.serves(attribution_window="3d")
        assert not self.serves(fcr_window="1h")
        assert not self.serves(session_timeout="10m")

    def test_as_of_before_newest_event(self) -> None:
        """A report as of the past replays the store instead."""
        assert not self.serves(as_of="2026-03-01T09:00:00Z")

    def test_half_hour_zone_midnight_is_aligned(self) -> None:
        """Local midnight in Kolkata (UTC+05:30) is a slot boundary."""
        assert self.serves(date(2026, 3, 1), tz="Asia/Kolkata")


class TestSlots:
    """Slots are 15 minutes of UTC."""

    def test_round_trip(self) -> None:
        """A slot's start lies in that slot, and the next slot starts 15 minutes later."""
        moment = datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC)
        slot = slot_of(moment)
        assert slot_start(slot) == datetime(2026, 10, 25, 0, 45, tzinfo=UTC)
        assert slot_start(slot + 1) - slot_start(slot) == timedelta(minutes=15)

    def test_scratch_keeps_only_range(self) -> None:
        """The from-scratch path drops entities anchored outside an unaligned range."""
        tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))
        tracker.record_many([
            {"id": str(n), "type": "widget_impression", "ts": f"2026-03-01T10:0{n}:00Z",
             "visitor": f"v{n}"} for n in range(4)
        ])
        params = tracker.report_params("2026-03-01T10:01:30Z", "2026-03-01T10:03:00Z")
        slots = from_scratch(tracker.projection, params)
        seen = Tally.merged(slots.values()).multiset("seen")
        assert {"v2": 1} == seen
