"""pandas and pyarrow views of report tables and of stored events (extras ``[pandas]``, ``[arrow]``).

Dtypes follow the figure kinds of :mod:`whoson.present.values`: dates are
``datetime64[ns]`` (local dates at midnight, no zone), instants
``datetime64[ns, UTC]``, rates, money and durations ``float64`` (the exact
Decimal stays in ``to_dict()``), counts ``int64`` (``Int64`` when a count
can be missing), text ``object``; nulls are ``NaN``/``NA``/``None``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from whoson.core.events import ENVELOPE, EVENT_TYPES, Event, Kind
from whoson.present.tables import Table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

__all__ = ["events_frame", "table_frame", "table_arrow"]

_FLOAT_KINDS = frozenset({"rate", "money", "seconds", "minutes", "float"})


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("report frames need pandas: pip install 'whoson[pandas]'") from None
    return pandas


def _column(pd: Any, values: list[Any], kind: str) -> Any:
    present = [v for v in values if v is not None]
    if kind == "date":
        return pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%d").astype("datetime64[ns]")
    if kind == "instant" and all(isinstance(v, (str, datetime)) for v in present):
        return _utc(pd, values)
    if kind in _FLOAT_KINDS or (present and all(isinstance(v, (float, Decimal)) for v in present)):
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean" if len(present) < len(values) else "bool")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if not present and kind == "text":
            return pd.Series(values, dtype=object)
        return pd.Series(values, dtype="Int64" if len(present) < len(values) else "int64")
    return pd.Series(values, dtype=object)


def _utc(pd: Any, values: list[Any]) -> Any:
    series = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    return series.astype("datetime64[ns, UTC]")


def table_frame(table: Table) -> pd.DataFrame:
    """``table`` as a DataFrame with one column per table column, dtypes by kind.

    Cost: O(rows x columns).
    """
    pd = _pandas()
    kinds = table.kinds
    data = {
        column: _column(pd, [row.get(column) for row in table.rows], kinds[column])
        for column in table.columns
    }
    return pd.DataFrame(data, columns=table.columns)


def table_arrow(table: Table) -> pa.Table:
    """``table`` as a pyarrow Table (the frame's columns and types)."""
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("arrow tables need pyarrow: pip install 'whoson[arrow]'") from None
    return pyarrow.Table.from_pandas(table_frame(table), preserve_index=False)


def _field_kinds(types: Iterable[type[Event]]) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for cls in types:
        for field in attrs.fields(cls):
            if field.name not in ("id", "ts", "visitor", "extra"):
                kinds.setdefault(field.name, field.metadata["kind"])
    return kinds


def events_frame(events: Iterable[Event], types: Collection[str] | None = None) -> pd.DataFrame:
    """One row per event: ``id``, ``type``, ``ts`` (UTC-aware), ``visitor``, then every
    field of the event types present (in the contract's order), then unknown extras.

    Money fields are ``float64``, counts ``Int64``, flags ``boolean``, the rest text.
    A typed column holds the field of the event types that define it; an extra
    another type sends under such a name (``chars`` on a ``page_view``) is kept
    in ``extra.<name>`` (text), so it can neither break nor blur the dtype.
    Cost: O(events x columns).
    """
    pd = _pandas()
    records = [event.to_dict() for event in events]
    present = {record["type"] for record in records}
    order = [cls for name, cls in EVENT_TYPES.items() if name in present or (types and name in types)]
    kinds = _field_kinds(order)
    defined = {name: {field.name for field in attrs.fields(cls)} for name, cls in EVENT_TYPES.items()}
    typed: list[dict[str, Any]] = []
    for record in records:
        fields = defined[record["type"]]
        row = {key: value for key, value in record.items() if key not in kinds or key in fields}
        row.update({f"extra.{key}": value for key, value in record.items()
                    if key in kinds and key not in fields})
        typed.append(row)
    records = typed
    extras = sorted({key for record in records for key in record} - set(kinds) - set(ENVELOPE))
    columns = [*ENVELOPE, *kinds, *extras]
    data: dict[str, Any] = {}
    for column in columns:
        values = [record.get(column) for record in records]
        kind = kinds.get(column)
        if column == "ts":
            data[column] = _utc(pd, values)
        elif kind is Kind.MONEY:
            data[column] = pd.Series([float("nan") if v is None else float(v) for v in values],
                                     dtype="float64")
        elif kind in (Kind.COUNT, Kind.RATING):
            data[column] = pd.Series(values, dtype="Int64")
        elif kind is Kind.BOOL:
            data[column] = pd.Series(values, dtype="boolean")
        else:
            data[column] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=columns)
