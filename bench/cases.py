"""Benchmark cases, each run in a fresh worker process so that memory peaks
and caches of one case never flatter or burden another.

``python -m bench.cases CASE '{"json": "kwargs"}'`` runs one case and prints
its result as one JSON line prefixed with ``BENCH-RESULT``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.figures import report_figures, to_plain, whoson_figures
from bench.measure import Timer, peak_rss, repeat, rss, settle

__all__ = ["CASES", "main", "twenty_rules"]

MARKER = "BENCH-RESULT "
_BATCH = 5000
# The simulated shop sells in USD. Configured up front as a web backend would
# (the first order would otherwise fix the tracker's currency).
CURRENCY = "USD"


def _as_of(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _memory(base: int, events: int) -> dict[str, Any]:
    held = settle() - base
    return {
        "held_bytes": held,
        "bytes_per_event": held / events if events else None,
        "peak_rss": peak_rss(),
    }


# -- ingest ---------------------------------------------------------------------------


def case_tracker(log: str, as_of: str, report_budget: float = 8.0) -> dict[str, Any]:
    """JSONL -> Tracker (memory store + projection); then cold and warm reports."""
    from whoson import Tracker

    moment = _as_of(as_of)
    base = settle()
    tracker = Tracker(currency=CURRENCY)
    with Timer() as load:
        result = tracker.load(log)
    events = result.accepted
    out: dict[str, Any] = {
        "events": events,
        "rejected": result.rejected,
        "duplicates": result.duplicates,
        "load_s": load.seconds,
        "rate": events / load.seconds,
    }
    out.update(_memory(base, events))
    with Timer() as first:
        report = tracker.report(as_of=moment)
    out["first_report_s"] = first.seconds
    out["cold_s"] = load.seconds + first.seconds
    held = settle() - base
    out["report_bytes_per_event"] = held / events if events else None
    out["figures"] = to_plain(whoson_figures(report))
    out["report"] = to_plain(report_figures(report))
    out["warm_full"] = repeat(lambda: tracker.report(as_of=moment), budget=report_budget)
    # The last calendar day (a date bound: local midnight, on a slot boundary) and the
    # last 24 hours (a bound anywhere in a slot), which whoson computes differently.
    today = moment.date()
    out["warm_day"] = repeat(lambda: tracker.report(start=today, as_of=moment), budget=report_budget / 2)
    since = moment - timedelta(days=1)
    out["warm_24h"] = repeat(lambda: tracker.report(start=since, as_of=moment), budget=report_budget / 2)
    # Parameters off the default path: as_of in the past, another attribution window.
    # The first call is left out (it may build caches), as for the full report.
    hour_before = moment - timedelta(hours=1)
    tracker.report(as_of=hour_before)
    out["warm_asof_1h"] = repeat(lambda: tracker.report(as_of=hour_before), times=3, budget=report_budget)
    tracker.report(as_of=moment, attribution_window="3d")
    out["warm_window_3d"] = repeat(
        lambda: tracker.report(as_of=moment, attribution_window="3d"), times=3, budget=report_budget
    )
    # The live view is built on first use: the first online() on a tracker holding the log.
    with Timer() as online:
        tracker.online(moment)
    out["first_online_s"] = online.seconds
    return out


def case_store(log: str) -> dict[str, Any]:
    """JSONL -> MemoryStore only (parse + append, no projection): what the store holds."""
    from whoson.logfile import iter_log
    from whoson.stores.memory import MemoryStore

    base = settle()
    store = MemoryStore()
    batch: list[Any] = []
    with Timer() as load:
        for item in iter_log(log):
            if item.event is not None:
                batch.append(item.event)
            if len(batch) >= _BATCH:
                store.append(batch)
                batch.clear()
        store.append(batch)
        batch.clear()
    events = len(store)
    out: dict[str, Any] = {"events": events, "load_s": load.seconds, "rate": events / load.seconds}
    out.update(_memory(base, events))
    return out


def case_record(log: str, budget: float = 30.0) -> dict[str, Any]:
    """Tracker.record one event at a time from decoded JSON objects (the web backend path,
    with the live view built so that it follows every event).

    Decoding the line is left out of the timing (a web framework does it);
    stops after ``budget`` seconds spent in ``record``.
    """
    from whoson import Tracker
    from whoson.codec import loads

    tracker = Tracker(currency=CURRENCY)
    # A web backend serves who's on: the live view follows every recorded event.
    tracker.online(datetime(2026, 3, 2, tzinfo=UTC))
    base = settle()
    spent = 0.0
    count = 0
    clock = time.perf_counter
    with open(log, "rb") as lines:
        for line in lines:
            raw = loads(line)
            started = clock()
            tracker.record(raw)
            spent += clock() - started
            count += 1
            if spent > budget:
                break
    out: dict[str, Any] = {"events": count, "record_s": spent, "rate": count / spent}
    out.update(_memory(base, count))
    return out


def case_sqlite(log: str, db: str) -> dict[str, Any]:
    """``whoson ingest LOG --into sqlite:///DB`` (the command line, run in this process)."""
    import contextlib
    import io

    from whoson.cli.main import main as whoson

    Path(db).unlink(missing_ok=True)
    with open(log, "rb") as lines:
        events = sum(1 for _ in lines)
    quiet = io.StringIO()
    with Timer() as load, contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        status = whoson(["ingest", log, "--into", f"sqlite:///{db}", "--currency", CURRENCY])
    if status != 0:
        raise RuntimeError(f"whoson ingest exited with {status}: {quiet.getvalue()[-500:]}")
    size = sum(p.stat().st_size for p in Path(db).parent.glob(Path(db).name + "*"))
    return {
        "events": events,
        "load_s": load.seconds,
        "rate": events / load.seconds,
        "file_bytes_per_event": size / events if events else None,
        "peak_rss": peak_rss(),
    }


