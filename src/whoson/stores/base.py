"""The store interface every backend implements.

A store is an append-only log of validated events with:

* ``append(events)``: one atomic, idempotent write per batch. Each event is
  accepted (new), a duplicate (same id, same content: a no-op) or rejected
  (same id with other content, or a request claimed by another visitor).
  The accepted events of a batch are written all together or not at all.
* ``read(...)``: by position (for tailing), time range, visitor and type.
* ``position``: the position of the newest stored event (0 when empty).
* ``wait(after, timeout)``: block until an event past ``after`` is stored
  (what a tracker following a shared store waits on).

Positions are positive integers that grow with every accepted event, and a
store commits them in order: a reader that has seen position ``p`` never
later finds a new event at a position below ``p``, so tailing with
``read(after=p)`` misses nothing. ``append`` reports the positions it gave
(:attr:`~whoson.core.batch.BatchResult.positions`) and settles the store's
currency inside its write: the first accepted order naming a currency fixes
it, and orders in another currency are rejected, whichever process sent them.
Settings (currency, rating scale) are kept with the data so that a report
cannot silently use another scale than the store was filled with.

A store also keeps **checkpoints**: named blobs (``save_checkpoint``,
``load_checkpoint``) with a version string and the store position they were
taken at, so that a tracker can start from a saved projection instead of
replaying every event. A checkpoint is opaque to the store: saving one never
changes events, positions or settings, and judging whether one is still
usable (its version, its position) is the caller's business.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Literal

import attrs

from whoson.core.batch import BatchResult
from whoson.core.events import Event
from whoson.core.settings import RatingScale

__all__ = ["POLL_INTERVAL", "Order", "Store", "StoreSettings", "StoredEvent"]

Order = Literal["position", "time"]

POLL_INTERVAL = 0.02
"""Seconds between two looks at :attr:`Store.position` in the default :meth:`Store.wait`."""


@attrs.frozen
class StoredEvent:
    """An event with the position the store gave it."""

    position: int
    event: Event


@attrs.frozen
class StoreSettings:
    """What a store's events were validated with."""

    currency: str | None = None
    rating_scale: RatingScale = RatingScale()


class Store(ABC):
    """An append-only, idempotent event log. Subclasses: memory, SQLite, PostgreSQL."""

    @abstractmethod
    def append(self, events: Iterable[Event], *, strict: bool = False) -> BatchResult:
        """Store the new events of ``events`` in one atomic write.

        Returns an outcome per event, in input order. With ``strict=True`` a
        batch with any rejected event writes nothing (the result still says why).
        """

    @abstractmethod
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
        """Stored events with position > ``after`` and ``start <= ts < end``.

        ``order="position"`` (default) is arrival order, for tailing;
        ``order="time"`` is event-time order ``(ts, id)``.
        """

    @abstractmethod
    def get(self, event_id: str) -> StoredEvent | None:
        """The stored event with this id, or ``None``."""

    @property
    @abstractmethod
    def position(self) -> int:
        """Position of the newest stored event; 0 for an empty store."""

    def wait(self, after: int, timeout: float) -> int:
        """Block until the store's position is past ``after``, or ``timeout`` seconds pass.

        Returns the position then (``<= after`` when the time ran out). The
        default polls :attr:`position` every :data:`POLL_INTERVAL` seconds
        (a few ms at first); backends with a push mechanism override it.
        Safe to call from any thread: it holds no lock while it sleeps.

        >>> from whoson.stores.memory import MemoryStore
        >>> MemoryStore().wait(0, timeout=0.0)
        0
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        pause = POLL_INTERVAL / 8
        while True:
            position = self.position
            remaining = deadline - time.monotonic()
            if position > after or remaining <= 0:
                return position
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, POLL_INTERVAL)

    @abstractmethod
    def __len__(self) -> int:
        """How many events are stored."""

    @property
    @abstractmethod
    def settings(self) -> StoreSettings:
        """The settings this store's events were validated with."""

    @abstractmethod
    def save_settings(self, settings: StoreSettings) -> None:
        """Record ``settings``; refused with ConfigError if events were validated otherwise."""

    def save_checkpoint(self, name: str, version: str, position: int, blob: bytes) -> None:
        """Keep ``blob`` under ``name``, replacing the checkpoint saved under it before.

        ``version`` says what wrote the blob (a reader refuses a version it does
        not know) and ``position`` the store position it reflects. Durable
        stores keep checkpoints across reopening; saving never changes events,
        positions or settings, and is safe while other processes append.
        Refused with ``ValueError``/``TypeError`` for an empty name, a negative
        position or a blob that is not bytes. Costs O(len(blob)).

        >>> from whoson.stores.memory import MemoryStore
        >>> store = MemoryStore()
        >>> store.save_checkpoint("tracker", "projection-3", 0, b"state")
        >>> store.load_checkpoint("tracker")
        ('projection-3', 0, b'state')
        >>> store.load_checkpoint("other") is None
        True

        The default raises ``NotImplementedError`` (stores written before
        checkpoints existed); whoson's own stores all implement it.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no checkpoints")

    def load_checkpoint(self, name: str) -> tuple[str, int, bytes] | None:
        """The checkpoint saved under ``name`` as ``(version, position, blob)``, or ``None``.

        Costs O(len(blob)). See :meth:`save_checkpoint`.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no checkpoints")

    def close(self) -> None:  # noqa: B027 - optional for stores without resources
        """Release resources; the default has none."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
