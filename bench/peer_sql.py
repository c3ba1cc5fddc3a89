"""The whole report in DuckDB: the SQL of whoson's duckdb engine over DuckDB's own read of the log.

Hand-written SQL for all the figures of the report (8,041 at 1M events) (per-agent daily
rows, sessions, pages, waiting-time estimates, experiments...) was not
written; bench/peer_duckdb.py hand-writes 280 of them. This peer runs the
queries that whoson's duckdb engine (``whoson.engines``, ``--engine duckdb``)
compiles with Ibis, on an in-memory DuckDB, over a table DuckDB reads from
the JSON Lines file itself (``read_json`` with the engine's typed columns,
money as ``DECIMAL(38,6)``). It differs from ``whoson report --engine
duckdb log.jsonl`` in one thing: nothing of whoson's Python ingest runs (no
parsing, validation or de-duplication in Python), so the simulated log must
hold only valid, unique events; whoson's load of the same log reports none
rejected and no duplicates, and the figures are compared on every run.

Two times are taken:

- **the engine**: the engine's queries compiled by Ibis (Python, the same
  cost at any size) and executed by DuckDB, then the small Python assembly
  of their result tables into the report (``whoson.metrics.report.assemble``,
  shared with the python engine). Its report is the one compared with
  whoson's, figure by figure.
- **DuckDB SQL alone**: every statement the engine sent to DuckDB during
  that run (the compiled SQL text, the temporary tables, the small
  in-memory tables it registered) recorded and replayed as raw SQL on the
  same DuckDB connection, without Ibis and without assembly. The replay's
  result tables are checked equal to the engine run's, so the figures are
  the same; this is the time DuckDB needs for the whole report, and the
  time the ratios use.

Because the assembly is shared, this peer checks the queries' figures, not
the assembly's arithmetic; the plain-Python peer (bench/peer_python.py)
shares nothing with whoson but the event parser.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime
from typing import Any

__all__ = ["Recorder", "columns", "connect", "load", "replay", "report", "run", "table_bytes"]


class Recorder:
    """Stands in for the DuckDB connection behind an Ibis backend and records what is sent to it.

    ``script`` holds ``(method, argument, result)``: ``sql`` and ``execute``
    statements with the Arrow table each returned, and ``register`` calls
    (an in-memory table, by name).
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self.script: list[tuple[str, Any, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        relation = self._connection.sql(query, *args, **kwargs)
        if args or kwargs:
            raise NotImplementedError("parameters in a recorded statement")
        return _Relation(relation, self, query)

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            raise NotImplementedError("parameters in a recorded statement")
        self.script.append(("execute", query, None))
        self._connection.execute(query)
        # DuckDB's execute returns the connection, on which callers go on executing.
        return self

    def register(self, name: str, data: Any) -> Any:
        self.script.append(("register", name, data))
        return self._connection.register(name, data)


class _Relation:
    """A recorded ``sql`` relation: its Arrow result is kept when it is fetched."""

    def __init__(self, relation: Any, recorder: Recorder, query: str) -> None:
        self._relation = relation
        self._recorder = recorder
        self._query = query

    def __getattr__(self, name: str) -> Any:
        return getattr(self._relation, name)

    def to_arrow_table(self, *args: Any, **kwargs: Any) -> Any:
        table = self._relation.to_arrow_table(*args, **kwargs)
        self._recorder.script.append(("sql", self._query, table))
        return table

    def arrow(self, *args: Any, **kwargs: Any) -> Any:
        return self.to_arrow_table(*args, **kwargs)


def _rows(table: Any) -> list[Any]:
    """A result's rows in a fixed order (a query without ORDER BY may return them in any)."""
    return sorted((tuple(row.items()) for row in table.to_pylist()), key=repr)


def replay(connection: Any, script: list[tuple[str, Any, Any]]) -> int:
    """Run a recorded script as raw SQL on a DuckDB connection; the number of result tables checked.

    Raises AssertionError when a query's result differs from the recorded one.
    """
    checked = 0
    for method, argument, recorded in script:
        if method == "register":
            connection.register(argument, recorded)
        elif method == "execute":
            connection.execute(argument).fetchall()
        else:
            table = connection.sql(argument).to_arrow_table()
            if not table.equals(recorded) and _rows(table) != _rows(recorded):
                raise AssertionError(f"replayed SQL gave another result: {argument[:200]}")
            checked += 1
    return checked


def columns() -> dict[str, str]:
    """The engine's event columns as DuckDB types (``extra`` is left out: the log has none)."""
    from whoson.engines.parquet import schema

    types: dict[str, str] = {}
    for field in schema():
        if field.name == "extra":
            continue
        kind = str(field.type)
        if field.name == "ts":
            types[field.name] = "TIMESTAMPTZ"
        elif kind.startswith("decimal"):
            types[field.name] = "DECIMAL(38,6)"
        elif kind == "bool":
            types[field.name] = "BOOLEAN"
        elif kind == "int64":
            types[field.name] = "BIGINT"
        else:
            types[field.name] = "VARCHAR"
    return types


def _read_sql(path: str) -> str:
    spec = ", ".join(f"'{name}': '{kind}'" for name, kind in columns().items())
    names = ", ".join(f'"{name}"' for name in columns())
    literal = path.replace("'", "''")
    return (
        f"SELECT {names}, CAST(NULL AS VARCHAR) AS extra "
        f"FROM read_json('{literal}', format = 'newline_delimited', columns = {{{spec}}})"
    )


def _sql(con: Any, statement: str) -> list[Any]:
    """Run one statement and fetch its rows (DuckDB wants every result finished)."""
    return list(con.raw_sql(statement).fetchall())


def connect() -> Any:
    """An in-memory DuckDB connection through Ibis (importing Ibis takes a second or two: not timed)."""
    from whoson.engines import connect as engine_connect

    return engine_connect("duckdb")


def load(path: str, con: Any = None) -> tuple[Any, Any, int]:
    """A DuckDB connection (through Ibis), its ``events`` table read from ``path``, and the row count."""
    if con is None:
        con = connect()
    _sql(con, f"CREATE TABLE events AS {_read_sql(path)}")
    rows = _sql(con, "SELECT count(*) FROM events")[0][0]
    return con, con.table("events"), int(rows)


def report(con: Any, table: Any, as_of: datetime, **params: Any) -> Any:
    """The engine's report over ``table`` (a :class:`whoson.metrics.report.Report`)."""
    from whoson import Tracker
    from whoson.engines.run import engine_report

    settings = Tracker(currency="USD").report_params(as_of=as_of, **params)
    return engine_report(con, table, settings)


def table_bytes(con: Any) -> int:
    """Bytes of a DuckDB database file holding the ``events`` table alone (after a checkpoint)."""
    with tempfile.TemporaryDirectory(prefix="whoson-bench-") as directory:
        path = os.path.join(directory, "events.duckdb")
        _sql(con, f"ATTACH '{path}' AS disk")
        _sql(con, "CREATE TABLE disk.events AS SELECT * FROM events")
        _sql(con, "DETACH disk")
        return sum(os.path.getsize(os.path.join(directory, name)) for name in os.listdir(directory))


def run(path: str, as_of: datetime, *, warm_budget: float = 10.0, **params: Any) -> dict[str, Any]:
    """Read the log, compute the report (cold), compute it again from the table (warm)."""
    from bench.measure import repeat

    con = connect()
    started = time.perf_counter()
    con, table, rows = load(path, con)
    loaded = time.perf_counter() - started
    raw = con.con
    recorder = Recorder(raw)
    con.con = recorder
    try:
        result = report(con, table, as_of, **params)
    finally:
        con.con = raw
    engine_cold = time.perf_counter() - started
    # The same statements again, raw: DuckDB's own time for the whole report.
    began = time.perf_counter()
    checked = replay(raw, recorder.script)
    sql_first = time.perf_counter() - began
    sql_warm = repeat(lambda: replay(raw, recorder.script), times=3, budget=warm_budget)
    engine_warm = repeat(lambda: report(con, table, as_of, **params), times=3, budget=warm_budget)
    return {
        "rows": rows,
        "load_s": loaded,
        "cold_s": loaded + sql_first,
        "warm": sql_warm,
        "engine_cold_s": engine_cold,
        "engine_warm": engine_warm,
        "statements": len(recorder.script),
        "results_checked": checked,
        "report": result,
        "table_bytes_per_event": table_bytes(con) / rows if rows else None,
    }
