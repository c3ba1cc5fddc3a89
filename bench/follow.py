"""What following a shared store costs: catch-up latency between processes, no-op catch-up.

Run from the repository root::

    PYTHONPATH=src python bench/follow.py sqlite            # a temporary SQLite file
    PYTHONPATH=src python bench/follow.py 'postgresql://...' # an existing PostgreSQL database

Process A records one page view every 20 ms and notes when each append
returned; this process (B) waits in ``Tracker.changes()`` and notes when it
saw each position. Latency = seen - committed. Then it times a no-op
catch-up (a query with nothing new: ``Tracker._sync``) and a 16,000-message
request recorded one event at a time (SQLite only).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from whoson import FixedClock, Tracker

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
EVENTS = 200


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _writer(url: str, go: Any, out: Any) -> None:
    with Tracker.open(url, clock=FixedClock(T0)) as tracker:
        go.wait(60)
        for i in range(EVENTS):
            tracker.record({"id": f"p{i}", "type": "page_view", "ts": _stamp(T0 + timedelta(seconds=i)),
                            "visitor": f"v{i % 50}", "url": "/"})
            out.put((tracker.position, time.time()))
            time.sleep(0.02)


def latency(url: str) -> list[float]:
    """Seconds from A's append returning to B's changes() returning, per event."""
    context = multiprocessing.get_context("spawn")
    go, out = context.Event(), context.Queue()
    seen: dict[int, float] = {}
    with Tracker.open(url, clock=FixedClock(T0)) as tracker:
        start = tracker.position
        child = context.Process(target=_writer, args=(url, go, out))
        child.start()
        go.set()
        position = start
        while position < start + EVENTS:
            new = tracker.changes(position, timeout=10)
            now = time.time()
            for p in range(position + 1, new + 1):
                seen[p] = now
            position = new
        committed = dict(out.get(timeout=60) for _ in range(EVENTS))
        child.join(60)
    return sorted(seen[p] - committed[p] for p in committed)


def noop_cost(url: str, rounds: int = 20000) -> tuple[float, float]:
    """Microseconds of a no-op catch-up, and of a store.position look, on a store with events."""
    with Tracker.open(url, clock=FixedClock(T0)) as tracker:
        sync = tracker._sync
        begin = time.perf_counter()
        for _ in range(rounds):
            sync()
        per_sync = (time.perf_counter() - begin) / rounds * 1e6
        store = tracker.store
        begin = time.perf_counter()
        for _ in range(rounds):
            store.position  # noqa: B018
        per_position = (time.perf_counter() - begin) / rounds * 1e6
    return per_sync, per_position


def long_request(count: int = 16000) -> float:
    """Seconds to record ``count`` messages of one request one by one into SQLite."""
    path = os.path.join(tempfile.mkdtemp(), "long.db")
    with Tracker.open(f"sqlite:///{path}", clock=FixedClock(T0 + timedelta(days=1))) as tracker:
        tracker.record({"id": "r", "type": "request", "ts": _stamp(T0), "visitor": "v", "request": "r",
                        "channel": "text", "initiator": "visitor"})
        begin = time.perf_counter()
        for i in range(count):
            tracker.record({"id": f"m{i}", "type": "message", "ts": _stamp(T0 + timedelta(milliseconds=i)),
                            "visitor": "v", "request": "r", "sender": "visitor"})
        return time.perf_counter() - begin


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    url = f"sqlite:///{os.path.join(tempfile.mkdtemp(), 'follow.db')}" if target == "sqlite" else target
    waits = latency(url)
    p50, p95 = statistics.median(waits), waits[int(0.95 * (len(waits) - 1))]
    print(f"catch-up latency over {len(waits)} events: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    per_sync, per_position = noop_cost(url)
    print(f"no-op catch-up: {per_sync:.1f} us (store.position alone: {per_position:.1f} us)")
    if target == "sqlite":
        print(f"16,000 messages of one request, one record() each: {long_request():.1f} s")


if __name__ == "__main__":
    main()
