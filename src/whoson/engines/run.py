"""Run the report definition on an engine and hand its results to the shared assembly.

:func:`engine_view` executes :class:`~whoson.engines.definition.Definition`
on an Ibis connection and turns the small result tables into the range view
(tallies per local date, per local hour, and for the whole range) that
:func:`whoson.metrics.report.assemble` reads, exactly as it reads the
python engine's ledger. Divisions, rates, null rules, zero-filled days and
top-10 orderings therefore live in one place.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Hashable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from whoson.engines.compiled import Executor
from whoson.engines.parquet import cents
from whoson.engines.shape import EPOCH, SLOT_US, Bounds, Deferred, DuckDB, NamedTable
from whoson.metrics import agents, auto_messages, conversations, pages, ratings, sales, support, visitors
from whoson.metrics.breakdowns import BreakdownRow
from whoson.metrics.experiments import EXPOSURES, WAITS, exposure_member, wait_member
from whoson.metrics.ledger import View, report_dates
from whoson.metrics.params import ReportParams, rank_positions
from whoson.metrics.report import Report, assemble
from whoson.metrics.requests import NOT_CONVERSATION, OFFLINE, OTHER_SIDE, PENDING, PENDING_OTHER, REQUESTS, URLS
from whoson.metrics.tally import NumberKey, Ranked, Tally

__all__ = ["EngineTally", "bounds_of", "engine_parts", "engine_report", "engine_view"]

TOP = 10
_QUANTILES = (0.5, 0.9)


def _micros(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _instant(moment: datetime) -> int:
    return _micros(moment - EPOCH)


def bounds_of(params: ReportParams) -> Bounds:
    """The parameters as integer microseconds."""
    return Bounds(
        as_of=_instant(params.as_of),
        start=_instant(params.start) if params.start is not None else None,
        end=_instant(params.end) if params.end is not None else None,
        response_timeout=_micros(params.response_timeout),
        attribution_window=_micros(params.attribution_window),
        fcr_window=_micros(params.fcr_window),
        session_timeout=_micros(params.session_timeout),
    )


def _no_rank(rank: int) -> int:
    raise IndexError(rank)


class EngineTally(Tally):
    """A tally whose distinct counts, overlaps and order statistics an engine computed.

    The engine sends sizes, not members, for the distinct bags (visitors,
    widget viewers, ...), so these are answered from ``sizes``.
    """

    __slots__ = ("grouped", "grouped_common", "overlaps", "ranks", "sizes")

    def __init__(self) -> None:
        super().__init__()
        self.sizes: dict[str, int] = {}
        self.overlaps: dict[tuple[str, str], int] = {}
        self.ranks: dict[str, Ranked] = {}
        self.grouped: dict[str, Counter[Hashable]] = {}
        self.grouped_common: dict[tuple[str, str], Counter[Hashable]] = {}

    def distinct(self, name: str) -> int:
        """The engine's distinct count for bag ``name``."""
        return self.sizes.get(name, 0)

    def common(self, name: str, other: str) -> int:
        """The engine's count of members in both bags."""
        return self.overlaps.get((name, other), 0)

    def distinct_by_first(self, name: str) -> Counter[Hashable]:
        """The engine's per-url distinct counts for pair bag ``name``."""
        return self.grouped.get(name, Counter())

    def common_by_first(self, name: str, other: str) -> Counter[Hashable]:
        """The engine's per-url counts of pairs in both bags."""
        return self.grouped_common.get((name, other), Counter())

    def ranked(self, name: str) -> Ranked:
        """The engine's order statistics (only the ranks the figures need)."""
        return self.ranks.get(name, Ranked(0, 0, _no_rank))


def _slots(params: ReportParams, slots: list[int]) -> list[dict[str, int]]:
    """The given 15-minute slots with their local day and hour.

    Only the slots that hold an event: a log spanning centuries costs its
    events, not a row per quarter hour of the span.
    """
    tz = params.tz
    rows = []
    for slot in sorted(slots):
        local = (EPOCH + timedelta(microseconds=slot * SLOT_US)).astimezone(tz)
        rows.append({"slot": slot, "day": local.date().toordinal(), "hour": local.hour})
    return rows


