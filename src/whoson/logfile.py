"""Reading and writing JSON Lines event logs.

A log is read in binary, one physical line at a time, so every problem can be
pinned to a line number (and, for bytes that are not UTF-8, a byte offset).
A bad line never stops the good ones: :func:`iter_log` yields one
:class:`LogItem` per non-blank line, carrying either the parsed event or a
:class:`LogError`. :func:`read_events` collects them, or stops at the first bad
line in strict mode.

Reading checks each line on its own. Whether an event duplicates or conflicts
with another one (same id, other content; a request claimed by two visitors)
depends on what a store already holds, so that is decided when the events are
appended (:func:`whoson.core.batch.classify`); :meth:`LogError.from_invalid`
turns such a rejection back into a line-numbered error.

>>> import io
>>> log = io.BytesIO(
...     b'{"id": "1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"}\\n'
...     b'\\n'
...     b'{"id": "2", "type": "heartbeat", "ts": "2026-03-01T12:00:00", "visitor": "v"}\\n')
>>> events, errors = read_events(log, name="events.jsonl")
>>> [e.id for e in events]
['1']
>>> print(errors[0])
events.jsonl:3: field 'ts' = '2026-03-01T12:00:00': must carry a UTC offset (Z or +hh:mm); ...
"""

from __future__ import annotations

import io
import os
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import closing
from typing import IO, Any

import attrs

from whoson.codec import JSONError, dumps, loads
from whoson.core.errors import InvalidEvent, WhosonError
from whoson.core.events import Event
from whoson.core.parsing import parse_event
from whoson.core.settings import ParseContext

__all__ = [
    "MAX_LINE_BYTES",
    "RULE_JSON",
    "RULE_LINE",
    "RULE_UTF8",
    "LogError",
    "LogFormatError",
    "LogItem",
    "LogSource",
    "iter_log",
    "read_events",
    "read_line",
    "scan_log",
    "write_log",
]

RULE_UTF8 = "must be UTF-8"
RULE_JSON = "must be valid JSON"
MAX_LINE_BYTES = 1 << 20
"""Longer lines are rejected unread: an event encodes to at most 64 KiB."""
RULE_LINE = "must be at most 1 MiB (an event encodes to at most 64 KiB)"

_BOM = b"\xef\xbb\xbf"
DEFAULT_CONTEXT = ParseContext()

LogSource = str | os.PathLike[str] | IO[bytes] | IO[str]
"""A path, or an open file (binary preferred; a text file is read through its buffer)."""


@attrs.frozen
class LogError:
    """Why line ``line`` (1-based) of a log was not read as an event.

    ``reason`` is the readable explanation. For a line that broke an event
    rule, ``field``, ``value`` and ``rule`` are those of the
    :class:`~whoson.core.errors.InvalidEvent` (``event_id`` too, when the line
    had one); for bytes or JSON syntax, ``field`` is ``None`` and ``rule`` is
    :data:`RULE_UTF8`, :data:`RULE_JSON` or, for a line over
    :data:`MAX_LINE_BYTES`, :data:`RULE_LINE`. ``offset`` is the 0-based byte
    offset in the file of a byte that is not UTF-8. ``source`` names the file.

    >>> print(LogError(7, "field 'ts' = '2026-03-01T12:00:00': must carry a UTC offset",
    ...                field="ts", source="events.jsonl"))
    events.jsonl:7: field 'ts' = '2026-03-01T12:00:00': must carry a UTC offset
    """

    line: int
    reason: str
    field: str | None = None
    value: Any = attrs.field(default=None, hash=False)
    rule: str | None = None
    source: str | None = None
    event_id: str | None = None
    offset: int | None = None

    @classmethod
    def from_invalid(cls, line: int, error: InvalidEvent, source: str | None = None) -> LogError:
        """The log error for an event rejected at ``line`` (by parsing, or by a store).

        >>> from whoson.core.errors import ConflictError
        >>> err = ConflictError("id", "e5", "already stored with different content", event_id="e5")
        >>> print(LogError.from_invalid(12, err, "shop.jsonl"))
        shop.jsonl:12: field 'id' = 'e5': already stored with different content
        """
        return cls(
            line, error.reason, field=error.field, value=error.value, rule=error.rule,
            source=source, event_id=error.event_id,
        )

    def __str__(self) -> str:
        where = f"line {self.line}" if self.source is None else f"{self.source}:{self.line}"
        return f"{where}: {self.reason}"


