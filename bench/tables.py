"""The benchmark's printed table (Markdown) and the goal verdicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["PEERS", "goals", "render"]

# (result key, what is compared): the whole report first, then the older core-figure peers.
PEERS = (
    ("sql", "DuckDB (the duckdb engine's SQL), whole report"),
    ("python", "plain Python (tests/reference.py, indexed), whole report"),
    ("duckdb", "DuckDB hand-written SQL, 280 core figures"),
    ("pandas", "pandas, core figures"),
)

Results = dict[str, dict[str, Any]]


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _rate(value: Any) -> str:
    if value is None:
        return "-"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.2f}M"
    if value >= 1_000:
        return f"{value / 1_000:.1f}k"
    return f"{value:.0f}"


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{value:.2f} s" if value >= 1 else f"{value * 1000:.0f} ms"


def _ms(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.3f} ms" if value < 0.01 else f"{value * 1000:.1f} ms"


def _mb(value: Any) -> str:
    return "-" if value is None else f"{value / 2**20:.0f} MB"


def _bytes(value: Any) -> str:
    return "-" if value is None else f"{value:.0f} B"


def _ratio(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.4f}x"


def _div(a: Any, b: Any) -> float | None:
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None


def _cell(result: Any, render: Callable[[Any], str], *path: str) -> str:
    if isinstance(result, dict) and "error" in result:
        return "n/a"
    return render(_get(result, *path))


def _at(case: str, render: Callable[[Any], str], *path: str) -> Callable[[dict[str, Any]], str]:
    """A row's cell for one size: ``case``'s value at ``path``, rendered."""
    return lambda r: _cell(r.get(case), render, *path)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _record_cell(result: Any) -> str:
    if not isinstance(result, dict) or "error" in result:
        return "n/a"
    text = _rate(result.get("rate"))
    return text


def _ingest(sizes: Results) -> list[str]:
    labels = list(sizes)
    row_specs: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        (
            "JSONL → Tracker, memory store (events/s)",
            _at("tracker", _rate, "rate"),
        ),
        ("  peak RSS of that process", _at("tracker", _mb, "peak_rss")),
        (
            "  held per event: store + projection",
            _at("tracker", _bytes, "bytes_per_event"),
        ),
        (
            "JSONL → MemoryStore only, no projection (events/s)",
            _at("store", _rate, "rate"),
        ),
        (
            "  held per event: store only",
            _at("store", _bytes, "bytes_per_event"),
        ),
        (
            "`whoson ingest` JSONL → SQLite store (events/s)",
            _at("sqlite", _rate, "rate"),
        ),
        (
            "  SQLite file per event",
            _at("sqlite", _bytes, "file_bytes_per_event"),
        ),
        (
            "  DuckDB file per event (the SQL peer's table, every column)",
            _at("sql", _bytes, "table_bytes_per_event"),
        ),
        ("Tracker.record, one event at a time, live view on (events/s)", lambda r: _record_cell(r.get("record"))),
        (
            "  events recorded in the time budget",
            lambda r: _cell(r.get("record"), lambda v: "-" if v is None else f"{v:,}", "events"),
        ),
        (
            "DuckDB read_json → table, every column (rows/s)",
            lambda r: _rate(_div(_get(r, "sql", "rows"), _get(r, "sql", "load_s"))),
        ),
        (
            "plain Python: whoson's parser into a list (rows/s)",
            lambda r: _rate(_div(_get(r, "python", "rows"), _get(r, "python", "load_s"))),
        ),
    ]
    if any("duckdb" in sizes[size] for size in labels):
        row_specs.append((
            "DuckDB read_ndjson → table, 13 columns (rows/s)",
            lambda r: _rate(_div(_get(r, "duckdb", "rows"), _get(r, "duckdb", "load_s"))),
        ))
    if any("pandas" in sizes[size] for size in labels):
        row_specs.append((
            "pandas read_json(lines=True) (rows/s)",
            lambda r: _rate(_div(_get(r, "pandas", "rows"), _get(r, "pandas", "load_s"))),
        ))
    rows = [[name] + [spec(sizes[size]) for size in labels] for name, spec in row_specs]
    return _table(["ingest", *labels], rows)


def _reports(sizes: Results) -> list[str]:
    labels = list(sizes)

    def whoson_warm(r: dict[str, Any]) -> Any:
        return _get(r, "tracker", "warm_full", "median")

    row_specs: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("cold, from JSONL: whoson (load + report)", _at("tracker", _seconds, "cold_s")),
        ("  of which the first report after loading", _at("tracker", _seconds, "first_report_s")),
        ("cold, from JSONL: DuckDB (read_json + the report's SQL)", _at("sql", _seconds, "cold_s")),
        (
            "cold, from JSONL: duckdb engine (read_json + Ibis + SQL + assembly)",
            _at("sql", _seconds, "engine_cold_s"),
        ),
        ("cold, from JSONL: plain Python (parse + reference report)", _at("python", _seconds, "cold_s")),
        (
            "  ratio whoson / DuckDB (cold)",
            lambda r: _ratio(_div(_get(r, "tracker", "cold_s"), _get(r, "sql", "cold_s"))),
        ),
        (
            "  ratio whoson / plain Python (cold)",
            lambda r: _ratio(_div(_get(r, "tracker", "cold_s"), _get(r, "python", "cold_s"))),
        ),
        ("warm, full range: whoson report", _at("tracker", _ms, "warm_full", "median")),
        ("warm, last day (start = its date): whoson", _at("tracker", _ms, "warm_day", "median")),
        ("warm, last 24 h (start = as_of - 24 h): whoson", _at("tracker", _ms, "warm_24h", "median")),
        ("warm, as_of 1 h before the newest event: whoson", _at("tracker", _ms, "warm_asof_1h", "median")),
        ('warm, attribution_window="3d": whoson', _at("tracker", _ms, "warm_window_3d", "median")),
        ("warm, full range: DuckDB, the report's SQL on its table", _at("sql", _ms, "warm", "median")),
        ("warm, full range: duckdb engine on its table", _at("sql", _ms, "engine_warm", "median")),
        ("warm, full range: plain Python on its event list", _at("python", _ms, "warm", "median")),
        (
            "  ratio DuckDB / whoson (warm)",
            lambda r: _ratio(_div(_get(r, "sql", "warm", "median"), whoson_warm(r))),
        ),
        (
            "  ratio plain Python / whoson (warm)",
            lambda r: _ratio(_div(_get(r, "python", "warm", "median"), whoson_warm(r))),
        ),
        (
            "from the SQLite store, first time: whoson (open + report)",
            _at("sqlite_cold", _seconds, "cold_s"),
        ),
        (
            "from the SQLite store, second time: whoson (open + report)",
            _at("sqlite_again", _seconds, "cold_s"),
        ),
        ("first online(now) on the loaded tracker", _at("tracker", _seconds, "first_online_s")),
        (
            "memory held after loading + the first report, per event",
            _at("tracker", _bytes, "report_bytes_per_event"),
        ),
    ]
    if any("duckdb" in sizes[size] for size in labels):
        row_specs += [
            ("core figures (280), cold: DuckDB hand-written SQL", _at("duckdb", _seconds, "cold_s")),
            ("core figures (280), warm: DuckDB hand-written SQL", _at("duckdb", _ms, "warm_s")),
        ]
    if any("pandas" in sizes[size] for size in labels):
        row_specs += [
            ("core figures, cold: pandas", _at("pandas", _seconds, "cold_s")),
            ("core figures, warm: pandas", _at("pandas", _ms, "warm_s")),
        ]
    rows = [[name] + [spec(sizes[size]) for size in labels] for name, spec in row_specs]
    return _table(["report latency", *labels], rows)


def _checks(sizes: Results) -> tuple[list[str], list[str]]:
    labels = list(sizes)
    rows = []
    loud: list[str] = []
    for peer, name in PEERS:
        if all(_get(sizes[size], "checks", peer) is None for size in labels):
            continue
        row = [f"{name} == whoson"]
        for size in labels:
            check = _get(sizes[size], "checks", peer)
            if check is None:
                row.append("n/a")
            elif check["mismatches"]:
                row.append(f"**MISMATCH** ({len(check['mismatches'])})")
                loud.append(
                    f"!!! MISMATCH: {name} and whoson disagree at {size} on "
                    f"{len(check['mismatches'])} of {check['figures']} figures !!!"
                )
                loud += [f"    {m}" for m in check["mismatches"][:25]]
            else:
                row.append(f"MATCH ({check['figures']})")
        rows.append(row)
    return _table(["same work?", *labels], rows), loud


def _live(once: dict[str, Any]) -> list[str]:
    live = once.get("live")
    rules = once.get("rules")
    rows = []
    if live is not None:
        if "error" in live:
            rows.append(["online(now), first page", live["error"]])
        else:
            visitors = f"{live['visitors']:,}"
            first = live["online_first_page"]
            rows.append(
                [
                    f"online(now) first page ({live['rows']} rows), {visitors} present",
                    f"{_ms(first['median'])} (min {_ms(first['min'])})",
                ]
            )
            rows.append(
                [
                    f"online(now, country=…) filtered scan, {visitors} present",
                    _ms(live["online_filtered"]["median"]),
                ]
            )
            rows.append(["filling it: Tracker.record_many (events/s)", _rate(live["record_rate"])])
            rows.append(
                [
                    "tracker memory per present visitor (3 events each)",
                    _bytes(live["held_bytes_per_visitor"]),
                ]
            )
    if rules is not None:
        if "error" in rules:
            rows.append(["rule evaluation, 20 rules", rules["error"]])
        else:
            rows.append(
                [
                    f"RuleEngine.on_event, 20 rules ({rules['events']:,} events, {rules['fired']:,} fired)",
                    f"{rules['rules_us_per_event']:.1f} µs/event",
                ]
            )
            rows.append(["LiveView.apply on the same events", f"{rules['apply_us_per_event']:.1f} µs/event"])
    return _table(["live view and rules", "measured"], rows)


def _verdict(value: Any, test: Callable[[Any], bool]) -> str:
    return "n/a" if value is None else "MET" if test(value) else "MISSED"


def _goal(figure: str, whoson: str, peer: str, verdict: str, value: Any = None) -> dict[str, Any]:
    return {"figure": figure, "whoson": whoson, "peer": peer, "verdict": verdict, "value": value}


def goals(results: Results, once: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of issue #14's table at the largest size run: whoson, its peer or goal, the verdict.

    DuckDB is the SQL peer (the whole report's SQL on DuckDB, bench/peer_sql.py).
    """
    if not results:
        return []
    labels = list(results)
    size = labels[-1]
    r = results[size]
    out: list[dict[str, Any]] = []

    cold = _get(r, "tracker", "cold_s")
    duck_cold = _get(r, "sql", "cold_s")
    ratio = _div(cold, duck_cold)
    out.append(_goal(
        f"cold report from JSONL, {size}",
        f"{_seconds(cold)} = {_ratio(ratio)} DuckDB's time",
        f"DuckDB {_seconds(duck_cold)}; goal <= 1.5x",
        _verdict(ratio, lambda v: v <= 1.5), ratio,
    ))
    ratios = [(label, _div(_get(results[label], "tracker", "cold_s"), _get(results[label], "sql", "cold_s")))
              for label in labels]
    known = [(label, v) for label, v in ratios if v is not None]
    growth = _div(known[-1][1], known[0][1]) if len(known) > 1 else None
    out.append(_goal(
        f"growth {labels[0]} -> {size}: whoson/DuckDB cold ratio",
        " -> ".join(f"{_ratio(v)} ({label})" for label, v in ratios),
        "ratio flat (goal: largest <= 1.25x smallest)",
        _verdict(growth, lambda v: v <= 1.25), growth,
    ))
    warm = _get(r, "tracker", "warm_full", "median")
    duck_warm = _get(r, "sql", "warm", "median")
    speedup = _div(duck_warm, warm)
    out.append(_goal(
        f"warm full report, {size}",
        f"{_ms(warm)}; DuckDB/whoson {_ratio(speedup)}",
        f"DuckDB {_ms(duck_warm)}; goal <= 10 ms and >= 100x",
        "n/a" if warm is None or speedup is None else "MET" if warm <= 0.010 and speedup >= 100 else "MISSED",
        warm,
    ))
    for key, what in (("warm_asof_1h", "warm report with as_of 1 h before the newest event"),
                      ("warm_window_3d", 'warm report with attribution_window="3d"')):
        value = _get(r, "tracker", key, "median")
        times = _div(value, warm)
        out.append(_goal(
            f"{what}, {size}",
            f"{_ms(value)} = {_ratio(times)} the default; {_ratio(_div(value, duck_warm))} DuckDB's",
            "goal: no path slower than 3x the default",
            _verdict(times, lambda v: v <= 3), value,
        ))
    rate = _get(r, "sqlite", "rate")
    out.append(_goal(
        f"`whoson ingest` into SQLite, {size}",
        f"{_rate(rate)} events/s",
        "goal >= 150k events/s",
        _verdict(rate, lambda v: v >= 150_000), rate,
    ))
    file_bytes = _get(r, "sqlite", "file_bytes_per_event")
    out.append(_goal(
        "SQLite file per event",
        _bytes(file_bytes),
        f"DuckDB's table {_bytes(_get(r, 'sql', 'table_bytes_per_event'))}; goal <= 150 B",
        _verdict(file_bytes, lambda v: v <= 150), file_bytes,
    ))
    first = _get(r, "sqlite_cold", "cold_s")
    second = _get(r, "sqlite_again", "cold_s")
    out.append(_goal(
        f"report from the SQLite store, {size} (open + report)",
        f"first {_seconds(first)}, second {_seconds(second)}",
        "goal <= 1 s after the first time",
        _verdict(second, lambda v: v <= 1.0), second,
    ))
    online = _get(r, "tracker", "first_online_s")
    out.append(_goal(
        f"first online() on a tracker holding {size} events",
        _seconds(online),
        "goal <= 0.5 s",
        _verdict(online, lambda v: v <= 0.5), online,
    ))
    first_report = _get(r, "tracker", "first_report_s")
    out.append(_goal(
        f"first report after loading {size}",
        _seconds(first_report),
        "goal <= 0.5 s",
        _verdict(first_report, lambda v: v <= 0.5), first_report,
    ))
    memory = _get(r, "tracker", "report_bytes_per_event")
    out.append(_goal(
        f"memory, {size} loaded + report",
        f"{_bytes(memory)}/event",
        "goal <= 250 B",
        _verdict(memory, lambda v: v <= 250), memory,
    ))
    return out


