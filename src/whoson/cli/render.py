"""Plain-text tables for people reading a report in a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from whoson.metrics.report import Report
from whoson.textsafe import terminal

__all__ = ["fmt", "render_report", "table"]


def fmt(value: Any, kind: str = "") -> str:
    """One cell: rates as percents, money with 2 decimals, durations rounded, None as '-'.

    >>> fmt(0.25, "rate"), fmt(Decimal("10"), "money"), fmt(None), fmt(61.5, "s")
    ('25.0%', '10.00', '-', '1m02s')
    """
    if value is None:
        return "-"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "s":
        seconds = round(float(value))
        return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
    if kind == "min":
        return f"{float(value):.1f} min"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A left/right aligned text table (numbers right-aligned).

    Every cell is escaped with :func:`whoson.textsafe.terminal` here, so
    visitor ids, urls and names from events can never send control
    sequences to the terminal.

    >>> print(table(["a", "n"], [["x", "1"], ["yy", "10"]]))
    a    n
    --  --
    x    1
    yy  10
    >>> print(table(["url"], [["/\\x1b[2J"]]))
    url
    --------
    /\\x1b[2J
    """
    headers = [terminal(h) for h in headers]
    rows = [[terminal(c) for c in r] for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def numeric(i: int) -> bool:
        return all(_looks_numeric(r[i]) for r in rows) and bool(rows)

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(widths[i]) if numeric(i) else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _looks_numeric(cell: str) -> bool:
    return cell == "-" or cell.replace(",", "").replace(".", "").replace("%", "").replace(
        "-", ""
    ).replace("m", "").replace("s", "").replace(" min", "").strip().isdigit()


def _pairs(title: str, pairs: Sequence[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in pairs)
    body = "\n".join(f"  {k.ljust(width)}  {terminal(v)}" for k, v in pairs)
    return f"{title}\n{body}"


def render_report(report: Report) -> str:
    """The whole report as text sections and tables."""
    r = report
    rng = r.range
    start = rng.start.isoformat() if rng.start else "(all data)"
    end = rng.end.isoformat() if rng.end else "(all data)"
    sections = [
        f"whoson report  {start} .. {end}  tz {rng.tz}  as of {rng.as_of.isoformat()}",
        _pairs("Visitors", [
            ("unique visitors", fmt(r.visitors.total)), ("sessions", fmt(r.visitors.sessions)),
            ("returning visitors", fmt(r.visitors.returning)),
            ("saw the widget", fmt(r.visitors.with_impression)),
            ("clicked it", fmt(r.visitors.with_click)),
            ("widget CTR", fmt(r.visitors.widget_ctr, "rate")),
        ]),
        _pairs("Requests", [
            ("total (text / video)", f"{r.requests.total} ({r.requests.text} / {r.requests.video})"),
            ("by visitor / agent / auto", " / ".join(str(r.requests.by_initiator[k])
                                                     for k in ("visitor", "agent", "auto"))),
            ("unsuccessful", fmt(r.requests.unsuccessful)),
            ("unanswered from visitors", fmt(r.requests.unanswered_from_visitors)),
            ("pending", fmt(r.requests.pending)), ("offline", fmt(r.requests.offline)),
            ("agent-initiated acceptance", fmt(r.acceptance.agent_initiated_rate, "rate")),
            ("visitor request acceptance", fmt(r.acceptance.visitor_request_rate, "rate")),
            ("auto invitation acceptance", fmt(r.acceptance.auto_invitation_rate, "rate")),
        ]),
        _pairs("Conversations", [
            ("total (text / video)",
             f"{r.conversations.total} ({r.conversations.text} / {r.conversations.video})"),
            ("average duration", fmt(r.conversations.avg_duration_minutes, "min")),
            ("first response avg / median / p90", " / ".join(
                fmt(v, "s") for v in (r.support.first_response.avg, r.support.first_response.median,
                                      r.support.first_response.p90))),
            ("average handling", fmt(r.support.avg_handle_minutes, "min")),
            ("transfers / escalations", f"{r.support.transfers} / {r.support.escalations}"),
            ("first contact resolution", fmt(r.support.first_contact_resolution_rate, "rate")),
            ("cart abandonment", fmt(r.support.cart_abandonment_rate, "rate")),
            ("cost per contact", fmt(r.support.cost_per_contact, "money")),
        ]),
        _pairs("Sales", [
            ("attributed orders", fmt(r.sales.attributed_orders)),
            ("attributed GMV", fmt(r.sales.attributed_gmv, "money")),
            ("  via text / video", " / ".join(fmt(r.sales.attributed_gmv_by_channel[c], "money")
                                              for c in ("text", "video"))),
            ("AOV", fmt(r.sales.aov, "money")),
            ("conversion rate", fmt(r.sales.conversion_rate, "rate")),
            ("sales per conversation", fmt(r.sales.sales_per_conversation, "money")),
            ("all orders / GMV / AOV", f"{r.sales.all_orders} / {fmt(r.sales.all_gmv, 'money')}"
                                       f" / {fmt(r.sales.all_aov, 'money')}"),
        ]),
        _pairs("Ratings", [
            ("ratings", fmt(r.ratings.count)), ("average", fmt(r.ratings.avg)),
            ("distribution", "  ".join(f"{k}:{v}" for k, v in r.ratings.distribution.items())),
            ("CSAT", fmt(r.ratings.csat, "rate")), ("NPS", fmt(r.ratings.nps)),
            ("with feedback", fmt(len(r.ratings.feedback))),
        ]),
    ]
    if r.requests.top_urls:
        sections.append("Top URLs by requests\n" + table(
            ["url", "requests"], [[u.url, str(u.requests)] for u in r.requests.top_urls]))
    if r.auto_messages.shown or r.auto_messages.clicks:
        sections.append(
            f"Auto messages: {r.auto_messages.shown} shown, {r.auto_messages.clicks} clicked\n"
            + table(["trigger", "clicks"],
                    [[t.trigger, str(t.clicks)] for t in r.auto_messages.top_triggers])
        )
    sections.append("Daily\n" + table(
        ["date", "visitors", "CTR", "requests", "text", "video", "visitor acc.", "conv.",
         "video conv.", "rating", "attributed GMV"],
        [[d.date.isoformat(), str(d.visitors), fmt(d.widget_ctr, "rate"), str(d.requests),
          str(d.text_requests), str(d.video_requests),
          fmt(d.visitor_request_acceptance_rate, "rate"), str(d.conversations),
          str(d.video_conversations), fmt(d.avg_rating), fmt(d.attributed_gmv, "money")]
         for d in r.trends.daily],
    ))
    busy = [h for h in r.trends.hourly if h.text_requests or h.video_requests]
    if busy:
        sections.append("Requests by hour\n" + table(
            ["hour", "text", "video"],
            [[f"{h.hour:02d}", str(h.text_requests), str(h.video_requests)] for h in busy]))
    if r.agents:
        sections.append("Agents\n" + table(
            ["agent", "conv.", "rating", "initiated", "acc.", "orders", "sales", "1st resp.",
             "handling"],
            [[a.agent, str(a.conversations), fmt(a.avg_rating), str(a.initiated_requests),
              fmt(a.initiated_acceptance_rate, "rate"), str(a.attributed_orders),
              fmt(a.attributed_sales, "money"), fmt(a.first_response_avg, "s"),
              fmt(a.avg_handle_minutes, "min")] for a in r.agents],
        ))
    from whoson.cli.render_experiments import experiment_sections

    sections.extend(experiment_sections(r))
    return "\n\n".join(sections) + "\n"
