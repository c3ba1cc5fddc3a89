"""Trackers in several processes over one store: each follows what the others record.

The multi-process tests start real processes (``spawn``), each with its own
Tracker on one SQLite file, as ``uvicorn --workers N`` would.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from whoson import FixedClock, InvalidEvent, Tracker
from whoson.rules import Invite, Rule, ShowMessage
from whoson.rules.conditions import TimeOnPage, UrlMatches

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CHECKOUT_HELP = Rule("checkout-help", [UrlMatches("/checkout*"), TimeOnPage(60)],
                     Invite("text", "Need a hand?"))
TIMEOUT = 60.0


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def view(event_id: str, visitor: str, at: datetime, url: str = "/checkout") -> dict[str, Any]:
    return {"id": event_id, "type": "page_view", "ts": stamp(at), "visitor": visitor, "url": url}


def order(event_id: str, currency: str, at: datetime = T0) -> dict[str, Any]:
    return {"id": event_id, "type": "order", "ts": stamp(at), "visitor": f"v-{event_id}",
            "order": event_id, "subtotal": "10.00", "currency": currency}


# -- what the child processes run --------------------------------------------------------


def _record_on_signal(url: str, go: Any, done: Any) -> None:
    """Open a tracker, wait for the signal, record one visitor, say when."""
    with Tracker.open(url, clock=FixedClock(T0 + timedelta(seconds=5))) as tracker:
        go.wait(TIMEOUT)
        tracker.record(view("a1", "from-a", T0, url="/pricing"))
        done.put(time.time())


def _tick_worker(url: str, visitors: list[str], tick_at: datetime, barrier: Any, out: Any) -> None:
    """Record page views of ``visitors``, then (with the other worker) tick at ``tick_at``."""
    clock = FixedClock(T0 + timedelta(seconds=1))
    with Tracker.open(url, clock=clock, rules=[CHECKOUT_HELP]) as tracker:
        for visitor in visitors:
            tracker.record(view(f"p-{visitor}", visitor, T0))
        barrier.wait(TIMEOUT)  # both have recorded
        clock.set(tick_at)
        barrier.wait(TIMEOUT)  # tick at the same moment
        fired = tracker.tick()
        barrier.wait(TIMEOUT)  # both have ticked
        pending = sorted(row.visitor for row in tracker.online(limit=100).rows if row.chat == "pending")
        out.put(([event.id for event in fired], pending))


def _ingest_orders(url: str, currency: str, barrier: Any, out: Any) -> None:
    """Record six batches of orders in ``currency`` into a fresh store, with the other worker."""
    with Tracker.open(url, clock=FixedClock(T0 + timedelta(hours=1))) as tracker:
        barrier.wait(TIMEOUT)
        statuses: list[str] = []
        fields: set[str] = set()
        for batch in range(6):
            result = tracker.record_many([order(f"{currency}{batch}-{i}", currency) for i in range(5)])
            statuses.extend(o.status.value for o in result.outcomes)
            fields.update(o.error.field for o in result.errors if o.error is not None)
        out.put((currency, statuses, sorted(fields)))


def _spawn(target: Any, *args: Any) -> multiprocessing.process.BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args)
    process.start()
    return process


def _join(*processes: multiprocessing.process.BaseProcess) -> None:
    for process in processes:
        process.join(TIMEOUT)
        if process.is_alive():
            process.kill()
        assert 0 == process.exitcode


# -- tests ---------------------------------------------------------------------------------


class TestFollowAcrossProcesses:
    """What one process records, a tracker in another process answers with."""

    def test_other_process_visitor_is_online_within_a_second(self, tmp_path: Path) -> None:
        """Process B (this one) sees process A's new visitor in online() and report() at once."""
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        context = multiprocessing.get_context("spawn")
        go, done = context.Event(), context.Queue()
        with Tracker.open(url, clock=FixedClock(T0 + timedelta(seconds=10))) as tracker:
            assert 0 == tracker.online().total  # B built its views before A recorded anything
            child = _spawn(_record_on_signal, url, go, done)
            go.set()
            recorded_at = done.get(timeout=TIMEOUT)
            rows = [row.visitor for row in tracker.online().rows]
            while not rows and time.time() - recorded_at < 1.0:
                rows = [row.visitor for row in tracker.online().rows]
            _join(child)
            assert ["from-a"] == rows
            assert 1 == tracker.report().visitors.total
            detail = tracker.visitor("from-a")
            assert detail is not None
            assert "/pricing" == detail.snapshot.url

    def test_changes_wakes_a_waiting_thread(self, tmp_path: Path) -> None:
        """A worker thread waiting in changes() returns the new position when another process appends."""
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        context = multiprocessing.get_context("spawn")
        go, done = context.Event(), context.Queue()
        with Tracker.open(url, clock=FixedClock(T0 + timedelta(seconds=10))) as tracker:
            start = tracker.position
            seen: list[tuple[int, float]] = []
            waiter = threading.Thread(
                target=lambda: seen.append((tracker.changes(start, timeout=TIMEOUT), time.time())))
            waiter.start()
            child = _spawn(_record_on_signal, url, go, done)
            go.set()
            recorded_at = done.get(timeout=TIMEOUT)
            waiter.join(TIMEOUT)
            _join(child)
            ((position, woke_at),) = seen
            assert (1, 1) == (position, tracker.position)
            assert woke_at - recorded_at < 1.0, f"changes() woke {woke_at - recorded_at:.2f} s late"
            assert ["from-a"] == [row.visitor for row in tracker.online().rows]

    def test_rules_fired_by_two_processes_are_stored_once(self, tmp_path: Path) -> None:
        """Both processes tick past the rule's due time: each invitation is stored and delivered once."""
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        context = multiprocessing.get_context("spawn")
        barrier, out = context.Barrier(2), context.Queue()
        mine = [f"a{i}" for i in range(4)]
        theirs = [f"b{i}" for i in range(4)]
        workers = [_spawn(_tick_worker, url, mine, T0 + timedelta(seconds=61), barrier, out),
                   _spawn(_tick_worker, url, theirs, T0 + timedelta(seconds=65), barrier, out)]
        results = [out.get(timeout=TIMEOUT) for _ in workers]
        _join(*workers)
        everyone = sorted(mine + theirs)
        with Tracker.open(url, clock=FixedClock(T0 + timedelta(seconds=70))) as tracker:
            stored = [item.event for item in tracker.store.read(types={"auto_message"})]
            assert everyone == sorted(event.visitor for event in stored)  # one invitation each
            expected_ids = sorted(f"rule:checkout-help:{v}:{1772366400000000}:message" for v in everyone)
            assert expected_ids == sorted(event.id for event in stored)  # named by the session, not the clock
        delivered = sorted(i for fired, _ in results for i in fired if i.endswith(":message"))
        assert expected_ids == delivered  # each handed to the host by exactly one process
        for _, pending in results:
            assert everyone == pending  # both see every invitation, theirs included

    def test_two_processes_settle_one_currency(self, tmp_path: Path) -> None:
        """Concurrent EUR and USD ingests into a fresh store: one currency wins, the other's orders are rejected."""
        for attempt in range(2):
            url = f"sqlite:///{tmp_path / f'fresh{attempt}.db'}"
            context = multiprocessing.get_context("spawn")
            barrier, out = context.Barrier(2), context.Queue()
            workers = [_spawn(_ingest_orders, url, c, barrier, out) for c in ("EUR", "USD")]
            results = {currency: (statuses, fields) for currency, statuses, fields in
                       (out.get(timeout=TIMEOUT) for _ in workers)}
            _join(*workers)
            with Tracker.open(url, clock=FixedClock(T0 + timedelta(hours=2))) as tracker:
                winner = tracker.currency
                assert winner in ("EUR", "USD")
                loser = "USD" if winner == "EUR" else "EUR"
                assert {"accepted"} == set(results[winner][0])
                assert ({"rejected"}, ["currency"]) == (set(results[loser][0]), results[loser][1])
                assert Decimal("300.00") == tracker.report().sales.all_gmv


