"""The duckdb engine against a hand-written DuckDB query, cold, side by side.

    PYTHONPATH=src:. python -m bench.engines [--size 1M] [--big 10M]

Every measurement runs in a fresh Python process (cold: new DuckDB, nothing
cached but the OS page cache) and reports wall time, CPU time (user + system,
all threads: the fairer figure on a shared machine) and peak resident memory:

- ``DuckDB, whole report``: bench/peer_sql.py, DuckDB's own ``read_json``
  (or ``read_parquet``) into a table plus every SQL statement of the whole
  report (the engine's queries, recorded from one engine run over that table
  and replayed raw): DuckDB's time for the whole report, no Python ingest;
- ``peer, jsonl``: bench/peer_duckdb.py, DuckDB's own ``read_ndjson`` plus
  the report's 280 core figures in hand-written SQL;
- ``duckdb engine, jsonl``: ``whoson.engines.report(log, "duckdb")``, which
  reads the log with the ingest rules (validation, duplicates, conflicts;
  bench/../whoson/engines/vectorlog.py) into an Arrow table, then runs the
  definition on DuckDB;
- ``export``: ``whoson export`` of the log to Parquet (once);
- ``duckdb engine, parquet`` and the peers on the export.

The whole reports of the engine and of the DuckDB peer are compared leaf by
leaf (counts and money exactly, rates to 1e-9), and the core figures of all
runs (bench/figures.py) with the hand-written peer's; any mismatch fails
the run. ``--big`` adds the
engine alone on a larger Parquet export, generated straight from the
simulator in chunks (the peer's JSON log would be too big to be worth it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.figures import compare, from_plain, to_plain, whoson_figures
from bench.logs import OUT, make_log

__all__ = ["main", "make_parquet", "measure"]

ROOT = Path(__file__).resolve().parent.parent


def _newest(path: str) -> str:
    if os.path.isdir(path):
        from whoson.engines.command import newest_ts

        newest = newest_ts(path)
        assert newest is not None
        return newest.isoformat()
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    quoted = path.replace("'", "''")
    row = con.execute(
        f"SELECT max(ts) FROM read_ndjson('{quoted}', columns = {{'ts': 'TIMESTAMPTZ'}})"
    ).fetchone()
    assert row is not None
    moment: datetime = row[0]
    return moment.astimezone(UTC).isoformat()


def _child(mode: str, path: str, extra: str) -> dict[str, Any]:
    """Run one measurement in this (fresh) process; print its result as JSON."""
    import resource

    started = time.perf_counter()
    out: dict[str, Any] = {"mode": mode}
    if mode == "peer":
        from bench import peer_duckdb

        con = peer_duckdb.connect()
        if os.path.isdir(path):
            columns = ", ".join(f'"{name}"::{kind} AS "{name}"' for name, kind in peer_duckdb.COLUMNS.items())
            pattern = os.path.join(path, "**", "*.parquet").replace("'", "''")
            con.execute(f"CREATE OR REPLACE TABLE ev AS SELECT {columns} FROM read_parquet('{pattern}')")
        else:
            peer_duckdb.load(con, path)
        out["figures"] = to_plain(peer_duckdb.figures(con))
    elif mode == "whole":
        from bench import peer_sql

        con = peer_sql.connect()
        began, cpu = time.perf_counter(), time.process_time()
        if os.path.isdir(path):
            pattern = os.path.join(path, "**", "*.parquet").replace("'", "''")
            names = ", ".join(f'"{name}"' for name in peer_sql.columns())
            con.raw_sql(f"CREATE TABLE events AS SELECT {names}, CAST(NULL AS VARCHAR) AS extra "
                        f"FROM read_parquet('{pattern}')").fetchall()
            table = con.table("events")
        else:
            con, table, _ = peer_sql.load(path, con)
        loaded, loaded_cpu = time.perf_counter() - began, time.process_time() - cpu
        raw = con.con
        recorder = peer_sql.Recorder(raw)
        con.con = recorder
        try:
            result = peer_sql.report(con, table, datetime.fromisoformat(extra))
        finally:
            con.con = raw
        began, cpu = time.perf_counter(), time.process_time()
        peer_sql.replay(raw, recorder.script)
        out["duckdb_seconds"] = loaded + time.perf_counter() - began
        out["duckdb_cpu"] = loaded_cpu + time.process_time() - cpu
        out["figures"] = to_plain(whoson_figures(result))
        out["report"] = json.loads(json.dumps(result.to_dict(), default=str))
    elif mode == "engine":
        from whoson.engines import report

        result = report(path, "duckdb", as_of=extra)
        out["figures"] = to_plain(whoson_figures(result))
        out["report"] = json.loads(json.dumps(result.to_dict(), default=str))
    elif mode == "export":
        from whoson.engines.parquet import export

        out["written"] = export(path, extra).written
    out["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu"] = usage.ru_utime + usage.ru_stime
    out["peak_mib"] = usage.ru_maxrss / 1024
    return out


def measure(mode: str, path: str, extra: str = "") -> dict[str, Any]:
    """One cold measurement in a child process."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.engines", "--child", mode, path, extra],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{mode} {path}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def make_parquet(size: int, directory: Path, seed: int = 1, chunk: int = 500_000) -> int:
    """Simulated events straight into a Parquet export, ``chunk`` events at a time.

    The simulator's events are valid and their ids unique, so this skips the
    export's de-duplication (which would hold every event in memory).
    """
    from itertools import islice

    from whoson.core.parsing import parse_event
    from whoson.core.settings import RatingScale
    from whoson.engines.parquet import _write, _write_settings
    from whoson.sim import simulate, visitors_for_events

    stream = islice(simulate(visitors=visitors_for_events(size, 30), days=30, seed=seed), size)
    written = 0
    while True:
        batch = [parse_event(raw) for raw in islice(stream, chunk)]
        if not batch:
            break
        _write(batch, str(directory))
        written += len(batch)
        print(f"  {written} events", file=sys.stderr, flush=True)
    _write_settings(str(directory), RatingScale(), None)
    return written


