"""The projection's models depend on which events arrived, never on their order."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import event_streams, shuffled_with_duplicates
from whoson.core.events import Event
from whoson.core.projection import Projection, sessionise
from whoson.core.settings import RatingScale
from whoson.testing import make_event


def project(events: list[Event]) -> Projection:
    projection = Projection()
    for event in {e.id: e for e in events}.values():
        projection.apply(event)
    return projection


def models(projection: Projection) -> tuple[object, ...]:
    timeout = timedelta(minutes=30)
    return (
        sorted(projection.requests(), key=lambda r: r.id),
        sorted(projection.orders(), key=lambda o: o.id),
        sorted(projection.surveys(), key=lambda s: s.event_id),
        {v: projection.sessions(v, timeout) for v in sorted(projection.timelines)},
        list(projection.agents()),
        [projection.visitor(v) for v in sorted(projection.timelines)],
    )


class TestOrderIndependence:
    """Shuffled and duplicated delivery builds the same models."""

    @given(st.data(), event_streams(scale=RatingScale()))
    def test_same_models(self, data: st.DataObject, events: list[Event]) -> None:
        """Every model equals the one built from the events in time order."""
        delivered = data.draw(shuffled_with_duplicates(events))
        in_order = sorted(events, key=lambda e: e.sort_key)
        assert models(project(in_order)) == models(project(delivered))


class TestSessions:
    """Sessionisation by inactivity gap and by explicit session id."""

    def test_gap_of_exactly_the_timeout_starts_a_session(self) -> None:
        """A gap equal to the timeout splits; one microsecond less does not."""
        base = make_event("page_view", id="a", url="/")
        at = base.ts
        events = [
            base,
            make_event("heartbeat", id="b", ts=at + timedelta(minutes=30) - timedelta(microseconds=1)),
            make_event("heartbeat", id="c", ts=at + timedelta(minutes=60) - timedelta(microseconds=1)),
        ]
        sessions = sessionise("v1", events, timedelta(minutes=30))
        # b comes 1 µs before the timeout (same session); c exactly 30 minutes after b.
        assert [(events[0].ts, events[1].ts), (events[2].ts, events[2].ts)] == [
            (s.start, s.last_activity) for s in sessions
        ]
        assert [1, 2] == [s.number for s in sessions]

    def test_explicit_id_wins_over_gap(self) -> None:
        """Page views carrying the same explicit session id stay in one session despite a gap."""
        first = make_event("page_view", id="a", url="/", session="s1")
        later = make_event("page_view", id="b", url="/cart", session="s1",
                           ts=first.ts + timedelta(hours=2))
        other = make_event("page_view", id="c", url="/", session="s2",
                           ts=first.ts + timedelta(hours=2, seconds=1))
        sessions = sessionise("v1", [first, later, other], timedelta(minutes=30))
        assert [["/", "/cart"], ["/"]] == [[p.url for p in s.pages] for s in sessions]
        assert ["s1", "s2"] == [s.explicit_id for s in sessions]

    def test_page_seconds(self) -> None:
        """Time on a page runs to the next page view, the last page to the session's last event."""
        first = make_event("page_view", id="a", url="/")
        second = make_event("page_view", id="b", url="/cart", ts=first.ts + timedelta(seconds=40))
        beat = make_event("heartbeat", id="c", ts=first.ts + timedelta(seconds=70))
        (session,) = sessionise("v1", [first, second, beat], timedelta(minutes=30))
        assert [40.0, 30.0] == [p.seconds for p in session.pages]
