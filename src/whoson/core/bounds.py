"""The bounds of the event contract (events.md, "Additions in v2"), checked cheaply.

Every check here looks at the size or the text of a value *before* building
anything big from it: ``1e999999999`` is refused from its exponent, never
turned into an integer of a billion digits; a 500-level nested extra is
refused at level 33, never walked to the bottom.

=====================  =========================================================
what                   bound
=====================  =========================================================
``chars``, ``capacity`` JSON integers from 0 to 10^9 (``rating``: on the scale)
money                  a JSON number, or a string in JSON number syntax; >= 0,
                       below 10^15, at most 6 decimals
strings                no lone surrogates (not UTF-8); ids also no control
                       characters (C0, DEL, C1)
extra fields           JSON values only (string keys, finite numbers), nested
                       at most 32 arrays/objects deep
the event              at most 64 KiB as compact UTF-8 JSON
=====================  =========================================================

>>> read_money("subtotal", "12.50")
Decimal('12.50')
>>> read_money("subtotal", "1e999999999")
Traceback (most recent call last):
...
whoson.core.errors.InvalidEvent: field 'subtotal' = '1e999999999': must be below 10^15
>>> read_count("chars", 120)
120
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from whoson.core.errors import InvalidEvent

__all__ = [
    "MAX_COUNT",
    "MAX_DEPTH",
    "MAX_EVENT_BYTES",
    "MONEY_DECIMALS",
    "MONEY_DIGITS",
    "check_string",
    "clean_extra",
    "json_size",
    "read_count",
    "read_money",
]

MAX_COUNT = 10**9
"""The largest value of an integer field (``chars``, ``capacity``)."""
MONEY_DIGITS = 15
"""Amounts are below ``10 ** MONEY_DIGITS``."""
MONEY_DECIMALS = 6
"""Amounts have at most this many digits after the decimal point."""
MAX_EVENT_BYTES = 64 * 1024
"""An event encodes to at most this many bytes of compact UTF-8 JSON."""
MAX_DEPTH = 32
"""An extra field nests at most this many arrays/objects."""

RULE_COUNT = "must be a JSON integer from 0 to 10^9"
RULE_FINITE = "must be a finite number (NaN and Infinity are not JSON)"
RULE_MONEY_SYNTAX = (
    "must be a JSON number or a string in JSON number syntax such as 12.50 "
    "(ASCII digits, optional fraction and exponent; no spaces, '+', '_' or ',')"
)

# JSON's number grammar, ASCII digits only (``\d`` would also match other scripts' digits).
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ID_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_encode_str = json.encoder.encode_basestring  # what the stores' encoder writes


def read_count(field: str, raw: Any, low: int = 0, high: int = MAX_COUNT,
               rule: str = RULE_COUNT) -> int:
    """An integer field: a JSON integer (``4`` or ``4.0``) in ``low..high``.

    The magnitude is checked before any conversion, so ``1e999999999`` costs
    microseconds. ``rule`` names the bound in the error.

    >>> read_count("capacity", 4.0)
    4
    >>> read_count("chars", 10**9 + 1)
    Traceback (most recent call last):
    ...
    whoson.core.errors.InvalidEvent: field 'chars' = 1000000001: must be a JSON integer from 0 to 10^9
    """
    if isinstance(raw, bool):
        raise InvalidEvent(field, raw, "must be an integer")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, Decimal):
        if not raw.is_finite():
            raise InvalidEvent(field, raw, RULE_FINITE)
        if raw.adjusted() > 18:  # also 0E+999999999: int() of it would be slow
            raise InvalidEvent(field, raw, rule)
        if raw != raw.to_integral_value():
            raise InvalidEvent(field, raw, "must be an integer")
        value = int(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise InvalidEvent(field, raw, RULE_FINITE)
        if not raw.is_integer():
            raise InvalidEvent(field, raw, "must be an integer")
        if abs(raw) > 1e18:
            raise InvalidEvent(field, raw, rule)
        value = int(raw)
    else:
        raise InvalidEvent(field, raw, "must be an integer")
    if not low <= value <= high:
        raise InvalidEvent(field, raw, rule)
    return value


def read_money(field: str, raw: Any) -> Decimal:
    """An amount: exact, >= 0, below 10^15, at most 6 decimals, in JSON number syntax.

    A string must be written as a JSON number would be: no spaces, no ``+``,
    no digit separators, no other scripts' digits, no ``NaN``. A float (from
    a decoder that made one) is read as its shortest repr, i.e. as written.

    >>> read_money("tax", 4.9), read_money("tax", "1E+2")
    (Decimal('4.9'), Decimal('1E+2'))
    >>> read_money("tax", "1_000")
    Traceback (most recent call last):
    ...
    whoson.core.errors.InvalidEvent: field 'tax' = '1_000': must be a JSON number or a string ...
    >>> read_money("tax", "0.1234567")
    Traceback (most recent call last):
    ...
    whoson.core.errors.InvalidEvent: field 'tax' = '0.1234567': must have at most 6 decimals (has 7)
    """
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise InvalidEvent(field, raw, RULE_MONEY_SYNTAX)
    if isinstance(raw, int):
        if raw < 0:
            raise InvalidEvent(field, raw, "must be >= 0")
        if raw >= 10**MONEY_DIGITS:
            raise InvalidEvent(field, raw, f"must be below 10^{MONEY_DIGITS}")
        return Decimal(raw)
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise InvalidEvent(field, raw, RULE_FINITE)
        value = Decimal(repr(raw))
    else:
        if _NUMBER.fullmatch(raw) is None:
            raise InvalidEvent(field, raw, RULE_MONEY_SYNTAX)
        value = Decimal(raw)  # linear in the text; no context, so no Overflow
    if not value.is_finite():
        raise InvalidEvent(field, raw, RULE_FINITE)
    if value < 0:
        raise InvalidEvent(field, raw, "must be >= 0")
    if value.adjusted() >= MONEY_DIGITS:
        raise InvalidEvent(field, raw, f"must be below 10^{MONEY_DIGITS}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_DECIMALS:
        raise InvalidEvent(field, raw, f"must have at most {MONEY_DECIMALS} decimals "
                                       f"(has {-exponent})")
    return value


def check_string(field: str, raw: str, *, identifier: bool) -> None:
    """Refuse lone surrogates anywhere, and control characters in identifiers.

    Cheap to call on every string: an identifier is settled by one C-level
    scan when printable, free text by CPython's O(1) ASCII flag.

    >>> check_string("visitor", "v\\x00", identifier=True)
    Traceback (most recent call last):
    ...
    whoson.core.errors.InvalidEvent: field 'visitor' = 'v\\x00': must not contain control ...
    >>> check_string("feedback", "line one\\nline two", identifier=False)
    """
    if identifier:
        if raw.isprintable():
            return
        found = _ID_UNSAFE.search(raw)
    elif raw.isascii():  # O(1): CPython knows; ASCII holds no surrogate
        return
    else:
        found = _SURROGATE.search(raw)
    if found is None:
        return
    if 0xD800 <= ord(found.group()) <= 0xDFFF:
        raise _surrogate(field, raw, found.start())
    where = f"U+{ord(found.group()):04X} at position {found.start()}"
    raise InvalidEvent(field, raw, f"must not contain control characters ({where})")


def _surrogate(field: str, raw: str, position: int) -> InvalidEvent:
    where = f"U+{ord(raw[position]):04X} at position {position}"
    return InvalidEvent(field, raw, f"must not contain lone surrogates ({where}): "
                                    "not encodable as UTF-8")


# JSON writes '"' and '\\' with a backslash, \b \f \n \r \t as two characters,
# and every other C0 control as \u00XX; everything else as its UTF-8 bytes.
_C0 = bytes(range(32))
_SHORT_ESCAPES = b"\b\f\n\r\t"


def _text_size(field: str, text: str) -> int:
    """Bytes of ``text`` as a JSON string (UTF-8, quotes included); refuses lone surrogates.

    Counted on the encoded bytes with C-level scans, never by escaping. A
    string longer than :data:`MAX_EVENT_BYTES` sinks its event whatever it
    holds: it counts as its length (a lower bound) without being read.
    """
    if len(text) > MAX_EVENT_BYTES:
        return len(text) + 2
    if text.isascii():
        if len(text) <= 256 and text.isprintable():
            return len(text) + 2 + text.count('"') + text.count("\\")
        raw = text.encode("ascii")
    else:
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise _surrogate(field, text, err.start) from None
    controls = len(raw) - len(raw.translate(None, _C0))
    if controls:
        short = sum(raw.count(byte) for byte in _SHORT_ESCAPES)
        controls = 5 * (controls - short) + short
    return len(raw) + 2 + raw.count(b'"') + raw.count(b"\\") + controls


def _number_size(field: str, value: int) -> int:
    try:
        return len(int.__repr__(value))
    except ValueError:  # more digits than the interpreter converts
        raise InvalidEvent(field, value, "is an integer too long to write as JSON") from None


class _TooDeep(Exception):
    """Raised at the first container below MAX_DEPTH; reported for the whole field."""


def _clean(field: str, value: Any, depth: int) -> tuple[Any, int]:
    """``value`` as a JSON value (floats as exact Decimals) and its encoded size."""
    if isinstance(value, str):
        return value, _text_size(field, value)
    if value is None or value is True:
        return value, 4
    if value is False:
        return value, 5
    if isinstance(value, int):
        return value, _number_size(field, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidEvent(field, value, RULE_FINITE)
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidEvent(field, value, RULE_FINITE)
        return value, len(str(value))
    if isinstance(value, (Mapping, list, tuple)):
        if depth > MAX_DEPTH:
            raise _TooDeep
        size = 1 + max(1, len(value))  # brackets and commas
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InvalidEvent(field, key, "object keys must be strings")
                out[key], item_size = _clean(field, item, depth + 1)
                size += _text_size(field, key) + 1 + item_size
            return out, size
        items: list[Any] = []
        for item in value:
            clean, item_size = _clean(field, item, depth + 1)
            items.append(clean)
            size += item_size
        return items, size
    raise InvalidEvent(field, value, "must be a JSON value (string, number, true/false, null, "
                                     f"array or object), not {type(value).__name__}")


def clean_extra(field: str, value: Any) -> tuple[Any, int]:
    """The value of extra field ``field`` made exact, and its size as JSON.

    Floats become :class:`~decimal.Decimal` (as a JSON round trip reads
    them); anything JSON cannot hold losslessly is refused: non-string keys,
    NaN and infinities, lone surrogates, other types, nesting deeper than
    :data:`MAX_DEPTH`. O(size of the value), and never deeper than 32 calls.

    >>> clean_extra("utm", {"a": [0.5, None]})
    ({'a': [Decimal('0.5'), None]}, 16)
    >>> clean_extra("meta", {1: "x"})
    Traceback (most recent call last):
    ...
    whoson.core.errors.InvalidEvent: field 'meta' = 1: object keys must be strings
    """
    try:
        return _clean(field, value, 1)
    except _TooDeep:
        raise InvalidEvent(field, value, f"must not nest arrays/objects more than {MAX_DEPTH} "
                                         "levels deep") from None


def json_size(data: Mapping[str, Any]) -> tuple[int, dict[str, int]]:
    """Bytes of ``data`` as compact UTF-8 JSON, and the share of each top-level field.

    ``data`` holds JSON values only (an event's :meth:`~whoson.core.events.Event.to_dict`);
    the total equals the length of what the stores write (or, when a string is
    longer than :data:`MAX_EVENT_BYTES`, is a lower bound above that limit).

    >>> json_size({"id": "e1", "n": 7})
    (17, {'id': 9, 'n': 5})
    """
    shares = {key: _text_size(key, key) + 1 + _clean(key, value, 1)[1]
              for key, value in data.items()}
    return 1 + max(1, len(shares)) + sum(shares.values()), shares
