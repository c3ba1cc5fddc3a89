"""``python -m whoson.demo --db demo.db``: a simulated shop week, its report, and who's on.

Simulates a week of the shop of :mod:`whoson.sim` into an embedded SQLite
store, prints the report, then replays "who's on" at the busiest minute of
the week. Event ids are deterministic, so running it again on the same file
only finds duplicates and prints the same figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from whoson.cli.live import render_live, replay
from whoson.cli.render import render_report
from whoson.clock import FixedClock
from whoson.core.time import format_ts, parse_ts
from whoson.live import LiveConfig, format_duration
from whoson.sim import simulate
from whoson.sim.engine import DEFAULT_START
from whoson.tracker import Tracker

__all__ = ["busiest_minute", "main"]

_ACTIVITY = frozenset({"page_view", "heartbeat"})


class _Watch:
    """Counts the visitors active in each minute while events stream past."""

    def __init__(self, progress: bool = False) -> None:
        self.active: dict[str, set[str]] = {}
        self.newest = ""
        self.seen = 0
        self.progress = progress

    def __call__(self, events: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for event in events:
            visitor = event.get("visitor")
            if visitor is not None and event["type"] in _ACTIVITY:
                self.active.setdefault(event["ts"][:16], set()).add(visitor)
            self.newest = max(self.newest, event["ts"])
            self.seen += 1
            if self.progress and self.seen % 10_000 == 0:
                print(f"\r  {self.seen:,} events ...", end="", file=sys.stderr, flush=True)
            yield event
        if self.progress and self.seen >= 10_000:
            print("\r" + " " * 30 + "\r", end="", file=sys.stderr, flush=True)


def busiest_minute(events: Iterable[dict[str, Any]]) -> datetime | None:
    """The end of the minute with the most visitors present (a page view or heartbeat then
    or in the minute before: presence lasts 120 s).

    >>> log = [
    ...     {"type": "page_view", "ts": "2026-03-02T10:00:05Z", "visitor": "a"},
    ...     {"type": "heartbeat", "ts": "2026-03-02T10:01:05Z", "visitor": "a"},
    ...     {"type": "page_view", "ts": "2026-03-02T10:01:30Z", "visitor": "b"},
    ... ]
    >>> busiest_minute(log).isoformat()
    '2026-03-02T10:01:59+00:00'
    >>> busiest_minute([]) is None
    True
    """
    watch = _Watch()
    for _ in watch(events):
        pass
    return _busiest(watch)


def _busiest(watch: _Watch) -> datetime | None:
    if not watch.active:
        return None

    def present(minute: str) -> int:
        # Presence lasts 120 s, so the previous minute's visitors are still there too.
        before = format_ts(parse_ts(minute + ":00Z") - timedelta(minutes=1))[:16]
        return len(watch.active[minute] | watch.active.get(before, set()))

    best = max(watch.active, key=lambda m: (present(m), m))
    return parse_ts(best + ":59Z")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m whoson.demo",
        description="Simulate a shop week into SQLite, print its report and who's on.",
    )
    parser.add_argument("--db", default="demo.db", help="SQLite file to fill (default demo.db)")
    parser.add_argument("--visitors", type=int, default=5000, help="visitors (default 5000)")
    parser.add_argument("--days", type=int, default=7, help="days (default 7)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--limit", type=int, default=12, help="who's-on rows shown (default 12)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    clock = FixedClock(datetime.combine(DEFAULT_START, datetime.min.time(), tzinfo=UTC))
    url = f"sqlite:///{Path(args.db).resolve()}"
    watch = _Watch(progress=sys.stderr.isatty())
    with Tracker.open(url, clock=clock) as tracker:
        print(f"Simulating {args.visitors} visitors over {args.days} days into {args.db} ...")
        result = tracker.record_many(watch(simulate(args.visitors, args.days, args.seed, DEFAULT_START)))
        print(
            f"{watch.seen} events: {result.accepted} recorded, {result.duplicates} already "
            f"there, {result.rejected} rejected ({time.perf_counter() - began:.1f} s)\n"
        )
        if watch.newest:
            clock.set(parse_ts(watch.newest))
        print(render_report(tracker.report()))
        busy = _busiest(watch)
        if busy is None:
            return 0
        # Who's on is a replay: the live view of the events up to that minute.
        stored = tracker.store.read(end=busy + timedelta(microseconds=1), order="time")
        view = replay((item.event for item in stored), busy, LiveConfig())
    print(f"\nWho's on at the busiest minute, {format_ts(busy)}:")
    print(render_live(view.online(busy, limit=args.limit)))
    chatting = view.online(busy, in_chat=True, limit=args.limit)
    if chatting.rows:
        print("\nOf them, in a chat or waiting for one:")
        print(render_live(chatting))
    wait = view.expected_wait(busy)
    print(
        f"\nWaiting for an agent: {len(view.waiting(busy))}; expected wait for a new "
        f"request: {format_duration(wait) if wait is not None else '-'}"
    )
    print(f"\nDone in {time.perf_counter() - began:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
