"""The live view and the report read the same events the same way.

Both use the folds of ``whoson.core.folds``: where a session starts and how a
request went (latest ``request_end`` wins). And ``online(now)`` for an
instant before the newest event answers for that instant, as ``whoson live
--at`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import event_streams
from whoson import FixedClock, Tracker
from whoson.cli.live import replay
from whoson.core.events import Event
from whoson.core.settings import RatingScale
from whoson.live import LiveConfig

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SCALE = RatingScale(0, 10)


def stamp(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def chat(event_id: str, minutes: float, type_: str, **fields: Any) -> dict[str, Any]:
    return {"id": event_id, "type": type_, "ts": stamp(minutes), "visitor": "v1", "request": "r1",
            **fields}


class TestTwoRequestEnds:
    """A request closed resolved at 12:05 and timed out at 12:09 has one ending everywhere."""

    def test_live_view_and_report_take_the_latest_end(self) -> None:
        """Both say: ended 12:09, reason timeout, resolved unknown (metrics.md: the latest end wins)."""
        tracker = Tracker(clock=FixedClock(T0 + timedelta(hours=1)))
        tracker.record_many([
            {"id": "p1", "type": "page_view", "ts": stamp(0), "visitor": "v1", "url": "/help"},
            chat("q1", 0, "request", channel="text", initiator="visitor"),
            chat("m1", 1, "message", sender="agent", agent="ann"),
            chat("m2", 2, "message", sender="visitor"),
            chat("x2", 9, "request_end", reason="timeout"),
            chat("x1", 5, "request_end", reason="closed", resolved=True),
        ])
        detail = tracker.visitor("v1")
        assert detail is not None
        (conversation,) = detail.conversations
        expected = (T0 + timedelta(minutes=9), "timeout", None, True)
        assert expected == (conversation.ended, conversation.end_reason, conversation.resolved,
                            conversation.conversation)
        request = tracker.projection.request("r1")
        assert request is not None
        assert expected == (request.ended, request.end_reason, request.resolved, request.is_conversation)
        report = tracker.report()
        # Handle time runs from engagement (12:01, the agent answers the visitor's request)
        # to the latest end (12:09); with no verdict on the latest end, first-contact
        # resolution has no denominator.
        assert (8.0, None) == (report.support.avg_handle_minutes,
                               report.support.first_contact_resolution_rate)


def _sessions_live(tracker: Tracker, visitor: str, now: datetime) -> list[tuple[Any, ...]]:
    detail = tracker.visitor(visitor, now)
    assert detail is not None
    return [(s.number, s.started, s.ended, s.pages_viewed, s.landing, s.orders) for s in detail.sessions]


def _sessions_report(tracker: Tracker, visitor: str) -> list[tuple[Any, ...]]:
    return [(s.number, s.start, s.last_activity, len(s.pages), s.pages[0].url if s.pages else None, s.orders)
            for s in tracker.projection.sessions(visitor, tracker.session_timeout)]


class TestLiveAgreesWithProjection:
    """On random streams in random order, the live view's sessions and requests are the report's."""

    @settings(max_examples=40, deadline=None)
    @given(st.data())
    def test_sessions_and_requests_agree(self, data: st.DataObject) -> None:
        """Session boundaries, pages and orders, and each created request's outcome, agree."""
        events: list[Event] = data.draw(event_streams(scale=SCALE))
        shuffled = data.draw(st.permutations(events))
        tracker = Tracker(clock=FixedClock(T0), rating_scale=SCALE)
        tracker.record_many(shuffled)
        now = max(e.ts for e in events) + timedelta(days=1)
        visitors = sorted({e.visitor for e in events if e.visitor is not None})
        for visitor in visitors:
            assert _sessions_report(tracker, visitor) == _sessions_live(tracker, visitor, now)
            detail = tracker.visitor(visitor, now)
            assert detail is not None
            for conversation in detail.conversations:
                request = tracker.projection.request(conversation.request)
                if request is None:
                    continue  # never created: the report has no request to compare with
                assert (request.created, request.ended, request.end_reason, request.resolved,
                        request.is_conversation) == (
                    conversation.started, conversation.ended, conversation.end_reason,
                    conversation.resolved, conversation.conversation)


