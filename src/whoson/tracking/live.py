"""A tracker's live view and rules engine: built on first use, then fed every applied event.

A report over a log never needs them; a tracker with rules builds them at
once, since the rules must see every event. For an instant before the
newest applied event, :meth:`LiveWiring.at` replays a past view (what
``whoson live --at`` shows), cached per instant.

>>> from datetime import UTC, datetime
>>> from whoson.clock import FixedClock
>>> from whoson.live import LiveConfig
>>> wiring = LiveWiring(LiveConfig(), (), applied=lambda **filters: iter(()),
...                     clock=FixedClock(datetime(2026, 3, 1, tzinfo=UTC)))
>>> wiring.view is None, wiring.build()[0] is wiring.view
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from whoson.clock import Clock
from whoson.core.events import Event
from whoson.live import LiveConfig, LiveView
from whoson.rules import Rule, RuleEngine
from whoson.stores.base import StoredEvent

__all__ = ["CLOCK_SKEW", "LiveWiring"]

CLOCK_SKEW = timedelta(seconds=5)
"""How far apart "now" and the clock, or "now" and a newer event, may be and still be the present."""
_MICROSECOND = timedelta(microseconds=1)

Applied = Callable[..., Iterable[StoredEvent]]


class LiveWiring:
    """The live view and the rules engine over the applied events (``applied(**filters)``)."""

    def __init__(self, config: LiveConfig, rules: tuple[Rule, ...], *, applied: Applied,
                 clock: Clock) -> None:
        self.config = config
        self.rule_list = rules
        self.view: LiveView | None = None
        self.engine: RuleEngine | None = None
        self._applied = applied
        self._clock = clock
        # The events to build the view from, when not the store's (a restored tracker's projection).
        self.source: Callable[[], Iterable[Event]] | None = None
        # A live view replayed for an instant before the newest event: ((instant, position), view).
        self._past: tuple[tuple[datetime, int], LiveView] | None = None

    def build(self) -> tuple[LiveView, RuleEngine]:
        """The view and the engine, built from the applied events on first use: O(events) once."""
        if self.view is not None and self.engine is not None:
            return self.view, self.engine
        live = LiveView(self.config)
        rules = RuleEngine(self.rule_list, live)
        events = self.source() if self.source is not None else (stored.event for stored in self._applied())
        for event in events:
            live.apply(event)
            rules.observe(event)
        self.view, self.engine = live, rules
        return live, rules

    def apply(self, event: Event) -> None:
        """Feed one more applied event to the view, once built. O(1)."""
        if self.view is not None:
            self.view.apply(event)

    def observe(self, events: Iterable[Event]) -> None:
        """Let the rules note events they must not fire on (a loaded log), once built."""
        if self.engine is not None:
            for event in events:
                self.engine.observe(event)

    def forget_past(self) -> None:
        """Drop the cached past view (it holds an old invite model)."""
        self._past = None

    def at(self, now: datetime, newest: datetime | None, position: int) -> LiveView:
        """The live view for ``now``: the followed one, or, for an instant before the
        ``newest`` applied event, one replayed from the events up to ``now``.

        The replay is what ``whoson live --at`` shows: O(events up to ``now``)
        once, then cached for that instant until the tracker applies more
        (``position`` moves). The present is not replayed: when ``now`` is
        within :data:`CLOCK_SKEW` of the clock and no event is stamped more
        than that after ``now``, those events count as at ``now`` (clocks of
        several processes, or of a caller that read the clock a moment ago,
        are a little apart).
        """
        live = self.build()[0]
        if newest is None or now >= newest:
            return live
        if newest - now <= CLOCK_SKEW and now >= self._clock.now() - CLOCK_SKEW:
            return live
        key = (now, position)
        if self._past is not None and self._past[0] == key:
            return self._past[1]
        past = LiveView(self.config)
        past.invite_model = live.invite_model
        for stored in self._applied(end=now + _MICROSECOND, order="time"):
            past.apply(stored.event)
        self._past = (key, past)
        return past