def engine_view(con: Any, events: Any, params: ReportParams) -> View:
    """Execute the definition over ``events`` (an Ibis table on ``con``) into a range view.

    Cost: about fifteen engine queries over the events; the python side
    handles only per-day, per-agent and top-10 rows.
    """
    return engine_parts(con, events, params)[0]


def engine_parts(
    con: Any, events: Any, params: ReportParams, by: str | None = None
) -> tuple[View, tuple[BreakdownRow, ...]]:
    """The range view and, with ``by``, the breakdown rows (see :mod:`whoson.engines.segments`).

    On DuckDB the definition is built with sentinel parameters and its SQL
    comes from the compile cache (:mod:`whoson.engines.compiled`).
    """
    import pyarrow as pa

    from whoson.engines.compiled import Executor, sentinel_bounds

    real = bounds_of(params)
    if con.name == "duckdb":
        bounds, values = sentinel_bounds(real)
    else:
        bounds, values = real, {}
    # The SQL also depends on the events table: its name and columns (an export has a
    # ``date`` partition column). A named table is described by DuckDB, without Ibis;
    # any other table's own SQL names both, and compiles in milliseconds.
    if isinstance(events, NamedTable):
        source = f"{events.table_name}|{events.columns_digest()}"
    elif con.name == "duckdb":
        source = f"{con.compile(events)}|{sorted(events.schema().items())!r}"
    else:
        source = ""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    shape = f"start={real.start is not None},end={real.end is not None},events={digest}"
    ex = Executor(con, values, shape)
    # Built only when a query is not in the compile cache (they import Ibis).
    timed = Deferred(lambda: _with_micros(con, _real(events)))
    probe = Deferred(lambda: _definition()(timed.get(), bounds, _memtable({"slot": [0], "day": [0], "hour": [0]})))
    extent = ex.rows("extent", lambda: probe.extent())[0]
    earliest = EPOCH + timedelta(microseconds=extent["lo"]) if extent["n"] else None
    newest = EPOCH + timedelta(microseconds=extent["hi"]) if extent["n"] else None
    dates = report_dates(earliest, newest, params)
    low = max(extent["lo"], real.start) if real.start is not None and extent["n"] else extent["lo"]
    high = extent["hi"]
    if real.end is not None and high is not None:
        high = min(high, real.end - 1)
    if not extent["n"] or low is None or high is None or low > high:
        ex.save()
        return View(EngineTally(), {}, {}, dates), ()
    slot_rows = _slots(params, [row["slot"] for row in ex.rows("event_slots", lambda: probe.event_slots())])
    slots = named_table(con, "whoson_slots", pa.table(
        {key: pa.array([row[key] for row in slot_rows], pa.int64()) for key in ("slot", "day", "hour")}
    ))
    d = Deferred(lambda: _definition()(timed.get(), bounds, _real(slots)))
    collector = _Collector(dates)
    try:
        requests = ex.keep("requests", lambda: d.requests())
        winners = ex.keep("winners", lambda: d.winners())
        attributed = ex.keep("attributed", lambda: d.attributed(_real(winners), _real(requests)))
        surveys = ex.keep("surveys", lambda: d.surveys())
        sessions = ex.keep("sessions", lambda: d.sessions(_real(winners)))
        _fill(ex, d, collector, requests, attributed, surveys, sessions, winners)
        rows = _breakdown(ex, d, by, requests, attributed) if by is not None else ()
    finally:
        ex.release()
    return collector.view(), rows


def named_table(con: Any, name: str, table: Any) -> Any:
    """An Arrow table for the definition: registered under ``name`` on DuckDB (so the SQL that
    reads it is the same every run; an Ibis table only when a query is built on it), an
    in-memory Ibis table elsewhere."""
    if isinstance(con, DuckDB):
        con.con.register(name, table)
        return NamedTable(con, name)
    if con.name == "duckdb":
        con.con.register(name, table)
        return con.table(name)
    return _memtable(table)


