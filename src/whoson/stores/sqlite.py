"""An event store in one SQLite file (stdlib :mod:`sqlite3`), safe across threads and processes.

The file is in WAL mode, so readers never wait for a writer. Each append is
one ``BEGIN IMMEDIATE`` transaction: concurrent writers (threads or processes)
take turns, and duplicates and conflicts are decided inside the transaction
that writes, so idempotency holds across processes. A crash loses at most the
batch being written, never part of one. The append itself is the shared
pipeline of :class:`~whoson.stores._sql.SQLStore`; this module supplies its
hooks.

Each event is a row. Files created by this version use the compact row of
schema version 2 (:mod:`whoson.stores._compact`: typed, indexed columns for
id, type, time in microseconds, interned visitor and request, the other
fields as a JSON array with repeated text interned); files of schema version
1 (the whole event as JSON beside the indexed columns) are read and appended
to in their own format, never rewritten.

>>> from whoson.testing import make_event
>>> with SQLiteStore(":memory:") as store:
...     result = store.append([make_event("heartbeat", id="h1")])
...     [(s.position, s.event.id) for s in store.read()], store.schema_version
([(1, 'h1')], 2)
"""

from __future__ import annotations

import json
import json.scanner
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from whoson.core.errors import StoreError, StoreLockedError
from whoson.core.events import EVENT_TYPES, Event
from whoson.stores._codec import decode_event, to_micros
from whoson.stores._common import ReadQuery
from whoson.stores._compact import (
    SPECS,
    PreRow,
    Strings,
    decode_row,
    dump,
    pre_row,
    pre_row_into,
    row_body,
)
from whoson.stores._rows import check_meta, event_row, initial_meta
from whoson.stores._sql import SQLStore
from whoson.stores.base import Order, StoredEvent, StoreSettings

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

SCHEMA_VERSION = 2
"""The table layout new SQLite files get; files of version 1 are still read and written."""

_T = TypeVar("_T")

_SCHEMA_V1 = (
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
_SCHEMA_V2 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE strings (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",
    "CREATE TABLE events ("
    " position INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL,"
    " type INTEGER NOT NULL,"
    " ts INTEGER NOT NULL,"
    " visitor INTEGER,"
    " request TEXT,"
    " body TEXT NOT NULL)",
    "CREATE UNIQUE INDEX events_id ON events (id)",
    # The rowid (position) ends every index entry: (ts), (visitor) are (ts, position), ...
    "CREATE INDEX events_time ON events (ts)",
    "CREATE INDEX events_visitor ON events (visitor)",
    "CREATE INDEX events_request ON events (request) WHERE request IS NOT NULL",
)
_CHECKPOINTS = ("CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY,"
                " version TEXT NOT NULL, position INTEGER NOT NULL, blob BLOB NOT NULL)")
_IN_CHUNK = 500
# The classes whose events the batch encoder takes (a subclass takes the per-event path).
_EVENT_CLASSES = frozenset(EVENT_TYPES.values())
# Pauses between attempts to open a store another connection is preparing (seconds).
_FIRST_PAUSE = 0.002
_MAX_PAUSE = 0.05
_OWNER = ("SELECT visitor FROM events WHERE request = ? AND visitor IS NOT NULL"
          " ORDER BY position LIMIT 1")
_INSERT_V1 = "INSERT INTO events (id, type, ts, visitor, request, body) VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_V2 = ("INSERT INTO events (position, id, type, ts, visitor, request, body)"
              " VALUES (?, ?, ?, ?, ?, ?, ?)")
_COLUMNS_V1 = "position, body"
_COLUMNS_V2 = "position, id, type, ts, visitor, request, body"
_DECODER = json.JSONDecoder(parse_float=Decimal)
# The decoder's scanner called directly: a body is one JSON array with no surrounding space.
_SCAN: Any = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]


