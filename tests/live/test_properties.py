"""Properties of the live view over generated event streams."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.live.helpers import at
from tests.strategies import event_streams, shuffled_with_duplicates
from whoson.core.events import Event, PageLeaveEvent, PageViewEvent
from whoson.core.parsing import parse_event
from whoson.core.time import format_ts
from whoson.live import LiveView

VISITORS = ("a", "b", "c", "d")
TIMEOUT = timedelta(seconds=120)


@st.composite
def browsing(draw: st.DrawFn) -> list[Event]:
    """Page views, heartbeats, leaves (without url) and cart updates of four visitors."""
    events: list[Event] = []
    for number in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(["page_view", "heartbeat", "page_leave", "cart_update"]))
        data = {
            "id": f"g{number}", "type": kind, "visitor": draw(st.sampled_from(VISITORS)),
            "ts": format_ts(at(draw(st.integers(0, 900)) + draw(st.sampled_from([0, 0.5])))),
        }
        if kind == "page_view":
            data["url"] = draw(st.sampled_from(["/", "/cart", "/help"]))
        if kind == "cart_update":
            data["value"] = "5"
        events.append(parse_event(data))
    return events


def expected_online(events: list[Event], now_seconds: float) -> list[str]:
    """The spec, written directly: activity within the timeout, and not gone after a leave.

    Newest anchor first (ties: visitor id descending), only events up to now.
    """
    now = at(now_seconds)
    anchors = {}
    for visitor in VISITORS:
        mine = sorted((e for e in events if e.visitor == visitor and e.ts <= now),
                      key=lambda e: e.sort_key)
        if not mine:
            continue
        views = [e for e in mine if isinstance(e, PageViewEvent)]
        leaves = [e for e in mine if isinstance(e, PageLeaveEvent)]
        anchor = mine[-1].ts
        if leaves and (not views or leaves[-1].sort_key > views[-1].sort_key):
            anchor = leaves[-1].ts  # left and no page since: gone once the timeout passes
        if now - anchor <= TIMEOUT:
            anchors[visitor] = anchor
    return sorted(anchors, key=lambda v: (anchors[v], v), reverse=True)


class TestPresenceProperty:
    """online(now) is exactly the visitors the spec's definition names."""

    @given(browsing(), st.integers(0, 1100))
    def test_online_set_matches_the_definition(self, events: list[Event], now: int) -> None:
        view = LiveView()
        for event in events:
            if event.ts <= at(now):
                view.apply(event)
        page = view.online(at(now), limit=100)
        expected = expected_online(events, now)
        assert expected == [row.visitor for row in page.rows]
        assert len(expected) == page.total

    @given(browsing(), st.integers(0, 1100), st.integers(1, 4), st.integers(0, 5))
    def test_pages_partition_the_rows(self, events: list[Event], now: int, limit: int,
                                      offset: int) -> None:
        view = LiveView()
        for event in events:
            if event.ts <= at(now):
                view.apply(event)
        everyone = [row.visitor for row in view.online(at(now), limit=100).rows]
        page = view.online(at(now), limit=limit, offset=offset)
        expected = everyone[offset:offset + limit]
        assert expected == [row.visitor for row in page.rows]
        assert len(set(everyone)) == len(everyone)


def rows_and_details(view: LiveView, events: list[Event]) -> tuple[object, ...]:
    instants = sorted({e.ts for e in events})
    probes = [instants[0], instants[len(instants) // 2], instants[-1],
              instants[-1] + timedelta(seconds=90)]
    visitors = sorted({e.visitor for e in events if e.visitor is not None})
    return (
        tuple(view.online(now, limit=100) for now in probes),
        tuple(view.visitor(v, now) for v in visitors for now in probes),
        tuple(tuple(view.waiting(now)) for now in probes),
        tuple(view.expected_wait(now) for now in probes),
        tuple(tuple(view.agents_online(now)) for now in probes),
    )


class TestOrderIndependence:
    """Any arrival order, with re-deliveries, gives the view of the events in time order."""

    @given(st.data())
    def test_shuffled_equals_sorted(self, data: st.DataObject) -> None:
        events = data.draw(event_streams(min_size=1))
        arrived = data.draw(shuffled_with_duplicates(events))
        in_order, shuffled = LiveView(), LiveView()
        for event in sorted(events, key=lambda e: e.sort_key):
            in_order.apply(event)
        for event in arrived:
            shuffled.apply(event)
        assert rows_and_details(in_order, events) == rows_and_details(shuffled, events)

