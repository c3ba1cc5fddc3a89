"""Child process of the crash test: append big batches to a SQLite store forever.

Usage: ``python -m tests.stores.crash_writer PATH BATCH_SIZE``. Prints
``inserting N`` when the transaction of batch N starts inserting rows and
``ack N`` once the append returned. Batch N holds the ids ``bN-0`` ..
``bN-{size-1}``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from whoson.core.events import HeartbeatEvent
from whoson.stores.sqlite import SQLiteStore

BASE = datetime(2026, 3, 1, tzinfo=UTC)


def main(path: str, size: int) -> None:
    store = SQLiteStore(path)
    batch = len(store) // size
    told: set[int] = set()

    def trace(statement: str) -> None:
        # Tells the parent the batch's rows are being written, inside its transaction.
        if statement.startswith("INSERT INTO events") and batch not in told:
            told.add(batch)
            print(f"inserting {batch}", flush=True)

    assert store._db is not None
    store._db.set_trace_callback(trace)
    while True:
        events = [
            HeartbeatEvent(id=f"b{batch}-{i}", ts=BASE + timedelta(seconds=i),
                           visitor=f"v{i % 100}", url="/")
            for i in range(size)
        ]
        store.append(events)
        print(f"ack {batch}", flush=True)
        batch += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