class TestFollowInProcess:
    """Two trackers on one SQLite file in one process: the same mechanism, quicker to check."""

    def test_followed_events_reach_projection_live_view_and_ledger(self, tmp_path: Path) -> None:
        """Events another tracker recorded count in online, waiting, visitor and the report."""
        url = f"sqlite:///{tmp_path / 's.db'}"
        clock = FixedClock(T0 + timedelta(seconds=30))
        with Tracker.open(url, clock=clock) as a, Tracker.open(url, clock=clock) as b:
            assert 0 == b.report().requests.total  # the ledger is built before a records
            assert [] == b.waiting()
            a.record_many([
                view("p1", "v1", T0, url="/help"),
                {"id": "q1", "type": "request", "ts": stamp(T0 + timedelta(seconds=5)),
                 "visitor": "v1", "request": "r1", "channel": "text", "initiator": "visitor"},
            ])
            assert (2, 0) == (a.position, b.position)
            waiting = b.waiting()
            assert [("r1", 25.0)] == [(w.request, w.wait_seconds) for w in waiting]
            assert (2, 1) == (b.position, b.report().requests.total)
            assert "pending" == b.online().rows[0].chat

    def test_noop_catch_up_reads_nothing(self, tmp_path: Path) -> None:
        """With nothing new, a query only looks at the store's position; it reads no event."""
        url = f"sqlite:///{tmp_path / 's.db'}"
        with Tracker.open(url, clock=FixedClock(T0 + timedelta(seconds=30))) as tracker:
            tracker.record(view("p1", "v1", T0))
            assert 1 == tracker.online().total  # builds the live view (one full read)
            reads: list[int] = []
            original = tracker.store.read

            def counting(**kwargs: Any) -> Any:
                reads.append(kwargs.get("after", 0))
                return original(**kwargs)

            tracker.store.read = counting  # type: ignore[method-assign]
            for _ in range(3):
                assert 1 == tracker.online().total
            assert [] == reads

    def test_changes_in_a_thread_while_another_records(self, tmp_path: Path) -> None:
        """A thread following changes() sees every position another thread's records reach."""
        with Tracker.open(f"sqlite:///{tmp_path / 's.db'}", clock=FixedClock(T0)) as tracker:
            seen: list[int] = []

            def follow() -> None:
                position = 0
                while position < 120:
                    position = tracker.changes(position, timeout=TIMEOUT)
                    seen.append(position)

            follower = threading.Thread(target=follow)
            follower.start()
            for i in range(40):
                tracker.record_many([view(f"p{i}-{k}", f"v{k}", T0 + timedelta(seconds=i)) for k in range(3)])
            follower.join(TIMEOUT)
            assert 120 == seen[-1] == tracker.position
            assert seen == sorted(set(seen))
            assert 3 == tracker.online(T0 + timedelta(seconds=40)).total

    def test_changes_times_out_with_after(self, tmp_path: Path) -> None:
        """With nothing new, changes() returns ``after`` itself once the timeout passes."""
        with Tracker.open(f"sqlite:///{tmp_path / 's.db'}") as tracker:
            begin = time.monotonic()
            assert 0 == tracker.changes(0, timeout=0.2)
            assert 0.15 <= time.monotonic() - begin < 2.0
            assert 7 == tracker.changes(7)

    def test_tick_in_a_follower_fires_with_the_same_ids(self, tmp_path: Path) -> None:
        """A follower that never recorded the visitor fires the due rule itself, with the recorder's ids."""
        url = f"sqlite:///{tmp_path / 's.db'}"
        clock = FixedClock(T0 + timedelta(seconds=30))
        with Tracker.open(url, clock=FixedClock(T0), rules=[CHECKOUT_HELP]) as recorder, \
                Tracker.open(url, clock=clock, rules=[CHECKOUT_HELP]) as follower:
            recorder.record(view("p1", "v1", T0))
            assert 1 == follower.online().total  # follows the page view at 12:00:30
            clock.set(T0 + timedelta(seconds=75))
            fired = follower.tick()
            assert ["rule:checkout-help:v1:1772366400000000:message",
                    "rule:checkout-help:v1:1772366400000000:request"] == [e.id for e in fired]
            assert T0 + timedelta(seconds=75) == fired[0].ts
            assert [] == recorder.tick(T0 + timedelta(seconds=61))  # it follows the firing: blocked


