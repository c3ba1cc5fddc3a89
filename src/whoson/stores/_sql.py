"""The one append pipeline of the SQL stores, with the hooks each backend fills in.

Like eventsourcing's recorders, the SQL backends (SQLite, PostgreSQL) share
what an append *means* and differ only in how they talk to their database.
:meth:`SQLStore.append` is written once:

1. encode every event of the batch as the backend's row (:meth:`~SQLStore._encode`);
   an event that cannot be stored is rejected alone, before any transaction;
2. in one write transaction that serialises writers (:meth:`~SQLStore._write`):
   look up the batch's ids already stored (:meth:`~SQLStore._stored`), the
   owners of its requests (:meth:`~SQLStore._owners`) and the store's
   currency (:meth:`~SQLStore._read_meta`); classify every event
   (:func:`~whoson.core.batch.classify`); stop there for a strict batch with
   a rejection;
3. still in that transaction: insert the accepted rows and learn their
   positions (:meth:`~SQLStore._insert`), add them to the event counter
   (:meth:`~SQLStore._count_added`), settle the currency if this batch named
   the first one (:meth:`~SQLStore._write_meta`), and tell followers
   (:meth:`~SQLStore._appended`: PostgreSQL ``NOTIFY``; SQLite remembers its head).

``save_settings`` and the checkpoints are shared the same way.

>>> from whoson.stores.sqlite import SQLiteStore
>>> issubclass(SQLiteStore, SQLStore)
True
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterable
from typing import Generic, TypeVar

from whoson.core.batch import BatchResult, classify
from whoson.core.events import Event
from whoson.stores._common import check_checkpoint, check_settings_change, strict_result
from whoson.stores._rows import Prepared, settings_from_meta, settings_rows
from whoson.stores.base import Store, StoreSettings

__all__ = ["SQLStore"]

_T = TypeVar("_T")
Tx = TypeVar("Tx")
"""What a backend's write transaction hands its hooks (a connection, a cursor)."""
Row = TypeVar("Row")
"""What a backend's :meth:`SQLStore._encode` makes of an event."""