def case_sqlite_cold(db: str, as_of: str) -> dict[str, Any]:
    """Open a tracker over an existing SQLite store and report (run twice: the first and second time)."""
    from whoson import Tracker
    from whoson.stores.sqlite import SQLiteStore

    moment = _as_of(as_of)
    with Timer() as opened:
        tracker = Tracker(SQLiteStore(db), currency=CURRENCY)
    with Timer() as first:
        tracker.report(as_of=moment)
    tracker.close()
    return {
        "open_s": opened.seconds,
        "first_report_s": first.seconds,
        "cold_s": opened.seconds + first.seconds,
        "peak_rss": peak_rss(),
    }


# -- peers ----------------------------------------------------------------------------


def case_duckdb(log: str) -> dict[str, Any]:
    """DuckDB: read_ndjson into a table, then the figures in SQL (cold), again (warm)."""
    from bench import peer_duckdb

    result = peer_duckdb.run(log)
    result["figures"] = to_plain(result["figures"])
    result["peak_rss"] = peak_rss()
    return result


def case_pandas(log: str) -> dict[str, Any]:
    """pandas: read_json(lines=True), then the figures with DataFrame ops (cold), again (warm)."""
    from bench import peer_pandas

    result = peer_pandas.run(log)
    result["figures"] = to_plain(result["figures"])
    result["peak_rss"] = peak_rss()
    return result


def case_python(log: str, as_of: str) -> dict[str, Any]:
    """The plain-Python peer: tests/reference.py with indexes (bench/peer_python.py), the whole report."""
    from bench import peer_python
    from bench.figures import flatten

    result = peer_python.run(log, _as_of(as_of))
    result["report"] = to_plain(flatten(result["report"]))
    result["peak_rss"] = peak_rss()
    return result


def case_sql(log: str, as_of: str) -> dict[str, Any]:
    """The DuckDB peer: read_json + the duckdb engine's SQL (bench/peer_sql.py), the whole report."""
    from bench import peer_sql

    result = peer_sql.run(log, _as_of(as_of))
    result["report"] = to_plain(report_figures(result["report"]))
    result["peak_rss"] = peak_rss()
    return result


