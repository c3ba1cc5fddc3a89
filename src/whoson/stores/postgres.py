"""An event store in PostgreSQL (psycopg 3, the ``postgres`` extra).

Tables ``whoson_meta`` and ``whoson_events`` live in the connection's current
schema (set ``options=-csearch_path=...`` in the DSN to choose another). Each
append is one transaction that first locks the event counter row
(``SELECT ... FOR UPDATE``): writers from any number of processes take turns,
duplicates and conflicts are decided inside the transaction that writes, and
positions are committed in the order they were given, so a reader tailing by
position never skips one.

Ids are compared with the ``"C"`` collation, so event-time order ``(ts, id)``
is the same as in Python and in the other stores.

Every append ends with ``NOTIFY whoson_events`` (delivered at commit), so
:meth:`PostgresStore.wait` sleeps on ``LISTEN`` instead of polling. A
connection the server dropped (a restart, a failover) is replaced on the
next call, and a call that failed because of it is retried once: appends
are idempotent, so a batch that did commit before the connection died comes
back as duplicates. Connecting gives up after ``connect_timeout`` seconds
(10 unless the DSN says otherwise).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from whoson.core.errors import StoreError
from whoson.core.events import Event
from whoson.stores._codec import decode_event, to_micros
from whoson.stores._common import ReadQuery
from whoson.stores._rows import Row, check_meta, event_row, initial_meta
from whoson.stores._sql import SQLStore
from whoson.stores.base import POLL_INTERVAL, Order, StoredEvent, StoreSettings
from whoson.stores.url import redact

if TYPE_CHECKING:
    import psycopg

__all__ = ["CONNECT_TIMEOUT", "PostgresStore"]

CONNECT_TIMEOUT = 10.0
"""Seconds a connection attempt may take unless the DSN sets ``connect_timeout``."""

_CHANNEL = "whoson_events"
_T = TypeVar("_T")

_SCHEMA = (
    "CREATE TABLE whoson_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE whoson_events ("
    " position BIGSERIAL PRIMARY KEY,"
    ' id TEXT COLLATE "C" NOT NULL UNIQUE,'
    " type TEXT NOT NULL,"
    " ts BIGINT NOT NULL,"
    " visitor TEXT,"
    " request TEXT,"
    " body TEXT NOT NULL)",
    "CREATE INDEX whoson_events_time ON whoson_events (ts, id)",
    "CREATE INDEX whoson_events_visitor ON whoson_events (visitor, position)",
    "CREATE INDEX whoson_events_request ON whoson_events (request) WHERE request IS NOT NULL",
)
# Added after schema version 1 shipped; created (if missing) by every opener.
_CHECKPOINTS = ("CREATE TABLE IF NOT EXISTS whoson_checkpoints (name TEXT PRIMARY KEY,"
                " version TEXT NOT NULL, position BIGINT NOT NULL, blob BYTEA NOT NULL)")
_CHUNK = 2000
# Serialises the creation of the tables by concurrent first openers.
_SCHEMA_LOCK = 0x77686F736F6E


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as err:
        raise StoreError(
            "PostgreSQL stores need psycopg 3: install whoson[postgres] "
            f"(pip install 'whoson[postgres]'); {err}"
        ) from err
    return psycopg


class PostgresStore(SQLStore["psycopg.Cursor[Any]", Row]):
    """Events in PostgreSQL; several store objects and processes may share the tables.

    ``dsn`` is a libpq connection string or ``postgresql://`` URL. One
    connection per store object, guarded by a lock, so a web backend can
    share the object across threads. ``connect_timeout`` (seconds) applies
    when the DSN does not set its own.
    """

    def __init__(
        self,
        dsn: str,
        *,
        settings: StoreSettings | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self._pg = _import_psycopg()
        self.dsn = dsn
        self._lock = threading.Lock()
        self._options = self._connect_options(dsn, connect_timeout)
        self._listener: psycopg.Connection[Any] | None = None
        self._listening = threading.Lock()
        self._closed = False
        self._where = "PostgreSQL store"
        self._db: psycopg.Connection[Any] | None = self._connect()
        try:
            self._prepare_schema(settings or StoreSettings())
            if settings is not None:
                self.save_settings(settings)
        except BaseException:
            self.close()
            raise

    def _connect_options(self, dsn: str, connect_timeout: float) -> dict[str, Any]:
        try:
            given = self._pg.conninfo.conninfo_to_dict(dsn)
        except self._pg.Error:
            given = {}  # connecting reports the bad DSN
        if "connect_timeout" in given:
            return {}
        # libpq counts whole seconds, and takes values below 2 as 2.
        return {"connect_timeout": max(2, round(connect_timeout))}

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            db: psycopg.Connection[Any] = self._pg.connect(self.dsn, autocommit=True, **self._options)
        except self._pg.Error as err:
            # One line: the server's message can span several.
            detail = redact(" ".join(str(err).split()), self.dsn)
            raise StoreError(f"cannot open PostgreSQL store: {detail}") from None
        return db

    def __repr__(self) -> str:
        return f"PostgresStore({redact(self.dsn)!r})"

    def _conn(self) -> psycopg.Connection[Any]:
        """The connection; a new one if the last was lost (StoreError if the server is away)."""
        if self._closed:
            raise StoreError("PostgreSQL store is closed")
        if self._db is None:
            self._db = self._connect()
        return self._db

    def _call(self, work: Callable[[psycopg.Connection[Any]], _T]) -> _T:
        """``work(connection)`` under the lock; on a lost connection, reconnect and retry once.

        Only idempotent work comes here (reads, and appends, which classify
        by id inside their transaction).
        """
        with self._lock:
            for attempt in (1, 2):
                db = self._conn()
                try:
                    return work(db)
                except self._pg.Error as err:
                    if attempt == 2 or not (db.broken or db.closed):
                        raise StoreError(f"PostgreSQL store: {redact(str(err), self.dsn)}") from err
                db.close()
                self._db = None  # the next _conn() connects again
            raise AssertionError("unreachable")  # pragma: no cover

    def _in_transaction(self, work: Callable[[psycopg.Cursor[Any]], _T]) -> _T:
        """``work(cursor)`` in one transaction holding the event counter row lock."""

        def run(db: psycopg.Connection[Any]) -> _T:
            with db.transaction(), db.cursor() as cur:
                cur.execute("SELECT value FROM whoson_meta WHERE key = 'event_count' FOR UPDATE")
                return work(cur)

        return self._call(run)

    def _prepare_schema(self, settings: StoreSettings) -> None:
        def run(db: psycopg.Connection[Any]) -> None:
            with db.transaction(), db.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                cur.execute("SELECT to_regclass('whoson_meta') IS NOT NULL")
                row = cur.fetchone()
                if row is not None and row[0]:
                    self._check_meta(self._meta(cur))
                else:
                    for statement in _SCHEMA:
                        cur.execute(statement)
                    cur.executemany("INSERT INTO whoson_meta (key, value) VALUES (%s, %s)",
                                    initial_meta(settings))
                # Only when missing: a role that may read but not create must still open the store.
                cur.execute("SELECT to_regclass('whoson_checkpoints') IS NULL")
                missing = cur.fetchone()
                if missing is not None and missing[0]:
                    cur.execute(_CHECKPOINTS)

        self._call(run)

    @staticmethod
    def _meta(cur: psycopg.Cursor[Any]) -> dict[str, str]:
        cur.execute("SELECT key, value FROM whoson_meta")
        return dict(cur.fetchall())

    def _check_meta(self, meta: dict[str, str]) -> None:
        check_meta(meta, "PostgreSQL table whoson_meta")

    # -- hooks of the shared append pipeline (whoson.stores._sql) ---------------------------

    def _write(self, work: Callable[[psycopg.Cursor[Any]], _T]) -> _T:
        return self._in_transaction(work)

    def _encode(self, event: Event) -> Row:
        return event_row(event, True)

    def _stored(self, tx: psycopg.Cursor[Any], ids: list[str]) -> dict[str, Event]:
        tx.execute("SELECT body FROM whoson_events WHERE id = ANY(%s)", (ids,))
        return {event.id: event for event in map(decode_event, (b for (b,) in tx))}

    def _owners(self, tx: psycopg.Cursor[Any], requests: list[str]) -> dict[str, str]:
        tx.execute(
            "SELECT DISTINCT ON (request) request, visitor FROM whoson_events"
            " WHERE request = ANY(%s) AND visitor IS NOT NULL ORDER BY request, position",
            (requests,),
        )
        return dict(tx.fetchall())

    def _read_meta(self, tx: psycopg.Cursor[Any]) -> dict[str, str]:
        return self._meta(tx)

    def _write_meta(self, tx: psycopg.Cursor[Any], values: dict[str, str]) -> None:
        tx.executemany("UPDATE whoson_meta SET value = %s WHERE key = %s",
                       [(value, key) for key, value in values.items()])

    def _insert(self, tx: psycopg.Cursor[Any], rows: list[Row]) -> tuple[int, ...]:
        tx.execute("SELECT COALESCE(MAX(position), 0) FROM whoson_events")
        before = _scalar(tx.fetchone())
        with tx.copy("COPY whoson_events (id, type, ts, visitor, request, body) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Writers take turns (the counter row lock), so the rows past `before` are ours.
        tx.execute("SELECT position FROM whoson_events WHERE position > %s ORDER BY position",
                   (before,))
        return tuple(position for (position,) in tx.fetchall())

    def _count_added(self, tx: psycopg.Cursor[Any], added: int) -> None:
        tx.execute("UPDATE whoson_meta SET value = (value::bigint + %s)::text"
                   " WHERE key = 'event_count'", (added,))

    def _stored_count(self, tx: psycopg.Cursor[Any]) -> int:
        tx.execute("SELECT value FROM whoson_meta WHERE key = 'event_count'")
        return _scalar(tx.fetchone())

    def _order_currencies(self, tx: psycopg.Cursor[Any]) -> list[str]:
        tx.execute(
            "SELECT DISTINCT currency FROM (SELECT body::json ->> 'currency' AS currency"
            " FROM whoson_events WHERE type = 'order') AS orders WHERE currency IS NOT NULL"
        )
        return [currency for (currency,) in tx.fetchall()]

    def _appended(self, tx: psycopg.Cursor[Any], positions: tuple[int, ...]) -> None:
        tx.execute("SELECT pg_notify(%s, %s)", (_CHANNEL, str(positions[-1])))

    def _put_checkpoint(self, name: str, version: str, position: int, blob: bytes) -> None:
        def run(db: psycopg.Connection[Any]) -> None:
            # Its own table and transaction: appends (which lock the counter row) go on meanwhile.
            with db.transaction(), db.cursor() as cur:
                cur.execute(
                    "INSERT INTO whoson_checkpoints (name, version, position, blob)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET"
                    " version = EXCLUDED.version, position = EXCLUDED.position,"
                    " blob = EXCLUDED.blob",
                    (name, version, position, blob),
                )

        self._call(run)

    def _get_checkpoint(self, name: str) -> tuple[str, int, bytes] | None:
        row = self._call(lambda db: db.execute(
            "SELECT version, position, blob FROM whoson_checkpoints WHERE name = %s", (name,)
        ).fetchone())
        return None if row is None else (row[0], int(row[1]), bytes(row[2]))

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

        Index-backed: a time range or a visitor costs O(log n + k) for k events
        read. Rows come in chunks, each fetched under the object's lock; the
        read sees the events committed when it was called.
        """
        query = ReadQuery.check(
            after=after, start=start, end=end, visitor=visitor, types=types,
            limit=limit, order=order,
        )
        if query.empty:
            return iter(())
        return self._chunks(query, self.position)

    def _chunks(self, query: ReadQuery, snapshot: int) -> Iterator[StoredEvent]:
        # Appends commit in position order, so "position <= snapshot" is a snapshot.
        where = ["position > %s", "position <= %s"]
        params: list[Any] = [query.after, snapshot]
        if query.start is not None:
            where.append("ts >= %s")
            params.append(to_micros(query.start))
        if query.end is not None:
            where.append("ts < %s")
            params.append(to_micros(query.end))
        if query.visitor is not None:
            where.append("visitor = %s")
            params.append(query.visitor)
        if query.types is not None:
            where.append("type = ANY(%s)")
            params.append(sorted(query.types))
        by_time = query.order == "time"
        order_by = "ts, id" if by_time else "position"
        remaining = query.limit
        cursor: tuple[Any, ...] = ()
        while remaining is None or remaining > 0:
            size = _CHUNK if remaining is None else min(_CHUNK, remaining)
            keyset = ""
            if cursor:
                keyset = " AND (ts, id) > (%s, %s)" if by_time else " AND position > %s"
            sql = (f"SELECT position, ts, id, body FROM whoson_events"
                   f" WHERE {' AND '.join(where)}{keyset} ORDER BY {order_by} LIMIT %s")
            rows = self._fetch(sql, (*params, *cursor, size))
            for position, _, _, body in rows:
                yield StoredEvent(position, decode_event(body))
            if len(rows) < size:
                return
            if remaining is not None:
                remaining -= len(rows)
            last = rows[-1]
            cursor = (last[1], last[2]) if by_time else (last[0],)

    def _fetch(self, sql: str, arguments: tuple[Any, ...]) -> list[Any]:
        rows: list[Any] = self._call(lambda db: db.execute(sql, arguments).fetchall())
        return rows

    def get(self, event_id: str) -> StoredEvent | None:
        """The stored event with this id, or ``None``; O(log n)."""
        row = self._call(lambda db: db.execute(
            "SELECT position, body FROM whoson_events WHERE id = %s", (event_id,)
        ).fetchone())
        return None if row is None else StoredEvent(row[0], decode_event(row[1]))

    @property
    def position(self) -> int:
        """Position of the newest stored event (0 when empty); O(log n), one round trip."""
        return _scalar(self._call(lambda db: db.execute(
            "SELECT COALESCE(MAX(position), 0) FROM whoson_events"
        ).fetchone()))

    def wait(self, after: int, timeout: float) -> int:
        """Block until an event past ``after`` is stored or ``timeout`` seconds pass.

        Sleeps on ``LISTEN whoson_events`` (one extra connection per store
        object, opened on first use); a thread that finds the listener busy,
        or a listener that failed, falls back to polling.
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        if not self._listening.acquire(blocking=False):
            return super().wait(after, timeout)
        try:
            listener = self._listen()
            while True:
                position = self.position
                remaining = deadline - time.monotonic()
                if position > after or remaining <= 0:
                    return position
                if listener is None:
                    time.sleep(min(POLL_INTERVAL, remaining))
                    continue
                try:
                    for _ in listener.notifies(timeout=min(remaining, 1.0), stop_after=1):
                        pass
                except self._pg.Error:
                    listener.close()
                    self._listener = listener = None
        finally:
            self._listening.release()

    def _listen(self) -> psycopg.Connection[Any] | None:
        """The LISTENing connection (made on first use); ``None`` if it cannot be made."""
        if self._listener is None or self._listener.closed:
            if self._closed:
                raise StoreError("PostgreSQL store is closed")
            try:
                listener = self._pg.connect(self.dsn, autocommit=True, **self._options)
                listener.execute(f"LISTEN {_CHANNEL}")
            except self._pg.Error:
                return None
            self._listener = listener
        return self._listener

    def __len__(self) -> int:
        """How many events are stored (a counter kept by :meth:`append`); O(1)."""
        return _scalar(self._call(lambda db: db.execute(
            "SELECT value FROM whoson_meta WHERE key = 'event_count'"
        ).fetchone()))

    @property
    def settings(self) -> StoreSettings:
        """The settings saved with the store (another process may have saved them); O(1)."""

        def run(db: psycopg.Connection[Any]) -> StoreSettings:
            with db.cursor() as cur:
                return self._settings_of(self._meta(cur))

        return self._call(run)

    def close(self) -> None:
        """Close the connections; later calls raise StoreError. Closing twice is harmless."""
        with self._lock:
            self._closed = True
            if self._db is not None:
                self._db.close()
                self._db = None
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()


def _scalar(row: Any) -> int:
    """The integer in a one-column row (0 for no row)."""
    return int(row[0]) if row is not None else 0
