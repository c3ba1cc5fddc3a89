"""Plain-text tables for the analysis additions of a report: pages, breakdown, change.

Kept apart from :mod:`whoson.cli.render` (the main report's sections); every
value that comes from event data (urls, dimension values) is escaped.
"""

from __future__ import annotations

from whoson.cli.render import fmt, table
from whoson.metrics.params import zone
from whoson.metrics.report import Report
from whoson.textsafe import terminal

__all__ = ["render_analysis"]

PAGE_ROWS = 20


def _change_cell(value: object, ratio: object) -> str:
    if ratio is None:
        return fmt(value)
    return f"{fmt(value)} ({float(ratio) - 1:+.1%})"  # type: ignore[arg-type]


def render_analysis(report: Report, by: str | None = None) -> str:
    """Pages, then the breakdown and the change table when the report has them.

    >>> from datetime import datetime, UTC
    >>> from whoson import Tracker, FixedClock
    >>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
    >>> _ = tracker.record({"id": "1", "type": "page_view", "ts": "2026-03-02T09:00:00Z",
    ...                     "visitor": "v1", "url": "/a", "country": "DE"})
    >>> print(render_analysis(tracker.report(by="country"), by="country"))
    <BLANKLINE>
    Pages
    url  page views  visitors  requests  conv.  chat rate
    ---  ----------  --------  --------  -----  ---------
    /a            1         1         0      0       0.0%
    <BLANKLINE>
    Breakdown by country
    country  visitors  saw widget  clicked  CTR  requests  conv.  visitor acc.  orders   GMV  conversion
    -------  --------  ----------  -------  ---  --------  -----  ------------  ------  ----  ----------
    DE              1           0        0    -         0      0             -       0  0.00           -
    <BLANKLINE>
    """
    sections: list[str] = []
    if report.pages:
        shown = report.pages[:PAGE_ROWS]
        body = table(
            ["url", "page views", "visitors", "requests", "conv.", "chat rate"],
            [[terminal(p.url), str(p.page_views), str(p.visitors), str(p.requests),
              str(p.conversations), fmt(p.chat_rate, "rate")] for p in shown],
        )
        more = len(report.pages) - len(shown)
        sections.append("Pages\n" + body + (f"\n... {more} more urls" if more > 0 else ""))
    if report.breakdown is not None:
        name = by or "value"
        sections.append(f"Breakdown by {name}\n" + table(
            [name, "visitors", "saw widget", "clicked", "CTR", "requests", "conv.",
             "visitor acc.", "orders", "GMV", "conversion"],
            [[terminal(b.value), str(b.visitors), str(b.with_impression), str(b.with_click),
              fmt(b.widget_ctr, "rate"), str(b.requests), str(b.conversations),
              fmt(b.visitor_request_rate, "rate"), str(b.attributed_orders),
              fmt(b.attributed_gmv, "money"), fmt(b.conversion_rate, "rate")]
             for b in report.breakdown],
        ))
    if report.change is not None and report.previous is not None:
        before = report.previous.range
        local = zone(before.tz)
        span = " .. ".join(
            bound.astimezone(local).strftime("%Y-%m-%d %H:%M") if bound is not None else "-"
            for bound in (before.start, before.end)
        )
        sections.append(f"Change since {span}\n" + table(
            ["figure", "previous", "current", "delta"],
            [[key, fmt(c.previous), fmt(c.current), _change_cell(c.delta, c.ratio)]
             for key, c in report.change.items()],
        ))
    return "".join(f"\n{section}\n" for section in sections)
