"""An event store in one SQLite file (stdlib :mod:`sqlite3`), safe across threads and processes.

The file is in WAL mode, so readers never wait for a writer. Each append is
one ``BEGIN IMMEDIATE`` transaction: concurrent writers (threads or processes)
take turns, and duplicates and conflicts are decided inside the transaction
that writes, so idempotency holds across processes. A crash loses at most the
batch being written, never part of one.

Each event is a row: its JSON text (decimals exact) plus indexed columns for
id, type, time (integer microseconds since the epoch), visitor and request.

>>> from whoson.testing import make_event
>>> with SQLiteStore(":memory:") as store:
...     result = store.append([make_event("heartbeat", id="h1")])
...     [(s.position, s.event.id) for s in store.read()]
[(1, 'h1')]
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from whoson.core.batch import BatchResult, classify
from whoson.core.errors import StoreError, StoreLockedError
from whoson.core.events import Event
from whoson.stores._codec import decode_event, to_micros
from whoson.stores._common import ReadQuery, check_settings_change, strict_result
from whoson.stores._rows import (
    SCHEMA_VERSION,
    Prepared,
    check_meta,
    initial_meta,
    settings_from_meta,
    settings_rows,
)
from whoson.stores.base import Order, Store, StoredEvent, StoreSettings

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]


_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE events ("
    " position INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " type TEXT NOT NULL,"
    " ts INTEGER NOT NULL,"
    " visitor TEXT,"
    " request TEXT,"
    " body TEXT NOT NULL)",
    "CREATE INDEX events_time ON events (ts, id)",
    "CREATE INDEX events_visitor ON events (visitor, position)",
    "CREATE INDEX events_request ON events (request) WHERE request IS NOT NULL",
)
_IN_CHUNK = 500
# Pauses between attempts to open a store another connection is preparing (seconds).
_FIRST_PAUSE = 0.002
_MAX_PAUSE = 0.05
_OWNER = ("SELECT visitor FROM events WHERE request = ? AND visitor IS NOT NULL"
          " ORDER BY position LIMIT 1")
_INSERT = "INSERT INTO events (id, type, ts, visitor, request, body) VALUES (?, ?, ?, ?, ?, ?)"

def _each_chunk(db: sqlite3.Connection, sql: str, values: Sequence[str]) -> Iterator[Any]:
    """Rows of ``sql`` with its ``IN ({})`` filled by ``values``, a few hundred at a time.

    Plain placeholders work with every SQLite build (no JSON1) and stay under
    the oldest limit on host parameters (999).
    """
    for begin in range(0, len(values), _IN_CHUNK):
        part = values[begin:begin + _IN_CHUNK]
        yield from db.execute(sql.format(", ".join("?" * len(part))), part)


def _select(query: ReadQuery) -> tuple[str, list[Any]]:
    """The SELECT for ``query``, written so that SQLite walks the index that fits.

    Without statistics SQLite prefers the position (rowid) range, which for a
    time-ordered read would mean sorting everything; a unary ``+`` on a column
    keeps the planner from using it for lookups.
    """
    by_time = query.order == "time"
    use_time_index = query.visitor is None and (
        by_time or (query.start is not None and query.after == 0)
    )
    where = ["+position > ?" if use_time_index else "position > ?"]
    params: list[Any] = [query.after]
    if query.start is not None:
        where.append("ts >= ?")
        params.append(to_micros(query.start))
    if query.end is not None:
        where.append("ts < ?")
        params.append(to_micros(query.end))
    if query.visitor is not None:
        where.append("visitor = ?")
        params.append(query.visitor)
    if query.types is not None:
        where.append(f"+type IN ({', '.join('?' * len(query.types))})")
        params.extend(sorted(query.types))
    params.append(-1 if query.limit is None else query.limit)
    order_by = "ts, id" if by_time else "position"
    return (f"SELECT position, body FROM events WHERE {' AND '.join(where)}"
            f" ORDER BY {order_by} LIMIT ?", params)


class SQLiteStore(Store):
    """Events in one SQLite file; several store objects and processes may share it.

    ``durable=True`` syncs every commit to disk (``synchronous=FULL``); the
    default (``NORMAL``) survives a crash of the process but may lose the last
    commits on power loss. ``busy_timeout`` is how long a writer waits for
    another one, in seconds; past it an operation raises
    :class:`~whoson.core.errors.StoreLockedError` (nothing of it written, safe
    to retry). ``settings``, when given, are saved (see :meth:`save_settings`);
    when omitted, the file's are used. With ``create=False`` the file must
    already be a whoson store: nothing is created or changed in it.

    One connection per store object, guarded by a lock, so a web backend can
    share the object across threads.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durable: bool = False,
        busy_timeout: float = 5.0,
        settings: StoreSettings | None = None,
        create: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        self.durable = durable
        self._busy_timeout = busy_timeout
        self._private = self.path in ("", ":memory:") or self.path.startswith("file::memory:")
        # Readers open their own connections later: pin the file even if the cwd changes.
        self._file = self.path if self._private else os.path.abspath(self.path)
        self._lock = threading.Lock()
        # (data_version, newest position) as last seen on this connection.
        self._head: tuple[int, int] | None = None
        try:
            self._db: sqlite3.Connection | None = sqlite3.connect(
                self._file, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as err:
            raise StoreError(f"cannot open SQLite store {self.path!r}: {err}") from err
        try:
            self._prepare(settings or StoreSettings(), create=create)
            if settings is not None:
                self.save_settings(settings)
        except BaseException:
            self._db.close()
            self._db = None
            raise

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise StoreError(f"SQLite store {self.path!r}: {err}") from err
            raise StoreLockedError(
                f"SQLite store {self.path!r}: {err}: another writer held it longer than the "
                f"busy timeout ({self._busy_timeout:g} s); nothing of this operation was "
                "written, and re-sending the same events is safe (stored ones count as "
                "duplicates)"
            ) from err
        except sqlite3.Error as err:
            raise StoreError(f"SQLite store {self.path!r}: {err}") from err

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"SQLite store {self.path!r} is closed")
        return self._db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception; lock held."""
        with self._lock, self._errors():
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                # SQLite may already have rolled back (e.g. disk full); don't mask the cause.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def _prepare(self, settings: StoreSettings, *, create: bool) -> None:
        """WAL mode and the schema, waiting (up to the busy timeout) for another opener.

        Switching a fresh file to WAL needs its write lock, and while another
        connection holds it (another process opening the same fresh store)
        SQLite answers "database is locked" at once instead of calling the
        busy handler. Every step here is idempotent, so the whole preparation
        is tried again, with short pauses, until the busy timeout has passed.
        """
        db = self._conn()
        deadline = time.monotonic() + self._busy_timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                with self._errors():
                    if not create and not self._has_meta(db):
                        raise StoreError(f"{self.path!r} is not a whoson store (it has no whoson "
                                         "tables, and reading never creates them)")
                    db.execute("PRAGMA journal_mode = WAL")
                    db.execute(f"PRAGMA synchronous = {'FULL' if self.durable else 'NORMAL'}")
                    self._prepare_schema(settings)
                return
            except StoreLockedError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                time.sleep(min(pause, remaining))
                pause = min(pause * 2, _MAX_PAUSE)

    def _meta(self, db: sqlite3.Connection) -> dict[str, str]:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())

    def _prepare_schema(self, settings: StoreSettings) -> None:
        db = self._conn()
        if self._has_meta(db):
            self._check_meta(self._meta(db))
            return
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                if self._has_meta(db):  # another process created it meanwhile
                    self._check_meta(self._meta(db))
                else:
                    self._create_schema(db, settings)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    @staticmethod
    def _has_meta(db: sqlite3.Connection) -> bool:
        found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
        return found.fetchone() is not None

    def _create_schema(self, db: sqlite3.Connection, settings: StoreSettings) -> None:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )]
        if tables:
            raise StoreError(
                f"{self.path!r} is a SQLite database but not a whoson store "
                f"(it has tables {', '.join(tables)} and no whoson meta table)"
            )
        for statement in _SCHEMA:
            db.execute(statement)
        db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", initial_meta(settings))

    def _check_meta(self, meta: dict[str, str]) -> None:
        check_meta(meta, f"SQLite file {self.path!r}")

    def append(self, events: Iterable[Event], *, strict: bool = False) -> BatchResult:
        """Store the new events of ``events`` in one transaction; O(b log n) for b events.

        Events whose extras cannot be written as JSON are rejected on their own.
        The input is read in full before the transaction starts. The store's
        currency is read and, if this batch settles it, written in the same
        transaction, so concurrent writers agree on one currency.
        """
        prepared = Prepared.of(list(events))
        ids = [event.id for event in prepared.events]
        requests = sorted({r for e in prepared.events if (r := e.request_id)})
        with self._transaction() as db:
            stored: dict[str, Event] = {}
            for (body,) in _each_chunk(db, "SELECT body FROM events WHERE id IN ({})", ids):
                event = decode_event(body)
                stored[event.id] = event
            # A request's visitor is fixed by the first stored event naming it: one
            # index probe per request (not a scan of the request's events).
            owners: dict[str, str] = {}
            for request in requests:
                row = db.execute(_OWNER, (request,)).fetchone()
                if row is not None:
                    owners[request] = row[0]
            (raw,) = db.execute("SELECT value FROM meta WHERE key = 'currency'").fetchone()
            currency = json.loads(raw)
            classified = classify(prepared.events, stored=stored, owners=owners, currency=currency)
            result = prepared.merge(classified.result)
            if strict and not result.ok:
                return strict_result(result).evolve(currency=currency)
            rows = prepared.accepted_rows(classified.result)
            (before,) = db.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()
            db.executemany(_INSERT, rows)
            if rows:
                db.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'event_count'",
                    (len(rows),),
                )
                if classified.currency != currency:
                    db.execute("UPDATE meta SET value = ? WHERE key = 'currency'",
                               (json.dumps(classified.currency),))
            # Rowids without AUTOINCREMENT are max + 1: the batch got before+1 .. before+k.
            head = before + len(rows)
            self._head = (self._data_version(db), head)
        return result.evolve(positions=tuple(range(before + 1, head + 1)),
                             currency=classified.currency)

    @staticmethod
    def _data_version(db: sqlite3.Connection) -> int:
        (value,) = db.execute("PRAGMA data_version").fetchone()
        return int(value)

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

        Index-backed: a time range or a visitor costs O(log n + k) for k
        events read, plus O(k log k) when they must be sorted into the other
        order; a type filter alone scans the positions after ``after``.

        The read is a snapshot taken when it is called, on its own connection
        (so it never holds up writers or other threads); the connection closes
        when the iterator is exhausted or discarded. Holding an unfinished
        iterator for long keeps SQLite from trimming its write-ahead log.
        """
        query = ReadQuery.check(
            after=after, start=start, end=end, visitor=visitor, types=types,
            limit=limit, order=order,
        )
        if query.empty:
            return iter(())
        sql, params = _select(query)
        if self._private:
            # An in-memory database exists only on this connection: copy the rows out.
            with self._lock, self._errors():
                rows = self._conn().execute(sql, params).fetchall()
            return self._decode(iter(rows), None)
        self._conn()  # refuse to read through a closed store
        with self._errors():
            reader = sqlite3.connect(self._file, timeout=self._busy_timeout,
                                     isolation_level=None, check_same_thread=False)
            try:
                # The first step of the statement starts its read transaction: the snapshot.
                cursor = reader.execute(sql, params)
            except BaseException:
                reader.close()
                raise
        return self._decode(cursor, reader)

    def _decode(
        self, rows: Iterator[Any], reader: sqlite3.Connection | None
    ) -> Iterator[StoredEvent]:
        try:
            with self._errors():
                for position, body in rows:
                    yield StoredEvent(position, decode_event(body))
        finally:
            if reader is not None:
                reader.close()

    def get(self, event_id: str) -> StoredEvent | None:
        """The stored event with this id, or ``None``; O(log n)."""
        with self._lock, self._errors():
            row = self._conn().execute(
                "SELECT position, body FROM events WHERE id = ?", (event_id,)
            ).fetchone()
        return None if row is None else StoredEvent(row[0], decode_event(row[1]))

    @property
    def position(self) -> int:
        """Position of the newest stored event (0 when empty).

        Cheap enough to ask before every query: ``PRAGMA data_version`` tells
        whether another connection committed since this object last looked;
        only then is ``MAX(position)`` read (O(log n)).
        """
        with self._lock:
            db = self._conn()
            try:  # no context manager here: this runs before every tracker query
                (version,) = db.execute("PRAGMA data_version").fetchone()
                cached = self._head
                if cached is not None and cached[0] == version:
                    return cached[1]
                (value,) = db.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()
            except sqlite3.Error as err:
                raise StoreError(f"SQLite store {self.path!r}: {err}") from err
            self._head = (int(version), int(value))
        return int(value)

    def __len__(self) -> int:
        """How many events are stored (a counter kept by :meth:`append`); O(1)."""
        with self._lock, self._errors():
            return self._count(self._conn())

    @staticmethod
    def _count(db: sqlite3.Connection) -> int:
        (value,) = db.execute("SELECT value FROM meta WHERE key = 'event_count'").fetchone()
        return int(value)

    @property
    def settings(self) -> StoreSettings:
        """The settings saved in the file (another process may have saved them); O(1)."""
        with self._lock, self._errors():
            return self._settings(self._meta(self._conn()))

    def _settings(self, meta: dict[str, str]) -> StoreSettings:
        return settings_from_meta(meta, f"SQLite file {self.path!r}")

    def save_settings(self, settings: StoreSettings) -> None:
        """Save ``settings``; ConfigError if events were validated otherwise.

        With events stored, only a missing currency may be fixed, and only to
        the one stored orders name, if any (O(n) to check). Otherwise O(1).
        """
        with self._transaction() as db:
            current = self._settings(self._meta(db))

            def order_currencies() -> set[str]:
                bodies = db.execute("SELECT body FROM events WHERE type = 'order'")
                return {c for (body,) in bodies
                        if (c := getattr(decode_event(body), "currency", None))}

            check_settings_change(current, settings, self._count(db), order_currencies)
            db.executemany("UPDATE meta SET value = ? WHERE key = ?",
                           [(value, key) for key, value in settings_rows(settings)])

    def close(self) -> None:
        """Close the connection; later calls raise StoreError. Closing twice is harmless."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
