"""Compile once: the definition's SQL, cached per shape, with the parameters substituted.

Ibis turns each of the definition's twenty-odd expressions into SQL in
about a tenth of a second (its rewrites and SQLGlot), which outweighs
DuckDB's own work on a small Parquet export. The SQL of a query depends
only on its *shape*: which query, whether the range has a start and an
end, how many percentile ranks; the parameter values (``as_of``, the
bounds, windows and timeouts, the ranks) enter as integer literals. So on
DuckDB the definition is built with distinct sentinel integers in their
place, compiled once, and each run substitutes the real values into the
cached SQL text. The cache lives in memory and, across processes, in
``$WHOSON_SQL_CACHE`` (default ``~/.cache/whoson``; ``off`` disables the
files), one file per version of Ibis, SQLGlot, DuckDB and of the
definition's source, so a changed definition never reads stale SQL.

The definition stays the only description of the report: the cache holds
what Ibis compiled from it, nothing written by hand.

>>> substitute("SELECT 1 WHERE us <= 7340000000000000000", {7340000000000000000: -5})
'SELECT 1 WHERE us <= (-5)'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from whoson.engines.shape import Bounds, NamedTable

__all__ = ["SENTINEL", "Executor", "sentinel_bounds", "substitute"]

SENTINEL = 7_340_000_000_000_000_000
"""The first sentinel integer (19 digits: no real microsecond value comes near it)."""
_SENTINELS = re.compile(r"\b734000000000000\d{4}\b")
_MEMORY: dict[str, dict[str, Any]] = {}
_LOCK = threading.Lock()
_LOADED: set[str] = set()


def substitute(sql: str, values: Mapping[int, int]) -> str:
    """``sql`` with each sentinel integer replaced by its value (negative ones parenthesised)."""
    def value(match: re.Match[str]) -> str:
        number = values[int(match.group(0))]
        return str(number) if number >= 0 else f"({number})"

    return _SENTINELS.sub(value, sql)


def sentinel_bounds(bounds: Bounds) -> tuple[Bounds, dict[int, int]]:
    """``bounds`` with sentinels for its values, and the map from each sentinel to its value."""
    values: dict[int, int] = {}
    fields: dict[str, int | None] = {}
    for index, name in enumerate(attrs.fields_dict(Bounds)):
        real = getattr(bounds, name)
        if real is None:
            fields[name] = None
            continue
        values[SENTINEL + index] = real
        fields[name] = SENTINEL + index
    return Bounds(**fields), values  # type: ignore[arg-type]


def _cache_dir() -> Path | None:
    setting = os.environ.get("WHOSON_SQL_CACHE")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "whoson"


def _version() -> str:
    """A digest of everything the compiled SQL depends on (read without importing Ibis)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return ""

    versions = (installed("ibis-framework"), installed("sqlglot"), installed("duckdb"))
    digest = hashlib.sha256("|".join(versions).encode())
    here = Path(__file__).resolve().parent
    for name in ("definition.py", "run.py", "segments.py", "compiled.py", "shape.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:24]


class Executor:
    """Runs the definition's queries on ``con``: through the SQL cache on DuckDB, else via Ibis.

    ``values`` maps the sentinels the expressions were built with to their
    real values; ``shape`` names what else changes the SQL (for example
    whether the range has a start). ``kept`` records the intermediate tables
    to drop when the run ends.
    """

    def __init__(self, con: Any, values: Mapping[int, int], shape: str) -> None:
        self.con = con
        self.values = dict(values)
        self.shape = shape
        self.kept: list[tuple[str, Any]] = []
        self.cached = con.name == "duckdb"
        self._entries: dict[str, Any] = {}
        self._file: Path | None = None
        self._fresh = False
        if self.cached:
            version = _version()
            with _LOCK:
                self._entries = _MEMORY.setdefault(version, {})
                folder = _cache_dir()
                self._file = folder / f"sql-{version}.json" if folder is not None else None
                if self._file is not None and version not in _LOADED:
                    _LOADED.add(version)
                    with contextlib.suppress(OSError, ValueError):
                        self._entries.update(json.loads(self._file.read_text(encoding="utf-8")))

    def parameters(self, numbers: list[int]) -> list[int]:
        """Integers for a query (such as percentile ranks): as sentinels when the SQL is cached."""
        if not self.cached:
            return numbers
        given = []
        for index, number in enumerate(numbers):
            sentinel = SENTINEL + 100 + index
            self.values[sentinel] = number
            given.append(sentinel)
        return given

    # -- the operations the definition's runner needs ------------------------------------

    def rows(self, label: str | None, build: Callable[[], Any]) -> list[dict[str, Any]]:
        """The rows of the query ``build()`` returns (``label`` names it in the cache; None: no cache)."""
        if not self.cached:
            rows: list[dict[str, Any]] = self.con.to_pyarrow(build()).to_pylist()
            return rows
        entry = self._entry(label, build)
        table = self.con.con.sql(substitute(entry["sql"], self.values)).to_arrow_table()
        result: list[dict[str, Any]] = _converted(table, entry).to_pylist()
        return result

    def keep(self, label: str | None, build: Callable[[], Any]) -> Any:
        """Materialise ``build()`` for the later queries (a temp table, or a Spark cache)."""
        if self.con.name == "pyspark":
            table = build().cache()
            self.kept.append(("", table))
            return table
        name = f"whoson_keep_{len(self.kept)}"
        if not self.cached:
            table = self.con.create_table(name, build(), temp=True)
            self.kept.append((name, table))
            return table
        entry = self._entry(label, build, keep=name)
        self.kept.append((name, None))
        raw = self.con.con
        raw.execute(entry["create"]).fetchall()
        raw.execute(substitute(entry["insert"], self.values)).fetchall()
        # A temporary table in the temp catalog: Ibis finds it there, if a later query needs it.
        table = NamedTable(self.con, name, database=("temp", "main"))
        self.kept[-1] = (name, table)
        return table

    def release(self) -> None:
        """Drop the kept tables (newest first); a failure to drop is not an error."""
        for name, table in reversed(self.kept):
            try:
                if name:
                    self.con.con.execute(f'DROP TABLE IF EXISTS "{name}"').fetchall()
                else:
                    table.release()
            except Exception:
                continue
        self.kept.clear()
        self.save()

    def save(self) -> None:
        """Write new cache entries to the cache file (atomically; failures are ignored)."""
        if not self._fresh or self._file is None:
            return
        self._fresh = False
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            try:
                on_disk = json.loads(self._file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                on_disk = {}
            with _LOCK:
                merged = {**on_disk, **self._entries}
            temporary = self._file.with_name(f"{self._file.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(merged), encoding="utf-8")
            os.replace(temporary, self._file)
        except OSError:
            return

    # -- compiling -----------------------------------------------------------------------

    def _entry(self, label: str | None, build: Callable[[], Any], keep: str | None = None) -> dict[str, Any]:
        key = f"{label}|{self.shape}|{keep}" if label is not None else None
        if key is not None:
            with _LOCK:
                found = self._entries.get(key)
            if found is not None:
                return dict(found)
        expr = build()
        con = self.con
        con._run_pre_execute_hooks(expr)  # register in-memory tables the query reads
        sql = con.compile(expr)
        schema = expr.as_table().schema()
        entry: dict[str, Any] = {"arrow": _arrow_schema(schema)}
        if keep is None:
            entry["sql"] = sql
        else:
            entry["create"], target = _create(keep, schema)
            columns = ", ".join(_quote(name) for name in schema.names)
            entry["insert"] = f"INSERT INTO {target} ({columns}) {sql}"
        # Queries over in-memory tables (random names) cannot be reused by another run.
        if key is not None and "ibis_" not in sql:
            with _LOCK:
                self._entries[key] = entry
            self._fresh = True
        return entry


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _arrow_schema(schema: Any) -> str:
    """The Arrow schema Ibis gives a query's result, serialised for the cache file."""
    import base64

    from ibis.formats.pyarrow import PyArrowSchema

    return base64.b64encode(PyArrowSchema.from_ibis(schema).serialize().to_pybytes()).decode("ascii")


def _converted(table: Any, entry: Mapping[str, Any]) -> Any:
    """A cached query's DuckDB result with the column types Ibis would give it, without Ibis.

    (Ibis's own conversion casts each column to the Arrow type of its schema,
    and a column whose type is null to nulls; so does this.)
    """
    import base64

    import pyarrow as pa
    import pyarrow.ipc

    wanted = pyarrow.ipc.read_schema(pa.py_buffer(base64.b64decode(entry["arrow"])))
    if table.schema == wanted:
        return table
    columns = [
        pa.nulls(table.num_rows, field.type) if pa.types.is_null(field.type)
        else table.column(field.name).cast(field.type)
        for field in wanted
    ]
    return pa.Table.from_arrays(columns, schema=wanted)


def _create(name: str, schema: Any) -> tuple[str, str]:
    """The ``CREATE TEMPORARY TABLE`` statement Ibis would issue for ``schema``, and the table's name."""
    import sqlglot.expressions as sge

    table = sge.table_(name, catalog="temp", db="main", quoted=True)
    create = sge.Create(
        kind="TABLE",
        this=sge.Schema(this=table, expressions=schema.to_sqlglot_column_defs("duckdb")),
        properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
    )
    return create.sql(dialect="duckdb"), table.sql(dialect="duckdb")
