"""Benchmark whoson against DuckDB and pandas on simulated logs; print one table.

    python bench/run.py                 # 10k, 100k and 1M events (make bench)
    python bench/run.py --quick         # stop at 100k, for development
    python bench/run.py --sizes 10k,50k --cases tracker,duckdb
    python bench/run.py --profile       # also profile load, record and the warm report

Every measurement runs in a fresh worker process (bench/cases.py), one after
the other, so they neither share memory nor compete for the two cores.
Results are also written to bench/out/results.json and bench/out/results.md.
See docs/performance.md for the method and a recorded run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cases import MARKER  # noqa: E402
from bench.figures import compare, from_plain  # noqa: E402
from bench.logs import DAYS, OUT, make_log, newest_ts  # noqa: E402
from bench.tables import goals, render  # noqa: E402

SIZE_CASES = (
    "tracker", "sql", "python", "sqlite", "sqlite_cold", "sqlite_again", "store", "record", "duckdb", "pandas",
)
ONCE_CASES = ("live", "rules")
ALL_CASES = SIZE_CASES + ONCE_CASES
# The older peers compute only the core figures (280 at 1M); run them with --cases.
DEFAULT_CASES = tuple(case for case in ALL_CASES if case not in ("duckdb", "pandas"))
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)


def parse_size(text: str) -> int:
    """``10k`` -> 10000, ``1M`` -> 1000000, ``2500`` -> 2500."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if factor > 1 else text
    return int(float(number) * factor)


def label(size: int) -> str:
    """1000000 -> ``1M``, 100000 -> ``100k``."""
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def note(message: str) -> None:
    """Progress on stderr, so stdout is only the table."""
    print(message, file=sys.stderr, flush=True)


def run_case(name: str, timeout: float, **kwargs: Any) -> dict[str, Any]:
    """Run one case in a fresh interpreter; its result, or ``{"error": ...}``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "bench.cases", name, json.dumps(kwargs)]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s", "wall_s": timeout}
    wall = time.perf_counter() - started
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            result["wall_s"] = wall
            return result
    lines = done.stderr.strip().splitlines() or ["no result and no error output"]
    return {"error": lines[-1], "wall_s": wall}


def _commit() -> str:
    """The checked-out commit, with ``+changes`` when src/ differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def _available(module: str) -> bool:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def cpu_share(results: dict[str, Any], once: dict[str, Any]) -> float | None:
    """CPU seconds per wall second over the single-threaded cases, weighted by time.

    Near 1 on a quiet machine; lower when other processes took the cores.
    DuckDB runs several threads and is left out.
    """
    runs = [(name, r) for per_size in results.values() for name, r in per_size.items()]
    runs += list(once.items())
    pairs = [
        (r["cpu_share"], r["wall_s"])
        for name, r in runs
        if name != "duckdb" and isinstance(r, dict) and "cpu_share" in r
    ]
    total = sum(wall for _, wall in pairs)
    return sum(share * wall for share, wall in pairs) / total if total else None


