"""The compact row of SQLite schema version 2: typed envelope columns, interned text, a JSON array.

A version-1 row repeated the whole event as JSON (keys, the timestamp as
text, the visitor, long user agents) beside its indexed columns. A version-2
row keeps each piece once:

* ``ts`` as integer microseconds, ``type`` as a small integer (the file's
  ``event_types`` meta row lists the names by code), ``visitor`` as the id of
  an interned string, ``request`` as text (indexed for the owner lookup);
* ``body``: a JSON array of the type's other fields in declaration order
  (trailing empty ones dropped), then the extras object when there are any.
  Fields whose values repeat across events (:data:`INTERNED`: urls, titles,
  user agents, agents, choices...) hold the integer id of a row of the
  ``strings`` table instead of the text; a value of such a field that is not
  text is wrapped in a one-element list, so an integer there is always an id.

>>> spec = SPECS["page_view"]
>>> spec.fields[:3], [spec.fields[i] for i in spec.interned][:3]
(('url', 'title', 'referrer'), ['url', 'title', 'referrer'])
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from operator import attrgetter
from typing import Any

import attrs

from whoson.core.events import EVENT_TYPES, Event
from whoson.stores._codec import (
    _check_keys,
    _NeedsSlowPath,
    _write,
    fast_json,
    from_micros,
    to_micros,
)

__all__ = ["INTERNED", "SPECS", "PreRow", "Spec", "Strings", "decode_row", "dump", "pre_row", "row_body"]

INTERNED = frozenset({
    "url", "title", "referrer", "device", "country", "user_agent", "source", "trigger", "link",
    "channel", "initiator", "agent", "department", "sender", "participant", "from_agent",
    "to_agent", "reason", "status", "currency",
})
"""Fields whose values repeat across events: stored once in ``strings``, referred to by id."""


@attrs.frozen
class Spec:
    """How one event type's non-envelope fields sit in the body array."""

    cls: type[Event]
    fields: tuple[str, ...]
    interned: tuple[int, ...]
    money: frozenset[int]
    has_request: bool
    values: Callable[[Event], list[Any]]
    kinds: tuple[int, ...]
    """Per field: 0 plain, 1 interned, 2 money."""


def _spec(cls: type[Event]) -> Spec:
    names: list[str] = []
    money: set[int] = set()
    has_request = False
    for field in attrs.fields(cls):
        if field.name in ("id", "ts", "visitor", "extra"):
            continue
        if field.name == "request":
            has_request = True
            continue
        kind = field.metadata.get("kind")
        if kind is not None and kind.value == "money":
            money.add(len(names))
        names.append(field.name)
    interned = tuple(i for i, name in enumerate(names) if name in INTERNED)
    kinds = tuple(1 if i in interned else 2 if i in money else 0 for i in range(len(names)))
    return Spec(cls, tuple(names), interned, frozenset(money), has_request, _getter(names), kinds)


def _getter(names: list[str]) -> Callable[[Event], list[Any]]:
    """A function giving an event's values of ``names``, as a new list."""
    if not names:
        return lambda event: []
    if len(names) == 1:
        (name,) = names
        return lambda event: [getattr(event, name)]
    many = attrgetter(*names)
    return lambda event: list(many(event))


SPECS = {name: _spec(cls) for name, cls in EVENT_TYPES.items()}

PreRow = tuple[str, str, int, str | None, str | None, list[Any], str | None]
"""An encoded event before interning: (id, type, ts µs, visitor, request, field values, extras JSON)."""


def dump(value: Any) -> str:
    """Compact JSON of ``value``, decimals written with exactly their digits."""
    try:
        return fast_json(value)
    except _NeedsSlowPath:
        out: list[str] = []
        _write(value, out)
        return "".join(out)


def pre_row(event: Event) -> PreRow:
    """What can be encoded of ``event`` outside the write transaction; ``ValueError``/``TypeError`` if unstorable."""
    texts: list[str] = []
    row = pre_row_into(event, texts)
    # A lone surrogate is a valid Python str but not UTF-8: find it before the batch does.
    "\x01".join(texts).encode("utf-8")
    return row


def pre_row_into(event: Event, texts: list[str]) -> PreRow:
    """:func:`pre_row` without its UTF-8 check: the row's strings are appended to ``texts``.

    A batch checks the texts of all its rows with one encode.
    """
    kind = event.TYPE
    values = SPECS[kind].values(event)
    while values and values[-1] is None:
        values.pop()
    extras = None
    extra = event.extra
    if extra:
        _check_keys(extra)
        extras = dump(dict(extra))
        texts.append(extras)
    texts.extend(value for value in values if isinstance(value, str))
    request = event.request_id
    visitor = event.visitor
    texts.append(event.id)
    if visitor is not None:
        texts.append(visitor)
    if request is not None:
        texts.append(request)
    return (event.id, kind, to_micros(event.ts), visitor, request, values, extras)


def row_body(spec: Spec, values: list[Any], extras: str | None) -> str:
    """The body JSON of a pre-row's ``values`` (interned fields already ids) and ``extras``.

    >>> row_body(SPECS["heartbeat"], [7], '{"tag":"x"}')
    '[7,{"tag":"x"}]'
    """
    if extras is None:
        return dump(values)
    values = values + [None] * (len(spec.fields) - len(values))
    text = dump(values)
    return f"{text[:-1]}{',' if values else ''}{extras}]"


def decode_row(
    spec: Spec, event_id: str, ts: int, visitor: str | None, request: str | None,
    body: Any, texts: list[str],
) -> Event:
    """The event of a version-2 row (``body`` already parsed); ``IndexError`` for an unknown string id."""
    fields = spec.fields
    extra: Mapping[str, Any] = body[len(fields)] if len(body) > len(fields) else {}
    values: dict[str, Any] = {}
    # zip stops at the shorter: the extras object after the fields is not a field.
    for name, kind, value in zip(fields, spec.kinds, body, strict=False):
        if value is None:
            continue
        if kind == 1:
            value = texts[value] if value.__class__ is int else value[0]
        elif kind == 2 and not isinstance(value, Decimal):
            value = Decimal(value)
        values[name] = value
    if spec.has_request and request is not None:
        values["request"] = request
    return spec.cls(id=event_id, ts=from_micros(ts), visitor=visitor, extra=extra, **values)


class Strings:
    """The interned strings of one file as seen by one store object: ids 1, 2, 3, ... in order.

    ``texts[i]`` is the string with id ``i`` (``texts[0]`` unused); every id up
    to ``len(texts) - 1`` is known, since strings are only ever added, in id
    order, by one writer at a time. Strings a write transaction adds stay
    pending until it commits.
    """

    def __init__(self) -> None:
        self.texts: list[str] = [""]
        self.ids: dict[str, int] = {}
        self.pending: dict[str, int] = {}
        self.lock = threading.Lock()

    @property
    def known(self) -> int:
        """The highest id known."""
        return len(self.texts) - 1

    def add(self, rows: list[tuple[int, str]]) -> None:
        """Learn committed strings read with ``id > known``, in id order."""
        with self.lock:
            for number, text in rows:
                if number == len(self.texts):
                    self.texts.append(text)
                    self.ids[text] = number

    def commit(self) -> None:
        """The write transaction committed: its new strings are known."""
        if self.pending:
            self.add(sorted((number, text) for text, number in self.pending.items()))
            self.pending.clear()

    def discard(self) -> None:
        """The write transaction rolled back: forget its new strings."""
        self.pending.clear()