@attrs.frozen
class LogItem:
    """One non-blank line of a log: its ``event``, or the ``error`` that line has."""

    line: int
    event: Event | None = None
    error: LogError | None = None

    @property
    def ok(self) -> bool:
        """Whether the line held a valid event."""
        return self.error is None


class LogFormatError(WhosonError, ValueError):
    """Strict reading met a bad line; :attr:`error` says which and why.

    Not an :class:`~whoson.core.errors.InvalidEvent`: a line may fail before
    it is an event at all (bytes, JSON syntax). When an event rule was broken,
    the error's ``field``, ``value`` and ``rule`` say which.
    """

    def __init__(self, error: LogError) -> None:
        self.error = error
        super().__init__(str(error))

    @property
    def line(self) -> int:
        """The 1-based number of the bad line."""
        return self.error.line


def _syntax_error(raw: bytes, line: int, start: int, err: JSONError,
                  source: str | None) -> LogError:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        offset = start + bad.start
        return LogError(
            line,
            f"invalid UTF-8 byte 0x{raw[bad.start]:02x} at byte offset {offset} "
            f"(byte {bad.start + 1} of the line)",
            rule=RULE_UTF8, source=source, offset=offset,
        )
    reason = f"invalid JSON: {err}"
    if not raw.endswith(b"\n"):
        reason += " (the last line has no newline: is the file truncated?)"
    return LogError(line, reason, rule=RULE_JSON, source=source)


_Scanned = tuple[int, Event | None, LogError | None]


def read_line(raw: bytes, line: int, start: int, ctx: ParseContext,
              source: str | None) -> tuple[Event | None, LogError | None] | None:
    """One physical line of a log as :func:`iter_log` reads it: ``None`` for a blank line.

    ``raw`` is the line's bytes as read (its newline included, if it has one;
    a first line's byte-order mark already removed), ``start`` its byte offset
    in the file. Gives ``(event, None)`` or ``(None, error)``. Readers that
    split a file themselves (:mod:`whoson.engines.vectorlog`) call it for the
    lines they do not settle, so every reader words its errors alike.

    >>> read_line(b'{"id": 1}\\n', 4, 0, DEFAULT_CONTEXT, "x.jsonl")[1].reason
    "field 'id' = 1: must be a string"
    >>> read_line(b" \\r\\n", 5, 0, DEFAULT_CONTEXT, None) is None
    True
    """
    if raw.isspace() or not raw:
        return None
    if len(raw) > MAX_LINE_BYTES:
        return None, LogError(line, f"line of {len(raw)} bytes not read: {RULE_LINE}",
                              rule=RULE_LINE, source=source)
    try:
        data = loads(raw)
    except JSONError as err:
        return None, _syntax_error(raw, line, start, err, source)
    try:
        return parse_event(data, ctx), None
    except InvalidEvent as err:
        return None, LogError.from_invalid(line, err, source)


def _scan(stream: Iterable[bytes], ctx: ParseContext,
          source: str | None) -> Generator[_Scanned, None, None]:
    read = read_line
    offset = 0
    for line, raw in enumerate(stream, 1):
        start = offset
        offset += len(raw)
        if line == 1 and raw.startswith(_BOM):
            raw = raw[3:]
            start += 3
        outcome = read(raw, line, start, ctx, source)
        if outcome is not None:
            yield line, outcome[0], outcome[1]


_new = object.__new__
_set_line = LogItem.__dict__["line"].__set__
_set_event = LogItem.__dict__["event"].__set__
_set_error = LogItem.__dict__["error"].__set__


def _log_item(line: int, event: Event | None, error: LogError | None) -> LogItem:
    """``LogItem(line, event, error)`` for the hot loop: the slots set directly.

    ``LogItem`` has no validators or converters, so this builds the same
    object as its ``__init__`` (which goes through ``object.__setattr__`` once
    per field, the frozen class's way) in about half the time.

    >>> _log_item(3, None, None) == LogItem(3)
    True
    """
    item = _new(LogItem)
    _set_line(item, line)
    _set_event(item, event)
    _set_error(item, error)
    return item


def _text_lines(stream: IO[str]) -> Iterator[bytes]:
    for text in stream:
        yield text.encode("utf-8", "surrogateescape")


def _binary(stream: IO[bytes] | IO[str]) -> Iterable[bytes]:
    if isinstance(stream, io.TextIOBase):
        buffer = getattr(stream, "buffer", None)
        return buffer if buffer is not None else _text_lines(stream)
    return stream  # type: ignore[return-value]


