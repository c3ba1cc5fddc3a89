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

__all__ = ["Intake", "LogRead", "read_log"]


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


class Intake:
    """The ingest rules of a fresh tracker, applied event by event in log order.

    :meth:`offer` admits an event with the settings as they stand (rating
    scale; currency, once configured or settled; a message's ``text``
    dropped) and queues it; :meth:`flush` classifies the queued batch as a
    memory store classifies an append (duplicates, conflicting ids and
    request owners, the first currency). :meth:`~whoson.Tracker.load`
    flushes every ``BATCH_SIZE`` admitted events, and the settings an event
    is admitted with change only at a flush, so callers flush at the same
    events. Shared by :func:`read_log` and
    :func:`whoson.engines.vectorlog.read_log_table`.
    """

    def __init__(self, ctx: ParseContext, store_text: bool, label: str | None) -> None:
        self.counts = {Status.ACCEPTED: 0, Status.DUPLICATE: 0, Status.REJECTED: 0}
        self.errors: list[LogError] = []
        self.kept: list[Event] = []
        self.current = ctx
        self.currency = ctx.currency
        self._store_text = store_text
        self._label = label
        self._seen: dict[str, Event] = {}
        self._owners: dict[str, str] = {}
        self.batch: list[Event] = []
        self._lines: list[int] = []

    def reject(self, error: LogError) -> None:
        """Count a line that never became an event."""
        self.counts[Status.REJECTED] += 1
        self.errors.append(error)

    def offer(self, event: Event, line: int) -> bool:
        """Admit ``event`` (read from ``line``) and queue it; whether it was admitted."""
        try:
            admitted = admit(event, self.current, self._store_text)
        except InvalidEvent as error:
            self.reject(LogError.from_invalid(line, error, self._label))
            return False
        self.batch.append(admitted)
        self._lines.append(line)
        return True

    def flush(self) -> None:
        """Classify the queued events against those kept so far."""
        batch, seen, owners = self.batch, self._seen, self._owners
        stored = {e.id: seen[e.id] for e in batch if e.id in seen}
        owned = {
            request: owner for e in batch
            if (request := e.request_id) is not None and (owner := owners.get(request)) is not None
        }
        done = classify(batch, stored=stored, owners=owned, currency=self.currency)
        result = done.result
        self.counts[Status.ACCEPTED] += len(done.accepted)
        self.counts[Status.DUPLICATE] += result.duplicates
        for outcome in result.errors:
            assert outcome.error is not None
            self.reject(LogError.from_invalid(self._lines[outcome.index], outcome.error, self._label))
        for event in done.accepted:
            seen[event.id] = event
            if (request := event.request_id) is not None and event.visitor is not None:
                owners.setdefault(request, event.visitor)
            if self.current.currency is None and isinstance(event, OrderEvent) and event.currency is not None:
                # The tracker adopts the currency an accepted order names (Follower.adopt).
                self.current = attrs.evolve(self.current, currency=event.currency)
        self.currency = done.currency
        self.kept.extend(done.accepted)
        batch.clear()
        self._lines.clear()

    def result(self, accepted: int = 0) -> LoadResult:
        """The counts and line-ordered errors, plus ``accepted`` events kept elsewhere."""
        self.errors.sort(key=lambda e: e.line)
        counts = self.counts
        return LoadResult(counts[Status.ACCEPTED] + accepted, counts[Status.DUPLICATE],
                          counts[Status.REJECTED], tuple(self.errors))


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
    intake = Intake(ctx, store_text, label)
    parse_ctx = attrs.evolve(ctx, currency=None)
    with closing(iter_log(source, parse_ctx, name=label)) as items:
        for item in items:
            if item.error is not None:
                intake.reject(item.error)
                continue
            assert item.event is not None
            if intake.offer(item.event, item.line) and len(intake.batch) >= batch_size:
                intake.flush()
    intake.flush()
    kept = intake.kept
    newest = max((event.ts for event in kept), default=None)
    return LogRead(kept, intake.result(), intake.current.currency, newest)
