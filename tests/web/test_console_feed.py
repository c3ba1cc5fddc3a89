"""The live feed on a fixed clock: which events a sequence of visitor events and instants gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from whoson import FixedClock, Tracker
from whoson.web.feed import Filters, LiveFeed

T0 = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def event(event_id: str, kind: str, seconds: float, visitor: str = "v1", **fields: object) -> dict[str, object]:
    """An event of ``visitor`` at T0 + ``seconds``."""
    return {"id": event_id, "type": kind, "ts": at(seconds).isoformat(), "visitor": visitor, **fields}


def statuses(feed: LiveFeed, after: int) -> list[tuple[str, str | None]]:
    """``(event name, status)`` of the row events after ``after``."""
    out = []
    for item in feed.events_after(after, Filters()) or []:
        if item.name in ("upsert", "remove"):
            out.append((item.name, json.loads(item.data).get("status")))
    return out


class TestStatuses:
    """Active, idle, left and removed, at the instants the contract implies."""

    def test_idle_left_removed(self) -> None:
        """A page at 0 s: active; idle past 65 s; left at the leave; removed 120 s after it."""
        clock = FixedClock(at(10))
        tracker = Tracker(clock=clock)
        feed = LiveFeed(tracker, id_base=0)
        tracker.record(event("p", "page_view", 0, url="/a"))
        feed.refresh()
        assert [("upsert", "active")] == statuses(feed, 0)
        feed.refresh(at(60))
        assert [] == statuses(feed, feed.seq)  # nothing changed but time
        mark = feed.seq
        feed.refresh(at(66))
        assert [("upsert", "idle")] == statuses(feed, mark)
        mark = feed.seq
        tracker.record(event("l", "page_leave", 70, url="/a"))
        feed.refresh(at(71))
        assert [("upsert", "gone")] == statuses(feed, mark)
        mark = feed.seq
        feed.refresh(at(70 + 120))  # still within the presence timeout: shown, greyed
        assert [] == statuses(feed, mark)
        feed.refresh(at(70 + 121))
        assert [("remove", None)] == statuses(feed, mark)

    def test_chat_states(self) -> None:
        """A visitor request is waiting; an agent's answer makes it in_chat."""
        tracker = Tracker(clock=FixedClock(at(5)))
        feed = LiveFeed(tracker, id_base=0)
        tracker.record_many([event("p", "page_view", 0, url="/help"),
                             event("r", "request", 1, request="r1", channel="text", initiator="visitor")])
        feed.refresh()
        assert [("upsert", "waiting")] == statuses(feed, 0)
        mark = feed.seq
        tracker.record(event("m", "message", 3, request="r1", sender="agent", agent="ann", chars=5))
        feed.refresh()
        assert [("upsert", "in_chat")] == statuses(feed, mark)
        queue = json.loads(feed.snapshot(Filters()).data)["queue"]
        assert ([], 1, 1) == (queue["waiting"], queue["online"], queue["in_chat"])
        mark = feed.seq
        tracker.record(event("m2", "message", 4, request="r1", sender="visitor", chars=9))
        feed.refresh()
        lines = [json.loads(e.data)["visitor_messages"] for e in feed.events_after(mark, Filters()) or []
                 if e.name == "upsert"]
        assert [1] == lines  # a line the visitor writes is news for the console (unread badge)


class TestResume:
    """Resuming from an id: exact events, or None when they left the log."""

    def test_gap_when_log_overflows(self) -> None:
        """With room for 2 events, asking from before them gives None (send a snapshot)."""
        tracker = Tracker(clock=FixedClock(at(30)))
        feed = LiveFeed(tracker, history=2, id_base=100)
        for n in range(3):
            tracker.record(event(f"p{n}", "page_view", n, visitor=f"v{n}", url="/"))
            feed.refresh()
        assert 106 == feed.seq  # each refresh: one upsert and one queue event
        assert [105, 106] == [e.id for e in feed.events_after(104, Filters()) or []]
        assert feed.events_after(103, Filters()) is None
        assert feed.events_after(107, Filters()) is None
        assert [] == feed.events_after(106, Filters())

    def test_filtered_replay(self) -> None:
        """Replayed for a filter, an upsert that does not match is a remove."""
        tracker = Tracker(clock=FixedClock(at(30)))
        feed = LiveFeed(tracker, id_base=0)
        tracker.record_many([event("a", "page_view", 0, visitor="va", url="/cart"),
                             event("b", "page_view", 1, visitor="vb", url="/help")])
        feed.refresh()
        names = [(e.name, e.visitor) for e in feed.events_after(0, Filters(url="/cart*")) or []]
        assert [("remove", "vb"), ("upsert", "va"), ("queue", None)] == names