def _open(source: LogSource, name: str | None) -> tuple[Iterable[bytes], str | None, bool]:
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        return open(path, "rb"), path if name is None else name, True
    label = getattr(source, "name", None) if name is None else name
    return _binary(source), label if isinstance(label, str) else None, False


def _scan_source(source: LogSource, ctx: ParseContext,
                 name: str | None) -> Generator[_Scanned, None, None]:
    stream, label, owned = _open(source, name)
    try:
        yield from _scan(stream, ctx, label)
    finally:
        if owned:
            stream.close()  # type: ignore[attr-defined]


def iter_log(source: LogSource, ctx: ParseContext = DEFAULT_CONTEXT, *,
             name: str | None = None) -> Generator[LogItem, None, None]:
    """Yield a :class:`LogItem` per non-blank line of a JSON Lines log.

    ``source`` is a path (opened at the first item, closed when the iterator
    ends or is closed) or an open file, read from its current position; ``-``
    is not special here: pass ``sys.stdin.buffer`` with ``name="<stdin>"``.
    ``name`` labels errors (default: the path, or the file's ``name``). Line
    numbers count every line, blank ones included; a UTF-8 byte-order mark
    before line 1 is ignored. One pass, memory O(longest line).

    >>> import io
    >>> items = list(iter_log(io.BytesIO(b'{"id": "1", "type": "heartbeat"}\\n[1, 2\\n')))
    >>> [(item.line, item.error.field, item.error.rule) for item in items]
    [(1, 'ts', 'is required'), (2, None, 'must be valid JSON')]
    >>> print(items[1].error)
    line 2: invalid JSON: Expecting ',' delimiter at column 7
    """
    item = _log_item
    for line, event, error in _scan_source(source, ctx, name):
        yield item(line, event, error)


def scan_log(source: LogSource, ctx: ParseContext = DEFAULT_CONTEXT, *,
             name: str | None = None) -> Generator[tuple[int, Event | None, LogError | None], None, None]:
    """:func:`iter_log` as plain ``(line, event, error)`` tuples, for loops that need no :class:`LogItem`.

    >>> import io
    >>> [(line, event.id, error) for line, event, error in scan_log(io.BytesIO(
    ...     b'{"id": "1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"}\\n'))]
    [(1, '1', None)]
    """
    return _scan_source(source, ctx, name)


def read_events(source: LogSource, ctx: ParseContext = DEFAULT_CONTEXT, *, strict: bool = False,
                name: str | None = None) -> tuple[list[Event], list[LogError]]:
    """Read a whole log: the valid events in file order, and one error per bad line.

    With ``strict=True`` the first bad line raises :class:`LogFormatError`
    instead. See :func:`iter_log` for ``source`` and ``name``.

    >>> import io
    >>> read_events(io.BytesIO(b'{"id": "1", "type": "nap"}\\n'), strict=True, name="x.jsonl")
    Traceback (most recent call last):
    ...
    whoson.logfile.LogFormatError: x.jsonl:1: field 'type' = 'nap': must be one of ...
    """
    events: list[Event] = []
    errors: list[LogError] = []
    add = events.append
    with closing(_scan_source(source, ctx, name)) as scanned:
        for _, event, error in scanned:
            if error is None:
                add(event)  # type: ignore[arg-type]
            elif strict:
                raise LogFormatError(error)
            else:
                errors.append(error)
    return events, errors


def write_log(target: str | os.PathLike[str] | IO[bytes],
              events: Iterable[Event | Mapping[str, Any]]) -> int:
    """Write events (or event mappings) as JSON Lines; return how many lines.

    A path is created or truncated; an open binary file is appended to.
    Each line is compact JSON with exact decimals, ending in a newline.

    >>> import io
    >>> from decimal import Decimal
    >>> out = io.BytesIO()
    >>> write_log(out, [{"id": "1", "type": "cart_update", "ts": "2026-03-01T12:00:00Z",
    ...                  "visitor": "v", "value": Decimal("19.90")}])
    1
    >>> out.getvalue()
    b'{"id":"1","type":"cart_update","ts":"2026-03-01T12:00:00Z","visitor":"v","value":19.90}\\n'
    """
    if isinstance(target, (str, os.PathLike)):
        with open(target, "wb") as stream:
            return write_log(stream, events)
    count = 0
    for event in events:
        data = event.to_dict() if isinstance(event, Event) else event
        target.write(dumps(data).encode("utf-8") + b"\n")
        count += 1
    return count
