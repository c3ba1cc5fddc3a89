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
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from whoson.core.batch import BatchResult, classify
from whoson.core.errors import StoreError
from whoson.core.events import Event
from whoson.stores._codec import decode_event, to_micros
from whoson.stores._common import ReadQuery, check_settings_change, strict_result
from whoson.stores._rows import (
    Prepared,
    check_meta,
    initial_meta,
    settings_from_meta,
    settings_rows,
)
from whoson.stores.base import Order, Store, StoredEvent, StoreSettings
from whoson.stores.url import redact

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]

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


class PostgresStore(Store):
    """Events in PostgreSQL; several store objects and processes may share the tables.

    ``dsn`` is a libpq connection string or ``postgresql://`` URL. One
    connection per store object, guarded by a lock, so a web backend can
    share the object across threads.
    """

    def __init__(self, dsn: str, *, settings: StoreSettings | None = None) -> None:
        self._pg = _import_psycopg()
        self.dsn = dsn
        self._lock = threading.Lock()
        try:
            self._db: psycopg.Connection[Any] | None = self._pg.connect(dsn, autocommit=True)
        except self._pg.Error as err:
            # One line: the server's message can span several.
            detail = redact(" ".join(str(err).split()), dsn)
            raise StoreError(f"cannot open PostgreSQL store: {detail}") from None
        try:
            self._prepare_schema(settings or StoreSettings())
            if settings is not None:
                self.save_settings(settings)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore({redact(self.dsn)!r})"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._pg.Error as err:
            raise StoreError(f"PostgreSQL store: {redact(str(err), self.dsn)}") from err

    def _conn(self) -> psycopg.Connection[Any]:
        if self._db is None:
            raise StoreError("PostgreSQL store is closed")
        return self._db

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction holding the event counter row lock; the object's lock held too."""
        with self._lock, self._errors():
            db = self._conn()
            with db.transaction(), db.cursor() as cur:
                cur.execute("SELECT value FROM whoson_meta WHERE key = 'event_count' FOR UPDATE")
                yield cur

    def _prepare_schema(self, settings: StoreSettings) -> None:
        with self._lock, self._errors():
            db = self._conn()
            with db.transaction(), db.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                cur.execute("SELECT to_regclass('whoson_meta') IS NOT NULL")
                row = cur.fetchone()
                if row is not None and row[0]:
                    self._check_meta(self._meta(cur))
                    return
                for statement in _SCHEMA:
                    cur.execute(statement)
                cur.executemany("INSERT INTO whoson_meta (key, value) VALUES (%s, %s)",
                                initial_meta(settings))

    @staticmethod
    def _meta(cur: psycopg.Cursor[Any]) -> dict[str, str]:
        cur.execute("SELECT key, value FROM whoson_meta")
        return dict(cur.fetchall())

    def _check_meta(self, meta: dict[str, str]) -> None:
        check_meta(meta, "PostgreSQL table whoson_meta")

    def append(self, events: Iterable[Event], *, strict: bool = False) -> BatchResult:
        """Store the new events of ``events`` in one transaction; O(b log n) for b events."""
        prepared = Prepared.of(list(events), forbid_nul=True)
        ids = [event.id for event in prepared.events]
        requests = sorted({r for e in prepared.events if (r := e.request_id)})
        with self._transaction() as cur:
            cur.execute("SELECT body FROM whoson_events WHERE id = ANY(%s)", (ids,))
            stored = {event.id: event for event in map(decode_event, (b for (b,) in cur))}
            cur.execute(
                "SELECT DISTINCT ON (request) request, visitor FROM whoson_events"
                " WHERE request = ANY(%s) AND visitor IS NOT NULL ORDER BY request, position",
                (requests,),
            )
            owners = dict(cur.fetchall())
            classified = classify(prepared.events, stored=stored, owners=owners)
            result = prepared.merge(classified.result)
            if strict and not result.ok:
                return strict_result(result)
            rows = prepared.accepted_rows(classified.result)
            with cur.copy("COPY whoson_events (id, type, ts, visitor, request, body)"
                          " FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                "UPDATE whoson_meta SET value = (value::bigint + %s)::text"
                " WHERE key = 'event_count'",
                (len(rows),),
            )
        return result

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
        with self._lock, self._errors():
            row = self._conn().execute(
                "SELECT COALESCE(MAX(position), 0) FROM whoson_events"
            ).fetchone()
        snapshot = int(row[0]) if row is not None else 0
        return self._chunks(query, snapshot)

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
            with self._lock, self._errors():
                rows = self._conn().execute(sql, (*params, *cursor, size)).fetchall()
            for position, _, _, body in rows:
                yield StoredEvent(position, decode_event(body))
            if len(rows) < size:
                return
            if remaining is not None:
                remaining -= len(rows)
            last = rows[-1]
            cursor = (last[1], last[2]) if by_time else (last[0],)

    def get(self, event_id: str) -> StoredEvent | None:
        """The stored event with this id, or ``None``; O(log n)."""
        with self._lock, self._errors():
            row = self._conn().execute(
                "SELECT position, body FROM whoson_events WHERE id = %s", (event_id,)
            ).fetchone()
        return None if row is None else StoredEvent(row[0], decode_event(row[1]))

    @property
    def position(self) -> int:
        """Position of the newest stored event (0 when empty); O(log n)."""
        with self._lock, self._errors():
            row = self._conn().execute(
                "SELECT COALESCE(MAX(position), 0) FROM whoson_events"
            ).fetchone()
        return int(row[0]) if row is not None else 0

    def __len__(self) -> int:
        """How many events are stored (a counter kept by :meth:`append`); O(1)."""
        with self._lock, self._errors():
            row = self._conn().execute(
                "SELECT value FROM whoson_meta WHERE key = 'event_count'"
            ).fetchone()
        return int(row[0]) if row is not None else 0

    @property
    def settings(self) -> StoreSettings:
        """The settings saved with the store (another process may have saved them); O(1)."""
        with self._lock, self._errors():
            db = self._conn()
            with db.cursor() as cur:
                return self._settings(self._meta(cur))

    @staticmethod
    def _settings(meta: dict[str, str]) -> StoreSettings:
        return settings_from_meta(meta, "PostgreSQL store")

    def save_settings(self, settings: StoreSettings) -> None:
        """Save ``settings``; ConfigError if events were validated otherwise.

        With events stored, only a missing currency may be fixed, and only to
        the one stored orders name, if any (O(n) to check). Otherwise O(1).
        """
        with self._transaction() as cur:
            row = cur.fetchone()
            count = int(row[0]) if row is not None else 0
            current = self._settings(self._meta(cur))

            def order_currencies() -> list[str]:
                cur.execute(
                    "SELECT DISTINCT currency FROM (SELECT body::json ->> 'currency' AS currency"
                    " FROM whoson_events WHERE type = 'order') AS orders"
                    " WHERE currency IS NOT NULL"
                )
                return [currency for (currency,) in cur.fetchall()]

            check_settings_change(current, settings, count, order_currencies)
            cur.executemany("UPDATE whoson_meta SET value = %s WHERE key = %s",
                            [(value, key) for key, value in settings_rows(settings)])

    def close(self) -> None:
        """Close the connection; later calls raise StoreError. Closing twice is harmless."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
