"""A JSON Lines log read for the engines: the ingest rules, without a tracker.

``whoson report LOG --engine duckdb|spark`` needs the log's valid,
de-duplicated events as one Arrow table, not a tracker: no store, no
projection, no incremental ledger. :func:`read_log` applies exactly what
:meth:`whoson.Tracker.load` into a fresh in-memory tracker applies, in the
same order and with the same messages:

- each line parsed and validated by the project's parser
  (:func:`whoson.logfile.iter_log`), then admitted with the tracker's
  settings (rating scale; the currency, once configured or settled by a
  first order; a message's ``text`` dropped);
- every ``BATCH_SIZE`` admitted events, the batch classified as a memory
  store classifies an append (:func:`whoson.core.batch.classify`): an
  identical re-sent id is a duplicate, a conflicting id or request owner is
  rejected, the first order naming a currency settles it.

So the kept events, the line-numbered errors, the counts and the settled
currency are :meth:`~whoson.Tracker.load`'s, at a third of its cost.

>>> import io
>>> log = io.BytesIO(b'{"id":"a","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}\\n'
...                  b'{"id":"a","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}\\nnope\\n')
>>> read = read_log(log, ParseContext())
>>> [e.id for e in read.events], read.result.accepted, read.result.duplicates, read.result.rejected
(['a'], 1, 1, 1)
"""

from __future__ import annotations

import os
from contextlib import closing
from datetime import datetime
from typing import IO

import attrs

from whoson.core.batch import Status, classify
from whoson.core.errors import InvalidEvent
from whoson.core.events import Event, OrderEvent
from whoson.core.settings import ParseContext
from whoson.logfile import LogError, iter_log
from whoson.tracking.intake import admit
from whoson.tracking.loading import BATCH_SIZE, LoadResult

__all__ = ["LogRead", "read_log"]


@attrs.frozen
class LogRead:
    """A log as a fresh tracker would hold it after :meth:`~whoson.Tracker.load`.

    ``events`` are the accepted events in file order; ``result`` the load's
    counts and errors; ``currency`` the tracker's currency afterwards;
    ``newest`` the newest accepted event instant (``None`` when none).
    """

    events: list[Event]
    result: LoadResult
    currency: str | None
    newest: datetime | None


def read_log(
    source: str | os.PathLike[str] | IO[bytes],
    ctx: ParseContext,
    *,
    name: str | None = None,
    store_text: bool = False,
    batch_size: int = BATCH_SIZE,
) -> LogRead:
    """Read ``source`` with the ingest rules of a fresh tracker with settings ``ctx``.

    ``ctx`` is the tracker's parse context as configured (rating scale,
    currency or ``None``, converter). O(lines); memory O(accepted events).
    """
    label = name if name is not None else (
        os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    )
    counts = {Status.ACCEPTED: 0, Status.DUPLICATE: 0, Status.REJECTED: 0}
    errors: list[LogError] = []
    kept: list[Event] = []
    seen: dict[str, Event] = {}
    owners: dict[str, str] = {}
    current, currency = ctx, ctx.currency
    batch: list[Event] = []
    lines: list[int] = []

    def flush() -> None:
        nonlocal current, currency
        stored = {e.id: seen[e.id] for e in batch if e.id in seen}
        owned = {
            request: owner for e in batch
            if (request := e.request_id) is not None and (owner := owners.get(request)) is not None
        }
        done = classify(batch, stored=stored, owners=owned, currency=currency)
        result = done.result
        counts[Status.ACCEPTED] += len(done.accepted)
        counts[Status.DUPLICATE] += result.duplicates
        for outcome in result.errors:
            counts[Status.REJECTED] += 1
            assert outcome.error is not None
            errors.append(LogError.from_invalid(lines[outcome.index], outcome.error, label))
        for event in done.accepted:
            seen[event.id] = event
            if (request := event.request_id) is not None and event.visitor is not None:
                owners.setdefault(request, event.visitor)
            if current.currency is None and isinstance(event, OrderEvent) and event.currency is not None:
                # The tracker adopts the currency an accepted order names (Follower.adopt).
                current = attrs.evolve(current, currency=event.currency)
        currency = done.currency
        kept.extend(done.accepted)
        batch.clear()
        lines.clear()

    parse_ctx = attrs.evolve(ctx, currency=None)
    with closing(iter_log(source, parse_ctx, name=label)) as items:
        for item in items:
            if item.error is not None:
                counts[Status.REJECTED] += 1
                errors.append(item.error)
                continue
            assert item.event is not None
            try:
                event = admit(item.event, current, store_text)
            except InvalidEvent as error:
                counts[Status.REJECTED] += 1
                errors.append(LogError.from_invalid(item.line, error, label))
                continue
            batch.append(event)
            lines.append(item.line)
            if len(batch) >= batch_size:
                flush()
    flush()
    errors.sort(key=lambda e: e.line)
    newest = max((event.ts for event in kept), default=None)
    result = LoadResult(counts[Status.ACCEPTED], counts[Status.DUPLICATE], counts[Status.REJECTED], tuple(errors))
    return LogRead(kept, result, current.currency, newest)
