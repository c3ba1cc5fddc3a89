"""The human report's outline: heading, sections of labelled figures, and tables.

Text, Markdown and HTML renderers all draw this one outline, so a figure has
one label, one format and one place. Values are formatted but NOT escaped:
each renderer escapes for its medium.

>>> from whoson import Tracker, FixedClock
>>> from datetime import datetime, UTC
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 10, tzinfo=UTC)), currency="EUR")
>>> _ = tracker.record({"id": "1", "type": "order", "ts": "2026-03-09T10:00:00Z", "visitor": "v1",
...                     "order": "o1", "subtotal": "25.50", "currency": "EUR"})
>>> report = tracker.report("2026-03-09", "2026-03-10", tz="Europe/Berlin")
>>> doc = outline(report.to_dict(), currency="EUR")
>>> doc.heading
'2026-03-09 (1 day), Europe/Berlin, as of 2026-03-10 01:00'
>>> [line.value for line in doc.section("Sales").lines if line.label.startswith("all")]
['1', '25.50 EUR', '25.50 EUR']
>>> [line.value for line in doc.section("Ratings").lines if line.label == "NPS"]
['needs a 0..10 scale']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from whoson.core.time import parse_ts
from whoson.metrics.params import zone
from whoson.present.values import kind_of, show, show_change

__all__ = ["Grid", "Line", "Outline", "Section", "funnel_steps", "heading", "lede", "outline", "partial_days"]


@attrs.frozen
class Line:
    """One labelled figure; ``change`` is the note against the previous period ('' without)."""

    label: str
    value: str
    change: str = ""
    key: str = ""


@attrs.frozen
class Grid:
    """A table of formatted cells; ``numeric[i]`` right-aligns column i."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    note: str = ""


@attrs.frozen
class Section:
    """A titled group of figures and tables."""

    title: str
    lines: list[Line] = attrs.Factory(list)
    grids: list[Grid] = attrs.Factory(list)