def _real(table: Any) -> Any:
    """The Ibis table behind a stand-in (Ibis takes only its own tables as arguments)."""
    return table.table if isinstance(table, NamedTable) else table


def _memtable(data: Any) -> Any:
    import ibis

    return ibis.memtable(data)


def _definition() -> Any:
    from whoson.engines.definition import Definition

    return Definition


def _breakdown(ex: Executor, d: Any, by: str, requests: Any, attributed: Any) -> tuple[BreakdownRow, ...]:
    from whoson.engines.segments import Segments, breakdown_rows

    segments = Segments(d.get(), by, _real(requests), _real(attributed),
                        keep=lambda expr: _real(ex.keep(None, lambda: expr)),
                        rows=lambda expr: ex.rows(None, lambda: expr))
    return breakdown_rows(segments)


def _with_micros(con: Any, events: Any) -> Any:
    """``events`` with ``us``, from the engine's own epoch function where it has one.

    The portable ``date_diff`` on a UTC timestamp goes through DuckDB's time
    zone machinery, 25 times slower than ``epoch_us``; Spark has
    ``unix_micros``. Both give the same integers.
    """
    import ibis

    name = {"duckdb": "epoch_us", "pyspark": "unix_micros"}.get(con.name)
    if name is None:
        return events

    @ibis.udf.scalar.builtin(name=name)  # type: ignore[untyped-decorator]
    def micros(ts: datetime) -> int:  # type: ignore[empty-body]
        """The engine's own epoch-microseconds function."""

    return events.mutate(us=micros(events.ts))


