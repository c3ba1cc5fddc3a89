"""Event logs for the benchmark: simulated once, cached under bench/out/.

A log is keyed by its size, seed, number of days and a hash of the
simulator's source, so a changed simulator never serves a stale log.
"""

from __future__ import annotations

import hashlib
import math
import os
from itertools import islice
from pathlib import Path

__all__ = ["DAYS", "OUT", "log_path", "make_log", "newest_ts", "simulator_hash"]

OUT = Path(__file__).resolve().parent / "out"
DAYS = 30


def simulator_hash() -> str:
    """First 10 hex digits of a hash over the simulator's source files."""
    import whoson.sim

    digest = hashlib.sha256()
    folder = Path(whoson.sim.__file__).resolve().parent
    for source in sorted(folder.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:10]


def log_path(size: int, seed: int, days: int = DAYS) -> Path:
    """Where the log of ``size`` events lives in the cache."""
    return OUT / f"log-{size}-s{seed}-d{days}-{simulator_hash()}.jsonl"


def _write(path: Path, size: int, seed: int, days: int, visitors: int) -> int:
    from whoson.logfile import write_log
    from whoson.sim import simulate

    partial = path.with_suffix(".partial")
    count = write_log(partial, islice(simulate(visitors=visitors, days=days, seed=seed), size))
    if count == size:
        os.replace(partial, path)
    else:
        partial.unlink()
    return count


def make_log(size: int, seed: int = 1, days: int = DAYS) -> Path:
    """The cached log of exactly ``size`` events (the first ones of a simulated run).

    The run's visitor count comes from :func:`whoson.sim.visitors_for_events`;
    should the run still come out short, it is redone with more visitors.
    """
    from whoson.sim import visitors_for_events

    path = log_path(size, seed, days)
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    visitors = max(1, visitors_for_events(size, days))
    for _ in range(5):
        count = _write(path, size, seed, days, visitors)
        if count == size:
            return path
        visitors = math.ceil(visitors * size / max(count, 1) * 1.1)
    raise RuntimeError(f"the simulator could not produce {size} events")


def newest_ts(path: Path) -> str:
    """The ``ts`` of the log's last line (simulated logs are in ``(ts, id)`` order).

    That is the CLI's default ``as_of`` for a log: the newest event's time.
    """
    from whoson.codec import loads

    with open(path, "rb") as stream:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(max(0, size - 65536))
        lines = [line for line in stream.read().splitlines() if line.strip()]
    ts = loads(lines[-1])["ts"]
    assert isinstance(ts, str)
    return ts