class TestRecordReturnsFired:
    """record() and record_many() hand back what the rules fired because of them."""

    def test_record_outcome_carries_fired(self) -> None:
        """A page view that triggers a message rule returns that auto message."""
        rule = Rule("pricing-hello", [UrlMatches("/pricing")], ShowMessage("Questions about plans?"))
        tracker = Tracker(clock=FixedClock(T0 + timedelta(seconds=1)), rules=[rule])
        outcome = tracker.record(view("p1", "v1", T0, url="/pricing"))
        assert ["auto_message"] == [event.type for event in outcome.fired]
        assert "rule:pricing-hello:v1:1772366400000000:message" == outcome.fired[0].id
        assert tracker.store.get(outcome.fired[0].id) is not None
        assert () == tracker.record(view("p2", "v1", T0 + timedelta(seconds=1), url="/pricing")).fired

    def test_record_many_result_carries_fired(self) -> None:
        """A batch returns every event fired for it, due time-based rules included."""
        clock = FixedClock(T0 + timedelta(seconds=10))
        tracker = Tracker(clock=clock, rules=[CHECKOUT_HELP])
        first = tracker.record_many([view("p1", "v1", T0), view("p2", "v2", T0 + timedelta(seconds=5))])
        assert () == first.fired
        clock.set(T0 + timedelta(seconds=70))
        later = tracker.record_many([{"id": "h1", "type": "heartbeat", "ts": stamp(clock.now()),
                                      "visitor": "v2"}])
        assert [("auto_message", "v1"), ("request", "v1"), ("auto_message", "v2"), ("request", "v2")] \
            == [(event.type, event.visitor) for event in later.fired]


