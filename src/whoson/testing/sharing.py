"""The store contract's checks of sharing a store: positions, waiting, currency, processes.

Several processes (web workers) append to one store and follow it by
position. These checks run in every backend's suite; the ones that need a
second process or a broken connection use two optional hooks:

* ``store_opener(store)``: a picklable, argument-free callable that opens the
  same data again (in another process); ``None`` for a store that cannot be
  shared between processes (the default, and the memory store's case).
* ``break_connections(store)``: cut the store's connections the way a server
  restart does and return ``True``; ``False`` (the default) skips the check.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

from whoson.core.batch import Status
from whoson.core.events import Event
from whoson.core.parsing import parse_event
from whoson.stores.base import Store, StoreSettings
from whoson.testing._base import ContractBase, _at, _ids_of, _same, _skip, _statuses
from whoson.testing.events import make_event

__all__ = ["SharingContract"]

_PROCESS_TIMEOUT = 60.0


def _append_batches(index: int, opener: Callable[[], Store], batches: list[list[dict[str, Any]]],
                    barrier: Any, out: Any) -> None:
    """In a child process: open the store, wait for the others, append every batch."""
    store = opener()
    try:
        barrier.wait(_PROCESS_TIMEOUT)
        statuses: list[str] = []
        positions: list[int] = []
        for batch in batches:
            result = store.append([parse_event(raw) for raw in batch])
            statuses.extend(_statuses(result))
            positions.extend(result.positions or ())
        out.put((index, statuses, positions))
    finally:
        store.close()


def _run_writers(opener: Callable[[], Store], work: list[list[list[Event]]]) -> list[Any]:
    """Run one writer process per entry of ``work`` at the same time; their (statuses, positions)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(work))
    queue = context.Queue()
    # Events travel as their JSON-able dicts.
    raw = [[[event.to_dict() for event in batch] for batch in batches] for batches in work]
    children = [context.Process(target=_append_batches, args=(i, opener, batches, barrier, queue))
                for i, batches in enumerate(raw)]
    for child in children:
        child.start()
    try:
        results = sorted(queue.get(timeout=_PROCESS_TIMEOUT) for _ in children)
    finally:
        for child in children:
            child.join(_PROCESS_TIMEOUT)
            if child.is_alive():  # pragma: no cover - only when a writer hangs
                child.kill()
    for child in children:
        assert child.exitcode == 0, f"a writer process failed with exit code {child.exitcode}"
    return [(statuses, positions) for _, statuses, positions in results]


