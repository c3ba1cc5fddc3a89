"""Breakdowns (``by=DIM``) on the engines: each entity's value computed where the data is.

The value of an entity follows :mod:`whoson.metrics.breakdowns` (analysis.md,
"Precise readings"):

- session-level dimensions (``country``, ``device``, ``referrer``,
  ``landing_page``, ``utm_source``, ``utm_campaign``, ``returning``): every
  event gets the value of its session (numbered as
  :meth:`~whoson.engines.definition.Definition.numbered_events` cuts them),
  taken from the session's first page view (``(none)`` without one); a
  request takes the value of its winning creation event, an order the value
  of its counting event;
- request-level dimensions (``channel``, ``initiator``, ``department``):
  a request's own field; an order the field of its attributing
  conversation's request.

The engine groups by value and sends back small per-value sums and distinct
counts; the rows are then read with the report's figure functions
(:func:`~whoson.metrics.derive.acceptance`,
:func:`~whoson.metrics.sales.sales_figures`, ...). Host names and query
parameters (``referrer``, ``utm_*``) are read by Python's own
:func:`~whoson.metrics.breakdowns.session_value` on the distinct raw values
only (never per event) and joined back as a small mapping table, so they
match the python engine exactly.

>>> from whoson.engines.segments import value_map
>>> value_map("utm_source", ["/?utm_source=mail", "/"])
{'/?utm_source=mail': 'mail', '/': '(none)'}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import ibis
import ibis.expr.types as ir
from ibis import _

from whoson.core.events import PageViewEvent
from whoson.engines.definition import Definition
from whoson.metrics.breakdowns import (
    NONE,
    REQUEST_DIMENSIONS,
    BreakdownRow,
    breakdown_row,
    check_dimension,
    session_value,
)
from whoson.metrics.conversations import CONVERSATIONS
from whoson.metrics.requests import OTHER_SIDE, PENDING, PENDING_OTHER, REQUESTS
from whoson.metrics.sales import (
    ATTRIBUTED_GMV,
    ATTRIBUTED_GMV_BY_CHANNEL,
    ATTRIBUTED_ORDERS,
    BOUGHT,
    TALKED,
)

__all__ = ["Segments", "breakdown_rows", "value_map"]

# Session dimensions read from the first page view's raw field as they are.
_PLAIN = {"country": "country", "device": "device", "landing_page": "url"}
# Session dimensions whose value Python derives from a raw field (mapped per distinct value).
_MAPPED = {"referrer": "referrer", "utm_source": "url", "utm_campaign": "url"}
_WIDGET = ("widget_impression", "widget_click")

Rows = Callable[[Any], list[dict[str, Any]]]


def value_map(dimension: str, raws: Iterable[str]) -> dict[str, str]:
    """The value of ``dimension`` for each distinct raw field of a first page view.

    ``raws`` are referrers (for ``referrer``) or urls (for ``utm_*``); the
    value is what :func:`whoson.metrics.breakdowns.session_value` gives.
    """
    field = _MAPPED[dimension]
    mapping = {}
    for raw in raws:
        # session_value reads only this one field of the first page view.
        view = cast(PageViewEvent, SimpleNamespace(url=raw, referrer=raw) if field == "url"
                    else SimpleNamespace(url="", referrer=raw))
        mapping[raw] = session_value(dimension, view, 1)
    return mapping


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.ifelse(condition.fill_null(False), 1, 0)


def _first_per(table: ir.Table, by: list[str]) -> ir.Table:
    ranked = table.mutate(
        _rank=ibis.row_number().over(group_by=by, order_by=[ibis.asc("us"), ibis.asc("id")])
    )
    return ranked.filter(ranked._rank == 0).drop("_rank")


class Segments:
    """The breakdown's per-value aggregations for one dimension (Ibis expressions).

    ``requests`` and ``attributed`` are the definition's (materialised)
    tables; ``keep`` materialises an intermediate table and ``rows`` runs a
    query (both from :mod:`whoson.engines.run`).
    """

    def __init__(self, d: Definition, dimension: str, requests: ir.Table, attributed: ir.Table,
                 keep: Callable[[ir.Table], ir.Table], rows: Rows) -> None:
        self.d = d
        self.dimension = check_dimension(dimension)
        self.requests = requests
        self.attributed = attributed
        self.keep = keep
        self.rows = rows
        self._valued: ir.Table | None = None

    @property
    def request_level(self) -> bool:
        """Whether the dimension is a request's own field."""
        return self.dimension in REQUEST_DIMENSIONS

    # -- values ---------------------------------------------------------------------

    def valued_events(self) -> ir.Table:
        """Every event with a visitor: ``id``, ``visitor``, ``us``, ``type`` and its session's ``value``.

        The sessions and first page views are materialised once; the value
        itself (and the join with Python's mapping for ``referrer`` and
        ``utm_*``) is a cheap expression on top, left lazy: Spark cannot
        cache a table built on an in-memory one.
        """
        if self._valued is not None:
            return self._valued
        dim = self.dimension
        numbered = self.d.numbered_events().select("id", "visitor", "us", "type", "number", "url",
                                                   "referrer", "country", "device")
        if dim == "returning":
            value = ibis.ifelse(numbered.number == 1, "new", "returning")
            self._valued = self.keep(numbered.select("id", "visitor", "us", "type", value=value))
            return self._valued
        raw_field = _PLAIN.get(dim) or _MAPPED[dim]
        views = numbered.filter(numbered.type == "page_view")
        first = _first_per(views, ["visitor", "number"])
        first = first.select(
            fv_visitor="visitor", fv_number="number", fv_raw=first[raw_field], fv_seen=ibis.literal(1)
        )
        joined = numbered.left_join(
            first, (numbered.visitor == first.fv_visitor) & (numbered.number == first.fv_number)
        )
        joined = self.keep(joined.select("id", "visitor", "us", "type", "fv_raw", "fv_seen"))
        if dim in _PLAIN:
            value = joined.fv_raw.coalesce(ibis.literal(NONE))
        else:
            value, joined = self._mapped(joined)
        value = ibis.ifelse(joined.fv_seen.isnull(), ibis.literal(NONE), value)
        self._valued = joined.select("id", "visitor", "us", "type", value=value)
        return self._valued

    def _mapped(self, joined: ir.Table) -> tuple[ir.StringValue, ir.Table]:
        """The value from Python's mapping of the distinct raw fields, and the table joined with it."""
        import pyarrow as pa

        raws = [row["fv_raw"] for row in self.rows(joined.select("fv_raw").distinct())
                if row["fv_raw"] is not None]
        mapping = value_map(self.dimension, raws)
        table = ibis.memtable(pa.table({
            "map_raw": pa.array(list(mapping), pa.string()),
            "map_value": pa.array(list(mapping.values()), pa.string()),
        }))
        joined = joined.left_join(table, joined.fv_raw == table.map_raw)
        # A first page view without a referrer is (direct) (a url is always there).
        missing = ibis.literal("(direct)") if self.dimension == "referrer" else ibis.literal(NONE)
        return ibis.ifelse(joined.fv_raw.isnull(), missing, joined.map_value), joined

    def valued_requests(self) -> ir.Table:
        """Requests created in range, with their ``value``."""
        r = self.requests.filter(self.d.in_range(self.requests.created))
        if self.request_level:
            return r.mutate(value=r[self.dimension].coalesce(ibis.literal(NONE)))
        ev = self.valued_events().select(ev_id="id", ev_value="value")
        joined = r.left_join(ev, r.cid == ev.ev_id)
        return joined.mutate(value=joined.ev_value.coalesce(ibis.literal(NONE))).drop("ev_id", "ev_value")

    def valued_orders(self) -> ir.Table:
        """Attributed orders in range (``visitor``, ``value``, ``c_channel``, ``amount``)."""
        o = self.attributed.filter(self.attributed.c_channel.notnull())
        if self.request_level:
            r = self.requests.select(vr_request="request", vr_value=self.requests[self.dimension])
            joined = o.left_join(r, o.c_request == r.vr_request)
            value = joined.vr_value
        else:
            ev = self.valued_events().select(ev_id="id", ev_value="value")
            joined = o.left_join(ev, o.id == ev.ev_id)
            value = joined.ev_value
        return joined.select("visitor", "c_channel", amount=joined.value,
                             value=value.coalesce(ibis.literal(NONE)))

    # -- figures --------------------------------------------------------------------

    def visitor_counts(self) -> ir.Table:
        """Per value: distinct visitors, widget viewers and clickers."""
        if self.request_level:
            r = self.valued_requests().select("visitor", "value").distinct()
            ev = self.d.events.filter(
                self.d.events.visitor.notnull() & self.d.events.type.isin(list(_WIDGET))
            )
            ev = ev.filter(self.d.in_range(ev.us))
            widget = ev.group_by("visitor").aggregate(
                w_clicked=_flag(ev.type == "widget_click").max()
            ).rename(w_visitor="visitor")
            joined = r.left_join(widget, r.visitor == widget.w_visitor)
            return joined.group_by("value").aggregate(
                visitors=_.count(),
                seen=_flag(joined.w_visitor.notnull()).sum(),
                clicked=joined.w_clicked.fill_null(0).sum(),
            )
        ev = self.valued_events()
        ev = ev.filter(self.d.in_range(ev.us))
        return ev.group_by("value").aggregate(
            visitors=ev.visitor.nunique(),
            seen=ev.visitor.nunique(where=ev.type.isin(list(_WIDGET))),
            clicked=ev.visitor.nunique(where=ev.type == "widget_click"),
        )

    def request_counts(self) -> ir.Table:
        """Per value, channel and initiator: requests, conversations, responded, pending."""
        r = self.valued_requests()
        return r.group_by(["value", "channel", "initiator"]).aggregate(
            req=_.count(),
            conv=_flag(r.conv).sum(),
            other=_flag(r.other).sum(),
            pend=_flag(r.pending).sum(),
            pend_other=_flag(r.pending & r.other).sum(),
        )

    def order_counts(self) -> ir.Table:
        """Per value and attributing channel: attributed orders and their value."""
        o = self.valued_orders()
        return o.group_by(["value", "c_channel"]).aggregate(att_orders=_.count(), att_gmv=o.amount.sum())

    def buyer_counts(self) -> ir.Table:
        """Per value: visitors who talked, who bought (attributed), and both."""
        r = self.valued_requests()
        talked = r.filter(r.conv).select("value", "visitor", t=ibis.literal(1), b=ibis.literal(0))
        o = self.valued_orders()
        bought = o.select("value", "visitor", t=ibis.literal(0), b=ibis.literal(1))
        both = talked.union(bought, distinct=False)
        per = both.group_by(["value", "visitor"]).aggregate(t=both.t.max(), b=both.b.max())
        return per.group_by("value").aggregate(
            talked=per.t.sum(), bought=per.b.sum(), both=_flag((per.t == 1) & (per.b == 1)).sum()
        )


