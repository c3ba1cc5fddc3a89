"""An in-process event store: fast, thread-safe, gone when the process ends.

It keeps the events in arrival order plus four small indexes (id, event time,
visitor, type) so that each kind of read touches only what it returns.

>>> from whoson.core.parsing import parse_event
>>> store = MemoryStore()
>>> e = parse_event({"id": "1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"})
>>> store.append([e, e]).duplicates
1
>>> [(s.position, s.event.id) for s in store.read(visitor="v")]
[(1, '1')]
"""

from __future__ import annotations

import heapq
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime

from whoson.core.batch import BatchResult, classify
from whoson.core.events import Event
from whoson.stores._common import (
    ReadQuery,
    check_checkpoint,
    check_settings_change,
    strict_result,
)
from whoson.stores.base import Order, Store, StoredEvent, StoreSettings

__all__ = ["MemoryStore"]

# Sorting k candidates costs more than filtering k: a candidate list that is not
# already in the requested order is only chosen when it is this much smaller.
_SORT_PENALTY = 4


def _tail(positions: Sequence[int], after: int, end: int) -> range:
    """Indices into ``positions`` (ascending) of the values > ``after``, up to ``end``."""
    return range(bisect_right(positions, after, 0, end), end)


class MemoryStore(Store):
    """Events in a list, indexed by id, by ``(ts, id)``, by visitor and by type.

    Positions are 1, 2, 3, ...: the event at position ``p`` is ``events[p - 1]``.
    Reads see the events stored when :meth:`read` was called, even if the
    caller appends while iterating. All methods may be called from any thread.

    Costs: appending is O(1) per event; a time-range read is O(log n + k), after
    a one-off O(n log n) re-sort when late (out of time order) events arrived
    since the last time-ordered read.
    """

    def __init__(self, settings: StoreSettings | None = None) -> None:
        self._settings = settings if settings is not None else StoreSettings()
        self._events: list[Event] = []
        self._index: dict[str, int] = {}
        # Positions in (ts, id) order. Events mostly arrive in time order, so a
        # plain list is appended to and sorted again only after a late event.
        self._by_time: list[int] = []
        self._time_sorted = True
        self._by_visitor: dict[str, list[int]] = {}
        self._by_type: dict[str, list[int]] = {}
        self._owners: dict[str, str] = {}
        self._checkpoints: dict[str, tuple[str, int, bytes]] = {}
        self._lock = threading.RLock()
        # Woken by every append that stores something, for wait().
        self._appended = threading.Condition(self._lock)

    def _sort_key(self, position: int) -> tuple[datetime, str]:
        return self._events[position - 1].sort_key

    def _time_index(self) -> list[int]:
        """Positions in (ts, id) order; O(n log n) once after late events, else O(1)."""
        if not self._time_sorted:
            self._by_time.sort(key=self._sort_key)
            self._time_sorted = True
        return self._by_time

    def append(self, events: Iterable[Event], *, strict: bool = False) -> BatchResult:
        """Store the new events of ``events`` atomically; O(b) for b events.

        The input is read in full before anything is written, so an iterable
        that fails half-way writes nothing.

        >>> from whoson.testing import make_event
        >>> store = MemoryStore()
        >>> a = make_event("request", id="a", visitor="v1", request="r1")
        >>> b = make_event("message", id="b", visitor="v2", request="r1")
        >>> result = store.append([a, b], strict=True)
        >>> (result.accepted, result.rejected, len(store))
        (0, 2, 0)
        """
        batch = list(events)
        for event in batch:
            if not isinstance(event, Event):
                kind = type(event).__name__
                raise TypeError(f"append takes Event objects (see parse_event), got {kind}")
        with self._lock:
            stored = {
                event.id: self._events[position - 1]
                for event in batch
                if (position := self._index.get(event.id)) is not None
            }
            owners = {
                request: owner
                for event in batch
                if (request := event.request_id) is not None
                and (owner := self._owners.get(request)) is not None
            }
            currency = self._settings.currency
            classified = classify(batch, stored=stored, owners=owners, currency=currency)
            if strict and not classified.result.ok:
                return strict_result(classified.result).evolve(currency=currency)
            first = len(self._events) + 1
            for event in classified.accepted:
                self._write(event)
            if classified.accepted:
                if classified.currency != currency:
                    self._settings = StoreSettings(classified.currency, self._settings.rating_scale)
                self._appended.notify_all()
            positions = tuple(range(first, len(self._events) + 1))
        return classified.result.evolve(positions=positions)

    def _write(self, event: Event) -> None:
        # One int object per event, shared by every index that holds the position.
        position = len(self._events) + 1
        self._events.append(event)
        self._index[event.id] = position
        by_time = self._by_time
        if self._time_sorted and by_time and event.sort_key < self._events[by_time[-1] - 1].sort_key:
            self._time_sorted = False
        by_time.append(position)
        if event.visitor is not None:
            self._by_visitor.setdefault(event.visitor, []).append(position)
            request = event.request_id
            if request is not None:
                self._owners.setdefault(request, event.visitor)
        self._by_type.setdefault(event.TYPE, []).append(position)

    def read(
        self,
        *,
        after: int = 0,
        start: datetime | None = None,
        end: datetime | None = None,
        visitor: str | None = None,
        types: Collection[str] | None = None,
        limit: int | None = None,
        order: Order = "position",
    ) -> Iterator[StoredEvent]:
        """Stored events with position > ``after``, ``start <= ts < end``, ``visitor``, ``types``.

        Reads the smallest of the candidate sets the filters allow: a time
        range costs O(log n + k) for k events in the range, a visitor O(log m + k)
        for the visitor's m events, types O(k log t) over their k events.
        Candidates not already in the requested order are sorted, O(k log k).
        """
        query = ReadQuery.check(
            after=after, start=start, end=end, visitor=visitor, types=types,
            limit=limit, order=order,
        )
        if query.empty:
            return iter(())
        with self._lock:
            positions, in_order = self._candidates(query)
        return self._emit(positions, in_order, query)

    def _candidates(self, query: ReadQuery) -> tuple[Iterable[int], bool]:
        """The cheapest candidate positions for ``query`` and whether they are in its order."""
        n = len(self._events)
        plans: list[tuple[int, bool, str]] = [(n - min(query.after, n), False, "scan")]
        if query.visitor is not None:
            own = self._by_visitor.get(query.visitor, [])
            plans.append((len(_tail(own, query.after, len(own))), False, "visitor"))
        if query.types is not None:
            size = sum(
                len(_tail(lst, query.after, len(lst)))
                for lst in map(self._by_type.get, query.types) if lst is not None
            )
            plans.append((size, False, "types"))
        low, high = 0, n
        if query.start is not None or query.end is not None or query.order == "time":
            by_time = self._time_index()
            if query.start is not None:
                low = bisect_left(by_time, (query.start, ""), key=self._sort_key)
            if query.end is not None:
                high = bisect_left(by_time, (query.end, ""), key=self._sort_key)
            plans.append((max(high - low, 0), True, "time"))

        def cost(plan: tuple[int, bool, str]) -> int:
            size, time_ordered, _ = plan
            return size if time_ordered == (query.order == "time") else size * _SORT_PENALTY

        _, time_ordered, source = min(plans, key=cost)
        in_order = time_ordered == (query.order == "time")
        if source == "time":
            return self._by_time[low:high], in_order
        if source == "visitor":
            own = self._by_visitor.get(query.visitor or "", [])
            return [own[i] for i in _tail(own, query.after, len(own))], in_order
        if source == "types":
            lists = [lst for lst in map(self._by_type.get, query.types or ()) if lst is not None]
            runs = [[lst[i] for i in _tail(lst, query.after, len(lst))] for lst in lists]
            return heapq.merge(*runs), in_order
        return range(query.after + 1, n + 1), in_order

    def _emit(
        self, positions: Iterable[int], in_order: bool, query: ReadQuery
    ) -> Iterator[StoredEvent]:
        events = self._events
        after = query.after
        if not in_order and query.order == "position":
            positions = sorted(positions)
        selected: Iterator[StoredEvent] = (
            StoredEvent(position, event)
            for position in positions
            if position > after and query.matches(event := events[position - 1])
        )
        if not in_order and query.order == "time":
            selected = iter(sorted(selected, key=lambda stored: stored.event.sort_key))
        if query.limit is None:
            yield from selected
            return
        for count, stored in enumerate(selected, start=1):
            yield stored
            if count >= query.limit:
                return

    def get(self, event_id: str) -> StoredEvent | None:
        """The stored event with this id, or ``None``; O(1)."""
        position = self._index.get(event_id)
        if position is None:
            return None
        return StoredEvent(position, self._events[position - 1])

    @property
    def position(self) -> int:
        """Position of the newest stored event (0 when empty); O(1)."""
        return len(self._events)

    def wait(self, after: int, timeout: float) -> int:
        """Block until an event past ``after`` is stored or ``timeout`` seconds pass; no polling.

        >>> MemoryStore().wait(0, timeout=0.01)
        0
        """
        with self._appended:
            self._appended.wait_for(lambda: len(self._events) > after, timeout=max(timeout, 0.0))
            return len(self._events)

    def __len__(self) -> int:
        """How many events are stored; O(1)."""
        return len(self._events)

    @property
    def settings(self) -> StoreSettings:
        """The settings events were validated with; O(1)."""
        return self._settings

    def save_settings(self, settings: StoreSettings) -> None:
        """Record ``settings``; ConfigError if events were validated otherwise.

        With events stored, only a missing currency may be fixed, and only to
        the one stored orders name, if any (O(orders) to check). Otherwise O(1).
        """
        with self._lock:
            check_settings_change(self._settings, settings, len(self._events),
                                  self._order_currencies)
            self._settings = settings

    def _order_currencies(self) -> set[str]:
        events = self._events
        return {
            currency
            for position in self._by_type.get("order", ())
            if (currency := getattr(events[position - 1], "currency", None)) is not None
        }

    def save_checkpoint(self, name: str, version: str, position: int, blob: bytes) -> None:
        """Keep ``blob`` under ``name`` (in memory, gone with the store); O(len(blob)) to copy it.

        >>> store = MemoryStore()
        >>> store.save_checkpoint("t", "v1", 0, b"a")
        >>> store.save_checkpoint("t", "v2", 0, b"b")
        >>> store.load_checkpoint("t")
        ('v2', 0, b'b')
        """
        check_checkpoint(name, version, position, blob)
        with self._lock:
            self._checkpoints[name] = (version, position, bytes(blob))

    def load_checkpoint(self, name: str) -> tuple[str, int, bytes] | None:
        """The checkpoint saved under ``name``, or ``None``; O(1)."""
        check_checkpoint(name, "", 0, b"")
        with self._lock:
            return self._checkpoints.get(name)