def check_figures(results: dict[str, Any]) -> dict[str, Any]:
    """Compare each peer's figures with whoson's; a list of mismatches per peer.

    The whole-report peers (``sql``, ``python``) are compared on every figure of
    the report, the older ones (``duckdb``, ``pandas``) on the core figures.
    """
    checks: dict[str, Any] = {}
    for peer, key in (("sql", "report"), ("python", "report"), ("duckdb", "figures"), ("pandas", "figures")):
        whoson = results.get("tracker", {}).get(key)
        theirs = results.get(peer, {}).get(key)
        if whoson is None or theirs is None:
            checks[peer] = None
            continue
        mismatches = compare(from_plain(whoson), from_plain(theirs))
        checks[peer] = {
            "figures": len(whoson),
            "mismatches": [str(m) for m in mismatches],
        }
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    """Build the logs, run every case, print the table; exit 1 on a figure mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10k and 100k only")
    parser.add_argument("--sizes", help="comma-separated log sizes, e.g. 10k,100k,1M")
    parser.add_argument("--cases", help=f"comma-separated subset of {','.join(ALL_CASES)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=DAYS, help="days the simulated log spans")
    parser.add_argument(
        "--record-budget",
        type=float,
        default=30.0,
        help="seconds of Tracker.record per size (stops early on big logs)",
    )
    parser.add_argument("--live-visitors", type=int, default=100_000)
    parser.add_argument("--rules-events", type=int, default=50_000)
    parser.add_argument(
        "--store-max",
        default="100k",
        help="largest size for the MemoryStore-only case (bytes per event are flat in size)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="per case, seconds")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile load, record and the warm full report (pyinstrument)",
    )
    args = parser.parse_args(argv)

    if args.sizes:
        sizes = sorted({parse_size(s) for s in args.sizes.split(",") if s.strip()})
    else:
        sizes = list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    cases = [c.strip() for c in args.cases.split(",")] if args.cases else list(DEFAULT_CASES)
    unknown = set(cases) - set(ALL_CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")

    began = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "load_before": os.getloadavg(),
        "seed": args.seed,
        "days": args.days,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "commit": _commit(),
    }
    note(f"whoson benchmark: sizes {', '.join(label(s) for s in sizes)}; load average {meta['load_before'][0]:.2f}")
    have = {
        "sqlite": _available("whoson.stores.sqlite"),
        "live": _available("whoson.live"),
        "rules": _available("whoson.rules"),
        "duckdb": _available("duckdb"),
        "ibis": _available("ibis") and _available("duckdb"),
        "pandas": _available("pandas"),
    }
    results: dict[str, dict[str, Any]] = {}
    logs: dict[int, Path] = {}
    for size in sizes:
        with_label = label(size)
        started = time.perf_counter()
        log = make_log(size, args.seed, args.days)
        logs[size] = log
        as_of = newest_ts(log)
        note(f"[{with_label}] log {log.name} ready in {time.perf_counter() - started:.1f} s (as_of {as_of})")
        per_size: dict[str, Any] = {"log": str(log), "as_of": as_of}
        db = OUT / f"bench-{with_label}.db"
        for case in SIZE_CASES:
            if case not in cases:
                continue
            needs = {
                "sqlite": "sqlite",
                "sqlite_cold": "sqlite",
                "sqlite_again": "sqlite",
                "sql": "ibis",
                "duckdb": "duckdb",
                "pandas": "pandas",
            }.get(case)
            if needs and not have[needs]:
                per_size[case] = {"error": f"not available ({needs} missing)"}
                continue
            if case == "store" and size > parse_size(args.store_max):
                per_size[case] = {"error": f"skipped above --store-max {args.store_max}"}
                continue
            if case in ("sqlite_cold", "sqlite_again") and "error" in per_size.get("sqlite", {"error": ""}):
                per_size[case] = {"error": "not available (no SQLite store was built)"}
                continue
            kwargs: dict[str, Any] = {
                "tracker": {"log": str(log), "as_of": as_of},
                "store": {"log": str(log)},
                "record": {"log": str(log), "budget": args.record_budget},
                "sqlite": {"log": str(log), "db": str(db)},
                "sqlite_cold": {"db": str(db), "as_of": as_of},
                "sqlite_again": {"db": str(db), "as_of": as_of},
                "sql": {"log": str(log), "as_of": as_of},
                "python": {"log": str(log), "as_of": as_of},
                "duckdb": {"log": str(log)},
                "pandas": {"log": str(log)},
            }[case]
            result = run_case(case, args.timeout, **kwargs)
            per_size[case] = result
            state = result.get("error") or "ok"
            note(f"[{with_label}] {case:<12} {result.get('wall_s', 0):6.1f} s  {state}")
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        per_size["checks"] = check_figures(per_size)
        results[with_label] = per_size

    largest = max(sizes)
    once: dict[str, Any] = {}
    if "live" in cases:
        once["live"] = (
            run_case("live", args.timeout, visitors=args.live_visitors)
            if have["live"]
            else {"error": "not available (whoson.live missing)"}
        )
        note(f"[live] online(now) {once['live'].get('wall_s', 0):.1f} s {once['live'].get('error') or 'ok'}")
    if "rules" in cases:
        once["rules"] = (
            run_case(
                "rules",
                args.timeout,
                log=str(logs[largest]),
                events=min(args.rules_events, largest),
            )
            if have["rules"]
            else {"error": "not available (whoson.rules missing)"}
        )
        note(f"[rules] 20 rules {once['rules'].get('wall_s', 0):.1f} s {once['rules'].get('error') or 'ok'}")

    profiles: list[dict[str, Any]] = []
    if args.profile:
        log = logs[largest]
        as_of = newest_ts(log)
        for what in ("load", "record", "report", "report_day", "memory"):
            # tracemalloc is slow; bytes per event are flat in size, so 100k events tell.
            events = min(largest, 100_000) if what == "memory" else 50_000
            result = run_case(
                "profile",
                args.timeout * 2,
                what=what,
                log=str(log),
                out_dir=str(OUT),
                as_of=as_of,
                label=label(largest) if what != "memory" else label(events),
                events=events,
            )
            profiles.append(result)
            note(f"[profile] {what} {result.get('wall_s', 0):.1f} s {result.get('error') or 'ok'}")

    meta["load_after"] = os.getloadavg()
    meta["cpu_share"] = cpu_share(results, once)
    meta["total_s"] = time.perf_counter() - began
    document = {
        "meta": meta,
        "sizes": results,
        "once": once,
        "profiles": profiles,
        "goals": goals(results, once),
    }
    text = render(document)
    print(text)
    (OUT / "results.json").write_text(json.dumps(document, indent=1, default=str))
    (OUT / "results.md").write_text(text + "\n")
    mismatch = any(
        check and check["mismatches"] for per_size in results.values() for check in per_size["checks"].values()
    )
    return 1 if mismatch else 0


if __name__ == "__main__":
    sys.exit(main())
