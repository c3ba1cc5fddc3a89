"""The store interface every backend implements.

A store is an append-only log of validated events with:

* ``append(events)``: one atomic, idempotent write per batch. Each event is
  accepted (new), a duplicate (same id, same content: a no-op) or rejected
  (same id with other content, or a request claimed by another visitor).
  The accepted events of a batch are written all together or not at all.
* ``read(...)``: by position (for tailing), time range, visitor and type.
* ``position``: the position of the newest stored event (0 when empty).

Positions are positive integers that grow with every accepted event.
Settings (currency, rating scale) are kept with the data so that a report
cannot silently use another scale than the store was filled with.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Literal

import attrs

from whoson.core.batch import BatchResult
from whoson.core.events import Event, RatingScale

__all__ = ["Order", "Store", "StoreSettings", "StoredEvent"]

Order = Literal["position", "time"]


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