class SQLStore(Store, Generic[Tx, Row]):
    """A store whose append pipeline is shared; subclasses implement the ``_`` hooks.

    ``_where`` names the store in error messages (e.g. ``"SQLite file 'x.db'"``).
    """

    _where: str = "SQL store"

    # -- hooks: the write transaction ------------------------------------------------

    @abstractmethod
    def _write(self, work: Callable[[Tx], _T]) -> _T:
        """Run ``work(tx)`` in one transaction that writers take in turn; commit, or roll back if it raises."""

    @abstractmethod
    def _encode(self, event: Event) -> Row:
        """The row of ``event``; ``TypeError``/``ValueError`` if it cannot be stored."""

    def _encode_batch(self, events: list[Event]) -> list[Row] | None:
        """The rows of all ``events`` in one pass, or ``None`` when any of them might not be
        storable (or the backend has no batch encoder): then each is encoded alone with
        :meth:`_encode`, which rejects the unstorable ones by themselves. Default: ``None``."""
        return None

    @abstractmethod
    def _stored(self, tx: Tx, ids: list[str]) -> dict[str, Event]:
        """The stored events among ``ids``, by id."""

    @abstractmethod
    def _owners(self, tx: Tx, requests: list[str]) -> dict[str, str]:
        """The visitor of the first stored event naming each of ``requests`` (those stored)."""

    @abstractmethod
    def _read_meta(self, tx: Tx) -> dict[str, str]:
        """Every meta row (key -> value)."""

    @abstractmethod
    def _write_meta(self, tx: Tx, values: dict[str, str]) -> None:
        """Overwrite the meta rows of ``values``."""

    @abstractmethod
    def _insert(self, tx: Tx, rows: list[Row]) -> tuple[int, ...]:
        """Insert ``rows`` (at least one) in order; the positions they got."""

    @abstractmethod
    def _count_added(self, tx: Tx, added: int) -> None:
        """Add ``added`` to the stored-event counter."""

    @abstractmethod
    def _stored_count(self, tx: Tx) -> int:
        """The stored-event counter."""

    @abstractmethod
    def _order_currencies(self, tx: Tx) -> Collection[str]:
        """The currencies stored orders name (for :meth:`save_settings`)."""

    def _appended(self, tx: Tx, positions: tuple[int, ...]) -> None:
        """Called in the transaction once rows are written: notify followers. Default: nothing."""

    @abstractmethod
    def _put_checkpoint(self, name: str, version: str, position: int, blob: bytes) -> None:
        """Insert or replace the checkpoint ``name`` (own transaction)."""

    @abstractmethod
    def _get_checkpoint(self, name: str) -> tuple[str, int, bytes] | None:
        """The checkpoint ``name`` or ``None``."""

    # -- the pipeline ----------------------------------------------------------------

    def append(self, events: Iterable[Event], *, strict: bool = False) -> BatchResult:
        """Store the new events of ``events`` in one transaction; O(b log n) for b events.

        Events that cannot be written (extras that are not JSON, text the
        database cannot hold) are rejected on their own. The input is read
        and encoded in full before the transaction starts. The store's
        currency is read and, if this batch settles it, written in the same
        transaction, so concurrent writers agree on one currency.
        """
        batch = list(events)
        rows = self._encode_batch(batch)
        prepared = (Prepared(batch, rows, list(range(len(batch))), []) if rows is not None
                    else Prepared.of(batch, self._encode))
        ids = [event.id for event in prepared.events]
        requests = sorted({r for e in prepared.events if (r := e.request_id)})

        def write(tx: Tx) -> BatchResult:
            stored = self._stored(tx, ids) if ids else {}
            owners = self._owners(tx, requests) if requests else {}
            currency = self._settings_of(self._read_meta(tx)).currency
            classified = classify(prepared.events, stored=stored, owners=owners, currency=currency)
            result = prepared.merge(classified.result)
            if strict and not result.ok:
                return strict_result(result).evolve(currency=currency)
            rows = prepared.accepted_rows(classified.result)
            if not rows:
                return result.evolve(positions=(), currency=currency)
            positions = self._insert(tx, rows)
            self._count_added(tx, len(rows))
            if classified.currency != currency:
                self._write_meta(tx, {"currency": json.dumps(classified.currency)})
            self._appended(tx, positions)
            return result.evolve(positions=positions, currency=classified.currency)

        return self._write(write)

    def _settings_of(self, meta: dict[str, str]) -> StoreSettings:
        return settings_from_meta(meta, self._where)

    def save_settings(self, settings: StoreSettings) -> None:
        """Save ``settings``; ConfigError if events were validated otherwise.

        With events stored, only a missing currency may be fixed, and only to
        the one stored orders name, if any (O(n) to check). Otherwise O(1).
        """

        def write(tx: Tx) -> None:
            current = self._settings_of(self._read_meta(tx))
            check_settings_change(current, settings, self._stored_count(tx),
                                  lambda: self._order_currencies(tx))
            self._write_meta(tx, dict(settings_rows(settings)))

        self._write(write)

    def save_checkpoint(self, name: str, version: str, position: int, blob: bytes) -> None:
        """Keep ``blob`` under ``name`` (replacing an older one), in its own transaction.

        Never touches events, positions or settings; safe while other
        processes append. O(len(blob)).
        """
        check_checkpoint(name, version, position, blob)
        self._put_checkpoint(name, version, position, bytes(blob))

    def load_checkpoint(self, name: str) -> tuple[str, int, bytes] | None:
        """The checkpoint saved under ``name`` as ``(version, position, blob)``, or ``None``; O(len(blob))."""
        check_checkpoint(name, "", 0, b"")
        return self._get_checkpoint(name)
