"""The benchmark's printed table (Markdown) and the goal verdicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["GOALS", "goals", "render"]

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
            lambda r: _cell(r.get("tracker"), _rate, "rate"),
        ),
        ("  peak RSS of that process", lambda r: _cell(r.get("tracker"), _mb, "peak_rss")),
        (
            "  held per event: store + projection",
            lambda r: _cell(r.get("tracker"), _bytes, "bytes_per_event"),
        ),
        (
            "JSONL → MemoryStore only, no projection (events/s)",
            lambda r: _cell(r.get("store"), _rate, "rate"),
        ),
        (
            "  held per event: store only",
            lambda r: _cell(r.get("store"), _bytes, "bytes_per_event"),
        ),
        (
            "JSONL → Tracker, SQLite store, batched (events/s)",
            lambda r: _cell(r.get("sqlite"), _rate, "rate"),
        ),
        (
            "  SQLite file per event",
            lambda r: _cell(r.get("sqlite"), _bytes, "file_bytes_per_event"),
        ),
        ("Tracker.record, one event at a time, live view on (events/s)", lambda r: _record_cell(r.get("record"))),
        (
            "  events recorded in the time budget",
            lambda r: _cell(r.get("record"), lambda v: "-" if v is None else f"{v:,}", "events"),
        ),
        (
            "DuckDB read_ndjson → table (rows/s)",
            lambda r: _rate(_div(_get(r, "duckdb", "rows"), _get(r, "duckdb", "load_s"))),
        ),
        (
            "pandas read_json(lines=True) (rows/s)",
            lambda r: _rate(_div(_get(r, "pandas", "rows"), _get(r, "pandas", "load_s"))),
        ),
    ]
    rows = [[name] + [spec(sizes[size]) for size in labels] for name, spec in row_specs]
    return _table(["ingest", *labels], rows)


def _reports(sizes: Results) -> list[str]:
    labels = list(sizes)

    def whoson_warm(r: dict[str, Any]) -> Any:
        return _get(r, "tracker", "warm_full", "median")

    row_specs: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        (
            "cold, from JSONL: whoson (load + report)",
            lambda r: _cell(r.get("tracker"), _seconds, "cold_s"),
        ),
        (
            "cold, from JSONL: DuckDB (read_ndjson + SQL)",
            lambda r: _cell(r.get("duckdb"), _seconds, "cold_s"),
        ),
        (
            "cold, from JSONL: pandas (read_json + ops)",
            lambda r: _cell(r.get("pandas"), _seconds, "cold_s"),
        ),
        (
            "  ratio whoson / DuckDB (cold)",
            lambda r: _ratio(_div(_get(r, "tracker", "cold_s"), _get(r, "duckdb", "cold_s"))),
        ),
        (
            "  ratio whoson / pandas (cold)",
            lambda r: _ratio(_div(_get(r, "tracker", "cold_s"), _get(r, "pandas", "cold_s"))),
        ),
        (
            "cold, from the SQLite store: whoson (open + report)",
            lambda r: _cell(r.get("sqlite_cold"), _seconds, "cold_s"),
        ),
        (
            "warm, full range: whoson report",
            lambda r: _cell(r.get("tracker"), _ms, "warm_full", "median"),
        ),
        (
            "warm, last day (start = its date): whoson report",
            lambda r: _cell(r.get("tracker"), _ms, "warm_day", "median"),
        ),
        (
            "warm, last 24 h (start = as_of - 24 h): whoson report",
            lambda r: _cell(r.get("tracker"), _ms, "warm_24h", "median"),
        ),
        (
            "warm, full range: DuckDB SQL on its table",
            lambda r: _cell(r.get("duckdb"), _ms, "warm_s"),
        ),
        (
            "warm, full range: pandas on its DataFrame",
            lambda r: _cell(r.get("pandas"), _ms, "warm_s"),
        ),
        (
            "  ratio whoson / DuckDB (warm)",
            lambda r: _ratio(_div(whoson_warm(r), _get(r, "duckdb", "warm_s"))),
        ),
        (
            "  ratio whoson / pandas (warm)",
            lambda r: _ratio(_div(whoson_warm(r), _get(r, "pandas", "warm_s"))),
        ),
    ]
    rows = [[name] + [spec(sizes[size]) for size in labels] for name, spec in row_specs]
    return _table(["report latency", *labels], rows)


def _checks(sizes: Results) -> tuple[list[str], list[str]]:
    labels = list(sizes)
    rows = []
    loud: list[str] = []
    for peer, name in (("duckdb", "DuckDB"), ("pandas", "pandas")):
        row = [f"{name} figures == whoson figures"]
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


def _goal_value(results: Results, once: dict[str, Any], key: str) -> Any:
    if not results:
        return None
    size = list(results)[-1]
    r = results[size]
    if key == "ingest":
        return _get(r, "tracker", "rate")
    if key == "warm":
        return _get(r, "tracker", "warm_full", "median")
    if key == "speedup":
        return _div(_get(r, "duckdb", "warm_s"), _get(r, "tracker", "warm_full", "median"))
    if key == "cold":
        return _div(_get(r, "tracker", "cold_s"), _get(r, "duckdb", "cold_s"))
    if key == "online":
        return _get(once, "live", "online_first_page", "median")
    if key == "memory":
        return _get(r, "tracker", "bytes_per_event")
    raise KeyError(key)


# (key, description, target text, test, how to show the value)
GOALS: list[tuple[str, str, str, Callable[[float], bool], Callable[[Any], str]]] = [
    (
        "ingest",
        "ingest JSONL into the memory store",
        ">= 100k events/s",
        lambda v: v >= 100_000,
        lambda v: _rate(v) + " events/s",
    ),
    ("warm", "warm full report", "<= 50 ms", lambda v: v <= 0.050, _ms),
    (
        "speedup",
        "warm report vs DuckDB recomputing from its table",
        ">= 100x faster",
        lambda v: v >= 100,
        lambda v: f"{v:.1f}x faster" if v >= 1 else f"{1 / v:.1f}x slower",
    ),
    (
        "cold",
        "cold report from JSONL vs DuckDB on the same file",
        "<= 3x DuckDB's time",
        lambda v: v <= 3,
        lambda v: f"{v:.1f}x DuckDB's time",
    ),
    (
        "online",
        "online(now) first page, 100k visitors present",
        "<= 1 ms",
        lambda v: v <= 0.001,
        _ms,
    ),
    (
        "memory",
        "memory per event held by a Tracker on the memory store",
        "<= 300 B",
        lambda v: v <= 300,
        _bytes,
    ),
]


def goals(results: Results, once: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with its measured value (at the largest size run) and verdict."""
    size = list(results)[-1] if results else None
    out = []
    for key, what, target, test, show in GOALS:
        value = _goal_value(results, once, key)
        verdict = "n/a" if value is None else "MET" if test(value) else "MISSED"
        out.append(
            {
                "key": key,
                "goal": what,
                "target": target,
                "size": size,
                "value": value,
                "shown": "-" if value is None else show(value),
                "verdict": verdict,
            }
        )
    return out


def _goals_table(items: list[dict[str, Any]]) -> list[str]:
    size = items[0]["size"] if items else "?"
    rows = [[g["goal"], g["target"], g["shown"], g["verdict"]] for g in items]
    return _table([f"goal (at {size})", "target", "measured", "verdict"], rows)


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
    if sizes:
        lines += [*_ingest(sizes), "", *_reports(sizes), ""]
        table, loud = _checks(sizes)
        lines += [*table, ""]
        if loud:
            lines += ["!" * 78, *loud, "!" * 78, ""]
    if once:
        lines += [*_live(once), ""]
    lines += _goals_table(document["goals"])
    lines += _profiles(document.get("profiles", []))
    return "\n".join(lines)
