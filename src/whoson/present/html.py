"""HTML: the self-contained report file, the dashboard's body, and Jupyter displays.

Everything from event data is escaped here (:func:`cell`), after
:func:`whoson.textsafe.terminal` has made controls and bidi overrides visible.
No script, no external stylesheet, font or image: a file opens anywhere and prints.

>>> cell("<b>x</b>\\u202e")
'&lt;b&gt;x&lt;/b&gt;\\\\u202e'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from whoson import __version__
from whoson.present import people
from whoson.present.figures import Grid, Outline, Section, outline
from whoson.present.svg import report_charts
from whoson.present.values import kind_of, show, show_change
from whoson.textsafe import terminal

if TYPE_CHECKING:  # pragma: no cover
    from whoson.live.snapshot import LivePage, VisitorDetail
    from whoson.present.tables import Table

__all__ = ["CSS", "cell", "live_page_html", "report_body", "report_document", "table_html", "visitor_html"]

CSS = """
:root { --ink:#1f2933; --muted:#6b7280; --line:#e5e7eb; --card:#f8fafc; --accent:#2f6fb0;
        --up:#1f7a4d; --down:#b42318; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.whoson { max-width: 1100px; margin: 0 auto; padding: 28px 32px 40px; }
.whoson header { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 20px; }
.whoson .kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 11px; color: var(--accent);
                  font-weight: 700; }
.whoson h1 { font-size: 24px; margin: 4px 0 2px; }
.whoson h2 { font-size: 16px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.whoson h3 { font-size: 13px; margin: 14px 0 6px; color: var(--muted); }
.whoson .sub { color: var(--muted); }
.whoson .lede { font-size: 16px; margin: 0 0 16px; }
.whoson .kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }
.whoson .kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.whoson .kpi .label { color: var(--muted); font-size: 12px; }
.whoson .kpi .value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.whoson .change { font-size: 12px; color: var(--muted); }
.whoson .change.up { color: var(--up); } .whoson .change.down { color: var(--down); }
.whoson .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 14px 22px; }
.whoson .chart { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; break-inside: avoid; }
.whoson .figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 4px 26px; }
.whoson .figures.compare { grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); }
.whoson .figures section { break-inside: avoid; min-width: 0; }
.whoson table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.whoson th, .whoson td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left;
                         vertical-align: top; }
.whoson th { font-size: 12px; color: var(--muted); font-weight: 600; background: var(--card); }
.whoson td.n, .whoson th.n { text-align: right; white-space: nowrap; }
.whoson table.pairs td { border: none; padding: 2px 4px; vertical-align: baseline; }
.whoson table.pairs td.change { font-size: 11px; padding-left: 8px; }
/* a figure's value and change wrap at their spaces rather than spill into the next column */
.whoson table.pairs td.n { white-space: normal; }
.whoson table.pairs td:first-child { color: var(--muted); }
.whoson tr.partial td { color: var(--muted); font-style: italic; }
.whoson .note { color: var(--muted); font-size: 12px; margin: 4px 0; }
.whoson .wide { overflow-x: auto; }
.whoson footer { margin-top: 30px; color: var(--muted); font-size: 11px; border-top: 1px solid var(--line);
                 padding-top: 8px; }