def _parse_size(text: str) -> int:
    text = text.strip().upper()
    factor = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * factor)


def _row(label: str, result: dict[str, Any]) -> str:
    if "duckdb_seconds" in result:  # DuckDB's own time, inside a process that also ran the engine
        return f"| {label} | {result['duckdb_seconds']:.2f} s | {result['duckdb_cpu']:.2f} s | |"
    return f"| {label} | {result['seconds']:.2f} s | {result['cpu']:.2f} s | {result['peak_mib']:.0f} MiB |"


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _leaves(item, f"{path}.{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _leaves(item, f"{path}[{i}]").items()}
    return {path: value}


def report_mismatches(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Leaves of two report dicts that differ (rates to 1e-9; ``currency`` aside: a log settles
    it, an export's settings may not name it)."""
    ours, theirs = _leaves(expected), _leaves(actual)
    found = []
    for key in sorted(set(ours) | set(theirs)):
        if key == ".currency":
            continue
        a, b = ours.get(key, "<missing>"), theirs.get(key, "<missing>")
        close = isinstance(a, float) and isinstance(b, float) and abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
        if close:
            continue
        if a != b:
            found.append(f"{key}: {a!r} != {b!r}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and print a Markdown table of the results."""
    parser = argparse.ArgumentParser(prog="bench.engines")
    parser.add_argument("--size", default="1M")
    parser.add_argument("--big", default=None, help="also the engine on a Parquet export this big")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return 0
    size = _parse_size(args.size)
    log = str(make_log(size))
    parquet = OUT / f"parquet-{size}"
    if not parquet.exists():
        export_run = measure("export", log, str(parquet))
        print(_row(f"export {size:,} events to Parquet", export_run))
    as_of = _newest(log)
    rows = []
    results = {}
    for label, mode, source in (
        ("DuckDB, whole report (read_json + the report's SQL)", "whole", log),
        ("duckdb engine, jsonl", "engine", log),
        ("peer (hand-written DuckDB SQL, 280 figures), jsonl", "peer", log),
        ("DuckDB, whole report (read_parquet + the report's SQL)", "whole", str(parquet)),
        ("duckdb engine, parquet", "engine", str(parquet)),
        ("peer (hand-written DuckDB SQL, 280 figures), parquet", "peer", str(parquet)),
    ):
        result = measure(mode, source, as_of)
        results[label] = result
        rows.append(_row(f"{label}, {size:,} events", result))
    print("| run | wall time (cold) | CPU time | peak memory |\n|---|---|---|---|")
    print("\n".join(rows))
    peer = from_plain(results["peer (hand-written DuckDB SQL, 280 figures), jsonl"]["figures"])
    failures = 0
    whole = results["DuckDB, whole report (read_json + the report's SQL)"]["report"]
    for label, result in results.items():
        if "report" in result:
            different = report_mismatches(whole, result["report"])
            print(f"{label}: whole report, {len(_leaves(whole))} leaves, {len(different)} mismatches")
            for mismatch in different[:10]:
                print(f"  {mismatch}")
            failures += len(different)
    for label, result in results.items():
        mismatches = compare(peer, from_plain(result["figures"]))
        print(f"{label}: {len(peer)} figures, {len(mismatches)} mismatches")
        for mismatch in mismatches[:10]:
            print(f"  {mismatch}")
        failures += len(mismatches)
    if args.big:
        big = _parse_size(args.big)
        directory = OUT / f"parquet-{big}"
        if not directory.exists():
            started = time.perf_counter()
            make_parquet(big, directory)
            print(f"generated {big:,} events as Parquet in {time.perf_counter() - started:.0f} s")
        result = measure("engine", str(directory), _newest(str(directory)))
        print(_row(f"duckdb engine, parquet, {big:,} events", result))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