def _moment(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _moment_or_none(us: int | None) -> datetime | None:
    return _moment(us) if us is not None else None


def _pages(ex: Executor, d: Any, total: EngineTally, requests: Any) -> None:
    """What :func:`~whoson.metrics.pages.page_rows` and ``top_urls`` read: per-url rows only."""
    for row in ex.rows("url_requests", lambda: d.url_requests(_real(requests))):
        url = row["url"]
        total.put(URLS, url, int(row["requests"]))
        if row["conversations"]:
            total.put(pages.CONVERSATION_URLS, url, int(row["conversations"]))
    viewers = total.grouped.setdefault(pages.VIEWERS, Counter())
    chatted = total.grouped_common.setdefault((pages.REQUESTERS, pages.VIEWERS), Counter())
    for row in ex.rows("page_stats", lambda: d.page_stats(_real(requests))):
        url = row["url"]
        total.put(pages.PAGE_VIEWS, url, int(row["views"]))
        viewers[url] = int(row["viewers"])
        if row["chatted"]:
            chatted[url] = int(row["chatted"])


def _experiments(ex: Executor, d: Any, total: Tally, requests: Any, winners: Any) -> None:
    """Exposure and wait members, as :func:`~whoson.metrics.experiments.experiment_contribution` puts them."""
    for row in ex.rows("exposures", lambda: d.exposures(_real(winners))):
        gmv = cents(Decimal(row["gmv"])) if row["gmv"] is not None else Decimal(0)
        total.put(EXPOSURES, exposure_member(
            row["trigger"], row["visitor"], _moment(row["us"]), row["id"], row["arm"],
            bool(row["orders"]), gmv,
        ))
    for row in ex.rows("visitor_waits", lambda: d.visitor_waits(_real(requests))):
        total.put(WAITS, wait_member(
            row["request"], _moment(row["created"]), _moment_or_none(row["fa"]),
            _moment_or_none(row["first_end"]), _moment(row["last_us"]),
        ))


def _fill(ex: Executor, d: Any, c: _Collector, requests: Any, attributed: Any,
          surveys: Any, sessions: Any, winners: Any) -> None:
    for row in ex.rows("request_counts", lambda: d.request_counts(_real(requests))):
        day = c.day(row["day"])
        channel, initiator = row["channel"], row["initiator"]
        day.count((REQUESTS, channel, initiator), row["req"])
        c.hour(row["hour"]).count((REQUESTS, channel, initiator), row["req"])
        # The definition's columns are named like the keys.
        for key in (OFFLINE, conversations.DURATION, support.HANDLE, support.TRANSFERRED,
                    support.ESCALATED, support.FCR_SETTLED, support.FCR_RESOLVED):
            c.add(day, (key,), row[key])
        for key in (OTHER_SIDE, NOT_CONVERSATION, PENDING, PENDING_OTHER):
            c.add(day, (key, initiator), row[key])
        c.add(day, (conversations.CONVERSATIONS, channel, initiator), row["conv"])
    for row in ex.rows("agent_request_counts", lambda: d.agent_request_counts(_real(requests))):
        day = c.day(row["day"])
        for key in (agents.INITIATED, agents.INITIATED_OTHER, agents.INITIATED_PENDING,
                    agents.INITIATED_PENDING_OTHER):
            c.add(day, (key, row["agent"]), row[key])
    for row in ex.rows("first_response_agents", lambda: d.first_response_agents(_real(requests))):
        day = c.day(row["day"])
        c.add(day, (agents.FIRST_RESPONSE_SUM, row["agent"]), row["a_fr_sum"])
        c.add(day, (agents.FIRST_RESPONSES, row["agent"]), row["a_fr_n"])
    for row in ex.rows("agent_conversations", lambda: d.agent_conversations(_real(requests))):
        day = c.day(row["day"])
        c.add(day, (agents.AGENT_CONVERSATIONS, row["agent"]), row["a_conv"])
        c.add(day, (agents.AGENT_HANDLE, row["agent"]), row["a_handle"])
    summary = ex.rows("wait_summary", lambda: d.wait_summary(_real(requests)))[0]
    count = int(summary["n"])
    ranks = sorted({r for q in _QUANTILES for r in rank_positions(count, q)[:2]}) if count else []
    at: dict[int, int] = {}
    if ranks:
        given = ex.parameters(ranks)
        for row in ex.rows(f"wait_ranks/{len(ranks)}", lambda: d.wait_ranks(_real(requests), given)):
            at[row["rank"]] = int(row["wait"])
    c.total.ranks[support.FIRST_RESPONSE] = Ranked(count, int(summary["total"] or 0), at.__getitem__)
    _pages(ex, d, c.total, requests)
    _experiments(ex, d, c.total, requests, winners)
    for row in ex.rows("event_days", lambda: d.event_days()):
        day = c.day(row["day"])
        for key in (visitors.VISITORS, visitors.SEEN, visitors.CLICKED):
            day.sizes[key] = row[key]
        c.add(day, (auto_messages.AUTO_SHOWN,), row["auto_shown"])
        c.add(day, (auto_messages.AUTO_CLICKS,), row["auto_clicks"])
    totals = ex.rows("event_totals", lambda: d.event_totals())[0]
    for key in (visitors.VISITORS, visitors.SEEN, visitors.CLICKED):
        c.total.sizes[key] = totals[key]
    for row in ex.rows("top_triggers", lambda: d.top_triggers(TOP)):
        c.total.put(auto_messages.TRIGGER_CLICKS, row["trigger"], row["clicks"])
    for row in ex.rows("top_links", lambda: d.top_links(TOP)):
        c.total.put(auto_messages.LINK_CLICKS, (row["trigger"], row["link"]), row["clicks"])
    for row in ex.rows("session_counts", lambda: d.session_counts(_real(sessions))):
        day = c.day(row["day"])
        for key in (visitors.SESSIONS, support.CART_SESSIONS, support.CART_ABANDONED):
            c.add(day, (key,), row[key])
    c.total.sizes[visitors.RETURNING] = ex.rows("returning", lambda: d.returning(_real(sessions)))[0]["returning"]
    for row in ex.rows("order_counts", lambda: d.order_counts(_real(attributed))):
        day = c.day(row["day"])
        c.add(day, (sales.ORDERS,), row["orders"])
        c.add_money(day, (sales.GMV,), row["gmv"])
        if row["att_orders"]:
            c.add(day, (sales.ATTRIBUTED_ORDERS,), row["att_orders"])
            c.add_money(day, (sales.ATTRIBUTED_GMV,), row["att_gmv"])
            c.add_money(day, (sales.ATTRIBUTED_GMV_BY_CHANNEL, row["c_channel"]), row["att_gmv"])
            if row["c_agent"] is not None:
                c.add(day, (agents.ATTRIBUTED_AGENT_ORDERS, row["c_agent"]), row["att_orders"])
                c.add_money(day, (agents.ATTRIBUTED_AGENT_SALES, row["c_agent"]), row["att_gmv"])
    buyers = ex.rows("buyers", lambda: d.buyers(_real(attributed), _real(requests)))[0]
    c.total.sizes[sales.TALKED] = buyers["talked"]
    c.total.sizes[sales.BOUGHT] = buyers["bought"]
    c.total.overlaps[(sales.TALKED, sales.BOUGHT)] = buyers["both"]
    for row in ex.rows("rating_counts", lambda: d.rating_counts(_real(surveys))):
        day = c.day(row["day"])
        rating, agent, n = int(row["rating"]), row["agent"], row["n"]
        c.add(day, (ratings.RATINGS, rating), n)
        if agent is not None:
            c.add(day, (agents.RATING_SUM, agent), rating * n)
            c.add(day, (agents.RATED, agent), n)
    for row in ex.rows("feedback", lambda: d.feedback(_real(surveys))):
        ts = EPOCH + timedelta(microseconds=row["us"])
        score = int(row["rating"]) if row["rating"] is not None else None
        entry = (ts, row["id"], row["visitor"], row["agent"], score, row["feedback"])
        c.total.put(ratings.FEEDBACK, entry)
    for row in ex.rows("agents", lambda: d.agents(_real(requests), _real(attributed), _real(surveys))):
        c.total.put(agents.AGENTS, row["agent"])


class _Collector:
    """Tallies per local date and hour filled from engine rows; the total sums the days."""

    def __init__(self, dates: list[date]) -> None:
        self.dates = dates
        self.by_date: dict[date, EngineTally] = {}
        self.by_hour: dict[int, EngineTally] = {}
        self.total = EngineTally()

    def day(self, ordinal: int) -> EngineTally:
        day = date.fromordinal(int(ordinal))
        tally = self.by_date.get(day)
        if tally is None:
            tally = self.by_date[day] = EngineTally()
        return tally

    def hour(self, hour: int) -> EngineTally:
        tally = self.by_hour.get(int(hour))
        if tally is None:
            tally = self.by_hour[int(hour)] = EngineTally()
        return tally

    @staticmethod
    def add(tally: Tally, key: NumberKey, value: Any) -> None:
        if value:
            tally.count(key, int(value))

    @staticmethod
    def add_money(tally: Tally, key: NumberKey, value: Any) -> None:
        if value is not None:
            tally.count(key, cents(Decimal(value)))

    def view(self) -> View:
        total = self.total
        for tally in self.by_date.values():
            for key, value in tally.numbers.items():
                total.count(key, value)
        by_date: dict[date, Tally] = dict(self.by_date)
        by_hour: dict[int, Tally] = dict(self.by_hour)
        return View(total, by_date, by_hour, self.dates)


def engine_report(
    con: Any, events: Any, params: ReportParams, by: str | None = None,
    previous: ReportParams | None = None,
) -> Report:
    """The report of ``params`` computed by the engine behind ``con`` over ``events``.

    ``by`` adds the breakdown by that dimension; ``previous`` (the compared
    range's parameters) adds ``previous`` and ``change``: a second run of the
    definition, joined by the shared :meth:`~whoson.metrics.report.Report.compared_with`.
    """
    range_view, rows = engine_parts(con, events, params, by)
    report = assemble(range_view, params)
    if by is not None:
        report = attrs.evolve(report, breakdown=rows)
    if previous is not None:
        report = report.compared_with(engine_report(con, events, previous, by))
    return report

