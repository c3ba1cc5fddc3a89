"""A JSON Lines log read by DuckDB: the ingest rules of :func:`~whoson.engines.jsonl.read_log`, vectorised.

``whoson report big.jsonl --engine duckdb`` used to parse every line in
Python; that was nine tenths of its time. :func:`read_log_table` gives the
same events, counts, line-numbered errors and settled currency as
:func:`~whoson.engines.jsonl.read_log` (and so as :meth:`whoson.Tracker.load`),
as one typed Arrow table in the layout of
:func:`whoson.engines.parquet.schema`, in three steps:

1. **Vectorised lines.** The file is split into lines once; DuckDB parses
   every line and checks it against a SQL condition generated from the event
   contract's own field plans (:data:`whoson.core.events.EVENT_TYPES`):
   the type, required fields, each value's JSON kind, choices, bounds,
   identifier characters, the timestamp's form, the cross-field agent rule.
   The condition is *conservative*: a line passes only in the common,
   unambiguous form (no unknown fields, no duplicate keys, no escaped
   control characters or surrogates, at most 10,000 bytes, an RFC 3339 time
   with at most six decimals, money as a plain number...). Every other line
   (bad lines, orders, odd but valid forms) goes to the project's own parser
   (:func:`whoson.logfile.read_line`), which words every error.
2. **Vectorised set rules.** An event whose id appears on two lines, whose
   request is named by two visitors, or that is an order (the currency
   rules), together with everything sharing an id or a request with it, is
   *entangled*: those few go through the ingest rules one by one
   (:class:`~whoson.engines.jsonl.Intake`), in file order and with the same
   batch boundaries as :meth:`~whoson.Tracker.load`, so that duplicates,
   conflicts and the currency are decided exactly as there. Every other
   event is accepted as it is: nothing can conflict with it.
3. The accepted lines become the table's rows straight from DuckDB; the
   events the Python side kept are appended with
   :func:`~whoson.engines.parquet.events_table`.

The tests hold it to :func:`~whoson.engines.jsonl.read_log` line for line on
hostile, duplicated and hypothesis-generated logs (tests/engines/test_vectorlog.py).
Cost: O(bytes) in DuckDB on all cores plus O(lines it does not settle) in
Python; memory about the file's size plus the table.

>>> import io
>>> from whoson.core.settings import ParseContext
>>> log = io.BytesIO(b'{"id":"a","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}\\n'
...                  b'{"id":"a","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}\\nnope\\n')
>>> read = read_log_table(log, ParseContext())
>>> read.table.column("id").to_pylist(), read.result.accepted, read.result.duplicates, read.result.rejected
(['a'], 1, 1, 1)
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

import attrs

from whoson.core.events import EVENT_TYPES, MAX_ID, MAX_URL, Event, Kind
from whoson.core.settings import ParseContext, RatingScale
from whoson.engines.jsonl import Intake, LogRead
from whoson.logfile import LogError, _binary, read_line
from whoson.tracking.loading import BATCH_SIZE, LoadResult

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SMALL_LOG_BYTES", "TableRead", "read_for_engine", "read_log_table"]

_BOM = b"\xef\xbb\xbf"
FAST_LINE_BYTES = 10_000
"""Longer lines take the Python parser: below it no event can pass the 64 KiB bound."""


@attrs.frozen
class TableRead:
    """A log as a fresh tracker would hold it, as one typed Arrow table.

    ``table`` has :func:`whoson.engines.parquet.schema`'s columns, one row per
    accepted event (in no particular order); ``result``, ``currency`` and
    ``newest`` are :class:`~whoson.engines.jsonl.LogRead`'s.
    ``python_lines`` counts the non-blank lines the project's parser read
    (all of them, when the log was read event by event).
    """

    table: pa.Table
    result: LoadResult
    currency: str | None
    newest: datetime | None
    python_lines: int = 0

    @classmethod
    def of(cls, read: LogRead) -> TableRead:
        """The table of a log read event by event."""
        from whoson.engines.parquet import events_table

        result = read.result
        lines = result.accepted + result.duplicates + result.rejected
        return cls(events_table(read.events), result, read.currency, read.newest, lines)


SMALL_LOG_BYTES = 1 << 20
"""Below this size :func:`read_for_engine` reads event by event: DuckDB's fixed cost (planning
the generated statement, about 0.15 s) outweighs the parser's (about 30 µs a line)."""


