"""Breakdowns: the report's visitor, request and sales figures split by one dimension.

A breakdown row holds the figures of metrics.md restricted to the entities of
one value of a dimension (analysis.md, "Breakdowns and pages"). The value of
an entity comes from the session its own event belongs to (session-level
dimensions: the session's first page view, or whether it is the visitor's
first session) or from its request (request-level dimensions: ``channel``,
``initiator``, ``department``; an order takes the value of its attributing
conversation's request).

The engine is the report's: each visitor's entities go through the same
per-entity functions (:func:`~whoson.metrics.contributions.request_into`,
:func:`~whoson.metrics.contributions.order_into`, ...) into one tally per
(15-minute slot, value), and the rows are read with the report's own figure
functions. The ledger keeps these tallies up to date per dimension once a
breakdown by it has been asked for (see :meth:`whoson.metrics.ledger.Ledger.followed`).

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "page_view", "ts": "2026-03-02T09:00:00Z", "visitor": "v1",
...      "url": "/", "country": "DE"},
...     {"id": "2", "type": "page_view", "ts": "2026-03-02T09:00:00Z", "visitor": "v2",
...      "url": "/", "country": "FR"},
...     {"id": "3", "type": "page_view", "ts": "2026-03-02T09:05:00Z", "visitor": "v3",
...      "url": "/", "country": "DE"},
... ])
>>> [(row.value, row.visitors) for row in tracker.report(by="country").breakdown]
[('DE', 2), ('FR', 1)]
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import attrs
from sortedcontainers import SortedDict

from whoson.core.errors import ConfigError
from whoson.core.events import OrderEvent, PageViewEvent, RequestEvent
from whoson.core.models import Request
from whoson.core.projection import Projection, session_groups
from whoson.metrics.contributions import (
    Settings,
    VisitorContext,
    order_into,
    request_into,
    slot_of,
    widget_into,
)
from whoson.metrics.conversations import conversation_count
from whoson.metrics.derive import INITIATORS
from whoson.metrics.ledger import Ledger, View, keyed_parts, pending_adjustments
from whoson.metrics.params import ReportParams, ratio
from whoson.metrics.requests import acceptance, requests_by
from whoson.metrics.sales import sales_figures
from whoson.metrics.tally import Tally
from whoson.metrics.visitors import CLICKED, SEEN, VISITORS, presence_into

__all__ = [
    "DIMENSIONS",
    "NONE",
    "REQUEST_DIMENSIONS",
    "SESSION_DIMENSIONS",
    "BreakdownRow",
    "breakdown",
    "breakdown_row",
    "check_dimension",
    "dimension_contribution",
]

NONE = "(none)"
DIRECT = "(direct)"
SESSION_DIMENSIONS = (
    "country", "device", "referrer", "landing_page", "utm_source", "utm_campaign", "returning",
)
REQUEST_DIMENSIONS = ("channel", "initiator", "department")
DIMENSIONS = SESSION_DIMENSIONS + REQUEST_DIMENSIONS

Keyed = dict[tuple[int, str], Tally]
Keep = Callable[[datetime], bool]
_MICROSECOND = timedelta(microseconds=1)


def check_dimension(by: str) -> str:
    """``by`` when it names a dimension, else a ConfigError listing them.

    >>> check_dimension("country")
    'country'
    >>> check_dimension("colour")
    Traceback (most recent call last):
    ...
    whoson.core.errors.ConfigError: by 'colour' must be one of country, device, referrer, ...
    """
    if by not in DIMENSIONS:
        raise ConfigError(f"by {by!r} must be one of {', '.join(DIMENSIONS)}")
    return by


# -- values of an entity ----------------------------------------------------------


def _query_value(url: str, name: str) -> str:
    try:
        query = urlsplit(url).query
    except ValueError:
        # A host urlsplit cannot read ("https://[/"): split by hand, as it
        # would; one visitor's url must not break the whole report.
        query = url.split("#", 1)[0].partition("?")[2]
    values = parse_qs(query).get(name)
    return values[0] if values else NONE


def _referrer_host(referrer: str | None) -> str:
    if referrer is None:
        return DIRECT
    # The host name; a referrer without one (a bare path) or with a host
    # urlsplit cannot read ("https://[/]x/", a bad IPv6 literal) is kept as sent.
    try:
        host = urlsplit(referrer).hostname
    except ValueError:
        return referrer
    return host or referrer


def session_value(dimension: str, first_view: PageViewEvent | None, number: int) -> str:
    """The value of a session-level dimension for a session (``number`` 1 = first ever).

    >>> from whoson.core.parsing import parse_event
    >>> view = parse_event({"id": "1", "type": "page_view", "ts": "2026-03-02T09:00:00Z",
    ...     "visitor": "v", "url": "/?utm_source=mail", "referrer": "https://News.example/a"})
    >>> [session_value(d, view, 2) for d in ("referrer", "utm_source", "utm_campaign", "returning")]
    ['news.example', 'mail', '(none)', 'returning']
    """
    if dimension == "returning":
        return "new" if number == 1 else "returning"
    if first_view is None:
        return NONE
    if dimension == "referrer":
        return _referrer_host(first_view.referrer)
    if dimension == "landing_page":
        return first_view.url
    if dimension in ("utm_source", "utm_campaign"):
        return _query_value(first_view.url, dimension)
    field = getattr(first_view, dimension)
    return field if field is not None else NONE


def request_value(dimension: str, request: Request) -> str:
    """The value of a request-level dimension for a request."""
    value = getattr(request, dimension)
    return value if value is not None else NONE


# -- contributions ------------------------------------------------------------------


class _Cells:
    """Tallies per (slot, value), dropping entities anchored outside ``keep``."""

    def __init__(self, keep: Keep | None) -> None:
        self.tallies: Keyed = {}
        self.keep = keep

    def at(self, ts: datetime, value: str) -> Tally | None:
        if self.keep is not None and not self.keep(ts):
            return None
        key = (slot_of(ts), value)
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally()
        return tally


def dimension_contribution(
    dimension: str,
    projection: Projection,
    visitor: str,
    settings: Settings,
    keep: Keep | None = None,
) -> Keyed:
    """What ``visitor`` adds to a breakdown by ``dimension``, per (slot, value).

    Cost: O(the visitor's events + requests + orders).
    """
    cells = _Cells(keep)
    context = VisitorContext.of(projection, visitor)
    if dimension in REQUEST_DIMENSIONS:
        requests = {r.id: r for r in context.requests}
        for request in context.requests:
            tally = cells.at(request.created, request_value(dimension, request))
            if tally is not None:
                presence_into(tally, visitor)
                request_into(tally, projection, request, settings, context.visitor_requests)
        for order in projection.orders_of(visitor):
            conversation = context.last_touch(order.ts, settings.attribution_window)
            if conversation is None:
                continue
            tally = cells.at(order.ts, request_value(dimension, requests[conversation.request]))
            if tally is not None:
                order_into(tally, order, conversation)
        return cells.tallies
    # Session-level: the value of every event is its session's.
    by_request: dict[str, str] = {}
    by_order: dict[str, str] = {}
    groups = session_groups(projection.timelines.get(visitor, []), settings.session_timeout)
    for number, events in enumerate(groups, start=1):
        first_view = next((e for e in events if isinstance(e, PageViewEvent)), None)
        value = session_value(dimension, first_view, number)
        present: set[int] = set()
        for event in events:
            # The earliest creation event of an id in the timeline is the one that counts.
            if isinstance(event, RequestEvent):
                by_request.setdefault(event.request, value)
            elif isinstance(event, OrderEvent):
                by_order.setdefault(event.order, value)
            tally = cells.at(event.ts, value)
            if tally is None:
                continue
            slot = slot_of(event.ts)
            if slot not in present:
                present.add(slot)
                presence_into(tally, visitor)
            widget_into(tally, event, visitor)
    for request in context.requests:
        tally = cells.at(request.created, by_request[request.id])
        if tally is not None:
            request_into(tally, projection, request, settings, context.visitor_requests)
    for order in projection.orders_of(visitor):
        tally = cells.at(order.ts, by_order[order.id])
        if tally is not None:
            order_into(tally, order, context.last_touch(order.ts, settings.attribution_window))
    return cells.tallies


def _contribute(dimension: str) -> Callable[..., Keyed]:
    def contribute(
        projection: Projection, visitor: str, settings: Settings, keep: Keep | None = None
    ) -> Keyed:
        return dimension_contribution(dimension, projection, visitor, settings, keep)

    return contribute


# -- rows ---------------------------------------------------------------------------


@attrs.frozen
class BreakdownRow:
    """One value of a breakdown: the report's figures restricted to its entities."""

    value: str
    visitors: int
    with_impression: int
    with_click: int
    widget_ctr: float | None
    requests: int
    conversations: int
    visitor_request_rate: float | None
    attributed_orders: int
    attributed_gmv: Decimal
    conversion_rate: float | None


def _row(value: str, tally: Tally, dimension: str, total: Tally) -> BreakdownRow:
    visitors = tally.multiset(VISITORS).keys()
    if dimension in REQUEST_DIMENSIONS:
        # Those of the value's visitors who saw / clicked the widget anywhere in range.
        seen = len(visitors & total.multiset(SEEN).keys())
        clicked = len(visitors & total.multiset(CLICKED).keys())
    else:
        seen, clicked = len(tally.multiset(SEEN)), len(tally.multiset(CLICKED))
    return breakdown_row(value, len(visitors), seen, clicked, tally)


def breakdown_row(value: str, visitors: int, seen: int, clicked: int, tally: Tally) -> BreakdownRow:
    """The row of ``value`` from its visitor counts and the tally of its entities.

    Shared by every engine: the python engine counts the visitors from its
    slot tallies, the SQL engines in the engine.
    """
    sales = sales_figures(tally)
    return BreakdownRow(
        value=value,
        visitors=visitors,
        with_impression=seen,
        with_click=clicked,
        widget_ctr=ratio(clicked, seen),
        requests=sum(requests_by(tally, initiator) for initiator in INITIATORS),
        conversations=conversation_count(tally),
        visitor_request_rate=acceptance(tally, "visitor"),
        attributed_orders=sales.attributed_orders,
        attributed_gmv=sales.attributed_gmv,
        conversion_rate=sales.conversion_rate,
    )


def breakdown(
    dimension: str,
    projection: Projection,
    params: ReportParams,
    range_view: View,
    ledger: Ledger | None = None,
) -> tuple[BreakdownRow, ...]:
    """The breakdown rows of ``dimension``: most visitors first, ties by value.

    With a ledger that serves ``params`` the per-slot tallies are kept
    incrementally (the first breakdown by a dimension computes them once);
    otherwise every visitor is computed afresh for the range.
    """
    check_dimension(dimension)
    settings = Settings(params.session_timeout, params.attribution_window, params.fcr_window)
    contribute = _contribute(dimension)
    if ledger is not None and ledger.serves(params):
        parts = ledger.followed(f"by:{dimension}", contribute, params)
    else:
        cells = SortedDict()
        for visitor in projection.timelines:
            for key, tally in contribute(projection, visitor, settings, params.in_range).items():
                target = cells.get(key)
                if target is None:
                    target = cells[key] = Tally()
                target.add(tally)
        parts = keyed_parts(cells, params)
    for request, adjustment in pending_adjustments(projection, params):
        parts[_pending_value(dimension, projection, request, settings)].append(adjustment)
    rows = []
    for value, tallies in parts.items():
        tally = Tally.merged(tallies)
        if not tally.is_empty():
            rows.append(_row(value, tally, dimension, range_view.total))
    rows.sort(key=lambda row: (-row.visitors, row.value))
    return tuple(rows)


def _pending_value(
    dimension: str, projection: Projection, request: Request, settings: Settings
) -> str:
    """The value of a (pending) request: its field, or the value of its creation's session."""
    if dimension in REQUEST_DIMENSIONS:
        return request_value(dimension, request)
    timeline = projection.timelines.get(request.visitor, [])
    for number, events in enumerate(session_groups(timeline, settings.session_timeout), start=1):
        if any(isinstance(e, RequestEvent) and e.request == request.id for e in events):
            first_view = next((e for e in events if isinstance(e, PageViewEvent)), None)
            return session_value(dimension, first_view, number)
    raise AssertionError(f"request {request.id!r} has no creation event in its visitor's timeline")

