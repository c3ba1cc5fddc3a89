"""pyinstrument profiles of the whoson paths the goals are about.

Each profile is saved under bench/out/ as a call tree and as flat self-time
and total-time lists; the case returns the top functions with their share of
the profiled wall time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["case_profile", "top_functions"]


def _label(frame: Any) -> tuple[str, str]:
    where = f"{frame.file_path_short}:{frame.line_no}" if frame.line_no else frame.file_path_short
    function = f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function
    return function, where


def aggregate(root: Any) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """Self and total seconds per function over a pyinstrument frame tree.

    Self time is the frame's own samples; total time counts a function once
    per call chain (a recursive call is not counted twice).
    """
    own: dict[tuple[str, str], float] = {}
    total: dict[tuple[str, str], float] = {}
    stack: list[tuple[Any, frozenset[tuple[str, str]]]] = [(root, frozenset())]
    while stack:
        frame, above = stack.pop()
        if frame.is_synthetic:
            continue
        key = _label(frame)
        own[key] = own.get(key, 0.0) + frame.total_self_time
        if key not in above:
            total[key] = total.get(key, 0.0) + frame.time
        inner = above | {key}
        stack.extend((child, inner) for child in frame.children)
    return own, total


def top_functions(seconds: dict[tuple[str, str], float], duration: float, limit: int = 15) -> list[dict[str, Any]]:
    """The ``limit`` largest entries as ``[{function, where, seconds, share}]``.

    >>> top = top_functions({("parse", "a.py:1"): 0.5, ("add", "b.py:2"): 0.25}, 1.0)
    >>> [(f["function"], f["share"]) for f in top]
    [('parse', 0.5), ('add', 0.25)]
    """
    ranked = sorted(seconds.items(), key=lambda item: -item[1])[:limit]
    return [
        {
            "function": function,
            "where": where,
            "seconds": value,
            "share": value / duration if duration else None,
        }
        for (function, where), value in ranked
    ]


def _profiled(name: str, out_dir: str, action: Any) -> dict[str, Any]:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    action()
    session = profiler.stop()
    duration = session.duration
    own, total = aggregate(session.root_frame())
    tree = profiler.output_text(show_all=False)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [tree, "", "# self time per function"]
    lines += [
        f"{f['seconds']:9.3f}  {f['share']:6.1%}  {f['function']}  {f['where']}"
        for f in top_functions(own, duration, limit=60)
    ]
    (folder / f"profile-{name}.txt").write_text("\n".join(lines) + "\n")
    return {
        "name": name,
        "seconds": duration,
        "self": top_functions(own, duration),
        "steps": top_functions(_steps(total), duration),
        "file": str(folder / f"profile-{name}.txt"),
    }


# Wrappers whose inclusive time is the whole profile, left out of the steps.
_WRAPPERS = {"Tracker.load", "flush", "Tracker.record", "Tracker.report", "record_all"}


def _steps(total: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """Inclusive time of whoson's own functions: which steps the time goes to."""
    return {key: seconds for key, seconds in total.items() if key[1].startswith("whoson/") and key[0] not in _WRAPPERS}


def _memory(log: str, events: int, out_dir: str, name: str) -> dict[str, Any]:
    """tracemalloc: which source lines allocated the memory a loaded Tracker holds."""
    import gc
    import tracemalloc
    from itertools import islice

    from bench.cases import CURRENCY
    from whoson import Tracker

    with open(log, "rb") as lines:
        head = b"".join(islice(lines, events))
    path = Path(out_dir) / f"memory-head-{events}.jsonl"
    path.write_bytes(head)
    tracemalloc.start()
    tracker = Tracker(currency=CURRENCY)
    loaded = tracker.load(path).accepted
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    path.unlink()
    stats = snapshot.statistics("lineno")
    held = sum(stat.size for stat in stats)
    top = [
        {
            "function": f"{stat.traceback[0].filename.split('/src/')[-1]}:{stat.traceback[0].lineno}",
            "where": f"{stat.count / loaded:.2f} objects/event",
            "seconds": stat.size / loaded,  # bytes per event, in the seconds slot of the table
            "share": stat.size / held,
        }
        for stat in stats[:15]
    ]
    text = [f"{loaded} events, {held / loaded:.0f} traced bytes per event", ""]
    text += [f"{t['seconds']:8.1f} B/event  {t['share']:6.1%}  {t['where']}  {t['function']}" for t in top]
    (Path(out_dir) / f"profile-{name}.txt").write_text("\n".join(text) + "\n")
    return {
        "name": name,
        "seconds": 0.0,
        "bytes_per_event": held / loaded,
        "self": top,
        "file": str(Path(out_dir) / f"profile-{name}.txt"),
    }


def case_profile(
    what: str,
    log: str,
    out_dir: str,
    as_of: str | None = None,
    events: int = 50_000,
    label: str = "",
) -> dict[str, Any]:
    """Profile ``load`` (JSONL -> tracker), ``record`` (one by one), ``report`` (warm, full
    range) or ``report_day`` (warm, last 24 hours)."""
    from bench.cases import CURRENCY
    from whoson import Tracker

    name = f"{what}-{label}" if label else what
    if what == "memory":
        return _memory(log, events, out_dir, name)
    if what == "load":
        tracker = Tracker(currency=CURRENCY)
        return _profiled(name, out_dir, lambda: tracker.load(log))
    if what == "record":
        from itertools import islice

        from whoson.codec import loads

        with open(log, "rb") as lines:
            raws = [loads(line) for line in islice(lines, events)]
        tracker = Tracker(currency=CURRENCY)
        tracker.online(datetime(2026, 3, 2, tzinfo=UTC))  # live view on, as in the record case

        def record_all() -> None:
            for raw in raws:
                tracker.record(raw)

        return _profiled(name, out_dir, record_all)
    if what in ("report", "report_day"):
        assert as_of is not None
        moment = datetime.fromisoformat(as_of.replace("Z", "+00:00")).astimezone(UTC)
        start = moment - timedelta(days=1) if what == "report_day" else None  # last 24 h
        tracker = Tracker(currency=CURRENCY)
        tracker.load(log)
        tracker.report(start, as_of=moment)
        return _profiled(name, out_dir, lambda: tracker.report(start, as_of=moment))
    raise ValueError(f"unknown profile {what!r}")