def breakdown_rows(segments: Segments) -> tuple[BreakdownRow, ...]:
    """Run the breakdown's queries and read each value's row with the report's figure functions."""
    from whoson.engines.parquet import cents
    from whoson.engines.run import EngineTally

    rows = segments.rows
    tallies: dict[str, EngineTally] = {}
    people: dict[str, tuple[int, int, int]] = {}

    def tally(value: str) -> EngineTally:
        found = tallies.get(value)
        if found is None:
            found = tallies[value] = EngineTally()
        return found

    for row in rows(segments.visitor_counts()):
        tally(row["value"])
        people[row["value"]] = (int(row["visitors"]), int(row["seen"] or 0), int(row["clicked"] or 0))
    for row in rows(segments.request_counts()):
        t = tally(row["value"])
        channel, initiator = row["channel"], row["initiator"]
        t.count((REQUESTS, channel, initiator), int(row["req"]))
        for key in (OTHER_SIDE, PENDING, PENDING_OTHER):
            if row[key]:
                t.count((key, initiator), int(row[key]))
        if row["conv"]:
            t.count((CONVERSATIONS, channel, initiator), int(row["conv"]))
    for row in rows(segments.order_counts()):
        t = tally(row["value"])
        gmv = cents(Decimal(row["att_gmv"]))
        t.count((ATTRIBUTED_ORDERS,), int(row["att_orders"]))
        t.count((ATTRIBUTED_GMV,), gmv)
        t.count((ATTRIBUTED_GMV_BY_CHANNEL, row["c_channel"]), gmv)
    for row in rows(segments.buyer_counts()):
        t = tally(row["value"])
        t.sizes[TALKED] = int(row["talked"])
        t.sizes[BOUGHT] = int(row["bought"])
        t.overlaps[(TALKED, BOUGHT)] = int(row["both"])
    result = []
    for value, t in tallies.items():
        visitors, seen, clicked = people.get(value, (0, 0, 0))
        result.append(breakdown_row(value, visitors, seen, clicked, t))
    result.sort(key=lambda row: (-row.visitors, row.value))
    return tuple(result)