# -- live view and rules --------------------------------------------------------------


def _present_events(visitors: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Three events per visitor (two pages and a heartbeat), all within the last 110 s."""
    pages = ("/", "/category/jackets", "/product/rain-shell", "/cart", "/checkout", "/help/sizing")
    for n in range(visitors):
        first = now - timedelta(seconds=110 - (n % 50))
        visitor = f"live-{n}"
        url = pages[n % len(pages)]
        yield {
            "id": f"{visitor}-1",
            "type": "page_view",
            "ts": first,
            "visitor": visitor,
            "url": "/",
            "device": "desktop",
            "country": "DE",
            "referrer": "https://search.example/",
        }
        yield {
            "id": f"{visitor}-2",
            "type": "page_view",
            "ts": first + timedelta(seconds=20),
            "visitor": visitor,
            "url": url,
        }
        yield {
            "id": f"{visitor}-3",
            "type": "heartbeat",
            "ts": first + timedelta(seconds=50),
            "visitor": visitor,
            "url": url,
        }


def case_live(visitors: int = 100_000) -> dict[str, Any]:
    """Tracker.online(now) first page (50 rows, no filter) with ``visitors`` present."""
    from whoson import FixedClock, Tracker
    from whoson.core.time import format_ts

    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    raws = [{**raw, "ts": format_ts(raw["ts"])} for raw in _present_events(visitors, now)]
    tracker = Tracker(clock=FixedClock(now), currency=CURRENCY)
    tracker.online(now)  # the live view exists from the start and follows every event
    base = settle()
    with Timer() as fill:
        for start in range(0, len(raws), _BATCH):
            tracker.record_many(raws[start : start + _BATCH])
    held = settle() - base
    page = tracker.online(now)
    assert page.total == visitors, (page.total, visitors)
    first_page = repeat(lambda: tracker.online(now), times=200, budget=5.0, at_least=20)
    country = repeat(lambda: tracker.online(now, country="de"), times=3, budget=5.0)
    return {
        "visitors": visitors,
        "rows": len(page.rows),
        "record_rate": len(raws) / fill.seconds,
        "held_bytes_per_visitor": held / visitors,
        "online_first_page": first_page,
        "online_filtered": country,
        "peak_rss": peak_rss(),
    }


def twenty_rules() -> list[Any]:
    """Twenty engagement rules of the kinds a shop writes (every condition kind used)."""
    from decimal import Decimal

    import whoson.rules as wr

    msg = wr.ShowMessage("Can we help?")
    invite = wr.Invite("text", "Questions? Chat with us.")
    cooldown = wr.Limits(cooldown=timedelta(minutes=30))
    rules = [
        wr.Rule(
            "checkout-stuck",
            (wr.UrlMatches("/checkout*"), wr.TimeOnPage(60), wr.NotInChat()),
            invite,
        ),
        wr.Rule("cart-linger", (wr.UrlMatches("/cart"), wr.TimeOnPage(90), wr.AgentsOnline(1)), invite),
        wr.Rule("help-linger", (wr.UrlMatches("/help/*"), wr.TimeOnPage(45)), invite),
        wr.Rule("sizing", (wr.UrlMatches("/help/sizing"), wr.PageVisitsAtLeast(2)), msg),
        wr.Rule("product-to-cart", (wr.VisitedInOrder(("/product/*", "/cart")), wr.TimeOnPage(30)), msg),
        wr.Rule("browse-deep", (wr.PagesViewedAtLeast(8), wr.TimeOnSite(300)), invite),
        wr.Rule("big-cart", (wr.CartValueAtLeast(Decimal("200")), wr.TimeOnPage(30)), invite),
        wr.Rule("returning-buyer", (wr.Returning(), wr.HasOrdered()), msg),
        wr.Rule("known-customer", (wr.CustomerKnown(), wr.UrlMatches("/pricing")), msg),
        wr.Rule("pricing-linger", (wr.UrlMatches("/pricing"), wr.TimeOnPage(40)), invite),
        wr.Rule("from-search", (wr.ReferrerMatches("*search*"), wr.PagesViewedAtLeast(3)), msg),
        wr.Rule("mobile-checkout", (wr.DeviceIn({"mobile"}), wr.UrlMatches("/checkout*")), msg),
        wr.Rule("dach", (wr.CountryIn({"DE", "AT", "CH"}), wr.TimeOnSite(600)), msg),
        wr.Rule("signal-stuck", (wr.HasSignal("stuck_on_checkout"),), invite),
        wr.Rule("signal-risk", (wr.HasSignal("cart_at_risk"), wr.NotInChat()), invite),
        wr.Rule("revisit", (wr.HasSignal("revisiting"), wr.Not(wr.HasOrdered())), msg),
        wr.Rule("jackets", (wr.UrlMatches("/category/jackets"), wr.TimeOnPage(20)), msg, limits=cooldown),
        wr.Rule(
            "any-help",
            (
                wr.Any((wr.UrlMatches("/help/*"), wr.UrlMatches("/pricing"))),
                wr.PagesViewedAtLeast(4),
            ),
            msg,
        ),
        wr.Rule("rate-limited", (wr.TimeOnSite(120),), msg, limits=wr.Limits(rate_per_minute=5)),
        wr.Rule("never", (wr.UrlMatches("/nowhere"), wr.TimeOnPage(1)), msg),
    ]
    assert len(rules) == 20
    return rules


def case_rules(log: str, events: int = 50_000) -> dict[str, Any]:
    """RuleEngine.on_event with 20 rules over the first ``events`` events of the log."""
    from itertools import islice

    from whoson.live import LiveView
    from whoson.logfile import iter_log
    from whoson.rules import RuleEngine

    parsed = [item.event for item in islice(iter_log(log), events) if item.event is not None]
    view = LiveView()
    engine = RuleEngine(twenty_rules(), view)
    clock = time.perf_counter
    spent_apply = 0.0
    spent_rules = 0.0
    fired = 0
    for event in parsed:
        started = clock()
        view.apply(event)
        middle = clock()
        new = engine.on_event(event, event.ts)
        spent_rules += clock() - middle
        spent_apply += middle - started
        fired += len(new)
        for extra in new:
            view.apply(extra)
            engine.on_event(extra, event.ts)
    return {
        "events": len(parsed),
        "rules": 20,
        "fired": fired,
        "rules_us_per_event": spent_rules / len(parsed) * 1e6,
        "apply_us_per_event": spent_apply / len(parsed) * 1e6,
        "peak_rss": peak_rss(),
    }


def case_profile(**kwargs: Any) -> dict[str, Any]:
    """See :func:`bench.profiling.case_profile`."""
    from bench.profiling import case_profile as profile

    return profile(**kwargs)


CASES: dict[str, Callable[..., dict[str, Any]]] = {
    "tracker": case_tracker,
    "store": case_store,
    "record": case_record,
    "sqlite": case_sqlite,
    "sqlite_cold": case_sqlite_cold,
    "sqlite_again": case_sqlite_cold,
    "sql": case_sql,
    "python": case_python,
    "duckdb": case_duckdb,
    "pandas": case_pandas,
    "live": case_live,
    "rules": case_rules,
    "profile": case_profile,
}


def main(argv: list[str]) -> int:
    """Run the case named by ``argv[0]`` with the JSON kwargs ``argv[1]``."""
    name, kwargs = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    wall, cpu = time.perf_counter(), time.process_time()
    result = CASES[name](**kwargs)
    # CPU seconds / wall seconds of the whole case: near 1 for a single-threaded
    # case on a quiet machine, lower when other processes took the cores.
    result["cpu_share"] = (time.process_time() - cpu) / (time.perf_counter() - wall)
    result.setdefault("rss_end", rss())
    print(MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