@attrs.frozen
class Outline:
    """The whole human report: a heading, what it is compared with, and sections."""

    heading: str
    compared_with: str
    sections: list[Section]
    partial: list[bool]
    lede: str = ""

    def section(self, title: str) -> Section:
        """The section titled ``title`` (KeyError when absent)."""
        for section in self.sections:
            if section.title == title:
                return section
        raise KeyError(title)


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if isinstance(value, datetime) else parse_ts(value)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _span(start: datetime, end: datetime) -> str:
    seconds = (end - start).total_seconds()
    if seconds % 86400 == 0:
        return _plural(int(seconds // 86400), "day")
    if seconds % 3600 == 0:
        return _plural(int(seconds // 3600), "hour")
    return _plural(round(seconds / 60), "minute")


def range_text(rng: Mapping[str, Any], daily: Sequence[Mapping[str, Any]] = ()) -> str:
    """The range as the user gave it, in local time: dates when both bounds are
    local midnights (the end shown inclusive), else local date and time.

    >>> range_text({"start": "2026-03-08T23:00:00Z", "end": "2026-03-15T23:00:00Z", "tz": "Europe/Berlin"})
    '2026-03-09 .. 2026-03-15 (7 days)'
    >>> range_text({"start": "2026-03-09T08:00:00Z", "end": "2026-03-09T16:30:00Z", "tz": "UTC"})
    '2026-03-09 08:00 .. 2026-03-09 16:30 (510 minutes)'
    >>> range_text({"start": None, "end": None, "tz": "UTC"}, [{"date": "2026-03-02"}, {"date": "2026-03-09"}])
    'all data (2026-03-02 .. 2026-03-09)'
    """
    local = zone(rng["tz"])
    start, end = _instant(rng.get("start")), _instant(rng.get("end"))
    first = daily[0]["date"] if daily else None
    last = daily[-1]["date"] if daily else None

    def at_midnight(moment: datetime) -> bool:
        here = moment.astimezone(local)
        return (here.hour, here.minute, here.second, here.microsecond) == (0, 0, 0, 0)

    def when(moment: datetime) -> str:
        return moment.astimezone(local).strftime("%Y-%m-%d %H:%M")

    if start is None and end is None:
        return f"all data ({first} .. {last})" if first else "all data (no events)"
    if start is not None and end is not None:
        if at_midnight(start) and at_midnight(end):
            first_day = start.astimezone(local).date()
            last_day = (end.astimezone(local) - timedelta(microseconds=1)).date()
            days = (last_day - first_day).days + 1
            if days == 1:
                return f"{first_day} (1 day)"
            return f"{first_day} .. {last_day} ({_plural(days, 'day')})"
        return f"{when(start)} .. {when(end)} ({_span(start, end)})"
    if start is not None:
        shown = start.astimezone(local).date().isoformat() if at_midnight(start) else when(start)
        return f"from {shown} (data to {last})" if last else f"from {shown}"
    assert end is not None
    shown = ((end.astimezone(local) - timedelta(microseconds=1)).date().isoformat()
             if at_midnight(end) else f"before {when(end)}")
    return f"until {shown} (data from {first})" if first else f"until {shown}"


def heading(report: Mapping[str, Any]) -> str:
    """``RANGE, ZONE, as of LOCAL TIME``."""
    rng = report["range"]
    as_of = _instant(rng["as_of"])
    assert as_of is not None
    local = as_of.astimezone(zone(rng["tz"])).strftime("%Y-%m-%d %H:%M")
    return f"{range_text(rng, report['trends']['daily'])}, {rng['tz']}, as of {local}"


def partial_days(report: Mapping[str, Any]) -> list[bool]:
    """For each daily row, whether the range or ``as_of`` cuts the local day short.

    whoson cannot tell a quiet morning from missing data, so only the range
    bounds and the moment of the report decide.
    """
    rng = report["range"]
    local = zone(rng["tz"])
    start, end, as_of = _instant(rng.get("start")), _instant(rng.get("end")), _instant(rng["as_of"])
    assert as_of is not None
    stop = as_of if end is None else min(end, as_of + timedelta(microseconds=1))
    flags = []
    for row in report["trends"]["daily"]:
        day = datetime.fromisoformat(row["date"]).replace(tzinfo=local)
        next_day = (day.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=local)
        cut_start = start is not None and start > day
        cut_end = stop < next_day
        flags.append(cut_start or cut_end)
    return flags


def funnel_steps(report: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Visitors -> widget seen -> clicked -> requests -> conversations -> attributed orders."""
    return [
        ("visitors", report["visitors"]["total"]),
        ("saw the widget", report["visitors"]["with_impression"]),
        ("clicked it", report["visitors"]["with_click"]),
        ("requests", report["requests"]["total"]),
        ("conversations", report["conversations"]["total"]),
        ("attributed orders", report["sales"]["attributed_orders"]),
    ]


def _get(report: Mapping[str, Any], key: str) -> Any:
    node: Any = report
    for part in key.split("."):
        node = node[part]
    return node


def _scale(report: Mapping[str, Any]) -> tuple[int, int]:
    values = [int(k) for k in report["ratings"]["distribution"]]
    return (min(values), max(values)) if values else (1, 5)


def _table(title: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]],
           table: str, currency: str | None, note: str = "") -> Grid:
    kinds = [kind_of(f"{table}.{key}") for key, _ in columns]
    cells = [[show(row.get(key), kind, currency) for (key, _), kind in zip(columns, kinds, strict=True)]
             for row in rows]
    numeric = [kind not in ("text", "date", "instant") for kind in kinds]
    return Grid(title, [label for _, label in columns], cells, numeric, note)


def outline(report: Mapping[str, Any], currency: str | None = None, by: str | None = None) -> Outline:
    """The human report of ``report`` (:meth:`Report.to_dict`), money in ``currency``;
    ``by`` names the breakdown's dimension in its title."""
    r = report
    changes: Mapping[str, Any] = r.get("change") or {}

    def line(label: str, key: str, value: str | None = None) -> Line:
        kind = kind_of(key)
        text = value if value is not None else show(_get(r, key), kind, currency)
        return Line(label, text, show_change(changes.get(key), kind) if changes else "", key)

    def joined(*keys: str) -> str:
        return " / ".join(show(_get(r, k), kind_of(k), currency) for k in keys)

    def parts(label: str, *keys: str) -> Line:
        """Several figures on one line (``a / b / c``), each with its own change."""
        notes = [show_change(changes.get(k), kind_of(k)) or "-" for k in keys] if changes else []
        return Line(label, joined(*keys), " / ".join(notes) if any(n != "-" for n in notes) else "", keys[0])

    sections = [
        Section("Visitors", [
            line("unique visitors", "visitors.total"),
            line("sessions", "visitors.sessions"),
            line("returning visitors", "visitors.returning"),
            line("saw the widget", "visitors.with_impression"),
            line("clicked it", "visitors.with_click"),
            line("widget CTR", "visitors.widget_ctr"),
        ]),
        Section("Requests", [
            line("total (text / video)", "requests.total",
                 f"{show(r['requests']['total'], 'count')} ({joined('requests.text', 'requests.video')})"),
            parts("by visitor / agent / auto", "requests.by_initiator.visitor", "requests.by_initiator.agent",
                  "requests.by_initiator.auto"),
            line("unsuccessful", "requests.unsuccessful"),
            line("unanswered from visitors", "requests.unanswered_from_visitors"),
            line("pending", "requests.pending"),
            line("offline", "requests.offline"),
            line("agent-initiated acceptance", "acceptance.agent_initiated_rate"),
            line("visitor request acceptance", "acceptance.visitor_request_rate"),
            line("auto invitation acceptance", "acceptance.auto_invitation_rate"),
        ]),
        Section("Conversations", [
            line("total (text / video)", "conversations.total",
                 f"{show(r['conversations']['total'], 'count')} "
                 f"({joined('conversations.text', 'conversations.video')})"),
            line("average duration", "conversations.avg_duration_minutes"),
            parts("first response avg / median / p90", "support.first_response.avg",
                  "support.first_response.median", "support.first_response.p90"),
            line("average handling", "support.avg_handle_minutes"),
            parts("transfers / escalations", "support.transfers", "support.escalations"),
            line("escalation rate", "support.escalation_rate"),
            line("first contact resolution", "support.first_contact_resolution_rate"),
            line("cart abandonment", "support.cart_abandonment_rate"),
            line("cost per contact", "support.cost_per_contact"),
        ]),
    ]
    wait = r["support"].get("wait")
    if wait is not None and wait.get("requests"):
        median = wait.get("median_answer_seconds")
        still = wait.get("still_waiting") or 0
        sections.append(Section("How visitor requests end", [
            line("visitor requests", "support.wait.requests"),
            parts("answered / abandoned / still waiting", "support.wait.answered", "support.wait.abandoned",
                  "support.wait.still_waiting"),
            line("median time to an answer", "support.wait.median_answer_seconds",
                 None if median is not None else "- (not reached: under half of the requests answered)"),
        ], grids=[Grid(
            "Share ended within", ["within", "answered", "abandoned"],
            [[show(float(t), "seconds"), show(wait["answered_within"][t], "rate"),
              show(wait["abandoned_within"][t], "rate")] for t in wait.get("answered_within", {})],
            [True, True, True],
            note=(f"{still} still waiting: counted up to their wait so far (censored), so the shares "
                  "are estimates; none is counted as answered or abandoned yet") if still else "",
        )]))
    sections.append(Section("Sales", [
        line("attributed orders", "sales.attributed_orders"),
        line("attributed GMV", "sales.attributed_gmv"),
        parts("  via text / video", "sales.attributed_gmv_by_channel.text", "sales.attributed_gmv_by_channel.video"),
        line("AOV", "sales.aov"),
        line("conversion rate", "sales.conversion_rate"),
        line("sales per conversation", "sales.sales_per_conversation"),
        line("all orders", "sales.all_orders"),
        line("all GMV", "sales.all_gmv"),
        line("all AOV", "sales.all_aov"),
    ]))
    ratings = r["ratings"]
    low, high = _scale(r)
    if (low, high) != (0, 10):
        nps = "needs a 0..10 scale"
    elif not ratings["count"]:
        nps = "no ratings"
    else:
        nps = f"{ratings['nps']:+.0f}"
    with_text = sum(1 for entry in ratings["feedback"] if entry.get("feedback"))
    sections.append(Section("Ratings", [
        line("ratings", "ratings.count"),
        line("average", "ratings.avg", f"{show(ratings['avg'], 'float')} on {low}..{high}"
             if ratings["avg"] is not None else "-"),
        Line("distribution", "  ".join(f"{k}:{v}" for k, v in ratings["distribution"].items())),
        line("CSAT (top two values)", "ratings.csat"),
        line("NPS", "ratings.nps", nps),
        Line("with feedback", f"{with_text} of {len(ratings['feedback'])} surveys"
             if ratings["feedback"] else "0"),
    ]))
    sections.append(Section("Auto messages", [
        line("shown", "auto_messages.shown"), line("clicked", "auto_messages.clicks"),
    ], [g for g in (
        _table("Top triggers", r["auto_messages"]["top_triggers"], [("trigger", "trigger"), ("clicks", "clicks")],
               "top_triggers", currency) if r["auto_messages"]["top_triggers"] else None,
        _table("Top links", r["auto_messages"]["top_links"],
               [("trigger", "trigger"), ("link", "link"), ("clicks", "clicks")], "top_links", currency)
        if r["auto_messages"]["top_links"] else None,
    ) if g is not None]))
    sections.extend(_table_sections(r, currency, by))
    return Outline(heading(r), _compared_with(r), sections, partial_days(r), lede(r, currency))


def lede(report: Mapping[str, Any], currency: str | None = None) -> str:
    """One sentence a reader takes away: traffic, chats, and what the chats sold.

    >>> print(lede({"visitors": {"total": 400}, "conversations": {"total": 32},
    ...             "sales": {"attributed_orders": 13, "attributed_gmv": 1808.42, "conversion_rate": 0.40625}},
    ...            "EUR"))
    400 visitors, 32 conversations; 13 orders worth 1,808.42 EUR followed a conversation (40.6% of chatting ...
    """
    sales = report["sales"]
    text = (f"{show(report['visitors']['total'], 'count')} visitors, "
            f"{show(report['conversations']['total'], 'count')} conversations")
    if not sales["attributed_orders"]:
        return text + "; no order followed a conversation."
    orders = "1 order" if sales["attributed_orders"] == 1 else f"{show(sales['attributed_orders'], 'count')} orders"
    return (f"{text}; {orders} worth {show(sales['attributed_gmv'], 'money', currency)} followed a conversation "
            f"({show(sales['conversion_rate'], 'rate')} of chatting visitors bought).")


def _compared_with(report: Mapping[str, Any]) -> str:
    previous = report.get("previous")
    if not previous:
        return ""
    return f"compared with {range_text(previous['range'], previous['trends']['daily'])}"


def _table_sections(r: Mapping[str, Any], currency: str | None, by: str | None) -> list[Section]:
    out: list[Section] = []
    partial = partial_days(r)
    daily_rows = [
        {**row, "date": row["date"] + (" (partial)" if flag else "")}
        for row, flag in zip(r["trends"]["daily"], partial, strict=True)
    ]
    out.append(Section("Daily", grids=[_table("", daily_rows, [
        ("date", "date"), ("visitors", "visitors"), ("widget_ctr", "CTR"), ("requests", "requests"),
        ("text_requests", "text"), ("video_requests", "video"),
        ("visitor_request_acceptance_rate", "visitor acc."), ("conversations", "conv."),
        ("video_conversations", "video conv."), ("avg_rating", "rating"), ("attributed_gmv", "attributed GMV"),
    ], "daily", currency, note="partial: the range or the moment of the report cuts that day short"
        if any(partial) else "")]))
    out.append(Section("Requests by hour", grids=[_table("", [
        {**row, "hour": f"{row['hour']:02d}:00", "total": row["text_requests"] + row["video_requests"]}
        for row in r["trends"]["hourly"]
    ], [("hour", "hour"), ("text_requests", "text"), ("video_requests", "video"), ("total", "total")],
        "hourly", currency)]))
    if r["agents"]:
        out.append(Section("Agents", grids=[_table("", r["agents"], [
            ("agent", "agent"), ("conversations", "conv."), ("avg_rating", "rating"),
            ("initiated_requests", "initiated"), ("initiated_acceptance_rate", "acc."),
            ("attributed_orders", "orders"), ("attributed_sales", "sales"),
            ("first_response_avg", "1st resp."), ("avg_handle_minutes", "handling"),
        ], "agents", currency)]))
    if r["requests"]["top_urls"]:
        out.append(Section("Top URLs by requests", grids=[_table(
            "", r["requests"]["top_urls"], [("url", "url"), ("requests", "requests")], "top_urls", currency)]))
    if r.get("pages"):
        pages = r["pages"]
        out.append(Section("Pages", grids=[_table("", pages[:20], [
            ("url", "url"), ("page_views", "views"), ("visitors", "visitors"), ("requests", "requests"),
            ("conversations", "conv."), ("chat_rate", "chat rate"),
        ], "pages", currency, note=f"top 20 of {len(pages)} pages" if len(pages) > 20 else "")]))
    if r.get("breakdown") is not None:
        out.append(Section(f"Breakdown by {by}" if by else "Breakdown", grids=[_table("", r["breakdown"], [
            ("value", by or "value"), ("visitors", "visitors"), ("with_impression", "saw widget"),
            ("with_click", "clicked"), ("widget_ctr", "CTR"), ("requests", "requests"),
            ("conversations", "conv."), ("visitor_request_rate", "visitor acc."),
            ("attributed_orders", "orders"), ("attributed_gmv", "attributed GMV"),
            ("conversion_rate", "conversion"),
        ], "breakdown", currency)]))
    if r.get("experiments"):
        out.append(Section(
            "Invitation experiments (invited vs held out)",
            grids=[Grid(
                "", ["trigger", "invited", "conv.", "held out", "conv.", "lift", "95% interval", "incremental GMV"],
                [[str(row["trigger"]), show(row["invited"], "count"), show(row["invited_conversion_rate"], "rate"),
                  show(row["held_out"], "count"), show(row["held_out_conversion_rate"], "rate"),
                  _points(row["lift"]), _interval(row.get("lift_ci95")),
                  show(row["incremental_gmv"], "money", currency)]
                 for row in r["experiments"]],
                [False, True, True, True, True, True, True, True],
                note="conversion: an order within the attribution window of the first exposure; lift: the extra "
                     "share of visitors who buy because they were invited; an interval that contains 0 has "
                     "not proven anything yet",
            )]))
    local = zone(r["range"]["tz"])
    texts = [{**entry, "ts": _instant(entry["ts"]).astimezone(local)}  # type: ignore[union-attr]
             for entry in r["ratings"]["feedback"] if entry.get("feedback")]
    if texts:
        out.append(Section("Latest feedback", grids=[_table("", texts[:10], [
            ("ts", "when"), ("visitor", "visitor"), ("agent", "agent"), ("rating", "rating"),
            ("feedback", "feedback"),
        ], "feedback", currency, note=f"newest 10 of {len(texts)}" if len(texts) > 10 else "")]))
    return out


def _points(value: Any) -> str:
    """A difference of rates in percentage points, signed (``+4.2 pp``)."""
    return "-" if value is None else f"{float(value) * 100:+.1f} pp"


def _interval(pair: Any) -> str:
    if not pair or pair[0] is None or pair[1] is None:
        return "-"
    return f"{_points(pair[0])} .. {_points(pair[1])}"