class SharingContract(ContractBase):
    """Positions, ``wait``, the store's currency, and several writers at once."""

    __test__ = False

    def break_connections(self, store: Store) -> bool:
        """Cut ``store``'s connections as a server restart would; ``False`` if not applicable."""
        return False

    def test_append_reports_positions(self) -> None:
        """An append says which position each accepted event got; a re-send gets none."""
        store = self.new_store()
        first = store.append([make_event("heartbeat", id=f"h{i}") for i in range(3)])
        again = store.append([make_event("heartbeat", id="h1"), make_event("heartbeat", id="h9")])
        stored = {item.event.id: item.position for item in store.read()}
        _same((stored["h0"], stored["h1"], stored["h2"]), first.positions)
        _same((stored["h9"],), again.positions)
        _same((), store.append([make_event("heartbeat", id="h9")]).positions)
        _same(stored["h9"], store.position)

    def test_wait_wakes_on_append(self) -> None:
        """``wait`` returns soon after another thread appends, and after its timeout otherwise."""
        store = self.new_store()
        store.append([make_event("heartbeat", id="h0")])
        head = store.position
        begin = time.monotonic()
        _same(head, store.wait(head, timeout=0.05))
        assert time.monotonic() - begin >= 0.04, "wait returned before its timeout"

        def later() -> None:
            time.sleep(0.1)
            store.append([make_event("heartbeat", id="h1")])

        writer = threading.Thread(target=later)
        writer.start()
        begin = time.monotonic()
        woke = store.wait(head, timeout=10)
        waited = time.monotonic() - begin
        writer.join()
        assert woke > head, f"wait returned {woke}, not past {head}"
        assert waited < 2.0, f"wait took {waited:.2f} s after an append 0.1 s in"

    def test_currency_settled_by_first_accepted_order(self) -> None:
        """The first accepted order naming a currency settles the store's; others are rejected."""
        store = self.new_store()
        result = store.append([
            make_event("order", id="o1", order="A1", currency="EUR"),
            make_event("order", id="o2", order="A2", currency="USD"),
            make_event("order", id="o3", order="A3"),
        ])
        _same(["accepted", "rejected", "accepted"], _statuses(result))
        error = result.outcomes[1].error
        assert error is not None
        _same(("currency", "USD"), (error.field, error.value))
        assert "'EUR'" in error.rule, error.rule
        _same("EUR", store.settings.currency)
        _same("EUR", result.currency)
        later = store.append([make_event("order", id="o4", order="A4", currency="USD")])
        _same(["rejected"], _statuses(later))

    def test_strict_batch_does_not_settle_currency(self) -> None:
        """A strict batch that writes nothing leaves the currency open."""
        store = self.new_store()
        store.append([make_event("heartbeat", id="h1", url="/a")])
        result = store.append([make_event("order", id="o1", order="A1", currency="EUR"),
                               make_event("heartbeat", id="h1", url="/b")], strict=True)
        _same(0, result.accepted)
        _same(StoreSettings(), store.settings)
        _same(["accepted"], _statuses(store.append([
            make_event("order", id="o2", order="A2", currency="USD")])))
        _same("USD", store.settings.currency)

    def test_concurrent_writer_threads_lose_nothing(self) -> None:
        """Four threads on two store objects (one when the store cannot be reopened) appending
        overlapping batches store each id once, at distinct increasing positions."""
        store = self.new_store()
        opener = self.store_opener(store)
        second = store if opener is None else opener()
        events = [make_event("message", id=f"m{i:03d}", visitor=f"v{i % 9}", request=f"r{i % 9}",
                             ts=_at(i)) for i in range(400)]
        errors: list[BaseException] = []

        def work(worker: int) -> None:
            target = (store, second)[worker % 2]
            try:
                for begin in range(worker * 50, worker * 50 + 400, 25):
                    result = target.append(events[begin % 400:][:25])
                    assert result.ok, [o.error for o in result.errors]
            except BaseException as err:  # surfaced in the main thread
                errors.append(err)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            if second is not store:
                second.close()
        _same([], errors)
        stored = list(store.read())
        _same(sorted(e.id for e in events), sorted(_ids_of(iter(stored))))
        positions = [item.position for item in stored]
        _same(sorted(set(positions)), positions)
        _same(len(events), len(store))
        _same(positions[-1], store.position)

    def test_two_writer_processes_lose_nothing(self) -> None:
        """Two processes appending overlapping batches store each id once, at one position each."""
        store = self.new_store()
        opener = self.store_opener(store)
        if opener is None:
            _skip("the store cannot be opened from another process (store_opener returned None)")
            return
        events = [make_event("message", id=f"m{i:03d}", visitor=f"v{i % 7}", request=f"r{i % 7}",
                             ts=_at(i)) for i in range(240)]
        work = [[events[b:b + 20] for b in range(0, 240, 20)],
                [events[b:b + 30] for b in range(90, 240, 30)] + [events[:90]]]
        results = _run_writers(opener, work)
        stored = list(store.read())
        _same(sorted(e.id for e in events), sorted(_ids_of(iter(stored))))
        positions = [item.position for item in stored]
        _same(sorted(set(positions)), positions)
        accepted = [s for statuses, _ in results for s in statuses if s == Status.ACCEPTED.value]
        _same(len(events), len(accepted))
        _same(sorted(positions), sorted(p for _, given in results for p in given))
        _same(len(events), len(store))

    def test_two_processes_one_currency(self) -> None:
        """Concurrent EUR and USD writers on a fresh store: one currency wins, the other is rejected."""
        store = self.new_store()
        opener = self.store_opener(store)
        if opener is None:
            _skip("the store cannot be opened from another process (store_opener returned None)")
            return

        def orders(currency: str) -> list[list[Event]]:
            return [[make_event("order", id=f"{currency}{b}-{i}", order=f"{currency}{b}-{i}",
                                currency=currency, visitor=f"v-{currency}") for i in range(5)]
                    for b in range(6)]

        results = _run_writers(opener, [orders("EUR"), orders("USD")])
        stored = {item.event.currency for item in store.read()  # type: ignore[attr-defined]
                  if item.event.type == "order"}
        _same(1, len(stored))
        (winner,) = stored
        _same(winner, store.settings.currency)
        loser = 1 if winner == "EUR" else 0
        _same({"rejected"}, set(results[loser][0]))
        _same({"accepted"}, set(results[1 - loser][0]))

    def test_reconnects_after_lost_connection(self) -> None:
        """After its connections are cut, the store reconnects: appends and reads work again."""
        store = self.new_store()
        store.append([make_event("heartbeat", id="h1")])
        if not self.break_connections(store):
            _skip("the store has no connection to lose (break_connections returned False)")
            return
        result = store.append([make_event("heartbeat", id="h2")])
        _same(["accepted"], _statuses(result))
        _same(["h1", "h2"], _ids_of(store.read()))
        self.break_connections(store)
        _same(2, store.position)
        self.break_connections(store)
        _same(["duplicate"], _statuses(store.append([make_event("heartbeat", id="h2")])))