class TestOnlineAtAnInstant:
    """online(t) on a tracker holding the whole log answers as if only events <= t existed."""

    def test_notebook_asks_about_the_past(self) -> None:
        """A log loaded in full, asked about 12:00:45, shows the two visitors on then (not the later ones)."""
        tracker = Tracker(clock=FixedClock(T0 + timedelta(days=1)))
        tracker.record_many(
            [{"id": f"p{i}", "type": "page_view", "ts": stamp(i * 0.5), "visitor": f"v{i}", "url": "/"}
             for i in range(5)] + [{"id": "late", "type": "heartbeat", "ts": stamp(60), "visitor": "v0"}]
        )
        at = T0 + timedelta(minutes=0.75)
        page = tracker.online(at)
        assert ["v1", "v0"] == [row.visitor for row in page.rows]
        assert [15.0, 45.0] == [row.on_page_seconds for row in page.rows]
        expected = replay((item.event for item in tracker.store.read(order="time")), at, LiveConfig())
        assert expected.online(at).to_dict() == page.to_dict()  # what `whoson live --at` shows
        assert 1 == tracker.online(T0 + timedelta(minutes=60)).total  # only v0's heartbeat

    def test_the_present_is_not_replayed(self) -> None:
        """An event stamped a moment after the clock (another worker's clock) counts as now, unreplayed."""
        tracker = Tracker(clock=FixedClock(T0))
        tracker.record({"id": "p1", "type": "page_view", "ts": stamp(-1), "visitor": "v1", "url": "/"})
        tracker.record({"id": "p2", "type": "page_view", "ts": stamp(2 / 60), "visitor": "v2", "url": "/"})
        assert 2 == len(tracker.live)  # the live view is built (one full read)
        reads: list[object] = []
        original = tracker.store.read
        tracker.store.read = lambda **kw: reads.append(kw) or original(**kw)  # type: ignore[method-assign]
        assert ["v2", "v1"] == [row.visitor for row in tracker.online().rows]
        assert ["v2", "v1"] == [row.visitor for row in tracker.online(T0).rows]
        assert [] == reads
        assert ["v1"] == [row.visitor for row in tracker.online(T0 - timedelta(seconds=10)).rows]
        assert 1 == len(reads)  # a real past instant is replayed, once

    @settings(max_examples=30, deadline=None)
    @given(st.data())
    def test_online_at_equals_tracker_loaded_up_to_then(self, data: st.DataObject) -> None:
        """online, waiting and visitor at t agree with a tracker that only got events <= t."""
        events: list[Event] = data.draw(event_streams(scale=SCALE))
        stamps = sorted({e.ts for e in events})
        at = data.draw(st.sampled_from(stamps)) + timedelta(seconds=data.draw(st.sampled_from((0, 1, 90))))
        later = FixedClock(datetime(2030, 1, 1, tzinfo=UTC))  # a notebook: the clock is long past the log
        whole = Tracker(clock=later, rating_scale=SCALE)
        whole.record_many(data.draw(st.permutations(events)))
        upto = Tracker(clock=later, rating_scale=SCALE)
        upto.record_many([e for e in events if e.ts <= at])
        assert upto.online(at, limit=500).to_dict() == whole.online(at, limit=500).to_dict()
        assert [w.to_dict() for w in upto.waiting(at)] == [w.to_dict() for w in whole.waiting(at)]
        for visitor in sorted({e.visitor for e in events if e.visitor is not None})[:3]:
            mine, theirs = upto.visitor(visitor, at), whole.visitor(visitor, at)
            assert (None if mine is None else mine.to_dict()) == (None if theirs is None else theirs.to_dict())
