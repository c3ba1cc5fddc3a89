"""pyinstrument profiles of the whoson paths the goals are about.

Each profile is saved under bench/out/ as a call tree and as flat self-time
and total-time lists; the case returns the top functions with their share of
the profiled wall time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["case_profile", "top_functions"]

_LINE = re.compile(r"^(\d+\.\d+) (.+?)  (.+)$")


def top_functions(flat_text: str, duration: float, limit: int = 15) -> list[dict[str, Any]]:
    """Parse pyinstrument's flat text output into ``[{function, where, seconds, share}]``.

    >>> text = "header\\n\\n0.5000 parse  whoson/core/events.py:10\\n0.2500 [self]  x.py\\n"
    >>> [(f["function"], f["share"]) for f in top_functions(text, 1.0)]
    [('parse', 0.5), ('[self]', 0.25)]
    """
    found = []
    for line in flat_text.splitlines():
        match = _LINE.match(line.strip())
        if match:
            seconds = float(match.group(1))
            found.append(
                {
                    "function": match.group(2),
                    "where": match.group(3),
                    "seconds": seconds,
                    "share": seconds / duration if duration else None,
                }
            )
    return found[:limit]


def _profiled(name: str, out_dir: str, action: Any) -> dict[str, Any]:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    action()
    session = profiler.stop()
    duration = session.duration
    tree = profiler.output_text(show_all=False)
    flat_self = profiler.output_text(flat=True, flat_time="self")
    flat_total = profiler.output_text(flat=True, flat_time="total")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"profile-{name}.txt").write_text(
        tree + "\n\n# flat, self time\n" + flat_self + "\n\n# flat, total time\n" + flat_total
    )
    return {
        "name": name,
        "seconds": duration,
        "self": top_functions(flat_self, duration),
        "total": top_functions(flat_total, duration, limit=40),
        "file": str(folder / f"profile-{name}.txt"),
    }


def case_profile(
    what: str,
    log: str,
    out_dir: str,
    as_of: str | None = None,
    events: int = 50_000,
    label: str = "",
) -> dict[str, Any]:
    """Profile ``load`` (JSONL -> tracker), ``record`` (one by one) or ``report`` (warm, full)."""
    from bench.cases import CURRENCY
    from whoson import Tracker

    name = f"{what}-{label}" if label else what
    if what == "load":
        tracker = Tracker(currency=CURRENCY)
        return _profiled(name, out_dir, lambda: tracker.load(log))
    if what == "record":
        from itertools import islice

        from whoson.codec import loads

        with open(log, "rb") as lines:
            raws = [loads(line) for line in islice(lines, events)]
        tracker = Tracker(currency=CURRENCY)

        def record_all() -> None:
            for raw in raws:
                tracker.record(raw)

        return _profiled(name, out_dir, record_all)
    if what == "report":
        assert as_of is not None
        moment = datetime.fromisoformat(as_of.replace("Z", "+00:00")).astimezone(UTC)
        tracker = Tracker(currency=CURRENCY)
        tracker.load(log)
        tracker.report(as_of=moment)
        return _profiled(name, out_dir, lambda: tracker.report(as_of=moment))
    raise ValueError(f"unknown profile {what!r}")
