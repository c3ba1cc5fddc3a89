"""The console's live feed: who's on, diffed into numbered server-sent events.

One :class:`LiveFeed` per application follows the tracker in a daemon
thread: whenever the store moves (``Tracker.changes``), and at least every
``interval`` seconds for what time alone changes (a visitor turning idle, a
signal due, the presence timeout), it takes the rows of
:meth:`whoson.Tracker.online` and compares each with the row it sent last.
A row that changed becomes an ``upsert`` event, a visitor no longer online a
``remove``, a change of the waiting list or the header figures a ``queue``.
Every event gets the next integer id and stays in a bounded log, so a client
that reconnects with ``Last-Event-ID: n`` receives exactly the events after
``n`` (or a fresh ``snapshot`` when ``n`` has left the log).

Rows are compared without the figures that grow by themselves (time on page,
time on site, the current trail step, wait seconds in reasons): the browser
ticks those from the ``at`` instant of the last event, so a visitor sitting on
a page costs no traffic.

>>> from datetime import UTC, datetime
>>> from whoson import FixedClock, Tracker
>>> clock = FixedClock(datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC))
>>> tracker = Tracker(clock=clock)
>>> feed = LiveFeed(tracker, id_base=0)
>>> _ = tracker.record({"id": "1", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
...                     "visitor": "v1", "url": "/pricing"})
>>> feed.refresh()
[(1, 'upsert', 'v1'), (2, 'queue', None)]
>>> feed.refresh()  # nothing changed but the clock: no event
[]
>>> _ = tracker.record({"id": "2", "type": "page_view", "ts": "2026-03-01T12:00:20Z",
...                     "visitor": "v1", "url": "/checkout"})
>>> feed.refresh()
[(3, 'upsert', 'v1'), (4, 'queue', None)]
>>> [event.id for event in feed.events_after(2, Filters())]
[3, 4]
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from whoson.codec import dumps
from whoson.core.events import Event, MessageEvent
from whoson.core.time import format_ts
from whoson.live import VisitorSnapshot, url_matches
from whoson.tracker import Tracker

__all__ = ["SORTS", "FeedEvent", "Filters", "LiveFeed", "Notifier", "status_of"]

#: ``sort=`` values of the console and ``/api/online``: the row key each sorts by (descending).
SORTS: dict[str, str | None] = {
    "last_activity": None,
    "on_page": "on_page_seconds",
    "on_site": "on_site_seconds",
    "cart_value": "cart_value",
}
_TOP_PAGES = 8


def _flag(name: str, raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise ValueError(f"{name}={raw!r}: must be true or false")


@attrs.frozen
class Filters:
    """Which rows a client wants: the filters of ``/api/online`` plus search.

    ``q`` searches visitor id, name, customer, url and title (case-insensitive
    substring); ``url`` is a glob on the current page; ``country`` matches
    case-insensitively; ``signal`` names a signal the row must carry;
    ``in_chat`` selects rows with (or without) an open request or
    conversation; ``returning`` selects returning (``visits > 1``) or new
    visitors.

    >>> f = Filters.from_query({"url": "*/checkout*", "returning": "false"})
    >>> f.url, f.returning
    ('*/checkout*', False)
    >>> Filters.from_query({"in_chat": "maybe"})
    Traceback (most recent call last):
    ...
    ValueError: in_chat='maybe': must be true or false
    """

    q: str | None = None
    url: str | None = None
    country: str | None = None
    signal: str | None = None
    in_chat: bool | None = None
    returning: bool | None = None

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Filters:
        """Read the filters from query parameters; raise ValueError naming a bad one."""
        def text(name: str) -> str | None:
            value = params.get(name)
            if value is None or not value.strip():
                return None
            if len(value) > 500:
                raise ValueError(f"{name}: at most 500 characters")
            return value.strip()

        return cls(
            q=text("q"), url=text("url"), country=text("country"), signal=text("signal"),
            in_chat=_flag("in_chat", params.get("in_chat")),
            returning=_flag("returning", params.get("returning")),
        )

    @property
    def empty(self) -> bool:
        """Whether every row matches."""
        return self == Filters()

    def matches(self, row: VisitorSnapshot) -> bool:
        """Whether ``row`` passes every filter."""
        if self.url is not None and (row.url is None or not url_matches(self.url, row.url)):
            return False
        if self.country is not None and (
            row.country is None or row.country.casefold() != self.country.casefold()
        ):
            return False
        if self.signal is not None and self.signal not in row.signal_names:
            return False
        if self.in_chat is not None and (row.chat != "none") != self.in_chat:
            return False
        if self.returning is not None and row.returning != self.returning:
            return False
        if self.q is not None:
            needle = self.q.casefold()
            hay = (row.visitor, row.name, row.customer, row.url, row.title)
            if not any(value is not None and needle in value.casefold() for value in hay):
                return False
        return True


def status_of(row: VisitorSnapshot, *, left: bool, idle: bool) -> str:
    """The console's status of a row: gone, waiting, in_chat, invited, idle or active.

    >>> from datetime import UTC, datetime
    >>> from decimal import Decimal
    >>> row = VisitorSnapshot("v", None, None, "/", None, 1.0, datetime(2026, 1, 1, tzinfo=UTC),
    ...     1.0, 1, (), 1, 1, False, None, None, None, Decimal(0), 0, Decimal(0),
    ...     "pending", "ann", ())
    >>> status_of(row, left=False, idle=True), status_of(row, left=True, idle=False)
    ('invited', 'gone')
    """
    if left:
        return "gone"
    if "waiting" in row.signal_names:
        return "waiting"
    if row.chat == "in_conversation":
        return "in_chat"
    if row.chat == "pending":
        return "invited"
    return "idle" if idle else "active"


@attrs.frozen
class FeedEvent:
    """One numbered server-sent event; ``visitor`` and ``row`` are set on upserts and removes."""

    id: int
    name: str
    data: str
    visitor: str | None = None
    row: VisitorSnapshot | None = attrs.field(default=None, eq=False)

    def encode(self) -> bytes:
        """The event in the ``text/event-stream`` format.

        >>> FeedEvent(7, "remove", '{"visitor":"v1"}').encode()
        b'id: 7\\nevent: remove\\ndata: {"visitor":"v1"}\\n\\n'
        """
        return f"id: {self.id}\nevent: {self.name}\ndata: {self.data}\n\n".encode()

    def for_filters(self, filters: Filters) -> FeedEvent:
        """This event as a client with ``filters`` must see it: an upsert of a row that
        does not match becomes a ``remove`` (a no-op for a client not showing it)."""
        if self.name != "upsert" or self.row is None or filters.matches(self.row):
            return self
        return FeedEvent(self.id, "remove", dumps({"visitor": self.visitor}), self.visitor)


class Notifier:
    """Wakes asyncio waiters (in any event loop) from the feed thread.

    ``generation`` grows on every :meth:`notify`; :meth:`wait` returns at once
    when it moved past the value the caller saw, so no change is missed
    between looking and waiting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.generation = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    def notify(self) -> None:
        """Wake every waiter."""
        with self._lock:
            self.generation += 1
            waiters = list(self._waiters)
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # a closed loop has nobody to wake
                loop.call_soon_threadsafe(_resolve, future)

    async def wait(self, seen: int, timeout: float) -> None:
        """Return once ``generation`` passes ``seen``, or after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        key = (loop, future)
        with self._lock:
            if self.generation != seen:
                return
            self._waiters.add(key)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(key)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _stable(row: VisitorSnapshot, status: str, left: datetime | None) -> tuple[Any, ...]:
    """The part of a row that changes only when something happens (not by ticking).

    A plain tuple: comparing it costs far less than encoding the row.
    """
    trail = row.trail
    done = tuple((step.url, step.seconds) for step in trail[:-1])
    return (
        row.customer, row.name, row.url, row.title, row.session_started, row.pages_viewed,
        done, trail[-1].url if trail else None, row.page_visits, row.visits, row.referrer,
        row.device, row.country, row.cart_value, row.orders, row.lifetime_value, row.chat,
        row.agent, tuple(signal.name for signal in row.signals), status, left,
    )


def _visitor_lines(events: Iterable[Event]) -> int:
    """How many chat messages the visitor wrote (so the console can flag unread ones)."""
    return sum(1 for event in events if isinstance(event, MessageEvent) and event.sender == "visitor")


def _queue_stable(queue: Mapping[str, Any]) -> str:
    waiting = [{k: v for k, v in item.items() if k != "wait_seconds"} for item in queue["waiting"]]
    expected = queue["expected_wait"]
    return dumps([waiting, None if expected is None else round(expected),
                  {k: v for k, v in queue.items() if k not in ("waiting", "expected_wait", "at")}])


class LiveFeed:
    """Numbered row diffs of who's on, for the console's stream and poll.

    ``interval``: the longest pause between two refreshes when nothing is
    recorded; ``history``: how many events stay available for a resume;
    ``idle_after``: seconds without activity (no heartbeat) before a present
    visitor shows as idle; ``id_base``: the id before the first event
    (default: random, so that two processes' ids do not overlap).

    Cost per refresh: one :meth:`whoson.Tracker.online` over every visitor
    online (O(m) row builds, about 19 ms for 200 visitors) plus one JSON
    encoding per changed row. Refreshes follow each other at least 50 ms,
    and at least twice their own cost, apart.
    """

    def __init__(self, tracker: Tracker, *, interval: float = 1.0, history: int = 5000,
                 idle_after: float = 65.0, id_base: int | None = None) -> None:
        self.tracker = tracker
        self.interval = interval
        self.idle_after = idle_after
        self.notifier = Notifier()
        self._lock = threading.Lock()
        # Ids start at a random base per feed, so an id sent by another server
        # process is (almost surely) unknown here and gets a snapshot, never a
        # wrong resume. Below 2**53: exact as a JavaScript number.
        self._seq = secrets.randbelow(2**32) * 2**20 if id_base is None else id_base
        self._log: deque[FeedEvent] = deque(maxlen=history)
        self._entries: dict[str, dict[str, Any]] = {}
        self._rows: dict[str, VisitorSnapshot] = {}
        self._stable: dict[str, tuple[Any, ...]] = {}
        self._order: list[str] = []
        self._versions: dict[str, int] = {}
        self._queue: dict[str, Any] = {}
        self._queue_stable = ""
        self._at: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[], None]] = []
        self._refresh_lock = threading.Lock()

    # -- running ------------------------------------------------------------------

    def start(self) -> None:
        """Start the follower thread (idempotent)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="whoson-feed", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the follower thread."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def poke(self) -> None:
        """Refresh now (after this process recorded something), from any thread."""
        self.refresh()

    def _run(self) -> None:
        changes = getattr(self.tracker, "changes", None)
        position = int(getattr(self.tracker, "position", 0) or 0)
        seen = -1
        refreshed = 0.0
        while not self._stop.is_set():
            if changes is not None:
                # Returns as soon as this or another process stored something.
                position = changes(position, 0.25)
                count = position
            else:
                self._stop.wait(0.1)
                count = self.tracker.projection.count
            if self._stop.is_set():
                break
            # Refresh on news, and every `interval` for what time alone changes.
            if count == seen and time.monotonic() - refreshed < self.interval:
                continue
            started = time.monotonic()
            try:
                self.refresh()
            except Exception:  # a store hiccup must not kill the feed; retry in a second
                self._stop.wait(1.0)
                continue
            seen, refreshed = count, time.monotonic()
            # Under a stream of writes, coalesce: pause twice the refresh's own cost
            # (at least 50 ms), so the feed takes at most a third of a core.
            self._stop.wait(max(0.05, 2 * (refreshed - started)))

    # -- computing ----------------------------------------------------------------

    def refresh(self, now: datetime | None = None) -> list[tuple[int, str, str | None]]:
        """Compare the rows at ``now`` with the last ones; log and announce the differences.

        Returns ``(id, name, visitor)`` of each new event.
        """
        with self._refresh_lock:
            return self._refresh(now)

    def _refresh(self, now: datetime | None) -> list[tuple[int, str, str | None]]:
        tracker = self.tracker
        now = tracker.clock.now() if now is None else now
        page = tracker.online(now, limit=1_000_000)
        live = tracker.live
        at = format_ts(now)
        rows: dict[str, VisitorSnapshot] = {}
        keys: dict[str, tuple[Any, ...]] = {}
        facts: dict[str, tuple[str, datetime | None, datetime | None, int]] = {}
        versions: dict[str, int] = {}
        for row in page.rows:
            activity = live.activity(row.visitor)
            last, left, count = activity if activity is not None else (None, None, 0)
            idle = last is not None and (now - last).total_seconds() > self.idle_after
            status = status_of(row, left=left is not None, idle=idle)
            said = _visitor_lines(live.events_of(row.visitor)) if row.chat != "none" else 0
            rows[row.visitor] = row
            keys[row.visitor] = (*_stable(row, status, left), said)
            facts[row.visitor] = (status, last, left, said)
            versions[row.visitor] = count
        queue = self._summary(now, page.rows)
        fresh: list[FeedEvent] = []
        with self._lock:
            entries: dict[str, dict[str, Any]] = {}
            for visitor, key in keys.items():
                if self._stable.get(visitor) == key:
                    # Unchanged: keep the entry of the last event so a snapshot matches the log.
                    entries[visitor] = self._entries[visitor]
                    continue
                status, last, left, said = facts[visitor]
                entry = {
                    "visitor": visitor,
                    "status": status,
                    "visitor_messages": said,
                    "active": format_ts(last) if last is not None else at,
                    "left_at": format_ts(left) if left is not None else None,
                    "at": at,
                    "row": rows[visitor].to_dict(),
                }
                entries[visitor] = entry
                self._seq += 1
                fresh.append(FeedEvent(self._seq, "upsert", dumps(entry), visitor, rows[visitor]))
            for visitor in self._entries:
                if visitor not in entries:
                    self._seq += 1
                    fresh.append(FeedEvent(self._seq, "remove", dumps({"visitor": visitor}), visitor))
            queue_key = _queue_stable(queue)
            if queue_key != self._queue_stable:
                self._seq += 1
                fresh.append(FeedEvent(self._seq, "queue", dumps(queue)))
                self._queue, self._queue_stable = queue, queue_key
            self._entries, self._rows, self._stable = entries, rows, keys
            self._order = [row.visitor for row in page.rows]
            changed_versions = versions != self._versions
            self._versions = versions
            self._at = now
            self._log.extend(fresh)
        if fresh or changed_versions:
            self.notifier.notify()
        return [(event.id, event.name, event.visitor) for event in fresh]

    def _summary(self, now: datetime, rows: Iterable[VisitorSnapshot]) -> dict[str, Any]:
        tracker = self.tracker
        waiting = tracker.waiting(now)
        pages: Counter[str] = Counter()
        titles: dict[str, str | None] = {}
        online = in_chat = 0
        for row in rows:
            online += 1
            if row.chat == "in_conversation":
                in_chat += 1
            if row.url is not None:
                pages[row.url] += 1
                titles.setdefault(row.url, row.title)
        top = sorted(pages.items(), key=lambda item: (-item[1], item[0]))[:_TOP_PAGES]
        return {
            "at": format_ts(now),
            "waiting": [item.to_dict() for item in waiting],
            "expected_wait": tracker.expected_wait(now),
            "agents": tracker.live.agents_online(now),
            "online": online,
            "in_chat": in_chat,
            "top_pages": [{"url": url, "title": titles[url], "visitors": n} for url, n in top],
        }

    # -- reading ------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The id of the newest event."""
        return self._seq

    def version(self, visitor: str) -> int:
        """How many events of ``visitor`` the last refresh saw (0 when not online)."""
        return self._versions.get(visitor, 0)

    def snapshot(self, filters: Filters) -> FeedEvent:
        """All current rows matching ``filters`` (newest activity first) and the queue,
        as one ``snapshot`` event numbered with the newest id."""
        with self._lock:
            rows = [self._entries[v] for v in self._order if filters.matches(self._rows[v])]
            data = {"rows": rows, "total": len(rows), "queue": self._queue,
                    "at": format_ts(self._at) if self._at is not None else None}
            return FeedEvent(self._seq, "snapshot", dumps(data))

    def events_after(self, last_id: int, filters: Filters) -> list[FeedEvent] | None:
        """The events after ``last_id`` as ``filters`` sees them; ``None`` when some of
        them are no longer in the log (or ``last_id`` is from another feed): send a snapshot."""
        with self._lock:
            if last_id > self._seq:
                return None
            if last_id == self._seq:
                return []
            if not self._log or self._log[0].id > last_id + 1:
                return None
            return [e.for_filters(filters) for e in self._log if e.id > last_id]
