"""The Tracker: one object that wires a store, the projections, the rules and a clock.

A web backend keeps one Tracker per process and feeds it events; an analyst builds one over a log; the
CLI builds one per command. The parts: :mod:`whoson.tracking` (settings, intake, following the store,
writing, live view and rules, loading) and :mod:`whoson.metrics.reporter` (report state, path per report).

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 1, 12, 5, tzinfo=UTC)))
>>> event = {"id": "e1", "type": "page_view", "ts": "2026-03-01T12:00:00Z", "visitor": "v1", "url": "/pricing"}
>>> tracker.record(event).status.value, tracker.record(event).status.value, tracker.report().visitors.total
('accepted', 'duplicate', 1)
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Collection, Iterable
from datetime import timedelta
from typing import IO, Any, Unpack

import attrs

from whoson.clock import Clock, SystemClock
from whoson.core.batch import AppendOutcome, BatchResult
from whoson.core.events import Event
from whoson.core.projection import Projection
from whoson.core.settings import CurrencyConverter, ParseContext, RatingScale
from whoson.core.time import parse_duration
from whoson.live import LiveConfig
from whoson.metrics.ledger import Ledger
from whoson.metrics.params import DEFAULTS, Instant, ReportOptions, ReportParams, resolve_instant, zone
from whoson.metrics.report import Report
from whoson.metrics.reporter import Reporter
from whoson.rules import Rule, load_rules
from whoson.stores.base import Store
from whoson.stores.memory import MemoryStore
from whoson.tracking import checkpoint as checkpoints_
from whoson.tracking import settings, writing
from whoson.tracking.checkpoint import CheckpointInfo
from whoson.tracking.follower import Follower, locked
from whoson.tracking.intake import EventInput, Intake, accepted, admit
from whoson.tracking.live import CLOCK_SKEW
from whoson.tracking.loading import BATCH_SIZE, LoadResult, load_log
from whoson.tracking.queries import LiveQueries

__all__ = ["CLOCK_SKEW", "CheckpointInfo", "LoadResult", "Tracker"]

_log = logging.getLogger(__name__)


class Tracker(LiveQueries):
    """Who's on, engagement rules and the report, over one event store.

    ``store`` defaults to an in-memory store; ``clock`` to the system clock. ``currency`` is the
    currency every order must be in (``None``: the store settles it, from the first order it accepts
    that names one); ``converter(amount, currency, ts)`` converts foreign orders instead of rejecting
    them. ``rules`` are engagement rules (objects, or a TOML/JSON file path) evaluated on every recorded
    event and on :meth:`tick`; what they fire is recorded like any other event and returned in the
    result's ``fired``. :meth:`load` replays history and fires no rules. ``store_text``: keep the
    ``text`` of chat ``message`` events; off by default, when only their ``chars`` are stored.

    A tracker may be shared by threads: one lock serialises recording and queries. Processes share a
    store instead (SQLite or PostgreSQL), each with its own tracker, and every tracker **follows the
    store**: before it answers :meth:`online`, :meth:`visitor`, :meth:`waiting`, :meth:`expected_wait`
    or :meth:`report`, and before its rules evaluate, it applies what other processes appended since its
    :attr:`position` (nothing new: one look at the store's position). A new tracker over a filled store
    restores the store's checkpoint when one is usable and applies the events stored after it, else
    applies every stored event: O(events); ``checkpoints=False`` never restores nor saves one (see
    :meth:`checkpoint`, :meth:`close` and docs/stores.md). The properties cost O(1), except :attr:`live` and
    :attr:`rules`, built on first use from the applied events (O(events) once). The who's-on methods
    (:meth:`online`, :meth:`visitor`, :meth:`waiting`, :meth:`expected_wait`, :meth:`tick`,
    :meth:`fit_invite_model`) are :class:`~whoson.tracking.queries.LiveQueries`'.

    >>> tracker = Tracker(currency="EUR", rating_scale="0..10")
    >>> tracker.position, tracker.currency, str(tracker.rating_scale), tracker.parse_context.currency
    (0, 'EUR', '0..10', 'EUR')
    >>> tracker.projection.last_ts, tracker.live.online(tracker.clock.now()).total, tracker.rules.rules
    (None, 0, ())
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        clock: Clock | None = None,
        tz: str = DEFAULTS.tz_name,
        currency: str | None = None,
        converter: CurrencyConverter | None = None,
        rating_scale: RatingScale | str = DEFAULTS.rating_scale,
        session_timeout: timedelta | str = DEFAULTS.session_timeout,
        live_config: LiveConfig | None = None,
        rules: Iterable[Rule] | str | os.PathLike[str] = (),
        store_text: bool = False,
        checkpoints: bool = True,
    ) -> None:
        self.store = store if store is not None else MemoryStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        zone(tz)
        self.tz, self.session_timeout, self.store_text = tz, parse_duration(session_timeout), store_text
        ctx = settings.settle(self.store, settings.configure(
            currency=currency, converter=converter, rating_scale=rating_scale))
        self._reporter = Reporter(attrs.evolve(DEFAULTS, tz_name=tz, session_timeout=self.session_timeout,
                                               rating_scale=ctx.rating_scale), now=self.clock.now)
        live = live_config if live_config is not None else LiveConfig(session_timeout=self.session_timeout)
        rule_list = tuple(load_rules(rules) if isinstance(rules, (str, os.PathLike)) else rules)
        self._follower = Follower(self.store, ctx, self._reporter, live, rule_list, self.clock)
        self._lock = threading.RLock()  # web workers on threads may share a tracker
        self.checkpoints = checkpoints
        self._follower.start(live=bool(rule_list), restore=checkpoints)

    @classmethod
    def open(cls, url: str, **options: Any) -> Tracker:
        """A tracker over the store at ``url`` (``sqlite:///file.db``, ``memory:``), reusing the
        settings saved with it (currency, rating scale). O(stored events).

        >>> Tracker.open("memory:", tz="Europe/Berlin").tz
        'Europe/Berlin'
        """
        from whoson.stores.url import open_store

        return cls(open_store(url), **options)

    # -- following the store -----------------------------------------------------

    @property
    def position(self) -> int:
        """The store position applied so far: every event stored up to it is counted."""
        return self._follower.position

    def changes(self, after: int, timeout: float = 0.0) -> int:
        """Catch up with the store; return its position once it is past ``after``, or ``after``
        when ``timeout`` seconds pass with nothing new. Safe from a worker thread while others
        record: the lock is held only while catching up (O(new events)), never while waiting.

        >>> tracker = Tracker()
        >>> _ = tracker.record({"id": "e1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"})
        >>> tracker.changes(0), tracker.changes(1, timeout=0.01)
        (1, 1)
        """
        return self._follower.changes(after, timeout, self._lock)

    @property
    def _ledger(self) -> Ledger:
        """The report's incremental tallies (tests look at them; a checkpoint replaces them)."""
        return self._reporter.ledger

    @property
    def rating_scale(self) -> RatingScale:
        """The scale survey ratings are checked against."""
        return self._follower.ctx.rating_scale

    @property
    def currency(self) -> str | None:
        """The tracker's currency (``None`` until configured or fixed by a first order)."""
        return self._follower.ctx.currency

    @property
    def parse_context(self) -> ParseContext:
        """The settings events are validated with."""
        return self._follower.ctx

    @property
    def projection(self) -> Projection:
        """The projection of every stored event, caught up with the store (read-only use)."""
        with self._lock:
            self._sync()
            return self._reporter.projection

    # -- recording ------------------------------------------------------------

    def record(self, event: EventInput) -> AppendOutcome:
        """Record one event; raise :class:`InvalidEvent` (or ConflictError) if rejected. Returns the
        outcome: accepted, or duplicate for a harmless re-send; its ``fired`` holds what the rules fired
        because of it (as stored). Costs what :meth:`record_many` of one event does.

        >>> Tracker().record({"id": "e1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"}).index
        0
        """
        result = self.record_many([event])
        outcome = result.outcomes[0]
        if outcome.error is not None:
            raise outcome.error
        return attrs.evolve(outcome, fired=result.fired) if result.fired else outcome

    @locked
    def record_many(self, events: Iterable[EventInput], *, strict: bool = False) -> BatchResult:
        """Record a batch in one atomic store write; one outcome per event, never raises for bad
        events. With ``strict=True`` a batch with any rejection writes nothing. ``fired`` lists what
        the rules fired because of this call (time-based ones due by now included), as stored; another
        process that fired the same invitation first makes it empty here. O(batch) plus the rules.

        >>> result = Tracker().record_many([
        ...     {"id": "a", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"},
        ...     {"id": "b", "type": "heartbeat", "ts": "2026-03-01T12:00:00", "visitor": "v"}])
        >>> result.accepted, result.rejected, result.errors[0].error.field
        (1, 1, 'ts')
        """
        self._sync()
        intake = Intake.of(events, self._admit)
        refused = strict and bool(intake.early)  # a strict batch with a bad event writes nothing
        result = BatchResult(()) if refused else writing.append(self._follower, intake.events, strict=strict)
        if self._follower.live.rule_list:
            fired = writing.evaluate_rules(self._follower, accepted(intake.events, result))
            if fired:
                result = result.evolve(fired=tuple(fired))
        return intake.merge(result)

    def _admit(self, raw: EventInput) -> Event:
        return admit(raw, self._follower.ctx, self.store_text)

    @locked
    def load(self, source: str | os.PathLike[str] | IO[bytes], *, strict: bool = False,
             batch_size: int = BATCH_SIZE, name: str | None = None) -> LoadResult:
        """Record every event of a JSON Lines log, in batches; no rule fires. Bad lines are reported
        with their line numbers and skipped, or with ``strict=True`` the first one stops the load
        (:mod:`whoson.tracking.loading`). O(lines).

        >>> import io
        >>> Tracker().load(io.BytesIO(b'{"id": "a", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", '
        ...                           b'"visitor": "v"}\\nnot json\\n'))
        LoadResult(accepted=1, duplicates=0, rejected=1, errors=(LogError(line=2, ...),))
        """
        def write(batch: list[Event]) -> BatchResult:
            result = writing.append(self._follower, batch)
            self._follower.loaded += result.accepted
            if self._follower.live.engine is not None:
                self._follower.live.observe(accepted(batch, result))
            return result

        return load_log(source, attrs.evolve(self._follower.ctx, currency=None), admit=self._admit,
                        write=write, strict=strict, batch_size=batch_size, name=name)

    # -- reporting ----------------------------------------------------------------

    @locked
    def report(self, start: Instant = None, end: Instant = None, *, engine: str = "python",
               spark_master: str | None = None, by: str | None = None,
               compare: str | tuple[Instant, Instant] | None = None, **options: Unpack[ReportOptions]) -> Report:
        """The report of the metrics contract over ``[start, end)``.

        ``options`` (:class:`~whoson.metrics.params.ReportOptions`; defaults in one place,
        :class:`~whoson.metrics.params.ReportDefaults`): ``tz`` (the tracker's), ``as_of`` (the
        clock's now; later events are ignored), ``attribution_window`` (7d), ``response_timeout``
        (10m), ``fcr_window`` (24h), ``session_timeout`` (the tracker's), ``rating_scale`` (only the
        tracker's), ``cost``. Dates mean local midnight in ``tz``; durations are ``timedelta`` or text
        such as ``"7d"``. ``by`` adds a breakdown by that dimension; ``compare`` (``"previous"`` or a
        ``(start, end)`` pair) adds ``previous`` and ``change`` (docs/breakdowns.md). ``engine`` runs
        the same report on ``"duckdb"`` or ``"spark"`` (see :mod:`whoson.engines`).

        Cost (:mod:`whoson.metrics.reporter`): with the tracker's windows and no event after ``as_of``
        it reads the incremental ledger: O(days in range + visitors touched since the last report);
        other windows recompute from the projection: O(events); an ``as_of`` before the newest event
        replays the store up to ``as_of``: O(events).

        >>> Tracker().report("2026-03-01", "2026-03-08", as_of="2026-03-09T00:00:00Z").visitors.total
        0
        """
        self._sync()
        report = self._reporter.report(start, end, history=self._follower.history, engine=engine,
                                       spark_master=spark_master, by=by, compare=compare, **options)
        return attrs.evolve(report, currency=self.currency)

    def report_params(self, start: Instant = None, end: Instant = None,
                      **options: Unpack[ReportOptions]) -> ReportParams:
        """Check and resolve report options with the tracker's defaults (see :meth:`report`). O(1).

        >>> Tracker(tz="Europe/Berlin").report_params("2026-03-01", as_of="2026-03-02T00:00:00Z").start.isoformat()
        '2026-02-28T23:00:00+00:00'
        """
        return self._reporter.params(start, end, **options)

    @locked
    def events_frame(self, start: Instant = None, end: Instant = None, types: Collection[str] | None = None) -> Any:
        """The stored events in ``[start, end)`` (of ``types``) as a pandas DataFrame in event-time order:
        ``id``, ``type``, ``ts`` (UTC-aware), ``visitor``, then each field (:func:`whoson.present.frames.
        events_frame`). Dates mean midnight in the tracker's zone. Extra ``[pandas]``; reads the store: O(events).

        >>> list(Tracker().events_frame(types=["heartbeat"]).columns[:4])
        ['id', 'type', 'ts', 'visitor']
        """
        from whoson.present.frames import events_frame

        local = zone(self.tz)
        rows = self.store.read(start=resolve_instant(start, local, "start"),
                               end=resolve_instant(end, local, "end"), types=types, order="time")
        return events_frame((row.event for row in rows), types)

    # -- checkpoints ----------------------------------------------------------------

    @locked
    def checkpoint(self) -> CheckpointInfo:
        """Save the tracker's state in the store, so that a tracker opening it later restores it
        instead of replaying every event (:mod:`whoson.tracking.checkpoint`; docs/stores.md).

        Catches up with the store and the ledger first. Cost: the first report's catch-up if none
        ran yet, then O(state) to pickle and write (docs/stores.md, "Checkpoints", has the figures: at 1M
        events about as long as the replay it saves the next tracker; restoring takes a fraction).
        Raises ``NotImplementedError`` for a store that keeps no checkpoints.

        >>> tracker = Tracker()
        >>> _ = tracker.record({"id": "e1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"})
        >>> info = tracker.checkpoint()
        >>> info.position, info.size > 0
        (1, True)
        """
        self._sync()
        return checkpoints_.save(self._follower)

    @property
    def checkpoint_version(self) -> str:
        """The version this tracker saves checkpoints with and restores only equal ones. O(1).

        >>> Tracker().checkpoint_version.startswith("1:")
        True
        """
        return checkpoints_.version_key(self._follower)

    def close(self) -> None:
        """Close the store (leaving ``with Tracker(...) as tracker:`` does).

        First, over a durable store that keeps checkpoints, save one when this tracker applied at
        least :data:`~whoson.tracking.checkpoint.AUTO_SAVE_AFTER` events since the checkpoint it
        restored or saved, not counting those it loaded itself with :meth:`load` (saving costs
        about what loading does: ``whoson ingest`` leaves the save to the first tracker that
        replays the store, or call :meth:`checkpoint`), or when it built the live view and that
        checkpoint has none (so that the next tracker's first :meth:`online` is quick too). Costs
        what :meth:`checkpoint` does; a store that refuses it, read-only say, is closed all the
        same. O(1) otherwise.

        >>> with Tracker() as tracker:
        ...     tracker.position
        0
        """
        try:
            with self._lock:
                if self._wants_checkpoint():
                    checkpoints_.save(self._follower)
        except Exception:
            _log.debug("checkpoint not saved at close", exc_info=True)
        finally:
            self.store.close()

    def _wants_checkpoint(self) -> bool:
        """Whether :meth:`close` saves a checkpoint (the policy above)."""
        follower = self._follower
        if not self.checkpoints or isinstance(self.store, MemoryStore) or follower.position == 0:
            return False
        new_view = follower.live.view is not None and not follower.checkpoint_live
        return new_view or (follower.position - follower.checkpointed - follower.loaded
                            >= checkpoints_.AUTO_SAVE_AFTER)

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
