"""The tracker's questions about now: who is on, who waits, and what the rules fire at a tick.

:class:`LiveQueries` is the part of :class:`whoson.Tracker`'s public API that
reads the live view (:class:`~whoson.tracking.live.LiveWiring`): each call
holds the tracker's lock and first catches up with the store. For an instant
in the past (before the newest applied event, and not the present give or
take :data:`~whoson.tracking.live.CLOCK_SKEW`), the events after it are left
out, the answer ``whoson live --at`` gives: a replay of the events up to that
instant (O(events)), cached per instant.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from whoson.clock import Clock
from whoson.core.events import Event
from whoson.core.time import parse_duration
from whoson.live import LivePage, LiveView, VisitorDetail, WaitingRequest
from whoson.live.scoring import InviteModel, fit_on_history
from whoson.rules import RuleEngine
from whoson.stores.base import Store
from whoson.tracking import writing
from whoson.tracking.follower import Follower, locked

__all__ = ["LiveQueries"]


class LiveQueries:
    """Who's on now, the rules engine and its ticks, over a tracker's followed live view."""

    store: Store
    clock: Clock
    _follower: Follower
    _lock: threading.RLock

    @property
    def live(self) -> LiveView:
        """The who's-on view, caught up with the store (built on first use: O(events) once)."""
        with self._lock:
            self._sync()
            return self._follower.live.build()[0]

    @property
    def rules(self) -> RuleEngine:
        """The engagement rules engine (built on first use, with the live view)."""
        engine = self._follower.live.engine
        if engine is None:
            with self._lock:
                engine = self._follower.live.build()[1]
        return engine

    def _sync(self) -> None:
        """Apply what others appended since the tracker's position (lock held)."""
        self._follower.sync()

    def _now(self, now: datetime | None) -> datetime:
        """Caught up with the store: ``now`` (default: the clock's), which must be timezone-aware."""
        self._sync()
        moment = self.clock.now() if now is None else now
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"now must be timezone-aware, got {moment!r}")
        return moment

    def _view(self, now: datetime | None) -> tuple[LiveView, datetime]:
        moment = self._now(now)
        return self._follower.view(moment), moment

    @locked
    def online(self, now: datetime | None = None, **filters: Any) -> LivePage:
        """Visitors on the site at ``now`` (default: the clock's), newest activity first.

        Filters and paging as in :meth:`whoson.live.LiveView.online`. Reads the
        live view: O(page); an instant in the past replays (module doc).

        >>> from whoson import Tracker
        >>> Tracker().online().total
        0
        """
        view, moment = self._view(now)
        return view.online(moment, **filters)

    @locked
    def visitor(self, visitor_id: str, now: datetime | None = None) -> VisitorDetail | None:
        """One visitor's live snapshot plus history, or ``None`` if never seen (by ``now``).

        O(that visitor's events); an instant in the past replays (module doc).

        >>> from whoson import Tracker
        >>> Tracker().visitor("v1") is None
        True
        """
        view, moment = self._view(now)
        return view.visitor(visitor_id, moment)

    @locked
    def waiting(self, now: datetime | None = None) -> list[WaitingRequest]:
        """Visitor requests no agent has answered yet, oldest first. O(waiting requests).

        >>> from whoson import Tracker
        >>> Tracker().waiting()
        []
        """
        view, moment = self._view(now)
        return view.waiting(moment)

    @locked
    def expected_wait(self, now: datetime | None = None) -> float | None:
        """Estimated seconds a new visitor request would wait, or ``None`` if unknown. O(waiting requests).

        >>> from whoson import Tracker
        >>> Tracker().expected_wait() is None
        True
        """
        view, moment = self._view(now)
        return view.expected_wait(moment)

    @locked
    def fit_invite_model(self, window: timedelta | str = timedelta(days=7)) -> InviteModel | None:
        """Fit the ``invite_score`` model on the store's history; live rows use it from now on.

        Returns the model, or ``None`` (keeping any previous one) when the
        history has no invitation or holdout outcome of both kinds yet. Reads
        the whole store: O(n) plus the fit (see :mod:`whoson.live.scoring`);
        a server calls it daily (:class:`whoson.live.scoring.DailyRefit`).

        >>> from whoson import Tracker
        >>> Tracker().fit_invite_model() is None
        True
        """
        model = fit_on_history((s.event for s in self.store.read()), window=parse_duration(window),
                               config=self._follower.live.config, until=self.clock.now())
        if model is not None:
            self.live.invite_model = model
            self._follower.live.forget_past()  # a cached past view holds the old model
        return model

    @locked
    def tick(self, now: datetime | None = None) -> list[Event]:
        """Fire the time-based rules due at ``now`` and record what they fire. O(rules) plus the writes.

        >>> from whoson import Tracker
        >>> Tracker().tick()
        []
        """
        if not self._follower.live.rule_list:
            return []
        moment = self._now(now)
        return writing.record_fired(self._follower, self.rules.tick(moment), moment)
