"""The Tracker wires store, report, live view and rules together as a backend would use it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from whoson import ConfigError, ConflictError, FixedClock, InvalidEvent, Tracker
from whoson.core.batch import Status
from whoson.rules import load_rules

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def page(n: int, visitor: str, at: datetime, url: str) -> dict[str, object]:
    return {"id": f"p{n}", "type": "page_view", "ts": at.isoformat(), "visitor": visitor, "url": url}


def agent_online(at: datetime) -> dict[str, object]:
    return {"id": "a-on", "type": "agent_status", "ts": at.isoformat(), "agent": "ann",
            "status": "online"}


class TestRecording:
    """record() and record_many() report per-event outcomes and never lose good data."""

    def test_record_raises_named_error(self) -> None:
        """A rejected single event raises with field, value and rule."""
        tracker = Tracker(clock=FixedClock(START))
        with pytest.raises(InvalidEvent) as caught:
            tracker.record({"id": "x", "type": "order", "ts": START.isoformat(), "visitor": "v",
                            "order": "o", "subtotal": "-1"})
        assert ("subtotal", "-1") == (caught.value.field, caught.value.value)
        assert 0 == len(tracker.store)

    def test_conflict_keeps_stored_event(self) -> None:
        """The same id with other content is refused; the first version stays."""
        tracker = Tracker(clock=FixedClock(START))
        tracker.record(page(1, "v", START, "/a"))
        with pytest.raises(ConflictError):
            tracker.record(page(1, "v", START, "/b"))
        stored = tracker.store.get("p1")
        assert stored is not None
        assert "/a" == stored.event.url  # type: ignore[attr-defined]

    def test_bad_event_in_batch_keeps_neighbours(self) -> None:
        """A batch stores its good events around a bad one and says which was bad."""
        tracker = Tracker(clock=FixedClock(START))
        result = tracker.record_many([
            page(1, "v", START, "/a"),
            {"id": "bad", "type": "page_view", "ts": "2026-03-02T09:00:00", "visitor": "v", "url": "/"},
            page(2, "v", START + timedelta(seconds=5), "/b"),
        ])
        assert [Status.ACCEPTED, Status.REJECTED, Status.ACCEPTED] == [o.status for o in result]
        assert 1 == result.outcomes[1].index
        assert 2 == len(tracker.store)

    def test_strict_batch_writes_nothing(self) -> None:
        """With strict=True one bad event keeps the whole batch out."""
        tracker = Tracker(clock=FixedClock(START))
        result = tracker.record_many([page(1, "v", START, "/a"), {"id": "bad"}], strict=True)
        assert (0, 2) == (result.accepted, result.rejected)
        assert 0 == len(tracker.store)

    def test_currency_fixed_by_first_order(self) -> None:
        """Without a configured currency the first order's fixes it; others are refused."""
        tracker = Tracker(clock=FixedClock(START))
        base = {"type": "order", "ts": START.isoformat(), "visitor": "v", "subtotal": "10"}
        tracker.record({**base, "id": "1", "order": "o1", "currency": "EUR"})
        with pytest.raises(InvalidEvent) as caught:
            tracker.record({**base, "id": "2", "order": "o2", "currency": "USD"})
        assert "currency" == caught.value.field
        assert "EUR" == tracker.currency

    def test_converter(self) -> None:
        """A converter turns foreign orders into the tracker's currency."""
        tracker = Tracker(clock=FixedClock(START), currency="EUR",
                          converter=lambda amount, currency, ts: amount / 2)
        tracker.record({"id": "1", "type": "order", "ts": START.isoformat(), "visitor": "v",
                        "order": "o1", "subtotal": "10.00", "currency": "USD"})
        assert "5.00" == str(tracker.report(as_of=START).sales.all_gmv)


class TestLoad:
    """load() reads a log with line-numbered errors and keeps the good lines."""

    def test_bad_lines_reported_good_kept(self) -> None:
        """Each bad line is named; the good ones are stored."""
        log = io.BytesIO(
            b'{"id":"1","type":"page_view","ts":"2026-03-02T09:00:00Z","visitor":"v","url":"/"}\n'
            b"not json\n"
            b'{"id":"2","type":"page_view","ts":"2026-03-02T09:00:01Z","visitor":"v","url":"/b"}\n'
            b'{"id":"1","type":"page_view","ts":"2026-03-02T09:00:00Z","visitor":"v","url":"/x"}\n'
        )
        tracker = Tracker(clock=FixedClock(START))
        result = tracker.load(log, name="shop.jsonl")
        assert (2, 0, 2) == (result.accepted, result.duplicates, result.rejected)
        assert [2, 4] == [e.line for e in result.errors]
        assert "id" == result.errors[1].field

    def test_rating_scale_must_match(self) -> None:
        """A report on another scale than the events were checked with is refused."""
        tracker = Tracker(clock=FixedClock(START), rating_scale="0..10")
        with pytest.raises(ConfigError):
            tracker.report(rating_scale="1..5")


