"""The Tracker: one object that wires a store, the projections, the rules and a clock.

A web backend keeps one Tracker per process and feeds it events; an analyst
builds one over a log; the CLI builds one per command.

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 1, 12, 5, tzinfo=UTC)))
>>> tracker.record({"id": "e1", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
...                 "visitor": "v1", "url": "/pricing"}).status.value
'accepted'
>>> tracker.record({"id": "e1", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
...                 "visitor": "v1", "url": "/pricing"}).status.value
'duplicate'
>>> tracker.report().visitors.total
1
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import wraps
from typing import IO, Any, TypeVar, cast

import attrs

from whoson.clock import Clock, SystemClock
from whoson.core.batch import CURRENCY_RULE, BatchResult, Outcome, Status
from whoson.core.errors import ConfigError, InvalidEvent
from whoson.core.events import (
    CurrencyConverter,
    Event,
    MessageEvent,
    OrderEvent,
    ParseContext,
    RatingScale,
    admit,
    parse_event,
)
from whoson.core.projection import Projection
from whoson.live import LiveConfig, LivePage, LiveView, VisitorDetail, WaitingRequest
from whoson.live.scoring import InviteModel, fit_on_history
from whoson.logfile import LogError, LogFormatError, iter_log
from whoson.metrics.breakdowns import check_dimension
from whoson.metrics.compare import previous_bounds
from whoson.metrics.contributions import Settings
from whoson.metrics.ledger import Ledger
from whoson.metrics.params import MAX_DAYS, ReportParams, parse_duration, resolve_instant, zone
from whoson.metrics.report import Report, build_report
from whoson.rules import Rule, RuleEngine, load_rules
from whoson.stores.base import Store, StoredEvent, StoreSettings

__all__ = ["LoadResult", "Tracker"]

_BATCH = 5000
_ISO_4217 = re.compile(r"[A-Z]{3}")
_MICROSECOND = timedelta(microseconds=1)
CLOCK_SKEW = timedelta(seconds=5)
"""How far apart "now" and the clock, or "now" and a newer event, may be and still be the present."""

EventInput = Event | Mapping[str, Any]
_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Run ``method`` holding the tracker's lock."""

    @wraps(method)
    def run(self: Tracker, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return cast(_F, run)

Instant = datetime | date | str | None


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


class Tracker:
    """Who's on, engagement rules and the report, over one event store.

    ``store`` defaults to an in-memory store; ``clock`` to the system clock.
    ``currency`` is the currency every order must be in (``None``: the store
    settles it, from the first order it accepts that names one);
    ``converter(amount, currency, ts)`` converts foreign orders instead of
    rejecting them. ``rules`` are engagement rules (objects, or a TOML/JSON
    file path) evaluated on every recorded event and on :meth:`tick`; what
    they fire is recorded like any other event and returned in the result's
    ``fired``. :meth:`load` replays history and fires no rules.
    ``store_text``: keep the ``text`` of chat ``message`` events; off by
    default, when only their ``chars`` are stored (privacy by default).

    A tracker may be shared by threads: one lock serialises recording and
    queries. Processes share a store instead (SQLite or PostgreSQL), each
    with its own tracker, and every tracker **follows the store**: before it
    answers :meth:`online`, :meth:`visitor`, :meth:`waiting`,
    :meth:`expected_wait` or :meth:`report`, and before its rules evaluate,
    it applies what other processes appended since its :attr:`position`.
    :meth:`changes` waits for such appends.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        clock: Clock | None = None,
        tz: str = "UTC",
        currency: str | None = None,
        converter: CurrencyConverter | None = None,
        rating_scale: RatingScale | str = RatingScale(),
        session_timeout: timedelta | str = timedelta(minutes=30),
        live_config: LiveConfig | None = None,
        rules: Iterable[Rule] | str | os.PathLike[str] = (),
        store_text: bool = False,
    ) -> None:
        if store is None:
            from whoson.stores.memory import MemoryStore

            store = MemoryStore()
        self.store = store
        self.clock: Clock = clock if clock is not None else SystemClock()
        zone(tz)
        self.tz = tz
        self.session_timeout = parse_duration(session_timeout)
        scale = RatingScale.parse(rating_scale) if isinstance(rating_scale, str) else rating_scale
        if currency is not None and not _ISO_4217.fullmatch(currency):
            raise ConfigError(f"currency {currency!r} must be an ISO 4217 code such as 'EUR'")
        self._ctx = ParseContext(rating_scale=scale, currency=currency, converter=converter)
        self.store_text = store_text
        self._adopt_settings()
        self._projection = Projection()
        self._ledger = Ledger(self._projection, Settings(session_timeout=self.session_timeout))
        self._live_config = (
            live_config if live_config is not None else LiveConfig(session_timeout=self.session_timeout)
        )
        self._rule_list = tuple(load_rules(rules) if isinstance(rules, (str, os.PathLike)) else rules)
        # The live view and the rules engine are built on first use (a report
        # over a log never needs them), or at once when rules must see events.
        self._live: LiveView | None = None
        self._rules: RuleEngine | None = None
        # One lock serialises recording and queries, so web workers on threads may share a tracker.
        self._lock = threading.RLock()
        # The store position applied so far: every event up to it is in the projection.
        self._position = 0
        # A live view replayed for an instant before the newest event: ((instant, position), view).
        self._past: tuple[tuple[datetime, int], LiveView] | None = None
        for stored in store.read():
            self._project(stored.event)
            self._position = stored.position
        if self._rule_list:
            self._start_live()

    @classmethod
    def open(cls, url: str, **options: Any) -> Tracker:
        """A tracker over the store at ``url`` (``sqlite:///file.db``, ``memory:``).

        Settings saved with the store (currency, rating scale) are reused.
        """
        from whoson.stores.url import open_store

        return cls(open_store(url), **options)

    def _adopt_settings(self) -> None:
        saved = self.store.settings
        has_events = len(self.store) > 0
        ctx = self._ctx
        if has_events and saved.rating_scale != ctx.rating_scale:
            if ctx.rating_scale != RatingScale():
                raise ConfigError(
                    f"the store was filled with rating scale {saved.rating_scale}, "
                    f"not {ctx.rating_scale}"
                )
            ctx = attrs.evolve(ctx, rating_scale=saved.rating_scale)
        if saved.currency is not None and ctx.currency is None:
            ctx = attrs.evolve(ctx, currency=saved.currency)
        elif has_events and saved.currency not in (None, ctx.currency):
            raise ConfigError(f"the store's currency is {saved.currency}, not {ctx.currency}")
        self._ctx = ctx
        wanted = StoreSettings(currency=ctx.currency, rating_scale=ctx.rating_scale)
        if wanted != saved:
            self.store.save_settings(wanted)

    def _start_live(self) -> tuple[LiveView, RuleEngine]:
        with self._lock:
            if self._live is not None and self._rules is not None:
                return self._live, self._rules
            return self._build_live()

    def _build_live(self) -> tuple[LiveView, RuleEngine]:
        live = LiveView(self._live_config)
        rules = RuleEngine(self._rule_list, live)
        # Events applied so far: O(n) once, then the view follows every event.
        for stored in self._applied():
            live.apply(stored.event)
            rules.observe(stored.event)
        self._live, self._rules = live, rules
        return live, rules

    def _applied(self, **filters: Any) -> Iterator[StoredEvent]:
        """The stored events (matching ``filters``) up to the position applied so far."""
        limit = self._position
        with _finished(self.store.read(**filters)) as stored:
            for item in stored:
                if item.position <= limit:
                    yield item

    # -- following the store -----------------------------------------------------

    @property
    def position(self) -> int:
        """The store position applied so far: every event stored up to it is counted.

        >>> tracker = Tracker()
        >>> _ = tracker.record({"id": "e1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z",
        ...                     "visitor": "v1"})
        >>> tracker.position
        1
        """
        return self._position

    def _sync(self) -> None:
        """Apply what others appended since :attr:`position` (lock held).

        A no-op costs one look at the store's position (SQLite: ``PRAGMA
        data_version``; PostgreSQL: one indexed ``MAX(position)``).
        """
        if self.store.position > self._position:
            self._catch_up()

    def _catch_up(self, until: int | None = None) -> None:
        """Apply the stored events after :attr:`position` (before ``until``), in position order.

        They were appended (and their rules evaluated) by another tracker: they
        go into the projection, the ledger and the live view like local events,
        and the rules note them (limits, time-based schedules) without firing.
        """
        now: datetime | None = None
        with _finished(self.store.read(after=self._position)) as stored:
            for item in stored:
                if until is not None and item.position >= until:
                    break
                event = item.event
                self._project(event)
                self._adopt_currency(event)
                if self._rules is not None:
                    now = self.clock.now() if now is None else now
                    self._rules.follow(event, now)
                self._position = item.position

    def changes(self, after: int, timeout: float = 0.0) -> int:
        """Catch up with the store; return its position once it is past ``after``.

        Returns ``after`` unchanged when ``timeout`` seconds pass with nothing
        new. Safe to call from a worker thread while others record: the
        tracker's lock is held only while catching up, never while waiting
        (SQLite: a short poll; PostgreSQL: ``LISTEN``/``NOTIFY``).

        >>> tracker = Tracker()
        >>> tracker.changes(0)
        0
        >>> _ = tracker.record({"id": "e1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z",
        ...                     "visitor": "v1"})
        >>> tracker.changes(0), tracker.changes(1, timeout=0.01)
        (1, 1)
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            with self._lock:
                self._sync()
                position = self._position
            if position > after:
                return position
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return after
            self.store.wait(max(position, after), remaining)

    @property
    def live(self) -> LiveView:
        """The who's-on view (built from the store on first use), caught up with the store."""
        with self._lock:
            self._sync()
            return self._live_view()

    def _live_view(self) -> LiveView:
        return self._live if self._live is not None else self._start_live()[0]

    @property
    def rules(self) -> RuleEngine:
        """The engagement rules engine (built on first use)."""
        return self._rules if self._rules is not None else self._start_live()[1]

    @property
    def rating_scale(self) -> RatingScale:
        """The scale survey ratings are checked against."""
        return self._ctx.rating_scale

    @property
    def currency(self) -> str | None:
        """The tracker's currency (``None`` until configured or fixed by a first order)."""
        return self._ctx.currency

    @property
    def parse_context(self) -> ParseContext:
        """The settings events are validated with."""
        return self._ctx

    # -- recording ------------------------------------------------------------

    def record(self, event: EventInput) -> Outcome:
        """Record one event; raise :class:`InvalidEvent` (or ConflictError) if rejected.

        Returns the outcome: accepted, or duplicate for a harmless re-send;
        its ``fired`` holds what the rules fired because of it (as stored).
        """
        result = self.record_many([event])
        outcome = result.outcomes[0]
        if outcome.error is not None:
            raise outcome.error
        return attrs.evolve(outcome, fired=result.fired) if result.fired else outcome

    @_locked
    def record_many(self, events: Iterable[EventInput], *, strict: bool = False) -> BatchResult:
        """Record a batch in one atomic store write; one outcome per event, never raises
        for bad events. With ``strict=True`` a batch with any rejection writes nothing.

        >>> tracker = Tracker()
        >>> result = tracker.record_many([
        ...     {"id": "a", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"},
        ...     {"id": "b", "type": "heartbeat", "ts": "2026-03-01T12:00:00", "visitor": "v"},
        ... ])
        >>> result.accepted, result.rejected, result.errors[0].error.field
        (1, 1, 'ts')

        ``fired`` lists the events the rules fired because of this call (the
        time-based ones due by now included), as stored; another process that
        fired the same invitation first makes it empty here.
        """
        self._sync()
        parsed: list[Event] = []
        positions: list[int] = []
        early: dict[int, Outcome] = {}
        index = -1
        for index, raw in enumerate(events):
            try:
                event = self._admit(raw)
            except InvalidEvent as error:
                event_id = raw.id if isinstance(raw, Event) else _raw_id(raw)
                early[index] = Outcome(index, event_id, Status.REJECTED, error)
                continue
            parsed.append(event)
            positions.append(index)
        # A strict batch with a bad event writes nothing at all.
        result = BatchResult(()) if strict and early else self._append(parsed, strict=strict)
        if self._rule_list:
            fired = self._evaluate_rules(_accepted(parsed, result))
            if fired:
                result = result.evolve(fired=tuple(fired))
        if not early:
            return result
        merged: list[Outcome] = []
        stored = iter(zip(positions, result.outcomes, strict=False))
        for i in range(index + 1):
            if i in early:
                merged.append(early[i])
                continue
            position, outcome = next(stored, (i, None))
            if outcome is None:
                unwritten = InvalidEvent("batch", None, "not written: strict batch had a rejection")
                merged.append(Outcome(i, None, Status.REJECTED, unwritten))
            else:
                merged.append(attrs.evolve(outcome, index=position))
        return BatchResult(tuple(merged)).evolve(fired=result.fired)

    def _admit(self, raw: EventInput) -> Event:
        ctx = self._ctx
        event = admit(raw, ctx) if isinstance(raw, Event) else parse_event(raw, ctx)
        if not self.store_text and isinstance(event, MessageEvent) and "text" in event.extra:
            event = attrs.evolve(event, extra={k: v for k, v in event.extra.items() if k != "text"})
        return event

    def _adopt_currency(self, event: Event) -> None:
        """An order the store accepted names the store's currency: the tracker's from now on."""
        if isinstance(event, OrderEvent) and event.currency is not None and self._ctx.currency is None:
            self._ctx = attrs.evolve(self._ctx, currency=event.currency)

    def _append(self, events: Sequence[Event], *, strict: bool = False) -> BatchResult:
        """Append ``events`` and apply the accepted ones (and any others' before them).

        The store settles the currency inside its write; when it rejected
        orders because another currency was settled first and a converter is
        configured, those orders are converted and appended once more.
        """
        result = self._store_append(events, strict=strict)
        ctx = self._ctx
        if ctx.converter is None or ctx.currency is not None or result.currency is None:
            return result
        self._ctx = ctx = attrs.evolve(ctx, currency=result.currency)
        foreign = [o.index for o in result.errors if _is_currency_rejection(o)]
        if not foreign:
            return result
        if strict:
            return self._store_append([admit(e, ctx) for e in events], strict=True)
        again = self._store_append([admit(events[i], ctx) for i in foreign])
        outcomes = list(result.outcomes)
        for index, outcome in zip(foreign, again.outcomes, strict=True):
            outcomes[index] = attrs.evolve(outcome, index=index)
        return BatchResult(tuple(outcomes)).evolve(currency=result.currency)

    def _store_append(self, events: Sequence[Event], *, strict: bool = False) -> BatchResult:
        result = self.store.append(events, strict=strict)
        accepted = _accepted(events, result)
        positions = result.positions
        if positions is None or len(positions) != len(accepted):
            # The store did not say where it put them: read everything new, ours included.
            self._catch_up()
            return result
        if accepted and positions[0] > self._position + 1:
            self._catch_up(until=positions[0])  # what others appended just before
        for event, position in zip(accepted, positions, strict=True):
            self._project(event)
            self._adopt_currency(event)
            self._position = position
        return result

    def _project(self, event: Event) -> None:
        self._ledger.before_apply(event)
        self._projection.apply(event)
        if self._live is not None:
            self._live.apply(event)

    def _evaluate_rules(self, events: list[Event]) -> list[Event]:
        """Evaluate rules on ``events``, record what fires; return the fired events.

        The engine sees the fired events too, which counts them for the limits.
        """
        now = self.clock.now()
        # Time-based rules due by now fire first, exactly as a replay with tick() would.
        fired = self.rules.tick(now)
        fired.extend(f for event in events for f in self.rules.on_event(event, now))
        return self._record_fired(fired, now)

    def _record_fired(self, fired: list[Event], now: datetime) -> list[Event]:
        """Store what rules fired; the engine then sees it, which counts it for the limits."""
        if not fired:
            return []
        accepted = _accepted(fired, self._append(fired))
        for event in accepted:
            self.rules.on_event(event, now)
        return accepted

    # -- who's on now ---------------------------------------------------------------

    def _now(self, now: datetime | None) -> datetime:
        moment = self.clock.now() if now is None else now
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"now must be timezone-aware, got {moment!r}")
        return moment

    def _view(self, now: datetime) -> LiveView:
        """The live view for ``now``: the followed one, or, for an instant before the
        newest applied event, one replayed from the events up to ``now``.

        The replay is what ``whoson live --at`` shows: O(events up to ``now``)
        once, then cached for that instant until the tracker applies more.
        The present is not replayed: when ``now`` is within :data:`CLOCK_SKEW`
        of the clock and no event is stamped more than that after ``now``,
        those events count as at ``now`` (clocks of several processes, or of
        a caller that read the clock a moment ago, are a little apart).
        """
        live = self._live_view()
        newest = self._projection.last_ts
        if newest is None or now >= newest:
            return live
        if newest - now <= CLOCK_SKEW and now >= self.clock.now() - CLOCK_SKEW:
            return live
        key = (now, self._position)
        if self._past is not None and self._past[0] == key:
            return self._past[1]
        past = LiveView(self._live_config)
        past.invite_model = live.invite_model
        for stored in self._applied(end=now + _MICROSECOND, order="time"):
            past.apply(stored.event)
        self._past = (key, past)
        return past

    @_locked
    def online(self, now: datetime | None = None, **filters: Any) -> LivePage:
        """Visitors on the site at ``now`` (default: the clock's), newest activity first.

        Filters and paging as in :meth:`whoson.live.LiveView.online`. For an
        instant in the past (before the newest event, and not the present
        give or take :data:`CLOCK_SKEW`), the events after it are left out (the
        answer ``whoson live --at`` gives); that costs a replay of the events
        up to ``now``, cached per instant.
        """
        self._sync()
        moment = self._now(now)
        return self._view(moment).online(moment, **filters)

    @_locked
    def visitor(self, visitor_id: str, now: datetime | None = None) -> VisitorDetail | None:
        """One visitor's live snapshot plus history, or ``None`` if never seen (by ``now``)."""
        self._sync()
        moment = self._now(now)
        return self._view(moment).visitor(visitor_id, moment)

    @_locked
    def waiting(self, now: datetime | None = None) -> list[WaitingRequest]:
        """Visitor requests no agent has answered yet, oldest first."""
        self._sync()
        moment = self._now(now)
        return self._view(moment).waiting(moment)

    @_locked
    def expected_wait(self, now: datetime | None = None) -> float | None:
        """Estimated seconds a new visitor request would wait, or ``None`` if unknown."""
        self._sync()
        moment = self._now(now)
        return self._view(moment).expected_wait(moment)

    @_locked
    def fit_invite_model(self, window: timedelta | str = timedelta(days=7)) -> InviteModel | None:
        """Fit the ``invite_score`` model on the store's history; live rows use it from now on.

        Returns the model, or ``None`` (keeping any previous one) when the
        history has no invitation or holdout outcome of both kinds yet. Reads
        the whole store: O(n) plus the fit (see :mod:`whoson.live.scoring`);
        a server calls it daily (:class:`whoson.live.scoring.DailyRefit`).
        """
        model = fit_on_history((s.event for s in self.store.read()), window=parse_duration(window),
                               config=self._live_config, until=self.clock.now())
        if model is not None:
            self.live.invite_model = model
            self._past = None  # a cached past view holds the old model
        return model

    @_locked
    def tick(self, now: datetime | None = None) -> list[Event]:
        """Fire the time-based rules due at ``now`` and record what they fire."""
        if not self._rule_list:
            return []
        self._sync()
        moment = self._now(now)
        return self._record_fired(self.rules.tick(moment), moment)

    @_locked
    def load(
        self,
        source: str | os.PathLike[str] | IO[bytes],
        *,
        strict: bool = False,
        batch_size: int = _BATCH,
        name: str | None = None,
    ) -> LoadResult:
        """Record every event of a JSON Lines log, in batches.

        Bad lines are reported with their line numbers and skipped; the good
        lines around them are stored. With ``strict=True`` loading stops at the
        first bad line (raising :class:`~whoson.logfile.LogFormatError`), the
        lines before it stored.
        """
        counts = {Status.ACCEPTED: 0, Status.DUPLICATE: 0, Status.REJECTED: 0}
        errors: list[LogError] = []
        label = name if name is not None else (
            os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
        )
        batch: list[Event] = []
        lines: list[int] = []

        def flush() -> None:
            result = self._append(batch)
            if self._rules is not None:
                for event in _accepted(batch, result):
                    self._rules.observe(event)
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

        ctx = attrs.evolve(self._ctx, currency=None)
        with closing(iter_log(source, ctx, name=label)) as items:
            for item in items:
                if item.error is not None:
                    if strict:
                        flush()
                        raise LogFormatError(item.error)
                    counts[Status.REJECTED] += 1
                    errors.append(item.error)
                    continue
                assert item.event is not None
                try:
                    event = self._admit(item.event)
                except InvalidEvent as error:
                    if strict:
                        flush()
                    counts[Status.REJECTED] += 1
                    errors.append(LogError.from_invalid(item.line, error, label))
                    if strict:
                        raise LogFormatError(errors[-1]) from None
                    continue
                batch.append(event)
                lines.append(item.line)
                if len(batch) >= batch_size:
                    flush()
        flush()
        errors.sort(key=lambda e: e.line)
        return LoadResult(
            counts[Status.ACCEPTED], counts[Status.DUPLICATE], counts[Status.REJECTED], tuple(errors)
        )

    # -- reporting ----------------------------------------------------------------

    @_locked
    def report(
        self,
        start: Instant = None,
        end: Instant = None,
        *,
        tz: str | None = None,
        as_of: datetime | str | None = None,
        attribution_window: timedelta | str = timedelta(days=7),
        response_timeout: timedelta | str = timedelta(minutes=10),
        fcr_window: timedelta | str = timedelta(hours=24),
        session_timeout: timedelta | str | None = None,
        rating_scale: RatingScale | str | None = None,
        cost: Decimal | int | str | None = None,
        engine: str = "python",
        spark_master: str | None = None,
        by: str | None = None,
        compare: str | tuple[Instant, Instant] | None = None,
    ) -> Report:
        """The report of the metrics contract over ``[start, end)``.

        Dates mean local midnight in ``tz`` (default: the tracker's zone);
        ``as_of`` defaults to the clock's now, and events after it are ignored.
        Durations accept ``timedelta`` or text such as ``"7d"``. Asking for a
        rating scale other than the tracker's is an error. ``by`` adds a
        breakdown by that dimension; ``compare`` (``"previous"`` or a
        ``(start, end)`` pair) adds ``previous`` and ``change`` (docs/breakdowns.md).
        ``engine`` runs the same report on ``"duckdb"`` or ``"spark"`` (see
        :mod:`whoson.engines`).
        """
        self._sync()
        options: dict[str, Any] = {
            "tz": tz, "as_of": as_of, "attribution_window": attribution_window,
            "response_timeout": response_timeout, "fcr_window": fcr_window,
            "session_timeout": session_timeout, "rating_scale": rating_scale, "cost": cost,
        }
        params = self.report_params(start, end, **options)
        if by is not None:
            check_dimension(by)
        if engine != "python":
            from whoson.engines import report_events

            compared = None
            if compare is not None:
                before = previous_bounds(compare, params.start, params.end, start, end)
                compared = self.report_params(*before, **{**options, "as_of": params.as_of})
            stored = self.store.read(end=params.as_of + _MICROSECOND)
            report = report_events((s.event for s in stored), params, engine, spark_master,
                                   by=by, previous=compared)
            return attrs.evolve(report, currency=self.currency)
        projection = self._projection_until(params.as_of)
        ledger = self._ledger if projection is self._projection else None
        report = build_report(projection, params, ledger, by=by)
        if compare is not None:
            before = previous_bounds(compare, params.start, params.end, start, end)
            options["as_of"] = params.as_of
            previous = self.report_params(*before, **options)
            report = report.compared_with(build_report(projection, previous, ledger, by=by))
        return attrs.evolve(report, currency=self.currency)

    def report_params(
        self,
        start: Instant = None,
        end: Instant = None,
        *,
        tz: str | None = None,
        as_of: datetime | str | None = None,
        attribution_window: timedelta | str = timedelta(days=7),
        response_timeout: timedelta | str = timedelta(minutes=10),
        fcr_window: timedelta | str = timedelta(hours=24),
        session_timeout: timedelta | str | None = None,
        rating_scale: RatingScale | str | None = None,
        cost: Decimal | int | str | None = None,
    ) -> ReportParams:
        """Check and resolve report parameters (see :meth:`report`)."""
        tz_name = tz if tz is not None else self.tz
        local = zone(tz_name)
        if rating_scale is not None:
            scale = RatingScale.parse(rating_scale) if isinstance(rating_scale, str) else rating_scale
            if scale != self.rating_scale:
                raise ConfigError(
                    f"rating scale {scale} asked for, but the events were checked against "
                    f"{self.rating_scale}"
                )
        moment = resolve_instant(as_of, local, "as_of") if as_of is not None else self.clock.now()
        assert moment is not None
        start_at = resolve_instant(start, local, "start")
        end_at = resolve_instant(end, local, "end")
        if start_at is not None and end_at is not None:
            if end_at < start_at:
                raise ConfigError(f"range end {end_at} is before its start {start_at}")
            if (end_at - start_at).days > MAX_DAYS:
                raise ConfigError(f"the range spans more than {MAX_DAYS} days (one row a day)")
        cost_value = _cost(cost)
        return ReportParams(
            as_of=moment,
            start=start_at,
            end=end_at,
            tz_name=tz_name,
            attribution_window=parse_duration(attribution_window),
            response_timeout=parse_duration(response_timeout),
            fcr_window=parse_duration(fcr_window),
            session_timeout=(
                parse_duration(session_timeout) if session_timeout is not None
                else self.session_timeout
            ),
            rating_scale=self.rating_scale,
            cost=cost_value,
        )

    @_locked
    def events_frame(
        self, start: Instant = None, end: Instant = None, types: Collection[str] | None = None
    ) -> Any:
        """The stored events in ``[start, end)`` (of ``types``) as a pandas DataFrame, in
        event-time order: ``id``, ``type``, ``ts`` (UTC-aware), ``visitor``, then each field.

        Dates mean midnight in the tracker's zone. Extra ``[pandas]``; cost O(events).
        See :func:`whoson.present.frames.events_frame`.
        """
        from whoson.present.frames import events_frame

        local = zone(self.tz)
        rows = self.store.read(start=resolve_instant(start, local, "start"),
                               end=resolve_instant(end, local, "end"), types=types, order="time")
        return events_frame((row.event for row in rows), types)

    def _projection_until(self, as_of: datetime) -> Projection:
        projection = self._projection
        if projection.last_ts is None or projection.last_ts <= as_of:
            return projection
        # Events after as_of must not count: replay the store up to as_of.
        partial = Projection()
        for stored in self._applied(end=as_of + _MICROSECOND):
            partial.apply(stored.event)
        return partial

    @property
    def projection(self) -> Projection:
        """The projection of every stored event, caught up with the store (read-only use)."""
        with self._lock:
            self._sync()
            return self._projection

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cost(cost: Decimal | int | str | None) -> Decimal | None:
    """A channel cost: a finite, non-negative decimal amount of sane size."""
    if cost is None:
        return None
    try:
        value = Decimal(str(cost).strip())
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or value.adjusted() > 15:
        raise ConfigError(f"cost {cost!r} must be a non-negative decimal amount such as 1250.00")
    return value


def _accepted(events: Sequence[Event], result: BatchResult) -> list[Event]:
    """The events of a batch that the store accepted (the statuses run parallel)."""
    return [e for e, status in zip(events, result.statuses(), strict=False) if status is Status.ACCEPTED]


@contextmanager
def _finished(items: Iterator[StoredEvent]) -> Iterator[Iterator[StoredEvent]]:
    """Close a store read (its connection) even when the caller stops early."""
    try:
        yield items
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def _is_currency_rejection(outcome: Outcome) -> bool:
    """Whether the store rejected the event for naming another currency than its own."""
    error = outcome.error
    prefix = CURRENCY_RULE.split("{", 1)[0]
    return error is not None and error.field == "currency" and error.rule.startswith(prefix)


def _raw_id(raw: Any) -> str | None:
    if isinstance(raw, Mapping):
        value = raw.get("id")
        return value if isinstance(value, str) else None
    return None
