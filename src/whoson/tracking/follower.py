"""Following the store: a tracker's in-memory state and the store position it has applied.

Several trackers (processes) may share one store. Each applies the stored
events in position order to its report state (a
:class:`~whoson.metrics.reporter.Reporter`) and, once built, its live view;
before it answers, it catches up with what others appended since its
:attr:`Follower.position`.

>>> from datetime import UTC, datetime
>>> from whoson.clock import FixedClock
>>> from whoson.core.parsing import parse_event
>>> from whoson.core.settings import ParseContext
>>> from whoson.live import LiveConfig
>>> from whoson.metrics.reporter import Reporter
>>> from whoson.stores.memory import MemoryStore
>>> store, clock = MemoryStore(), FixedClock(datetime(2026, 3, 2, tzinfo=UTC))
>>> follower = Follower(store, ParseContext(), Reporter(now=clock.now), LiveConfig(), (), clock)
>>> _ = store.append([parse_event({"id": "e1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z",
...                                "visitor": "v1"}, ParseContext())])
>>> follower.position, follower.sync(), follower.position
(0, None, 1)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from whoson.clock import Clock
from whoson.core.events import Event
from whoson.core.settings import ParseContext
from whoson.live import LiveConfig, LiveView
from whoson.metrics.reporter import Reporter
from whoson.rules import Rule
from whoson.stores.base import Store, StoredEvent
from whoson.tracking import checkpoint
from whoson.tracking.live import LiveWiring
from whoson.tracking.settings import adopt_currency

__all__ = ["Follower", "locked"]

_MICROSECOND = timedelta(microseconds=1)
_F = TypeVar("_F", bound=Callable[..., Any])


def locked(method: _F) -> _F:
    """Run ``method`` holding its object's ``_lock`` (the tracker's: one serialises every call)."""

    @wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return cast(_F, run)


class Follower:
    """The report state, the live wiring and the settings of one tracker, kept in step with its store.

    Not thread-safe by itself: the tracker's lock serialises every call.
    """

    def __init__(self, store: Store, ctx: ParseContext, reporter: Reporter, live_config: LiveConfig,
                 rules: tuple[Rule, ...], clock: Clock) -> None:
        self.store = store
        self.ctx = ctx
        self.reporter = reporter
        self.clock = clock
        # The store position applied so far: every event up to it is in the projection.
        self.position = 0
        # The position of the checkpoint restored or saved last (0: none), and how many events
        # this tracker loaded itself (Tracker.load) since: they do not call for a save at close.
        self.checkpointed = 0
        self.loaded = 0
        # Whether that checkpoint holds a live view.
        self.checkpoint_live = False
        self.live = LiveWiring(live_config, rules, applied=self.applied, clock=clock)

    def start(self, *, live: bool = False, restore: bool = True) -> None:
        """Build the state from the store (a tracker opening a filled store).

        With ``restore``, the store's checkpoint (:mod:`whoson.tracking.checkpoint`) is
        restored when it is usable, and only the events stored after it are applied:
        O(state) to unpickle + O(new events); otherwise every stored event is applied:
        O(events). ``live``: build the live view and the rules engine too (rules must
        see every event). The one place a tracker builds its state from the store.
        """
        restored = restore and checkpoint.restore(self)
        project = self.project
        for stored in self.store.read(after=self.position):
            project(stored.event)
            self.position = stored.position
        if restored:
            checkpoint.attach_rules(self)
        if live:
            self.live.build()

    def applied(self, **filters: Any) -> Iterator[StoredEvent]:
        """The stored events (matching ``filters``) up to the position applied so far."""
        limit = self.position
        with _finished(self.store.read(**filters)) as stored:
            for item in stored:
                if item.position <= limit:
                    yield item

    def history(self, as_of: datetime) -> Iterator[Event]:
        """The applied events stamped up to ``as_of``, in store order (a replay's input)."""
        return (stored.event for stored in self.applied(end=as_of + _MICROSECOND))

    def sync(self) -> None:
        """Apply what others appended since :attr:`position`.

        A no-op costs one look at the store's position (SQLite: ``PRAGMA
        data_version``; PostgreSQL: one indexed ``MAX(position)``).
        """
        if self.store.position > self.position:
            self.catch_up()

    def catch_up(self, until: int | None = None) -> None:
        """Apply the stored events after :attr:`position` (before ``until``), in position order.

        They were appended (and their rules evaluated) by another tracker: they
        go into the projection, the ledger and the live view like local events,
        and the rules note them (limits, time-based schedules) without firing.
        """
        now: datetime | None = None
        with _finished(self.store.read(after=self.position)) as stored:
            for item in stored:
                if until is not None and item.position >= until:
                    break
                event = item.event
                self.project(event)
                self.ctx = adopt_currency(self.ctx, event)
                engine = self.live.engine
                if engine is not None:
                    now = self.clock.now() if now is None else now
                    engine.follow(event, now)
                self.position = item.position

    def changes(self, after: int, timeout: float, lock: AbstractContextManager[object]) -> int:
        """Catch up (holding ``lock``); the position once past ``after``, else ``after`` after ``timeout`` s.

        The lock is held only while catching up, never while waiting in the store.
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            with lock:
                self.sync()
                position = self.position
            if position > after:
                return position
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return after
            self.store.wait(max(position, after), remaining)

    def adopt(self, events: Sequence[Event], positions: Sequence[int]) -> None:
        """Apply events just stored at ``positions``: project each, let an order settle the currency."""
        apply, view = self.reporter.apply, self.live.view
        for event, position in zip(events, positions, strict=True):
            apply(event)
            if view is not None:
                view.apply(event)
            if self.ctx.currency is None:
                self.ctx = adopt_currency(self.ctx, event)
            self.position = position

    def project(self, event: Event) -> None:
        """Apply ``event`` to the report state and, once built, the live view."""
        self.reporter.apply(event)
        view = self.live.view
        if view is not None:
            view.apply(event)

    def view(self, now: datetime) -> LiveView:
        """The live view for ``now`` (see :meth:`LiveWiring.at <whoson.tracking.live.LiveWiring.at>`)."""
        return self.live.at(now, self.reporter.projection.last_ts, self.position)


@contextmanager
def _finished(items: Iterator[StoredEvent]) -> Iterator[Iterator[StoredEvent]]:
    """Close a store read (its connection) even when the caller stops early."""
    try:
        yield items
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