def _each_chunk(db: sqlite3.Connection, sql: str, values: Sequence[str]) -> Iterator[Any]:
    """Rows of ``sql`` with its ``IN ({})`` filled by ``values``, a few hundred at a time.

    Plain placeholders work with every SQLite build (no JSON1) and stay under
    the oldest limit on host parameters (999).
    """
    for begin in range(0, len(values), _IN_CHUNK):
        part = values[begin:begin + _IN_CHUNK]
        yield from db.execute(sql.format(", ".join("?" * len(part))), part)


def _select(query: ReadQuery, columns: str, visitor: Any, types: list[Any] | None,
            ) -> tuple[str, list[Any]]:
    """The SELECT for ``query``, written so that SQLite walks the index that fits.

    ``visitor`` and ``types`` are the values of those columns to match (the
    file's encoding of the query's visitor and types). Without statistics
    SQLite prefers the position (rowid) range, which for a time-ordered read
    would mean sorting everything; a unary ``+`` on a column keeps the
    planner from using it for lookups.
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
        params.append(visitor)
    if types is not None:
        where.append(f"+type IN ({', '.join('?' * len(types))})")
        params.extend(types)
    params.append(-1 if query.limit is None else query.limit)
    order_by = "ts, id" if by_time else "position"
    return (f"SELECT {columns} FROM events WHERE {' AND '.join(where)}"
            f" ORDER BY {order_by} LIMIT ?", params)


class SQLiteStore(SQLStore[sqlite3.Connection, Any]):
    """Events in one SQLite file; several store objects and processes may share it.

    ``durable=True`` syncs every commit to disk (``synchronous=FULL``); the
    default (``NORMAL``) survives a crash of the process but may lose the last
    commits on power loss. ``busy_timeout`` is how long a writer waits for
    another one, in seconds; past it an operation raises
    :class:`~whoson.core.errors.StoreLockedError` (nothing of it written, safe
    to retry). ``settings``, when given, are saved (see :meth:`save_settings`);
    when omitted, the file's are used. With ``create=False`` the file must
    already be a whoson store: nothing is created or changed in it by opening.

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
        self._where = f"SQLite file {self.path!r}"
        self._busy_timeout = busy_timeout
        self._private = self.path in ("", ":memory:") or self.path.startswith("file::memory:")
        # Readers open their own connections later: pin the file even if the cwd changes.
        self._file = self.path if self._private else os.path.abspath(self.path)
        self._lock = threading.Lock()
        # (data_version, newest position) as last seen on this connection.
        self._head: tuple[int, int] | None = None
        self.schema_version = SCHEMA_VERSION
        self._strings = Strings()
        # Version 2: event type names by code, and codes by name (the file's event_types row).
        self._type_names: list[str] = []
        self._type_codes: dict[str, int] = {}
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
                self._strings.discard()
                # SQLite may already have rolled back (e.g. disk full); don't mask the cause.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            self._strings.commit()

    # -- opening ---------------------------------------------------------------------

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

    @staticmethod
    def _file_meta(db: sqlite3.Connection) -> dict[str, str]:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())

    def _prepare_schema(self, settings: StoreSettings) -> None:
        db = self._conn()
        if self._has_meta(db):
            self._adopt(self._file_meta(db))
            return
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                if self._has_meta(db):  # another process created it meanwhile
                    self._adopt(self._file_meta(db))
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
        for statement in (*_SCHEMA_V2, _CHECKPOINTS):
            db.execute(statement)
        meta = dict(initial_meta(settings))
        meta["schema_version"] = str(SCHEMA_VERSION)
        meta["event_types"] = json.dumps(list(EVENT_TYPES), separators=(",", ":"))
        db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items()))
        self._adopt(meta)

    def _adopt(self, meta: dict[str, str]) -> None:
        """Check the file's meta rows and take its schema version and type codes."""
        check_meta(meta, self._where, newest=SCHEMA_VERSION)
        self.schema_version = int(meta["schema_version"])
        if self.schema_version >= 2:
            self._type_names = json.loads(meta.get("event_types", "[]"))
            self._type_codes = {name: code for code, name in enumerate(self._type_names)}

    # -- hooks of the shared append pipeline ---------------------------------------------

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._transaction() as db:
            return work(db)

    def _encode(self, event: Event) -> Any:
        if self.schema_version == 1:
            return event_row(event)
        return pre_row(event)

    def _encode_batch(self, events: list[Event]) -> list[Any] | None:
        """What :func:`~whoson.stores._compact.pre_row` gives for each event, in one loop.

        The UTF-8 check of the batch's text is one encode of all of it; when it (or
        anything else) fails, ``None``: each event is then encoded on its own and only
        the unstorable ones are rejected. Version-1 files: ``None``.
        """
        if self.schema_version == 1:
            return None
        known = _EVENT_CLASSES
        texts: list[str] = []
        rows: list[PreRow] = []
        try:
            for event in events:
                if event.__class__ not in known:
                    return None
                rows.append(pre_row_into(event, texts))
            # A lone surrogate is a valid Python str but not UTF-8: find it before the batch does.
            "\x01".join(texts).encode("utf-8")
        except (TypeError, ValueError):
            return None
        return rows

    def _stored(self, tx: sqlite3.Connection, ids: list[str]) -> dict[str, Event]:
        columns = _COLUMNS_V1 if self.schema_version == 1 else _COLUMNS_V2
        rows = list(_each_chunk(tx, f"SELECT {columns} FROM events WHERE id IN ({{}})", ids))
        return {stored.event.id: stored.event for stored in self._decode_rows(rows, tx)}

    def _owners(self, tx: sqlite3.Connection, requests: list[str]) -> dict[str, str]:
        # A request's visitor is fixed by the first stored event naming it: one
        # index probe per request (not a scan of the request's events).
        owners: dict[str, Any] = {}
        for request in requests:
            row = tx.execute(_OWNER, (request,)).fetchone()
            if row is not None:
                owners[request] = row[0]
        if self.schema_version >= 2 and owners:
            texts = self._texts(tx, max(owners.values()))
            owners = {request: texts[number] for request, number in owners.items()}
        return owners

    def _read_meta(self, tx: sqlite3.Connection) -> dict[str, str]:
        return self._file_meta(tx)

    def _write_meta(self, tx: sqlite3.Connection, values: dict[str, str]) -> None:
        tx.executemany("UPDATE meta SET value = ? WHERE key = ?",
                       [(value, key) for key, value in values.items()])

    def _insert(self, tx: sqlite3.Connection, rows: list[Any]) -> tuple[int, ...]:
        (before,) = tx.execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()
        if self.schema_version == 1:
            tx.executemany(_INSERT_V1, rows)
        else:
            tx.executemany(_INSERT_V2, self._compact_rows(tx, rows, before))
        # Rowids without AUTOINCREMENT are max + 1: the batch got before+1 .. before+k.
        return tuple(range(before + 1, before + len(rows) + 1))

    def _compact_rows(self, tx: sqlite3.Connection, rows: list[PreRow], before: int,
                      ) -> list[tuple[Any, ...]]:
        """Version-2 rows of ``rows``: type codes, interned strings (new ones inserted)."""
        strings = self._strings
        self._refresh_strings(tx)
        ids, pending = strings.ids, strings.pending
        fresh: list[tuple[int, str]] = []

        def intern(text: str) -> int:
            number = ids.get(text)
            if number is None:
                number = pending.get(text)
                if number is None:
                    number = pending[text] = strings.known + len(pending) + 1
                    fresh.append((number, text))
            return number

        codes = self._codes_for(tx, {row[1] for row in rows})
        get = ids.get
        out = []
        position = before
        # This loop runs once per stored event: interned fields become ids in place.
        for event_id, kind, ts, visitor, request, values, extras in rows:
            position += 1
            spec = SPECS[kind]
            if spec.interned:
                size = len(values)
                for i in spec.interned:
                    if i < size:
                        value = values[i]
                        if value.__class__ is str:
                            values[i] = get(value) or intern(value)
                        elif value is not None:
                            values[i] = [value]
            body = dump(values) if extras is None else row_body(spec, values, extras)
            out.append((position, event_id, codes[kind], ts,
                        None if visitor is None else (get(visitor) or intern(visitor)),
                        request, body))
        if fresh:
            tx.executemany("INSERT INTO strings (id, text) VALUES (?, ?)", fresh)
        return out

    def _codes_for(self, tx: sqlite3.Connection, kinds: set[str]) -> dict[str, int]:
        """Type codes of ``kinds``; a type the file has no code for yet gets the next one."""
        if not kinds <= self._type_codes.keys():
            self._adopt(self._file_meta(tx))  # another process may have added it
            missing = sorted(kinds - self._type_codes.keys())
            if missing:
                names = [*self._type_names, *missing]
                self._write_meta(tx, {"event_types": json.dumps(names, separators=(",", ":"))})
                self._type_names = names
                self._type_codes = {name: code for code, name in enumerate(names)}
        return self._type_codes

    def _count_added(self, tx: sqlite3.Connection, added: int) -> None:
        tx.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'event_count'",
                   (added,))

    def _stored_count(self, tx: sqlite3.Connection) -> int:
        (value,) = tx.execute("SELECT value FROM meta WHERE key = 'event_count'").fetchone()
        return int(value)

    def _order_currencies(self, tx: sqlite3.Connection) -> set[str]:
        if self.schema_version == 1:
            rows = list(tx.execute(f"SELECT {_COLUMNS_V1} FROM events WHERE type = 'order'"))
        else:
            code = self._type_codes.get("order", -1)
            rows = list(tx.execute(f"SELECT {_COLUMNS_V2} FROM events WHERE type = ?", (code,)))
        return {c for stored in self._decode_rows(rows, tx)
                if (c := getattr(stored.event, "currency", None))}

    def _appended(self, tx: sqlite3.Connection, positions: tuple[int, ...]) -> None:
        self._head = (self._data_version(tx), positions[-1])

    def _put_checkpoint(self, name: str, version: str, position: int, blob: bytes) -> None:
        with self._transaction() as db:
            db.execute(_CHECKPOINTS)
            db.execute("INSERT OR REPLACE INTO checkpoints (name, version, position, blob)"
                       " VALUES (?, ?, ?, ?)", (name, version, position, blob))

    def _get_checkpoint(self, name: str) -> tuple[str, int, bytes] | None:
        with self._lock, self._errors():
            db = self._conn()
            found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                               " AND name = 'checkpoints'").fetchone()
            if found is None:  # a version-1 file that never saved one
                return None
            row = db.execute("SELECT version, position, blob FROM checkpoints WHERE name = ?",
                             (name,)).fetchone()
        return None if row is None else (row[0], int(row[1]), bytes(row[2]))

    # -- decoding ----------------------------------------------------------------------

    def _refresh_strings(self, db: sqlite3.Connection) -> None:
        """Learn the strings committed (as ``db`` sees them) since this object last looked."""
        self._strings.add(db.execute("SELECT id, text FROM strings WHERE id > ? ORDER BY id",
                                     (self._strings.known,)).fetchall())

    def _texts(self, db: sqlite3.Connection, highest: int) -> list[str]:
        """The interned strings, known up to id ``highest`` at least (read from ``db`` if not)."""
        if highest > self._strings.known:
            self._refresh_strings(db)
        return self._strings.texts

    def _decode_rows(self, rows: Sequence[Any] | Iterator[Any],
                     db: sqlite3.Connection | None) -> Iterator[StoredEvent]:
        """Stored events of rows of ``_COLUMNS_V1``/``_COLUMNS_V2``; ``db`` reads new strings."""
        if self.schema_version == 1:
            for position, body in rows:
                yield StoredEvent(position, decode_event(body))
            return
        texts = self._strings.texts
        names = self._type_names
        scan = _SCAN
        for position, event_id, code, ts, visitor, request, body in rows:
            values = scan(body, 0)[0]
            try:
                event = decode_row(SPECS[names[code]], event_id, ts,
                                   None if visitor is None else texts[visitor],
                                   request, values, texts)
            except (IndexError, KeyError):
                # Strings or a type code another writer added since this object last looked.
                self._catch_up_codes(db)
                texts, names = self._strings.texts, self._type_names
                try:
                    event = decode_row(SPECS[names[code]], event_id, ts,
                                       None if visitor is None else texts[visitor],
                                       request, values, texts)
                except (IndexError, KeyError):
                    raise StoreError(f"{self._where}: row {position} names an unknown "
                                     "string or event type") from None
            yield StoredEvent(position, event)

    def _catch_up_codes(self, db: sqlite3.Connection | None) -> None:
        """Strings and type codes another writer added since this object last looked."""
        if db is not None:
            self._refresh_strings(db)
            self._adopt(self._file_meta(db))
            return
        with self._lock:
            own = self._conn()
            self._refresh_strings(own)
            self._adopt(self._file_meta(own))

    # -- reading -----------------------------------------------------------------------

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
        if self._private:
            # An in-memory database exists only on this connection: copy the rows out.
            with self._lock, self._errors():
                db = self._conn()
                sql, params = self._query_sql(db, query)
                if sql is None:
                    return iter(())
                rows = db.execute(sql, params).fetchall()
            return self._decode(iter(rows), None)
        self._conn()  # refuse to read through a closed store
        with self._errors():
            reader = sqlite3.connect(self._file, timeout=self._busy_timeout,
                                     isolation_level=None, check_same_thread=False)
            try:
                # BEGIN: the visitor's string id and the rows come from one snapshot.
                reader.execute("BEGIN")
                sql, params = self._query_sql(reader, query)
                if sql is None:
                    reader.close()
                    return iter(())
                cursor = reader.execute(sql, params)
            except BaseException:
                reader.close()
                raise
        return self._decode(cursor, reader)

    def _query_sql(self, db: sqlite3.Connection, query: ReadQuery,
                   ) -> tuple[str | None, list[Any]]:
        """The SELECT of ``query`` in this file's encoding; ``None`` when nothing can match."""
        if self.schema_version == 1:
            types = None if query.types is None else sorted(query.types)
            return _select(query, _COLUMNS_V1, query.visitor, types)
        visitor: int | None = None
        if query.visitor is not None:
            visitor = self._strings.ids.get(query.visitor)
            if visitor is None:
                self._refresh_strings(db)
                visitor = self._strings.ids.get(query.visitor)
                if visitor is None:
                    return None, []
        codes = None
        if query.types is not None:
            if not query.types <= self._type_codes.keys():
                self._adopt(self._file_meta(db))
            codes = sorted(self._type_codes[t] for t in query.types if t in self._type_codes)
            if not codes:
                return None, []
        return _select(query, _COLUMNS_V2, visitor, codes)

    def _decode(
        self, rows: Iterator[Any], reader: sqlite3.Connection | None
    ) -> Iterator[StoredEvent]:
        try:
            with self._errors():
                yield from self._decode_rows(rows, reader)
        finally:
            if reader is not None:
                reader.close()

    def get(self, event_id: str) -> StoredEvent | None:
        """The stored event with this id, or ``None``; O(log n)."""
        columns = _COLUMNS_V1 if self.schema_version == 1 else _COLUMNS_V2
        with self._lock, self._errors():
            db = self._conn()
            rows = db.execute(f"SELECT {columns} FROM events WHERE id = ?", (event_id,)).fetchall()
            decoded = list(self._decode_rows(rows, db))
        return decoded[0] if decoded else None

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

    @staticmethod
    def _data_version(db: sqlite3.Connection) -> int:
        (value,) = db.execute("PRAGMA data_version").fetchone()
        return int(value)

    def __len__(self) -> int:
        """How many events are stored (a counter kept by :meth:`append`); O(1)."""
        with self._lock, self._errors():
            return self._stored_count(self._conn())

    @property
    def settings(self) -> StoreSettings:
        """The settings saved in the file (another process may have saved them); O(1)."""
        with self._lock, self._errors():
            return self._settings_of(self._file_meta(self._conn()))

    def close(self) -> None:
        """Close the connection; later calls raise StoreError. Closing twice is harmless."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