def read_for_engine(
    source: str | os.PathLike[str] | IO[bytes], ctx: ParseContext, *, name: str | None = None,
    store_text: bool = False,
) -> TableRead:
    """The log's table: :func:`read_log_table` for a log of :data:`SMALL_LOG_BYTES` or more when
    DuckDB is installed, else the event-by-event reader's (the same outcome either way)."""
    from whoson.engines.jsonl import read_log

    try:
        import duckdb  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:  # a Spark-only installation
        return TableRead.of(read_log(source, ctx, name=name, store_text=store_text))
    if isinstance(source, (str, os.PathLike)):
        size = os.path.getsize(source)
    else:  # a stream is read once, then measured
        label = name if name is not None else getattr(source, "name", None)
        name = label if isinstance(label, str) else None
        source = io.BytesIO(_read_bytes(source))
        size = len(source.getbuffer())
    if size < SMALL_LOG_BYTES:
        return TableRead.of(read_log(source, ctx, name=name, store_text=store_text))
    return read_log_table(source, ctx, name=name, store_text=store_text)


# -- the SQL condition, generated from the contract ------------------------------------

def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_ID_BAD = r"[\x00-\x1f\x7f-\x9f]"  # whoson.core.bounds._ID_UNSAFE without surrogates (none get here)
_TS = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
       r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
