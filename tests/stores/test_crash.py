"""A SQLite writer killed mid-batch loses no acknowledged batch and leaves no partial one."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

from whoson.stores.sqlite import SQLiteStore

SIZE = 20_000
ROOT = Path(__file__).resolve().parents[2]


def _acks(lines: list[str]) -> int:
    """How many batches the writer acknowledged, from its output lines."""
    return max([0, *(int(line.split()[1]) + 1 for line in lines if line.startswith("ack"))])


def _run_until_killed(path: Path, acks_wanted: int) -> tuple[int, bool]:
    """Run the writer, SIGKILL it while it inserts a batch; return (acks, killed mid-batch)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.stores.crash_writer", str(path), str(SIZE)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    lines: list[str] = []
    sent = False
    try:
        for line in child.stdout:
            lines.append(line)
            if line.startswith("inserting") and _acks(lines) >= acks_wanted:
                # Rows of this batch are being inserted, inside its transaction.
                time.sleep(0.01)
                child.send_signal(signal.SIGKILL)
                sent = True
                break
    finally:
        child.kill()
        child.wait()
    tail = child.stdout.read().splitlines()
    child.stdout.close()
    # Killed mid-batch: the signal went out while inserting, and no ack followed it.
    return _acks(lines + tail), sent and not any(line.startswith("ack") for line in tail)


class TestCrash:
    """Killing the writing process never loses or splits a batch."""

    def test_sigkill_mid_batch(self, tmp_path: Path) -> None:
        """After each kill, the store holds every acknowledged batch, whole, and no partial one."""
        path = tmp_path / "crash.db"
        batches = 0
        for round_ in range(2):
            acked, killed = _run_until_killed(path, acks_wanted=batches + 1)
            assert killed, f"round {round_}: the writer was not killed inside a batch"
            with SQLiteStore(path) as store:
                count = len(store)
            # Read the rows directly: decoding 40k events would only slow the test down.
            with closing(sqlite3.connect(path)) as db:
                rows = db.execute("SELECT position, id FROM events ORDER BY position").fetchall()
            assert count % SIZE == 0, f"round {round_}: {count} events is a partial batch"
            assert count >= acked * SIZE
            batches = count // SIZE
            per_batch = Counter(event_id.split("-")[0] for _, event_id in rows)
            assert {f"b{n}": SIZE for n in range(batches)} == dict(per_batch)
            assert list(range(1, count + 1)) == [position for position, _ in rows]
