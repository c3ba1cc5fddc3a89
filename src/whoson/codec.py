"""Exact JSON: money never passes through a float.

:func:`loads` reads numbers with a fraction or an exponent as
:class:`~decimal.Decimal` and integers as :class:`int`, so ``12.50`` stays
``Decimal('12.50')``; an integer literal of more than 4300 digits (more than
the interpreter converts) is read as an exact ``Decimal`` too. No number is
ever expanded: ``1e999999999`` stays ``Decimal('1E+999999999')``.
:func:`dumps` writes a ``Decimal`` back with exactly its digits, datetimes as
RFC 3339 UTC strings and dates as ``YYYY-MM-DD``.
``NaN`` and ``Infinity`` are not JSON and are refused both ways.

When :mod:`orjson` is installed it does the parsing, but only as an
accelerator: any document in which it produced a float (a fractional number, or
an integer too big for 64 bits) is parsed again by the standard library, so the
result is always exactly what the standard decoder gives.

>>> loads('{"total": 12.50, "items": 3, "at": null}')
{'total': Decimal('12.50'), 'items': 3, 'at': None}
>>> dumps({"total": Decimal("12.50"), "ok": True})
'{"total":12.50,"ok":true}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from whoson.core.errors import WhosonError
from whoson.core.events import Event
from whoson.core.time import format_ts

__all__ = ["JSONError", "dumps", "dumps_pretty", "loads"]


class JSONError(WhosonError, ValueError):
    """A document is not valid JSON, or a value cannot be written as JSON.

    ``pos`` is the 0-based offset of the problem when known (``None``
    otherwise): in bytes for an undecodable byte, in characters for a syntax
    error.

    >>> loads('{"a": 1')
    Traceback (most recent call last):
    ...
    whoson.codec.JSONError: Expecting ',' delimiter at column 8
    """

    def __init__(self, msg: str, pos: int | None = None) -> None:
        self.msg = msg
        self.pos = pos
        if pos is not None:
            # The standard library's messages sometimes end in "at" already.
            msg = f"{msg} column {pos + 1}" if msg.endswith(" at") else f"{msg} at column {pos + 1}"
        super().__init__(msg)


def _reject_constant(name: str) -> Any:
    raise JSONError(f"{name} is not a JSON number (only finite numbers are allowed)")


_INT_DIGITS = 4300  # the interpreter's default limit for converting text to int


def _read_int(text: str) -> int | Decimal:
    # int() of a long literal is quadratic and refused past the interpreter's limit;
    # as a Decimal it is read in linear time, exactly, and the event bounds judge it.
    return int(text) if len(text) <= _INT_DIGITS else Decimal(text)


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=_read_int,
                            parse_constant=_reject_constant)


_SUSPECT = frozenset((float, dict, list))


def _has_float(obj: Any) -> bool:
    # The usual event is a flat object of strings and ints: settle it in one C-level pass.
    if type(obj) is dict and _SUSPECT.isdisjoint(map(type, obj.values())):
        return False
    # Iterative so that deeply nested documents cannot hit the recursion limit.
    stack = [obj]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is float:
            return True
        if kind is dict:
            values: Any = node.values()
        elif kind is list:
            values = node
        else:
            continue
        for value in values:
            vkind = type(value)
            if vkind is float:
                return True
            if vkind is dict or vkind is list:
                stack.append(value)
    return False


def _loads_stdlib(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise JSONError(f"invalid UTF-8 byte 0x{text[err.start]:02x}", err.start) from None
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as err:
        raise JSONError(err.msg, err.pos) from None
    except RecursionError:
        raise JSONError("document nested too deeply") from None
    except JSONError:
        raise
    except ValueError as err:  # e.g. an integer beyond the interpreter's digit limit
        raise JSONError(str(err)) from None


try:
    from orjson import JSONDecodeError as _FastDecodeError
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is in the dev and fast extras
    _fast_loads = None  # type: ignore[assignment]


def loads(text: str | bytes) -> Any:
    """Decode one JSON document exactly; ``bytes`` must be UTF-8.

    Fractional or exponent numbers become :class:`~decimal.Decimal`, other
    numbers :class:`int`. Raises :class:`JSONError` on invalid JSON,
    including ``NaN`` and ``Infinity``.

    >>> loads(b'[1, 2.0, 1e3, "x"]')
    [1, Decimal('2.0'), Decimal('1E+3'), 'x']
    >>> loads('{"v": NaN}')
    Traceback (most recent call last):
    ...
    whoson.codec.JSONError: NaN is not a JSON number (only finite numbers are allowed)
    """
    if _fast_loads is None:
        return _loads_stdlib(text)
    try:
        obj = _fast_loads(text)
    except _FastDecodeError:
        # The standard decoder gives the canonical message, and accepts the
        # few things orjson refuses (lone surrogate escapes, huge exponents).
        return _loads_stdlib(text)
    if _has_float(obj):
        return _loads_stdlib(text)
    return obj


_encode_str: Callable[[str], str] = json.encoder.encode_basestring


def _encode(obj: Any, indent: str | None, level: int, out: list[str]) -> None:
    # One recursive writer serves both layouts so they can never disagree.
    if isinstance(obj, str):
        out.append(_encode_str(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, Decimal):
        if not obj.is_finite():
            raise JSONError(f"cannot write {obj!r}: only finite numbers are JSON")
        out.append(str(obj))
    elif isinstance(obj, float):
        if not math.isfinite(obj):
            raise JSONError(f"cannot write {obj!r}: only finite numbers are JSON")
        out.append(float.__repr__(obj))
    elif isinstance(obj, datetime):
        if obj.tzinfo is None or obj.utcoffset() is None:
            raise JSONError(f"cannot write naive datetime {obj.isoformat()!r}: no UTC offset")
        out.append('"' + format_ts(obj) + '"')
    elif isinstance(obj, date):
        out.append('"' + obj.isoformat() + '"')
    elif isinstance(obj, Mapping):
        _encode_object(obj, indent, level, out)
    elif isinstance(obj, (list, tuple)):
        _encode_array(obj, indent, level, out)
    elif isinstance(obj, Event):
        _encode_object(obj.to_dict(), indent, level, out)
    else:
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _encode_object(obj: Mapping[Any, Any], indent: str | None, level: int, out: list[str]) -> None:
    if not obj:
        out.append("{}")
        return
    inner = "" if indent is None else "\n" + indent * (level + 1)
    sep = ":" if indent is None else ": "
    out.append("{")
    first = True
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
        if not first:
            out.append(",")
        first = False
        out.append(inner)
        out.append(_encode_str(key))
        out.append(sep)
        _encode(value, indent, level + 1, out)
    out.append("" if indent is None else "\n" + indent * level)
    out.append("}")


def _encode_array(obj: list[Any] | tuple[Any, ...], indent: str | None, level: int,
                  out: list[str]) -> None:
    if not obj:
        out.append("[]")
        return
    inner = "" if indent is None else "\n" + indent * (level + 1)
    out.append("[")
    for position, value in enumerate(obj):
        if position:
            out.append(",")
        out.append(inner)
        _encode(value, indent, level + 1, out)
    out.append("" if indent is None else "\n" + indent * level)
    out.append("]")


def dumps(obj: Any) -> str:
    """Encode ``obj`` as compact JSON (no spaces), keeping key order.

    ``Decimal`` keeps its exact digits; an aware ``datetime`` becomes a UTC
    ``...Z`` string, a ``date`` ``YYYY-MM-DD``; an :class:`~whoson.core.events.Event`
    is written as its :meth:`~whoson.core.events.Event.to_dict`. Non-ASCII text
    is written as is. Raises :class:`JSONError` for NaN, infinities and naive
    datetimes, :class:`TypeError` for other types and non-string keys.

    >>> from datetime import date, datetime, timedelta, timezone
    >>> dumps({"at": datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1))),
    ...        "day": date(2026, 3, 1), "fee": Decimal("0.10"), "tags": ("a", "é")})
    '{"at":"2026-03-01T12:00:00Z","day":"2026-03-01","fee":0.10,"tags":["a","é"]}'
    >>> dumps(Decimal("NaN"))
    Traceback (most recent call last):
    ...
    whoson.codec.JSONError: cannot write Decimal('NaN'): only finite numbers are JSON
    """
    out: list[str] = []
    _encode(obj, None, 0, out)
    return "".join(out)


def dumps_pretty(obj: Any, indent: int = 2) -> str:
    """Like :func:`dumps`, laid out over several lines with ``indent`` spaces.

    >>> print(dumps_pretty({"order": "A1", "lines": [Decimal("9.90")], "meta": {}}))
    {
      "order": "A1",
      "lines": [
        9.90
      ],
      "meta": {}
    }
    """
    out: list[str] = []
    _encode(obj, " " * indent, 0, out)
    return "".join(out)