.whoson form.pickers { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin: 10px 0 0; }
.whoson form.pickers label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
.whoson form.pickers input, .whoson form.pickers select, .whoson form.pickers button { font: inherit;
       padding: 4px 6px; border: 1px solid #cbd5e1; border-radius: 6px; }
.whoson form.pickers button { background: var(--accent); color: #fff; border-color: var(--accent); }
.whoson .links a { margin-right: 10px; color: var(--accent); }
@media (max-width: 800px) { .whoson .kpis { grid-template-columns: 1fr 1fr; }
  .whoson .charts { grid-template-columns: 1fr; } }
@media print { body { font-size: 11px; } .whoson { padding: 0; max-width: none; }
  .whoson form.pickers, .whoson .links { display: none; }
  .whoson .kpis { grid-template-columns: repeat(4, 1fr); gap: 6px; } .whoson .kpi .value { font-size: 17px; }
  .whoson .charts { grid-template-columns: 1fr 1fr; gap: 8px 12px; }
  .whoson .figures, .whoson .figures.compare { grid-template-columns: 1fr 1fr; }
  .whoson h1 { font-size: 20px; } .whoson h2 { margin-top: 18px; }
  .whoson h2 { break-after: avoid; } .whoson .kpi, .whoson .chart, .whoson table { break-inside: avoid; }
  @page { size: A4; margin: 14mm; } }
"""

# Figures where a rise is bad news (coloured red when they go up).
_LOWER_IS_BETTER = frozenset({
    "support.first_response.median", "requests.unsuccessful", "requests.unanswered_from_visitors",
    "support.cart_abandonment_rate", "support.escalation_rate", "support.cost_per_contact",
})
_KPIS = (
    ("Visitors", "visitors.total"), ("Widget CTR", "visitors.widget_ctr"),
    ("Requests", "requests.total"), ("Conversations", "conversations.total"),
    ("Attributed GMV", "sales.attributed_gmv"), ("Conversion rate", "sales.conversion_rate"),
    ("CSAT", "ratings.csat"), ("First response (median)", "support.first_response.median"),
)
_SIDE_BY_SIDE = frozenset({"Requests by hour", "Top URLs by requests", "Top triggers", "Top links"})
_CHART_ORDER = ("daily", "gmv", "conversion", "hourly", "funnel", "ratings", "agents", "wait")


def cell(value: object) -> str:
    """One piece of text made safe for HTML (controls shown, markup inert)."""
    return escape(terminal(str(value)), quote=True)


def _grid(grid: Grid, partial: Sequence[bool] = ()) -> str:
    head = "".join(f"<th{' class=n' if n else ''}>{cell(h)}</th>"
                   for h, n in zip(grid.headers, grid.numeric, strict=True))
    body = []
    for i, row in enumerate(grid.rows):
        css = " class=partial" if i < len(partial) and partial[i] else ""
        cells = "".join(f"<td{' class=n' if n else ''}>{cell(v)}</td>"
                        for v, n in zip(row, grid.numeric, strict=True))
        body.append(f"<tr{css}>{cells}</tr>")
    title = f"<h3>{cell(grid.title)}</h3>" if grid.title else ""
    note = f"<p class=note>{cell(grid.note)}</p>" if grid.note else ""
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return f"{title}<div class=wide>{table}</div>{note}"


def _change_class(key: str, change: Mapping[str, Any] | None) -> str:
    if not change or change.get("delta") in (None, 0):
        return "change"
    rising = float(change["delta"]) > 0
    good = rising != (key in _LOWER_IS_BETTER)
    return "change up" if good else "change down"


def _pairs(section: Section, changes: Mapping[str, Any]) -> str:
    rows = []
    for line in section.lines:
        note = ""
        if changes:
            note = f"<td class='n {_change_class(line.key, changes.get(line.key))}'>{cell(line.change)}</td>"
        rows.append(f"<tr><td>{cell(line.label.strip())}</td><td class=n>{cell(line.value)}</td>{note}</tr>")
    return f"<section><h3>{cell(section.title)}</h3><table class=pairs>{''.join(rows)}</table></section>"


def _kpis(report: Mapping[str, Any], currency: str | None) -> str:
    changes: Mapping[str, Any] = report.get("change") or {}
    cards = []
    for label, key in _KPIS:
        node: Any = report
        for part in key.split("."):
            node = node[part]
        kind = kind_of(key)
        change = changes.get(key)
        note = show_change(change, kind) if changes else ""
        if note and change and change.get("delta") is not None:
            note += " vs previous"
        note_html = f"<div class='{_change_class(key, change)}'>{cell(note)}</div>" if note else ""
        cards.append(f"<div class=kpi><div class=label>{cell(label)}</div>"
                     f"<div class=value>{cell(show(node, kind, currency))}</div>{note_html}</div>")
    return f"<div class=kpis>{''.join(cards)}</div>"


def report_body(report: Mapping[str, Any], currency: str | None = None, *, title: str = "whoson report",
                controls: str = "", by: str | None = None) -> str:
    """The report as an HTML fragment (``<div class=whoson>``): heading, key figures,
    charts, figure groups and tables. ``controls`` (already safe HTML, e.g. the
    dashboard's pickers) goes under the heading.
    """
    doc: Outline = outline(report, currency, by)
    changes: Mapping[str, Any] = report.get("change") or {}
    charts = report_charts(dict(report), doc.partial, currency)
    figure_sections = [s for s in doc.sections if s.lines]
    table_sections = [s for s in doc.sections if not s.lines]
    compared = f" &middot; {cell(doc.compared_with)}" if doc.compared_with else ""
    parts = [
        "<div class=whoson><header>",
        f"<div class=kicker>{cell(title)}</div><h1>{cell(doc.heading.split(', ')[0])}</h1>",
        f"<div class=sub>{cell(', '.join(doc.heading.split(', ')[1:]))}{compared}"
        f"{' &middot; money in ' + cell(currency) if currency else ''}</div>",
        controls, "</header>",
        f"<p class=lede>{cell(doc.lede)}</p>",
        _kpis(report, currency),
        "<h2>Trends</h2><div class=charts>",
        *(f"<div class=chart>{charts[name]}</div>" for name in _CHART_ORDER if name in charts),
        "</div>",
        f"<h2>Figures</h2><div class='figures{' compare' if changes else ''}'>",
        *(_pairs(s, changes) for s in figure_sections),
        "</div>",
    ]
    blocks: list[tuple[str, str]] = []
    for section in figure_sections:
        blocks.extend((grid.title, _grid(Grid("", grid.headers, grid.rows, grid.numeric, grid.note)))
                      for grid in section.grids)
    for section in table_sections:
        partial = doc.partial if section.title == "Daily" else ()
        blocks.append((section.title, "".join(_grid(grid, partial) for grid in section.grids)))
    small = [b for b in blocks if b[0] in _SIDE_BY_SIDE]
    wide = [b for b in blocks if b[0] not in _SIDE_BY_SIDE]
    last = [b for b in wide if b[0] == "Latest feedback"]
    parts.extend(f"<h2>{cell(t)}</h2>{body}" for t, body in wide if t != "Latest feedback")
    if small:
        parts.append("<div class=charts>")
        parts.extend(f"<section><h2>{cell(t)}</h2>{body}</section>" for t, body in small)
        parts.append("</div>")
    parts.extend(f"<h2>{cell(t)}</h2>{body}" for t, body in last)
    parts.append(f"<footer>Made with whoson {cell(__version__)}. Rates are shares of their "
                 "denominators; '-' means there was nothing to divide by.</footer></div>")
    return "".join(parts)


def report_document(report: Mapping[str, Any], currency: str | None = None, *, title: str = "whoson report",
                    controls: str = "", by: str | None = None) -> str:
    """A whole, self-contained HTML page of the report (inline CSS and SVG, no script).

    >>> from whoson import Tracker, FixedClock
    >>> from datetime import datetime, UTC
    >>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))
    >>> page = report_document(tracker.report().to_dict())
    >>> page.startswith("<!doctype html>") and "<script" not in page and "http://" not in page.replace(
    ...     "http://www.w3.org/2000/svg", "")
    True
    """
    heading = outline(report, currency).heading
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{cell(title)}: {cell(heading)}</title><style>{CSS}</style></head><body>"
        f"{report_body(report, currency, title=title, controls=controls, by=by)}</body></html>"
    )


def table_html(table: Table, caption: str = "") -> str:
    """A report :class:`~whoson.present.tables.Table` as an HTML table (Jupyter display)."""
    kinds = table.kinds
    numeric = [kinds[c] not in ("text", "date", "instant") for c in table.columns]
    rows = [[show(row.get(c), kinds[c], table.currency) for c in table.columns] for row in table.rows]
    return f"<div class=whoson><style>{CSS}</style>{_grid(Grid(caption, list(table.columns), rows, numeric))}</div>"


def _rows_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> str:
    if not rows:
        return "<p class=note>none</p>"
    return _grid(Grid("", list(headers), [list(r) for r in rows], list(numeric)))


def live_page_html(page: LivePage) -> str:
    """Who's on, as an HTML table (Jupyter display of :meth:`Tracker.online`)."""
    from whoson.live import format_duration

    rows = [[
        people.who(row),
        row.url or "-",
        "-" if row.on_page_seconds is None else format_duration(row.on_page_seconds),
        format_duration(row.on_site_seconds), str(row.pages_viewed), str(row.visits),
        row.country or "-", row.device or "-",
        people.chat(row),
        people.signals(row),
    ] for row in page.rows]
    shown = f" (newest {len(page.rows)} shown)" if len(page.rows) < page.total else ""
    heading = f"<h3>{page.total} online at {cell(page.at.strftime('%Y-%m-%d %H:%M:%S'))} UTC{shown}</h3>"
    table = _rows_table(
        ["visitor", "page", "on page", "on site", "pages", "visits", "country", "device", "chat", "signals"],
        rows, [False, False, True, True, True, True, False, False, False, False])
    return f"<div class=whoson><style>{CSS}</style>{heading}{table}</div>"


def visitor_html(detail: VisitorDetail) -> str:
    """One visitor's snapshot and history as HTML (Jupyter display of :meth:`Tracker.visitor`)."""
    s = detail.snapshot
    state = "online" if detail.online else f"last seen {detail.last_seen.strftime('%Y-%m-%d %H:%M')} UTC"
    facts = people.facts(s, next((o.currency for o in detail.orders if o.currency), None))
    pairs = "".join(f"<tr><td>{cell(k)}</td><td>{cell(v)}</td></tr>" for k, v in facts)
    sessions = _rows_table(["#", "started", "minutes", "pages", "landing", "referrer", "orders", "value"], [[
        str(x.number), x.started.strftime("%Y-%m-%d %H:%M"), f"{x.seconds / 60:.1f}", str(x.pages_viewed),
        x.landing or "-", x.referrer or "-", str(x.orders), show(x.order_value, "money"),
    ] for x in detail.sessions], [True, False, True, True, False, False, True, True])
    chats = _rows_table(["request", "started", "channel", "initiator", "agent", "conversation", "rating",
                         "feedback"], [[
        c.request, c.started.strftime("%Y-%m-%d %H:%M"), c.channel or "-", c.initiator or "-", c.agent or "-",
        "yes" if c.conversation else "no", show(c.rating, "count"), c.feedback or "-",
    ] for c in detail.conversations], [False, False, False, False, False, False, True, False])
    orders = _rows_table(["order", "when", "value"], [[
        o.order, o.ts.strftime("%Y-%m-%d %H:%M"), show(o.value, "money", o.currency),
    ] for o in detail.orders], [False, False, True])
    return (f"<div class=whoson><style>{CSS}</style><h3>visitor {cell(people.who(s))}: {cell(state)}</h3>"
            f"<table class=pairs>{pairs}</table><h3>Sessions</h3>{sessions}"
            f"<h3>Requests and conversations</h3>{chats}<h3>Orders</h3>{orders}</div>")
