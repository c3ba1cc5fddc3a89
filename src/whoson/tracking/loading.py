"""Loading a JSON Lines log into the store: parsed line by line, appended in batches.

Bad lines are reported with their line numbers and skipped; the good lines
around them are stored. With ``strict=True`` loading stops at the first bad
line (raising :class:`~whoson.logfile.LogFormatError`), the lines before it
stored.

>>> import io
>>> from whoson.core.batch import BatchResult, AppendOutcome, Status
>>> from whoson.core.settings import ParseContext
>>> log = io.BytesIO(b'{"id":"a","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}\\n{"id":\\n')
>>> write = lambda batch: BatchResult(tuple(AppendOutcome(i, e.id, Status.ACCEPTED) for i, e in enumerate(batch)))
>>> result = load_log(log, ParseContext(), admit=lambda event: event, write=write)
>>> result.accepted, result.rejected, result.errors[0].line
(1, 1, 2)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import closing
from typing import IO

import attrs

from whoson.core.batch import BatchResult, Status
from whoson.core.errors import InvalidEvent
from whoson.core.events import Event
from whoson.core.settings import ParseContext
from whoson.logfile import LogError, LogFormatError, scan_log
from whoson.stores.base import Store
from whoson.tracking.intake import accepted, admit
from whoson.tracking.settings import adopt_currency

__all__ = ["BATCH_SIZE", "LoadResult", "load_log", "store_log"]

BATCH_SIZE = 5000
"""Events per store write when loading a log."""


@attrs.frozen
class LoadResult:
    """What loading a log did: counts, and one line-numbered error per rejected line."""

    accepted: int
    duplicates: int
    rejected: int
    errors: tuple[LogError, ...]

    @property
    def ok(self) -> bool:
        """True when every line was accepted or a duplicate."""
        return self.rejected == 0


def load_log(
    source: str | os.PathLike[str] | IO[bytes],
    ctx: ParseContext,
    *,
    admit: Callable[[Event], Event],
    write: Callable[[list[Event]], BatchResult],
    strict: bool = False,
    batch_size: int = BATCH_SIZE,
    name: str | None = None,
) -> LoadResult:
    """Parse ``source`` with ``ctx``, check each event with ``admit``, store batches with ``write``.

    O(lines); ``write`` is called once per ``batch_size`` admitted events (and once at the end).
    """
    counts = {Status.ACCEPTED: 0, Status.DUPLICATE: 0, Status.REJECTED: 0}
    errors: list[LogError] = []
    label = name if name is not None else (
        os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    )
    batch: list[Event] = []
    lines: list[int] = []

    def flush() -> None:
        result = write(batch)
        counts[Status.ACCEPTED] += result.accepted
        counts[Status.DUPLICATE] += result.duplicates
        for outcome in result.errors:
            counts[Status.REJECTED] += 1
            assert outcome.error is not None
            errors.append(LogError.from_invalid(lines[outcome.index], outcome.error, label))
        batch.clear()
        lines.clear()
        if strict and errors:
            raise LogFormatError(errors[0])

    add_event, add_line = batch.append, lines.append
    # The lines as scanned (plain tuples): the per-line objects of iter_log are not needed here.
    with closing(scan_log(source, ctx, name=label)) as items:
        for line, parsed, bad in items:
            if bad is not None:
                if strict:
                    flush()
                    raise LogFormatError(bad)
                counts[Status.REJECTED] += 1
                errors.append(bad)
                continue
            assert parsed is not None
            try:
                event = admit(parsed)
            except InvalidEvent as error:
                if strict:
                    flush()
                counts[Status.REJECTED] += 1
                errors.append(LogError.from_invalid(line, error, label))
                if strict:
                    raise LogFormatError(errors[-1]) from None
                continue
            add_event(event)
            add_line(line)
            if len(batch) >= batch_size:
                flush()
    flush()
    errors.sort(key=lambda e: e.line)
    return LoadResult(
        counts[Status.ACCEPTED], counts[Status.DUPLICATE], counts[Status.REJECTED], tuple(errors)
    )


def store_log(
    store: Store,
    source: str | os.PathLike[str] | IO[bytes],
    ctx: ParseContext,
    *,
    store_text: bool = False,
    strict: bool = False,
    batch_size: int = BATCH_SIZE,
    name: str | None = None,
) -> LoadResult:
    """Append a log straight to ``store``, building no tracker state (``whoson ingest``).

    The same lines are accepted, duplicates and rejected, with the same
    messages, as :meth:`whoson.Tracker.load` of a tracker with the settings
    ``ctx`` and no converter or rules: events are parsed with ``ctx`` (its
    currency aside), admitted with ``ctx`` and, once an order settles the
    store's currency, with that currency. Nothing is projected: a tracker
    that reports on the store later applies the events then. O(lines), and
    per event only the parse and the store's own work.

    >>> import io
    >>> from whoson.stores.memory import MemoryStore
    >>> store = MemoryStore()
    >>> log = io.BytesIO(b'{"id":"a","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}\\n')
    >>> store_log(store, log, ParseContext()).accepted, len(store)
    (1, 1)
    """
    current = ctx

    def admit_one(event: Event) -> Event:
        return admit(event, current, store_text)

    def write(batch: list[Event]) -> BatchResult:
        nonlocal current
        result = store.append(batch)
        if current.currency is None:
            # What a tracker adopts from the orders it applies: the store's currency.
            if result.currency is not None:
                current = attrs.evolve(current, currency=result.currency)
            else:
                for event in accepted(batch, result):
                    current = adopt_currency(current, event)
        return result

    return load_log(source, attrs.evolve(ctx, currency=None), admit=admit_one, write=write,
                    strict=strict, batch_size=batch_size, name=name)
