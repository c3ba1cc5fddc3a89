"""The Reporter: a tracker's report state, and which path each report takes.

A :class:`Reporter` owns the projection of the events applied so far and
the incremental :class:`~whoson.metrics.ledger.Ledger` that follows it, and
chooses, per report, between

- the **ledger**: the followed projection's slot tallies (O(days in range),
  after the visitors touched since the last report are caught up),
- **settings**: another session timeout, attribution or FCR window reads a
  ledger of its own, kept up to date like the default one (a few are kept,
  least recently used dropped); building one costs one from-scratch pass,
  O(events), then reports cost what the default's do,
- **past**: ``as_of`` before the newest event: the ledger's slots with the
  visitors active after ``as_of`` turned back to their events up to it
  (:class:`~whoson.metrics.ledger.Past`): O(visitors + their events),
- a **replay**: a projection of the events up to ``as_of`` rebuilt from the
  history, only for a breakdown (``by``) with ``as_of`` before the newest
  event: O(events up to as_of),
- an **engine**: ``"duckdb"`` or ``"spark"`` over the same history
  (:mod:`whoson.engines`).

It resolves its options through :meth:`ReportParams.resolve
<whoson.metrics.params.ReportParams.resolve>` with the tracker's defaults.
It holds no store: the caller hands over ``history(as_of)``, the applied
events up to ``as_of`` in store order, for the paths that need them.

>>> from datetime import UTC, datetime
>>> from whoson.core.parsing import parse_event
>>> from whoson.core.settings import ParseContext
>>> reporter = Reporter(now=lambda: datetime(2026, 3, 2, tzinfo=UTC))
>>> reporter.apply(parse_event({"id": "e1", "type": "widget_click", "ts": "2026-03-01T12:00:00Z",
...                             "visitor": "v1"}, ParseContext()))
>>> reporter.path(reporter.params()), reporter.path(reporter.params(as_of="2026-03-01T11:00:00Z"))
('ledger', 'past')
>>> reporter.report(history=lambda as_of: iter(())).visitors.with_click
1
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Literal, Unpack

from whoson.core.events import Event
from whoson.core.projection import Projection
from whoson.metrics.breakdowns import check_dimension
from whoson.metrics.compare import previous_bounds
from whoson.metrics.contributions import Settings
from whoson.metrics.ledger import Ledger, Past, settings_of
from whoson.metrics.params import DEFAULTS, Instant, ReportDefaults, ReportOptions, ReportParams
from whoson.metrics.report import Report, build_report

__all__ = ["SPARE_LEDGERS", "History", "Path", "Reporter"]

History = Callable[[datetime], Iterable[Event]]
"""``history(as_of)``: the applied events stamped up to ``as_of`` (inclusive), in store order."""

Path = Literal["ledger", "settings", "past", "replay"]

SPARE_LEDGERS = 3
"""How many ledgers for other settings (windows, session timeout) a reporter keeps besides its own."""


class Reporter:
    """The projection and ledger of the applied events, and the choice of path per report.

    ``defaults`` are the tracker's report defaults (zone, session timeout,
    rating scale); the ledger keeps its tallies with their session timeout
    and default windows. ``now()`` is the clock, read when ``as_of`` is
    left out.
    """

    def __init__(self, defaults: ReportDefaults = DEFAULTS, *, now: Callable[[], datetime]) -> None:
        self.defaults = defaults
        self.now = now
        self.projection = Projection()
        self.ledger = Ledger(self.projection, Settings(session_timeout=defaults.session_timeout))
        # Ledgers of other settings asked for lately, least recently used first.
        self.spare: OrderedDict[Settings, Ledger] = OrderedDict()

    def apply(self, event: Event) -> None:
        """Apply one more event (in store order) to the projection and the ledger.

        O(1) for a visitor touched since the last report, else O(that visitor's events): the
        ledger takes back the visitor's contribution, to add it afresh at the next report.
        """
        self.ledger.before_apply(event)
        for spare in self.spare.values():
            spare.before_apply(event)
        self.projection.apply(event)

    def params(self, start: Instant = None, end: Instant = None,
               **options: Unpack[ReportOptions]) -> ReportParams:
        """The checked parameters of a report with ``options`` (this reporter's defaults). O(1)."""
        return ReportParams.resolve(start, end, now=self.now, defaults=self.defaults, **options)

    def path(self, params: ReportParams, by: str | None = None) -> Path:
        """Which path a python-engine report with ``params`` takes (see the module doc). O(1)."""
        newest = self.projection.last_ts
        if newest is not None and newest > params.as_of:
            return "replay" if by is not None else "past"
        return "ledger" if self.ledger.serves(params) else "settings"

    def report(
        self,
        start: Instant = None,
        end: Instant = None,
        *,
        history: History,
        engine: str = "python",
        spark_master: str | None = None,
        by: str | None = None,
        compare: str | tuple[Instant, Instant] | None = None,
        **options: Unpack[ReportOptions],
    ) -> Report:
        """The report over ``[start, end)``: see :meth:`whoson.Tracker.report` for the options.

        Cost: the path's (module doc); ``compare`` adds a second report on the same projection.
        """
        params = self.params(start, end, **options)
        if by is not None:
            check_dimension(by)
        previous = None
        if compare is not None:
            before = previous_bounds(compare, params.start, params.end, start, end)
            same: ReportOptions = {**options, "as_of": params.as_of}
            previous = self.params(*before, **same)
        if engine != "python":
            return self._on_engine(params, history, engine, spark_master, by, previous)
        projection, ledger = self._source(params, history, by)
        report = build_report(projection, params, ledger, by=by)
        if previous is None:
            return report
        return report.compared_with(build_report(projection, previous, ledger, by=by))

    def _source(self, params: ReportParams, history: History,
                by: str | None = None) -> tuple[Projection, Ledger | Past | None]:
        """The followed projection and the ledger (or past view) to read, or a replay up to ``as_of``."""
        path = self.path(params, by)
        if path == "replay":
            # A breakdown reads visitors' events: replay the history up to as_of.
            partial = Projection()
            for event in history(params.as_of):
                partial.apply(event)
            return partial, None
        ledger = self._ledger_for(settings_of(params))
        return self.projection, Past(ledger, params.as_of) if path == "past" else ledger

    def _ledger_for(self, settings: Settings) -> Ledger:
        """The ledger kept with ``settings``: the own one, a spare one, or a new spare (O(events) once)."""
        if settings == self.ledger.settings:
            return self.ledger
        spare = self.spare.get(settings)
        if spare is None:
            spare = self.spare[settings] = Ledger.derived(self.ledger, settings)
            if len(self.spare) > SPARE_LEDGERS:
                self.spare.popitem(last=False)
        else:
            self.spare.move_to_end(settings)
        return spare

    @staticmethod
    def _on_engine(params: ReportParams, history: History, engine: str, spark_master: str | None,
                   by: str | None, previous: ReportParams | None) -> Report:
        """The report computed by a SQL engine over the history up to ``as_of``.

        ``previous`` (the compared range's parameters) is a second run of the
        same definition; ``by`` is grouped in the engine.
        """
        from whoson.engines import report_events

        return report_events(history(params.as_of), params, engine, spark_master,
                             by=by, previous=previous)

