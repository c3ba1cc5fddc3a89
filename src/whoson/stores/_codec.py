"""How durable stores write an event as text and read it back, exactly.

An event is stored as compact JSON of :meth:`~whoson.core.events.Event.to_dict`.
Decimals are written as JSON numbers with exactly their digits and read back
as :class:`~decimal.Decimal`, so ``12.50`` stays ``Decimal('12.50')``.

>>> from whoson.core.parsing import parse_event
>>> event = parse_event({"id": "o1", "type": "order", "ts": "2026-03-01T12:00:00Z",
...                      "visitor": "v", "order": "A1", "subtotal": "100.10", "note": "gift"})
>>> text = encode_event(event)
>>> text
'{"id":"o1","type":"order","ts":"2026-03-01T12:00:00Z","visitor":"v","order":"A1","subtotal":100.10,"note":"gift"}'
>>> decode_event(text) == event
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from whoson.core.events import EVENT_TYPES, Event
from whoson.core.time import parse_ts

__all__ = ["decode_event", "encode_event", "from_micros", "to_micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


class _NeedsSlowPath(Exception):
    """A value the C encoder cannot write exactly (a Decimal)."""


def _refuse(value: Any) -> Any:
    raise _NeedsSlowPath


_FAST = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_refuse
)
# The C encoder behind _FAST, made once: JSONEncoder.encode builds it again on every call.
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_ONE_SHOT: Any = (
    _C_ENCODER(None, _refuse, json.encoder.encode_basestring, None, ":", ",", False, False, False)
    if _C_ENCODER is not None else None
)


def fast_json(value: Any) -> str:
    """``_FAST.encode(value)`` without rebuilding the encoder; raises ``_NeedsSlowPath`` on a Decimal."""
    if _ONE_SHOT is None:  # pragma: no cover - CPython always has the C encoder
        return _FAST.encode(value)
    return "".join(_ONE_SHOT(value, 0))


_SCALAR = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        out.append(str(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"keys must be strings, not {type(key).__name__}")
            if index:
                out.append(",")
            out.append(_SCALAR.encode(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        out.append(_SCALAR.encode(value))


def _check_keys(value: Any) -> None:
    # The C encoder would turn a key 1 into "1": the event would not come back equal.
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"keys must be strings, not {type(key).__name__}")
            _check_keys(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_keys(item)


def encode_event(event: Event) -> str:
    """The event as compact JSON; raises ``TypeError``/``ValueError`` if an extra is not JSON."""
    if event.extra:
        _check_keys(event.extra)
    data = event.to_dict()
    try:
        return fast_json(data)
    except _NeedsSlowPath:
        out: list[str] = []
        _write(data, out)
        return "".join(out)


@attrs.frozen
class _Shape:
    cls: type[Event]
    fields: tuple[str, ...]
    money: frozenset[str]


def _shape(cls: type[Event]) -> _Shape:
    names: list[str] = []
    money: set[str] = set()
    for field in attrs.fields(cls):
        if field.name in ("id", "ts", "visitor", "extra"):
            continue
        names.append(field.name)
        kind = field.metadata.get("kind")
        if kind is not None and kind.value == "money":
            money.add(field.name)
    return _Shape(cls, tuple(names), frozenset(money))


_SHAPES = {name: _shape(cls) for name, cls in EVENT_TYPES.items()}
_DECODER = json.JSONDecoder(parse_float=Decimal)


def decode_event(text: str) -> Event:
    """Rebuild an event written by :func:`encode_event`.

    The text was checked by ``parse_event`` before it was stored, so this
    trusted path only restores types: the timestamp and money as ``Decimal``.
    """
    data: dict[str, Any] = _DECODER.decode(text)
    shape = _SHAPES[data.pop("type")]
    event_id = data.pop("id")
    ts = parse_ts(data.pop("ts"))
    visitor = data.pop("visitor", None)
    values: dict[str, Any] = {}
    for name in shape.fields:
        value = data.pop(name, None)
        if value is None:
            continue
        if name in shape.money and not isinstance(value, Decimal):
            value = Decimal(value)
        values[name] = value
    return shape.cls(id=event_id, ts=ts, visitor=visitor, extra=data, **values)


def to_micros(moment: datetime) -> int:
    """Microseconds since 1970-01-01T00:00:00Z of an aware datetime.

    >>> to_micros(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC))
    1000005
    """
    return (moment - _EPOCH) // _MICRO


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime ``micros`` microseconds after the epoch.

    >>> from_micros(1000005).isoformat()
    '1970-01-01T00:00:01.000005+00:00'
    """
    return _EPOCH + timedelta(microseconds=micros)