_COUNT = r"^(0|[1-9][0-9]{0,8}|1000000000)$"
_STRING_KINDS = (Kind.ID, Kind.URL, Kind.TEXT, Kind.CHOICE, Kind.CURRENCY)
_FIRST_US = int((datetime(1900, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 10**6
_LAST_US = int((datetime(9000, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 10**6


def _fast_types() -> dict[str, type[Event]]:
    """The types whose every rule the SQL states (an order keeps its own checks and the currency's)."""
    fast = {}
    for name, cls in EVENT_TYPES.items():
        kinds = {f.metadata["kind"] for f in _fields(cls)}
        if cls._check is Event._check and Kind.CURRENCY not in kinds:
            fast[name] = cls
    return fast


def _fields(cls: type[Event]) -> list[attrs.Attribute[Any]]:
    return [f for f in attrs.fields(cls) if f.name not in ("id", "ts", "visitor", "extra")]


def _specs() -> dict[str, tuple[Kind, tuple[str, ...]]]:
    """Per field of the fast types: its kind and choices, the same in every type naming it."""
    specs: dict[str, tuple[Kind, tuple[str, ...]]] = {}
    for cls in _fast_types().values():
        for field in _fields(cls):
            spec = (field.metadata["kind"], field.metadata["choices"])
            if specs.setdefault(field.name, spec) != spec:  # pragma: no cover - a contract change
                raise TypeError(f"field {field.name!r} is read two ways; give the SQL reader per-type checks")
    return specs


def _value_check(name: str, kind: Kind, choices: tuple[str, ...], scale: RatingScale) -> str:
    """SQL true when the present value ``j.name`` is read by the parser as it is.

    A string-kind field arrives decoded (the statement's prefilter sent every
    line where it is not a JSON string or null to the parser); any other
    field arrives as its JSON text.
    """
    value = f'j."{name}"'
    if kind in _STRING_KINDS:
        if kind is Kind.ID:
            return f"(length({value}) BETWEEN 1 AND {MAX_ID} AND NOT regexp_matches({value}, '{_ID_BAD}'))"
        if kind is Kind.URL:
            return f"length({value}) BETWEEN 1 AND {MAX_URL}"
        if kind is Kind.TEXT:
            return "TRUE"
        if kind is Kind.CHOICE:
            return f"{value} IN ({', '.join(map(_quote, choices))})"
        return f"regexp_full_match({value}, '[A-Z]{{3}}')"
    if kind is Kind.BOOL:
        return f"{value} IN ('true', 'false')"
    if kind is Kind.COUNT:
        return f"regexp_matches({value}, '{_COUNT}')"
    if kind is Kind.RATING:
        return (f"(regexp_matches({value}, '{_COUNT}') "
                f"AND TRY_CAST({value} AS BIGINT) BETWEEN {scale.low} AND {scale.high})")
    assert kind is Kind.MONEY
    # A plain JSON number, read from the line's own text: DuckDB's JSON numbers are doubles.
    return f'(NOT starts_with({value}, \'"\') AND "m_{name}" IS NOT NULL)'


def _required(cls: type[Event]) -> str:
    parts = ["j.visitor IS NOT NULL"] if cls.VISITOR_REQUIRED else []
    parts += [f'j."{f.name}" IS NOT NULL' for f in _fields(cls) if f.metadata["required"]]
    if cls.AGENT_WHEN is not None:
        field, role = cls.AGENT_WHEN
        parts.append(f'(j."{field}" IS DISTINCT FROM {_quote(role)} OR j.agent IS NOT NULL)')
    return " AND ".join(parts) or "TRUE"


def _sql(scale: RatingScale, store_text: bool) -> str:
    """The statement that parses every candidate line into ``whoson_parsed``.

    One row per line whose every value reads as the parser reads it, with
    its type's required fields and agent rule: ``line``, ``ks`` (its keys in
    order, checked once per distinct type and keys by :func:`_shape_ok`) and
    the typed columns.
    """
    specs = _specs()
    envelope = {"id": (Kind.ID, ()), "ts": (Kind.TEXT, ()), "visitor": (Kind.ID, ())}
    strings = ["type", *envelope, *(n for n, (kind, _) in specs.items() if kind in _STRING_KINDS)]
    names = ["type", *envelope, *specs] + ([] if store_text else ["text"])
    # String fields decoded by DuckDB's reader itself; the others as their JSON text.
    struct = "{" + ", ".join(f'"{name}": "{"VARCHAR" if name in strings else "JSON"}"' for name in names) + "}"
    # A string field holding anything but a string or null: the line goes to the parser.
    # (DuckDB also reads nan, Infinity...: only a value starting "nu" can be null in a valid line.)
    not_string = '"(' + "|".join(strings) + ')"[ \\t\\r\\n]*:[ \\t\\r\\n]*([^"n \\t\\r\\n]|n[^u])'
    money = [n for n, (kind, _) in specs.items() if kind is Kind.MONEY]
    amounts = "".join(
        f",\n    CASE WHEN NOT contains(raw, '\\') THEN nullif(regexp_extract(raw, "
        f"'\"{name}\"[ \\t\\r]*:[ \\t\\r]*((?:0|[1-9][0-9]{{0,14}})(?:\\.[0-9]{{1,6}})?)[ \\t\\r\\n]*[,}}]', 1), '') "
        f'END AS "m_{name}"'
        for name in money
    )
    checks = [
        f"{_value_check('id', Kind.ID, (), scale)}",
        f"ts_us >= {_FIRST_US} AND ts_us < {_LAST_US}",
        f"(j.visitor IS NULL OR {_value_check('visitor', Kind.ID, (), scale)})",
        *(f'(j."{n}" IS NULL OR {_value_check(n, kind, choices, scale)})' for n, (kind, choices) in specs.items()),
        'CASE j."type" ' + " ".join(f"WHEN {_quote(t)} THEN {_required(cls)}" for t, cls in _fast_types().items())
        + " ELSE FALSE END",
    ]
    if not store_text:
        checks.append("(j.\"text\" IS NULL OR starts_with(j.\"text\", '\"'))")
    outputs = ['j."type" AS "type"', "ts_us AS ts"]
    for name, (kind, _) in {**envelope, **specs}.items():
        if name == "ts":
            continue
        if kind in _STRING_KINDS:
            outputs.append(f'j."{name}" AS "{name}"')
        elif kind is Kind.MONEY:
            outputs.append(f'TRY_CAST("m_{name}" AS DECIMAL(38, 6)) AS "{name}"')
        elif kind is Kind.BOOL:
            outputs.append(f'j."{name}" = \'true\' AS "{name}"')
        else:
            outputs.append(f'TRY_CAST(j."{name}" AS BIGINT) AS "{name}"')
    return f"""
SELECT * EXCLUDE (valid) FROM (
SELECT line, ks, {" AND ".join(checks)} AS valid, {", ".join(outputs)}
FROM (
  SELECT *, CASE WHEN regexp_matches(j.ts, '{_TS}') THEN epoch_us(TRY_CAST(j.ts AS TIMESTAMPTZ)) END AS ts_us
  FROM (
    SELECT line, ks, j{amounts}
    FROM (
      -- TRY: a line DuckDB cannot read gets NULLs (and fails the checks) instead of failing the statement.
      SELECT line, raw, array_to_string(try(json_keys(raw)), chr(0)) AS ks, try(json_transform(raw, '{struct}')) AS j
      FROM whoson_lines
      WHERE strlen(raw) <= {FAST_LINE_BYTES}
        AND regexp_matches(raw, '^[ \\t\\r]*[{{]')
        AND NOT (contains(raw, '\\u') AND regexp_matches(raw, '\\\\u(00[01]|[dD][89abAB])'))
        AND NOT regexp_matches(raw, ',[ \\t\\r\\n]*[]}}]')
        AND NOT regexp_matches(raw, '{not_string}')
        -- a key spelled with an escape (say "vis\\u0069tor") would slip past the check above
        AND NOT (contains(raw, '\\') AND regexp_matches(raw, '\\\\[^"]*"[ \\t\\r\\n]*:'))
    )
  )
)
) WHERE valid
"""


def _shape_ok(type_name: str, keys: str, store_text: bool) -> bool:
    """Whether a line of ``type_name`` with these keys (NUL-separated) has no duplicate or unknown key."""
    cls = _fast_types().get(type_name)
    if cls is None:
        return False
    names = keys.split("\0")
    known = {"id", "type", "ts", "visitor", *(f.name for f in _fields(cls))}
    if cls.TYPE == "message" and not store_text:
        known.add("text")
    return len(set(names)) == len(names) and known.issuperset(names)


# -- lines -----------------------------------------------------------------------------

def _read_bytes(source: str | os.PathLike[str] | IO[bytes] | IO[str]) -> bytes:
    """The whole log as bytes; a text stream is read through its buffer, as :func:`iter_log` reads it."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:
            return stream.read()
    binary = _binary(source)
    read = getattr(binary, "read", None)
    return bytes(read()) if read is not None else b"".join(binary)


@attrs.frozen
class _Lines:
    """A file's physical lines: ``starts[i]``/``ends[i]`` bound line ``i + 1`` (``ends`` after its newline)."""

    data: bytes
    starts: Any  # numpy int64 arrays
    ends: Any

    @classmethod
    def split(cls, data: bytes) -> _Lines:
        import numpy as np

        newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        ends = newlines + 1
        if len(data) > (int(ends[-1]) if len(ends) else 0):
            ends = np.append(ends, len(data))
        starts = np.empty(len(ends), dtype=np.int64)
        if len(ends):
            starts[0] = 3 if data.startswith(_BOM) else 0
            starts[1:] = ends[:-1]
        return cls(data, starts, ends.astype(np.int64))

    def raw(self, line: int) -> tuple[bytes, int]:
        """Line ``line``'s bytes (newline included) and its start offset."""
        start = int(self.starts[line - 1])
        return self.data[start:int(self.ends[line - 1])], start

    def table(self) -> pa.Table:
        """``(line, raw)`` for DuckDB, each line with its newline (JSON whitespace); no copy.

        In a file that is not all UTF-8, the lines that are not are left empty:
        the parser words their errors.
        """
        import numpy as np
        import pyarrow as pa

        starts, ends, data = self.starts, self.ends, self.data
        numbers = np.arange(1, len(ends) + 1, dtype=np.int64)
        # From the buffer: pa.array(ndarray) would import pandas to look for a DataFrame.
        lines = pa.Array.from_buffers(pa.int64(), len(numbers), [None, pa.py_buffer(numbers)])
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            texts = []
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
                try:
                    texts.append(data[start:end].decode("utf-8"))
                except UnicodeDecodeError:
                    texts.append("")
            return pa.Table.from_arrays([lines, pa.array(texts, pa.large_string())], ["line", "raw"])
        offsets = np.append(starts, ends[-1:]) if len(ends) else np.zeros(1, dtype=np.int64)
        raw = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))
        return pa.Table.from_arrays([lines, raw], ["line", "raw"])


# -- reading ---------------------------------------------------------------------------

def read_log_table(
    source: str | os.PathLike[str] | IO[bytes], ctx: ParseContext, *, name: str | None = None,
    store_text: bool = False, batch_size: int = BATCH_SIZE,
) -> TableRead:
    """Read ``source`` with the ingest rules of a fresh tracker with settings ``ctx``, into a table.

    The same outcome as :func:`~whoson.engines.jsonl.read_log` (see the
    module doc for how). Reads the whole file into memory first.
    """
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from whoson.engines.parquet import events_table
    from whoson.tracking.intake import admit

    label = name if name is not None else (
        os.fspath(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", None)
    )
    label = label if isinstance(label, str) else None
    lines = _Lines.split(_read_bytes(source))
    parse_ctx = attrs.evolve(ctx, currency=None)
    con = duckdb.connect()
    try:
        # Pushed down, the checks would be computed twice (once in the filter, once for the rows).
        con.execute("SET disabled_optimizers = 'filter_pushdown'").fetchall()
        con.register("whoson_lines", lines.table())
        parsed = con.sql(_sql(ctx.rating_scale, store_text)).to_arrow_table()
        con.unregister("whoson_lines")
        con.register("whoson_parsed", parsed)
        shapes = con.sql('SELECT DISTINCT "type", ks FROM whoson_parsed').fetchall()
        allowed = [(t, k) for t, k in shapes if _shape_ok(t, k, store_text)]
        con.register("whoson_shapes", pa.table({
            "type": pa.array([t for t, _ in allowed], pa.string()),
            "ks": pa.array([k for _, k in allowed], pa.string()),
        }))
        con.execute("""CREATE OR REPLACE TEMP VIEW whoson_fast AS
SELECT line, id, request, visitor FROM whoson_parsed JOIN whoson_shapes USING ("type", ks)""").fetchall()
        fast = _lines_of(con.sql("SELECT line FROM whoson_fast").to_arrow_table())
        # One flag per line number: settled by SQL; every other line that is not blank
        # goes to the project's parser, which words the errors.
        settled = np.zeros(len(lines.starts) + 1, dtype=np.bool_)
        settled[fast] = True
        errors: list[LogError] = []
        slow: dict[int, Event] = {}
        for line in (np.flatnonzero(~settled[1:]) + 1).tolist():
            raw, start = lines.raw(line)
            outcome = read_line(raw, line, start, parse_ctx, label)
            if outcome is not None:
                if outcome[1] is not None:
                    errors.append(outcome[1])
                else:
                    slow[line] = outcome[0]  # type: ignore[assignment]
        entangled = _entangled(con, slow)
    finally:
        con.close()
    # Every event that is not entangled is admitted as it is; how many precede a line
    # decides, with the entangled ones admitted, where Tracker.load's batches end.
    plain = settled.copy()
    plain[np.fromiter(slow, np.int64, len(slow))] = True
    plain[entangled] = False
    intake = _one_by_one(lines, entangled, slow, np.cumsum(plain), ctx, parse_ctx, store_text, label, batch_size)
    python_events = [admit(event, ctx, store_text) for line, event in slow.items() if plain[line]]
    python_events.extend(intake.kept)
    keep = (settled & plain)[parsed.column("line").to_numpy()]
    fast_table = _typed(parsed if keep.all() else parsed.filter(pa.array(keep)))
    table = pa.concat_tables([fast_table, events_table(python_events)])
    for error in errors:
        intake.reject(error)
    newest = pc.max(table.column("ts")).as_py() if table.num_rows else None
    accepted = fast_table.num_rows + len(python_events) - len(intake.kept)
    python_lines = len(errors) + len(slow) + int(np.count_nonzero(settled[entangled]))
    return TableRead(table, intake.result(accepted), intake.current.currency,
                     newest.astimezone(UTC) if newest is not None else None, python_lines)


def _lines_of(table: pa.Table) -> Any:
    import numpy as np

    return np.asarray(table.column("line").to_numpy(), dtype=np.int64)


def _one_by_one(lines: _Lines, entangled: Any, slow: dict[int, Event], before: Any, ctx: ParseContext,
                parse_ctx: ParseContext, store_text: bool, label: str | None, batch_size: int) -> Intake:
    """The entangled events through the ingest rules in file order, batched as Tracker.load batches."""
    intake = Intake(ctx, store_text, label)
    admitted = 0
    batch_no = 0
    for line in entangled.tolist():
        event = slow.get(line)
        if event is None:
            raw, start = lines.raw(line)
            outcome = read_line(raw, line, start, parse_ctx, label)
            assert outcome is not None
            if outcome[1] is not None:  # pragma: no cover - the SQL admits only lines the parser reads
                intake.reject(outcome[1])
                continue
            event = outcome[0]
        assert event is not None
        position = int(before[line - 1]) + admitted
        if position // batch_size != batch_no:
            intake.flush()
            batch_no = position // batch_size
        if intake.offer(event, line):
            admitted += 1
    intake.flush()
    return intake


def _typed(parsed: pa.Table) -> pa.Table:
    """The parsed rows in the layout of :func:`whoson.engines.parquet.schema`."""
    import pyarrow as pa

    from whoson.engines.parquet import schema

    target = schema()
    columns = []
    for field in target:
        if field.name == "ts":
            columns.append(parsed.column("ts").cast(pa.timestamp("us", tz="UTC")))
        elif field.name in parsed.column_names:
            columns.append(parsed.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(parsed.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=target)


def _entangled(con: Any, slow: dict[int, Event]) -> Any:
    """The lines whose events the set rules may judge otherwise than "accepted" (see the module doc)."""
    import pyarrow as pa

    from whoson.core.events import OrderEvent

    events = list(slow.items())
    con.register("whoson_slow", pa.table({
        "line": pa.array([line for line, _ in events], pa.int64()),
        "id": pa.array([e.id for _, e in events], pa.string()),
        "request": pa.array([e.request_id for _, e in events], pa.string()),
        "visitor": pa.array([e.visitor for _, e in events], pa.string()),
        "is_order": pa.array([isinstance(e, OrderEvent) for _, e in events], pa.bool_()),
    }))
    con.execute("""
CREATE OR REPLACE TEMP TABLE whoson_candidates AS
SELECT line, id, request, visitor, FALSE AS is_order FROM whoson_fast
UNION ALL SELECT line, id, request, visitor, is_order FROM whoson_slow""").fetchall()
    # Ids compared by hash: a collision only sends two more events through the ingest rules.
    con.execute("""
CREATE OR REPLACE TEMP TABLE whoson_entangled AS
SELECT line, id, request FROM whoson_candidates
WHERE is_order
   OR hash(id) IN (SELECT hash(id) FROM whoson_candidates GROUP BY hash(id) HAVING count(*) > 1)
   OR request IN (SELECT request FROM whoson_candidates WHERE request IS NOT NULL AND visitor IS NOT NULL
                  GROUP BY request HAVING count(DISTINCT visitor) > 1)""").fetchall()
    count = con.sql("SELECT count(*) FROM whoson_entangled").fetchall()[0][0]
    while True:  # close over shared ids and requests
        con.execute("""
CREATE OR REPLACE TEMP TABLE whoson_entangled AS
SELECT line, id, request FROM whoson_candidates
WHERE id IN (SELECT id FROM whoson_entangled)
   OR request IN (SELECT request FROM whoson_entangled WHERE request IS NOT NULL)""").fetchall()
        grown = con.sql("SELECT count(*) FROM whoson_entangled").fetchall()[0][0]
        if grown == count:
            break
        count = grown
    return _lines_of(con.sql("SELECT line FROM whoson_entangled ORDER BY line").to_arrow_table())
