"""The dashboard page: the whole report for a chosen range and zone (extra ``[web]``).

:func:`routes` gives the Starlette routes, relative to the whoson app's mount:

- ``GET /dashboard?start=YYYY-MM-DD&end=YYYY-MM-DD&tz=ZONE&compare=previous&by=DIM``:
  the report of the local days ``start .. end`` (both included; default the
  last 7 local days, today included and marked partial), with the previous
  period of the same length, as one HTML page: key figures, inline SVG charts
  (the renderer of :mod:`whoson.present.svg`, as in ``whoson report --format
  html``), figure groups and tables. No script: the pickers are a GET form.
  ``by`` (a breakdown dimension) is offered where the report engine has
  breakdowns (``whoson.metrics.breakdowns.DIMENSIONS``).
- ``GET /dashboard/{table}.csv`` with the same query: one table as CSV.

The tracker is ``request.app.state.whoson.tracker``. Access goes through
:func:`authorize` (the hook point): the ``authorize`` given to :func:`routes`,
else ``whoson.web.auth.authorize`` where that module exists, else the host's
``state.authorize``; with none of them the page is open.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import urlencode
from zoneinfo import available_timezones

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from whoson.core.errors import ConfigError
from whoson.metrics.breakdowns import DIMENSIONS
from whoson.metrics.params import DEFAULTS, zone
from whoson.present.html import report_document
from whoson.present.tables import TABLES, report_table, table_names

__all__ = ["DEFAULT_DAYS", "Authorize", "DashboardQuery", "authorize", "routes"]

DEFAULT_DAYS = 7
Authorize = Callable[[Request], "Awaitable[str | None] | str | None"]
_ZONES = sorted(available_timezones())


class DashboardQuery:
    """The page's parameters, checked: local dates (end included), zone, comparison.

    A bad value falls back to its default and leaves a message in ``error``.
    """

    def __init__(self, params: Any, today: Callable[[str], date], default_tz: str) -> None:
        self.tz = (params.get("tz") or default_tz).strip()
        self.error = ""
        try:
            local_today = today(self.tz)
        except ConfigError as error:
            self.error = str(error)
            self.tz = default_tz
            local_today = today(self.tz)
        self.end = self._date(params, "end", local_today)
        self.start = self._date(params, "start", self.end - timedelta(days=DEFAULT_DAYS - 1))
        if self.start > self.end:
            if not self.error:
                self.error = f"start {self.start} is after end {self.end}"
            self.start = self.end - timedelta(days=DEFAULT_DAYS - 1)
        self.compare = params.get("compare", "previous" if "start" not in params else "") == "previous"
        self.by = (params.get("by") or "").strip() or None
        if self.by is not None and self.by not in DIMENSIONS:
            if not self.error:
                self.error = f"by {self.by!r}: not a breakdown dimension"
            self.by = None

    def _date(self, params: Any, name: str, default: date) -> date:
        text = (params.get(name) or "").strip()
        if not text:
            return default
        try:
            return date.fromisoformat(text)
        except ValueError:
            if not self.error:
                self.error = f"{name} {text!r} is not a date like 2026-03-09"
            return default

    def query(self) -> str:
        """The query string that reproduces these parameters."""
        fields = {"start": self.start.isoformat(), "end": self.end.isoformat(), "tz": self.tz}
        if self.compare:
            fields["compare"] = "previous"
        if self.by:
            fields["by"] = self.by
        return urlencode(fields)


async def authorize(request: Request, hook: Authorize | None = None) -> str | None:
    """Who may see the dashboard: an agent id, or ``None`` to refuse.

    ``hook`` (the host's, may be async) decides; without one, the agents'
    authentication of :mod:`whoson.web.auth`. The one hook point for the
    dashboard's access rule."""
    if hook is None:
        from whoson.web.auth import authorize as agent_of

        return await agent_of(request)
    result = hook(request)
    if inspect.isawaitable(result):
        result = await result
    return result if isinstance(result, str) and result else None


def _tracker(request: Request) -> Any:
    return request.app.state.whoson.tracker


def _today(tracker: Any) -> Callable[[str], date]:
    def today(tz: str) -> date:
        now: datetime = tracker.clock.now()
        return now.astimezone(zone(tz)).date()

    return today


def _report(tracker: Any, query: DashboardQuery) -> dict[str, Any]:
    """The report tree of the query's local days; the other options take their defaults."""
    end = query.end + timedelta(days=1)
    options: dict[str, Any] = {"tz": query.tz, "as_of": tracker.clock.now()}
    if query.compare:
        options["compare"] = "previous"
    if query.by:
        options["by"] = query.by
    report = tracker.report(query.start, end, **options)
    tree: dict[str, Any] = report.to_dict()
    return tree


def _refused() -> Response:
    body = ("<!doctype html><title>whoson dashboard</title><p>Please <a href='login'>log in</a> "
            "as an agent to see the dashboard.</p>")
    return HTMLResponse(body, status_code=401)


def _controls(query: DashboardQuery, tables: list[str]) -> str:
    zones = "".join(f"<option value='{escape(z, quote=True)}'>" for z in _ZONES)
    checked = " checked" if query.compare else ""
    choices = DIMENSIONS
    by = ""
    if choices:
        options = "".join(
            f"<option value='{escape(d, quote=True)}'{' selected' if d == query.by else ''}>{escape(d)}</option>"
            for d in choices)
        by = f"<label>Break down by <select name=by><option value=''>(nothing)</option>{options}</select></label>"
    error = f"<p class=note role=alert><strong>{escape(query.error)}</strong></p>" if query.error else ""
    links = "".join(
        f"<a href='dashboard/{name}.csv?{escape(query.query(), quote=True)}'>{name}.csv</a>" for name in tables
    )
    return (
        f"{error}<form class=pickers method=get action='dashboard'>"
        f"<label>From <input type=date name=start value='{query.start.isoformat()}' required></label>"
        f"<label>To (included) <input type=date name=end value='{query.end.isoformat()}' required></label>"
        f"<label>Time zone <input name=tz list=whoson-zones value='{escape(query.tz, quote=True)}' "
        f"size=18></label><datalist id=whoson-zones>{zones}</datalist>{by}"
        f"<label><span><input type=checkbox name=compare value=previous{checked}> "
        "compare with the previous period</span></label>"
        "<button type=submit>Show</button></form>"
        f"<p class=links>Download CSV: {links}</p>"
    )


def routes(authorize_hook: Authorize | None = None) -> list[BaseRoute]:
    """The dashboard's routes: ``/dashboard`` and ``/dashboard/{table}.csv``.

    ``authorize_hook(request) -> agent id | None`` (may be async) decides access;
    without it :func:`authorize` picks the app's own rule.
    """

    async def page(request: Request) -> Response:
        if await authorize(request, authorize_hook) is None:
            return _refused()
        tracker = _tracker(request)
        query = DashboardQuery(request.query_params, _today(tracker), getattr(tracker, "tz", DEFAULTS.tz_name))
        status = 400 if query.error else 200
        tree = await run_in_threadpool(_report, tracker, query)
        html = report_document(tree, tracker.currency, title="whoson dashboard",
                               controls=_controls(query, table_names(tree)), by=query.by)
        return HTMLResponse(html, status_code=status)

    async def csv(request: Request) -> Response:
        if await authorize(request, authorize_hook) is None:
            return Response("log in as an agent to download\n", status_code=401, media_type="text/plain")
        name = request.path_params["table"]
        tracker = _tracker(request)
        query = DashboardQuery(request.query_params, _today(tracker), getattr(tracker, "tz", DEFAULTS.tz_name))
        if query.error:
            return Response(query.error + "\n", status_code=400, media_type="text/plain")
        if name not in TABLES:
            return Response(f"no table {name!r}; one of {', '.join(TABLES)}\n", status_code=404,
                            media_type="text/plain")
        tree = await run_in_threadpool(_report, tracker, query)
        try:
            table = report_table(tree, name, tracker.currency)
        except ValueError as error:
            return Response(f"{error}\n", status_code=404, media_type="text/plain")
        filename = f"whoson-{name}-{query.start}-{query.end}.csv"
        return Response(table.csv(), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{filename}"'})

    return [
        Route("/dashboard", page, methods=["GET"], name="whoson_dashboard"),
        Route("/dashboard/{table}.csv", csv, methods=["GET"], name="whoson_dashboard_csv"),
    ]
