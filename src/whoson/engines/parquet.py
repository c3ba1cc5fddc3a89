"""Events at rest for the engines: typed Arrow tables and an incremental Parquet export.

``whoson export SOURCE --parquet DIR`` loads SOURCE with the ingest rules (a
log is replayed into a fresh tracker: bad lines rejected, duplicates dropped,
conflicting ids keep the first; a store is read as it is), then writes the
events DIR does not hold yet, partitioned by UTC date
(``DIR/date=YYYY-MM-DD/part-*.parquet``). Columns: ``id``, ``type``, ``ts``
(UTC timestamp, microseconds), ``visitor``, one column per field of the event
contract (money ``decimal(38,6)``, booleans, integers, strings) and
``extra``, the unknown fields as a JSON object string. ``DIR/_whoson.json``
keeps the settings the events were checked with (rating scale, currency).

>>> import tempfile, os
>>> from whoson.core.parsing import parse_event
>>> table = events_table([parse_event({"id": "o1", "type": "order", "ts": "2026-03-01T12:00:00Z",
...                                    "visitor": "v", "order": "A", "subtotal": "9.90"})])
>>> table.num_rows, str(table.schema.field("subtotal").type), str(table.schema.field("ts").type)
(1, 'decimal128(38, 6)', 'timestamp[us, tz=UTC]')
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from whoson.codec import dumps
from whoson.core.errors import ConfigError, WhosonError
from whoson.core.events import EVENT_TYPES, Event, Kind
from whoson.core.settings import RatingScale

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COLUMNS",
    "ExportResult",
    "events_table",
    "export",
    "is_parquet_dir",
    "read_events",
    "read_settings",
]

SETTINGS_FILE = "_whoson.json"
_MONEY_QUANTUM = Decimal("0.000001")
_CENT = Decimal("0.01")
_MONEY_LIMIT = Decimal(10) ** 32


def _columns() -> dict[str, Kind]:
    """Every field of every event type once, in contract order (envelope first)."""
    columns: dict[str, Kind] = {"id": Kind.ID, "type": Kind.CHOICE, "ts": Kind.TEXT, "visitor": Kind.ID}
    for cls in EVENT_TYPES.values():
        for field in attrs.fields(cls):
            if field.name in ("id", "ts", "visitor", "extra"):
                continue
            kind = field.metadata["kind"]
            known = columns.setdefault(field.name, kind)
            if known is not kind and {known, kind} & {Kind.MONEY, Kind.BOOL, Kind.COUNT, Kind.RATING}:
                raise TypeError(f"field {field.name!r} has two types across event types")
    return columns


COLUMNS: dict[str, Kind] = _columns()
# Per event type: its own fields after the envelope, and whether each is money.
_FIELDS_OF: dict[type[Event], tuple[tuple[str, bool], ...]] = {
    cls: tuple(
        (f.name, f.metadata["kind"] is Kind.MONEY)
        for f in attrs.fields(cls) if f.name not in ("id", "ts", "visitor", "extra")
    )
    for cls in EVENT_TYPES.values()
}


def _arrow_type(name: str, kind: Kind) -> pa.DataType:
    import pyarrow as pa

    if name == "ts":
        return pa.timestamp("us", tz="UTC")
    if kind is Kind.MONEY:
        return pa.decimal128(38, 6)
    if kind is Kind.BOOL:
        return pa.bool_()
    if kind in (Kind.COUNT, Kind.RATING):
        return pa.int64()
    return pa.string()


def schema() -> pa.Schema:
    """The Arrow schema of exported events (without the ``date`` partition column)."""
    import pyarrow as pa

    fields = [pa.field(name, _arrow_type(name, kind)) for name, kind in COLUMNS.items()]
    return pa.schema([*fields, pa.field("extra", pa.string())])


class ExportError(WhosonError):
    """An event cannot be written in the Parquet layout (money outside decimal(38,6))."""


def cents(amount: Decimal) -> Decimal:
    """A decimal(38,6) amount written as people write money: trailing zeros dropped, cents kept.

    >>> cents(Decimal("9.900000")), cents(Decimal("0.125000")), cents(Decimal("3"))
    (Decimal('9.90'), Decimal('0.125'), Decimal('3.00'))
    """
    amount = amount.normalize()
    exponent = amount.as_tuple().exponent
    return amount.quantize(_CENT) if isinstance(exponent, int) and exponent > -2 else amount


def _money(event: Event, name: str, value: Decimal) -> Decimal:
    if value != value.quantize(_MONEY_QUANTUM) or abs(value) >= _MONEY_LIMIT:
        raise ExportError(
            f"event {event.id!r}: field {name!r} = {value}: does not fit the Parquet money "
            "column decimal(38,6) (at most 6 decimals, 32 integer digits)"
        )
    return value


def events_table(events: Iterable[Event]) -> pa.Table:
    """The events as one typed Arrow table (see the module doc for the columns).

    Raises :class:`ExportError` for money that decimal(38,6) cannot hold exactly.
    """
    import pyarrow as pa

    rows = list(events)
    count = len(rows)
    data: dict[str, list[Any]] = {name: [None] * count for name in COLUMNS}
    data["extra"] = [None] * count
    ids, types, stamps, visitors, extras = data["id"], data["type"], data["ts"], data["visitor"], data["extra"]
    for index, event in enumerate(rows):
        ids[index] = event.id
        types[index] = event.TYPE
        stamps[index] = event.ts
        visitors[index] = event.visitor
        for name, is_money in _FIELDS_OF[type(event)]:
            value = getattr(event, name)
            if value is not None:
                data[name][index] = _money(event, name, value) if is_money else value
        if event.extra:
            extras[index] = dumps(dict(event.extra))
    return pa.table(data, schema=schema())


def is_parquet_dir(source: str) -> bool:
    """Whether ``source`` is a directory of exported Parquet events."""
    return os.path.isdir(source) and (
        os.path.exists(os.path.join(source, SETTINGS_FILE))
        or any(name.startswith("date=") for name in os.listdir(source))
    )


def read_settings(directory: str) -> tuple[RatingScale | None, str | None]:
    """The rating scale and currency an export was checked with (None when unknown)."""
    path = os.path.join(directory, SETTINGS_FILE)
    if not os.path.exists(path):
        return None, None
    with open(path, encoding="utf-8") as stream:
        saved = json.load(stream)
    scale = saved.get("rating_scale")
    return (RatingScale.parse(scale) if scale else None), saved.get("currency")


def _write_settings(directory: str, scale: RatingScale, currency: str | None) -> None:
    path = os.path.join(directory, SETTINGS_FILE)
    with open(path + ".tmp", "w", encoding="utf-8") as stream:
        json.dump({"rating_scale": str(scale), "currency": currency}, stream)
    os.replace(path + ".tmp", path)


def _exported_ids(directory: str) -> set[str]:
    import pyarrow.dataset as ds

    files = sorted(_parquet_files(directory))
    if not files:
        return set()
    ids = ds.dataset(files, format="parquet").to_table(columns=["id"]).column("id")
    return set(ids.to_pylist())


def _parquet_files(directory: str) -> Iterator[str]:
    for root, _, names in os.walk(directory):
        for name in names:
            if name.endswith(".parquet"):
                yield os.path.join(root, name)


@attrs.frozen
class ExportResult:
    """What one export run did."""

    written: int
    already: int
    errors: tuple[str, ...]


def export(
    source: str,
    directory: str,
    *,
    rating_scale: RatingScale | None = None,
    currency: str | None = None,
) -> ExportResult:
    """Write the valid, de-duplicated events of ``source`` that ``directory`` lacks.

    ``source`` is a JSON Lines log or a store URL (which must exist: a
    missing store is a :class:`~whoson.core.errors.StoreError`, never
    created). A log is read with the
    ingest rules of :meth:`whoson.Tracker.load`; its bad lines are returned
    in ``errors`` (and not written). Events whose id is already exported are
    skipped, so running the export again appends only new events. Cost: the
    source is held in memory once (as by ``whoson report``).

    >>> import tempfile, os
    >>> log = os.path.join(tempfile.mkdtemp(), "a.jsonl")
    >>> with open(log, "w") as f:
    ...     _ = f.write('{"id":"1","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}\\n')
    >>> out = tempfile.mkdtemp()
    >>> export(log, out).written, export(log, out).written
    (1, 0)
    """
    from whoson.cli.common import is_store_url

    saved_scale, saved_currency = read_settings(directory) if os.path.isdir(directory) else (None, None)
    if rating_scale is not None and saved_scale is not None and rating_scale != saved_scale:
        raise ConfigError(f"{directory} holds events checked with rating scale {saved_scale}, not {rating_scale}")
    scale = rating_scale or saved_scale or RatingScale()
    errors: list[str] = []
    if is_store_url(source):
        from whoson.stores.url import open_store

        # Reading never creates a store (a typo must not become an empty SQLite file).
        store = open_store(source, create=False)
        with store:
            settings = store.settings
            if settings.rating_scale != scale and (rating_scale or saved_scale):
                raise ConfigError(f"the store was filled with rating scale {settings.rating_scale}, not {scale}")
            scale = settings.rating_scale
            final_currency = settings.currency or currency or saved_currency
            events = [stored.event for stored in store.read(order="time")]
    else:
        from whoson.tracker import Tracker

        tracker = Tracker(rating_scale=scale, currency=currency or saved_currency)
        result = tracker.load(source)
        errors.extend(str(error) for error in result.errors)
        final_currency = tracker.currency
        events = [stored.event for stored in tracker.store.read(order="time")]
    os.makedirs(directory, exist_ok=True)
    known = _exported_ids(directory)
    fresh: list[Event] = []
    already = 0
    for event in events:
        if event.id in known:
            already += 1
            continue
        try:
            for name, is_money in _FIELDS_OF[type(event)]:
                value = getattr(event, name)
                if is_money and value is not None:
                    _money(event, name, value)
        except ExportError as error:
            errors.append(str(error))
            continue
        fresh.append(event)
    if fresh:
        _write(fresh, directory)
    _write_settings(directory, scale, final_currency)
    return ExportResult(len(fresh), already, tuple(errors))


def _write(events: list[Event], directory: str) -> None:
    import pyarrow as pa
    import pyarrow.dataset as ds

    table = events_table(events)
    dates = pa.array([event.ts.date().isoformat() for event in events], pa.string())
    table = table.append_column("date", dates)
    token = uuid.uuid4().hex[:12]
    ds.write_dataset(
        table, directory, format="parquet",
        partitioning=ds.partitioning(pa.schema([pa.field("date", pa.string())]), flavor="hive"),
        basename_template=f"part-{token}-{{i}}.parquet",
        existing_data_behavior="overwrite_or_ignore",
    )


def read_events(directory: str) -> Iterator[Event]:
    """The events of an export, typed again (for the python engine over a Parquet directory)."""
    import pyarrow.dataset as ds

    from whoson.codec import loads
    from whoson.core.parsing import parse_event
    from whoson.core.settings import ParseContext

    scale, _ = read_settings(directory)
    ctx = ParseContext(rating_scale=scale or RatingScale())
    files = sorted(_parquet_files(directory))
    if not files:
        return
    table = ds.dataset(files, format="parquet", schema=schema()).to_table()
    for batch in table.to_batches():
        for row in batch.to_pylist():
            extra = row.pop("extra")
            data = {
                key: cents(value) if isinstance(value, Decimal) else value
                for key, value in row.items() if value is not None
            }
            if extra:
                data.update(loads(extra))
            yield parse_event(data, ctx)