class TestRulesThroughTracker:
    """Rules fire on recorded events and on tick(); what they fire is stored and reported."""

    def make(self) -> tuple[Tracker, FixedClock]:
        clock = FixedClock(START)
        tracker = Tracker(clock=clock, rules=load_rules("examples/rules.toml"))
        tracker.record(agent_online(START))
        return tracker, clock

    def test_checkout_fires_on_tick_without_new_event(self) -> None:
        """60 s on the checkout page fires at 60 s through tick(), and is recorded."""
        tracker, clock = self.make()
        tracker.record(page(1, "v1", START, "/checkout"))
        clock.set(START + timedelta(seconds=59))
        assert not any(e.type == "request" for e in tracker.tick())
        clock.set(START + timedelta(seconds=60))
        fired = tracker.tick()
        requests = [e for e in fired if e.type == "request"]
        assert 1 == len(requests)
        assert ("auto", "checkout-help") == (requests[0].initiator, requests[0].trigger)  # type: ignore[attr-defined]
        assert tracker.store.get(requests[0].id) is not None
        report = tracker.report()
        assert 1 == report.requests.by_initiator["auto"]
        assert 1 <= report.auto_messages.shown

    def test_load_fires_nothing(self) -> None:
        """Loading history replays it without firing rules."""
        tracker, clock = self.make()
        log = io.BytesIO(
            b'{"id":"1","type":"page_view","ts":"2026-03-02T09:00:00Z","visitor":"v","url":"/checkout"}\n'
            b'{"id":"2","type":"heartbeat","ts":"2026-03-02T09:05:00Z","visitor":"v","url":"/checkout"}\n'
        )
        clock.set(START + timedelta(minutes=5))
        before = len(tracker.store)
        tracker.load(log)
        assert before + 2 == len(tracker.store)

    def test_reopened_tracker_respects_once_per_session(self, tmp_path: object) -> None:
        """A tracker reopened on the same store remembers what fired in this session."""
        url = f"sqlite:///{tmp_path}/w.db"
        clock = FixedClock(START)
        with Tracker.open(url, clock=clock, rules="examples/rules.toml") as tracker:
            tracker.record(agent_online(START))
            tracker.record(page(1, "v1", START, "/checkout"))
            clock.set(START + timedelta(seconds=61))
            (invite,) = [e for e in tracker.tick() if e.type == "request"]
            # The invitation ends unanswered, so "not in chat" no longer blocks the rule:
            # only the once-per-session memory can.
            tracker.record({"id": "end", "type": "request_end", "ts": clock.now().isoformat(),
                            "visitor": "v1", "request": invite.request_id, "reason": "timeout"})

        def reopened_fires(at: datetime, event_id: str) -> bool:
            clock.set(at)
            with Tracker.open(url, clock=clock, rules="examples/rules.toml") as again:
                again.record(page(event_id, "v1", at, "/checkout"))  # type: ignore[arg-type]
                clock.set(at + timedelta(seconds=61))
                return any(e.type == "request" for e in again.tick())

        assert not reopened_fires(START + timedelta(minutes=3), "2")
        # Forty minutes of silence start a new session, where the rule may fire again.
        assert reopened_fires(START + timedelta(minutes=45), "3")


class TestLiveThroughTracker:
    """online(), waiting() and visitor() answer from the same events as the report."""

    def test_online_and_waiting(self) -> None:
        """A visitor who asked for help is online and in the queue."""
        clock = FixedClock(START)
        tracker = Tracker(clock=clock)
        tracker.record(page(1, "v1", START, "/pricing"))
        tracker.record({"id": "r", "type": "request", "ts": START.isoformat(), "visitor": "v1",
                        "request": "r1", "channel": "text", "initiator": "visitor"})
        clock.set(START + timedelta(seconds=30))
        page_ = tracker.online()
        assert ["v1"] == [row.visitor for row in page_.rows]
        assert ["r1"] == [w.request for w in tracker.waiting()]
        detail = tracker.visitor("v1")
        assert detail is not None


class TestThreads:
    """Threads sharing one tracker lose nothing and agree with a single-threaded run."""

    def test_concurrent_recording(self) -> None:
        """Four threads recording interleaved visitors give the single-threaded report."""
        import threading

        clock = FixedClock(START + timedelta(hours=2))
        events = [page(n, f"v{n % 40}", START + timedelta(seconds=n), f"/p{n % 7}") for n in range(2000)]
        shared = Tracker(clock=clock)
        shared.online()  # the live view follows every event from here on

        def work(part: list[dict[str, object]]) -> None:
            for event in part:
                shared.record(event)
                if int(str(event["id"])[1:]) % 97 == 0:
                    shared.report()

        threads = [threading.Thread(target=work, args=(events[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        alone = Tracker(clock=clock)
        alone.record_many(events)
        assert 2000 == len(shared.store)
        assert alone.report().to_dict() == shared.report().to_dict()
        assert alone.online().total == shared.online().total
