"""What the engines' compiled SQL is shaped by, importable without Ibis.

The definition (:mod:`whoson.engines.definition`) needs Ibis; running its
cached SQL on DuckDB (:mod:`whoson.engines.compiled`) does not. This module
holds what both sides share: the report's integer bounds, the slot width and
the epoch, and the two stand-ins that put off importing Ibis until an
expression is really built:

- :class:`DuckDB`, the duckdb engine's connection: a raw DuckDB connection
  (``.con``) that becomes an Ibis backend on first use of anything else;
- :class:`NamedTable`, a table registered on that connection under a fixed
  name, which becomes an Ibis table on first use.

A report whose SQL is all in the compile cache never touches either, so it
never imports Ibis (about a second of a cold process).

>>> con = DuckDB()
>>> table = named(con, "whoson_demo", "SELECT 1 AS one")
>>> con.con.sql("SELECT one FROM whoson_demo").fetchall(), table.table_name
([(1,)], 'whoson_demo')
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs

__all__ = ["EPOCH", "SLOT_US", "Bounds", "Deferred", "DuckDB", "NamedTable", "named"]

SLOT_US = 15 * 60 * 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@attrs.frozen
class Bounds:
    """The report parameters the aggregation depends on, as integer microseconds."""

    as_of: int
    start: int | None
    end: int | None
    response_timeout: int
    attribution_window: int
    fcr_window: int
    session_timeout: int


class Deferred:
    """An object built on first use; every attribute not set here is the object's.

    >>> built = []
    >>> later = Deferred(lambda: built.append("once") or "text")
    >>> len(built), later.upper(), later.upper(), len(built)
    (0, 'TEXT', 'TEXT', 1)
    """

    def __init__(self, build: Any) -> None:
        self._build = build
        self._value: Any = None

    def get(self) -> Any:
        """The object, built the first time."""
        if self._value is None:
            self._value = self._build()
        return self._value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.get(), name)


class DuckDB(Deferred):
    """An in-memory DuckDB connection (``con``) standing in for an Ibis DuckDB backend.

    ``name`` is ``"duckdb"``; any other attribute is the Ibis backend's,
    built over the same connection the first time one is asked for.
    """

    name = "duckdb"

    def __init__(self, con: Any = None) -> None:
        import duckdb

        self.con = con if con is not None else duckdb.connect()
        super().__init__(self._backend)

    def _backend(self) -> Any:
        import ibis

        return ibis.duckdb.from_connection(self.con)

    @property
    def backend(self) -> Any:
        """The Ibis backend over :attr:`con` (imports Ibis the first time)."""
        return self.get()


class NamedTable(Deferred):
    """A table of ``connection`` known by ``table_name``; an Ibis table on first use."""

    def __init__(self, connection: DuckDB, table_name: str, database: Any = None) -> None:
        self.connection = connection
        self.table_name = table_name
        super().__init__(lambda: connection.table(table_name, database=database))

    @property
    def table(self) -> Any:
        """The Ibis table (imports Ibis the first time)."""
        return self.get()

    def columns_digest(self) -> str:
        """The table's columns and types, as DuckDB describes them."""
        rows = self.connection.con.sql(f'DESCRIBE "{self.table_name}"').fetchall()
        return repr([(row[0], row[1]) for row in rows])


def named(connection: DuckDB, name: str, source: str) -> NamedTable:
    """A view ``name`` over the SQL ``source`` on ``connection``."""
    connection.con.execute(f'CREATE OR REPLACE VIEW "{name}" AS {source}').fetchall()
    return NamedTable(connection, name)