class TestCurrencyInTheStore:
    """The store settles the currency, from accepted orders only."""

    def test_strict_batch_that_writes_nothing_leaves_currency_open(self) -> None:
        """A rejected strict batch with a EUR order does not make the store a EUR store."""
        tracker = Tracker(clock=FixedClock(T0))
        result = tracker.record_many([order("o1", "EUR"), {"id": "bad", "type": "heartbeat"}], strict=True)
        assert (0, None, None) == (result.accepted, tracker.currency, tracker.store.settings.currency)
        tracker.record(order("o2", "USD"))
        assert ("USD", "USD") == (tracker.currency, tracker.store.settings.currency)

    def test_order_the_store_rejects_does_not_fix_currency(self) -> None:
        """A valid EUR order the store refuses (its id is taken) fixes nothing."""
        tracker = Tracker(clock=FixedClock(T0))
        tracker.record({"id": "o1", "type": "heartbeat", "ts": stamp(T0), "visitor": "v-o1"})
        with pytest.raises(InvalidEvent):
            tracker.record(order("o1", "EUR"))
        assert (None, None) == (tracker.currency, tracker.store.settings.currency)

    def test_converter_converts_after_another_tracker_settled_it(self, tmp_path: Path) -> None:
        """A tracker with a converter converts orders in a currency another tracker did not settle."""
        url = f"sqlite:///{tmp_path / 's.db'}"
        halves = lambda amount, currency, ts: amount / 2  # noqa: E731
        with Tracker.open(url, clock=FixedClock(T0)) as a, \
                Tracker.open(url, clock=FixedClock(T0), converter=halves) as b:
            a.record(order("o1", "EUR"))
            b.record(order("o2", "USD"))
            stored = b.store.get("o2")
            assert stored is not None
            assert ("EUR", Decimal("5.00")) == (stored.event.currency, stored.event.subtotal)  # type: ignore[attr-defined]

    def test_converter_retries_orders_the_store_refused(self, tmp_path: Path) -> None:
        """When the store settled another currency between catch-up and append, the orders are converted."""
        url = f"sqlite:///{tmp_path / 's.db'}"
        halves = lambda amount, currency, ts: amount / 2  # noqa: E731
        with Tracker.open(url, clock=FixedClock(T0)) as a, \
                Tracker.open(url, clock=FixedClock(T0), converter=halves) as b:
            b.store.position  # noqa: B018 - b has looked: nothing there yet
            original = b._sync
            b._sync = lambda: None  # type: ignore[method-assign]  # b does not look again before appending
            a.record(order("o1", "EUR"))
            result = b.record_many([order("o2", "USD"), order("o3", "USD")])
            b._sync = original  # type: ignore[method-assign]
            assert (2, "EUR") == (result.accepted, b.currency)
            assert {"EUR"} == {item.event.currency for item in b.store.read(types={"order"})}  # type: ignore[attr-defined]