def _goals_table(items: list[dict[str, Any]]) -> list[str]:
    rows = [[g["figure"], g["whoson"], g["peer"], g["verdict"]] for g in items]
    return _table(["figure (issue #14)", "whoson", "peer / goal", "verdict"], rows)


def _profiles(profiles: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for profile in profiles:
        if "error" in profile:
            lines.append(f"profile failed: {profile['error']}")
            continue
        lines.append("")
        if "bytes_per_event" in profile:
            lines.append(
                f"memory held after loading, by allocating line (tracemalloc): "
                f"{profile['bytes_per_event']:.0f} B/event traced (details in {profile['file']})"
            )
            rows = [
                [f"`{f['function']}`", f["where"], f"{f['seconds']:.0f} B", f"{f['share']:.1%}"]
                for f in profile["self"][:12]
            ]
            lines += _table(["allocated at", "objects", "per event", "share"], rows)
            continue
        lines.append(f"profile {profile['name']}: {profile['seconds']:.2f} s (tree in {profile['file']})")
        rows = [[f"`{f['function']}`", f"{f['where']}", f"{f['share'] * 100:.1f}%"] for f in profile["self"][:12]]
        lines += _table(["hottest by self time", "where", "share"], rows)
        steps = profile.get("steps") or []
        if steps:
            lines.append("")
            rows = [[f"`{f['function']}`", f"{f['where']}", f"{f['share'] * 100:.1f}%"] for f in steps[:12]]
            lines += _table(["whoson steps by inclusive time", "where", "share"], rows)
    return lines


def render(document: dict[str, Any]) -> str:
    """The whole printed report, in Markdown."""
    meta = document["meta"]
    sizes: Results = document["sizes"]
    once = document["once"]
    lines = [
        f"whoson benchmark, {meta['started']}, commit {meta.get('commit', '?')}: "
        f"Python {meta['python']}, {meta['machine']}; "
        f"simulated logs over {meta['days']} days, seed {meta['seed']}; "
        f"load average {meta['load_before'][0]:.2f} before, {meta['load_after'][0]:.2f} after; "
        f"{meta['total_s']:.0f} s in all.",
        "",
    ]
    share = meta.get("cpu_share")
    if share is not None:
        lines[0] += f" The single-threaded cases got {share:.0%} of a core."
        if share < 0.8:
            lines += [
                f"WARNING: the machine was busy (whoson's cases got {share:.0%} of a core): "
                "wall times are inflated; rerun on a quiet machine.",
                "",
            ]
    if document["goals"]:
        lines += [*_goals_table(document["goals"]), ""]
    if sizes:
        table, loud = _checks(sizes)
        lines += [*table, ""]
        if loud:
            lines += ["!" * 78, *loud, "!" * 78, ""]
        lines += [*_reports(sizes), "", *_ingest(sizes), ""]
    if once:
        lines += [*_live(once), ""]
    lines += _profiles(document.get("profiles", []))
    return "\n".join(lines).rstrip("\n")
