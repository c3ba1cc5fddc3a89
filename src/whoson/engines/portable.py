"""The portable subset: which Ibis operations the report definition may use.

Every engine must compile the definition and give the same figures, so it
keeps to operations that mean the same on all of them: plain aggregates and
exact distinct counts, row numbers, lag and cumulative sums over windows,
inner/left/cross joins, unions, sorts with limits, integer microsecond
arithmetic. Not allowed, among others: ASOF or positional joins, approximate
counts or quantiles, engine time zone conversion, string formatting of
times, QUALIFY-only constructs. :func:`violations` walks an expression tree
and names whatever falls outside; the test suite runs it on every query of
:class:`~whoson.engines.definition.Definition`.

>>> import ibis
>>> t = ibis.table({"v": "string", "n": "int64"}, name="t")
>>> violations(t.aggregate(a=t.v.nunique(), b=t.n.sum()))
[]
>>> violations(t.aggregate(a=t.v.approx_nunique()))
['ApproxCountDistinct']
"""

from __future__ import annotations

from typing import Any

__all__ = ["ALLOWED", "JOINS", "definition_queries", "violations"]

ALLOWED = frozenset({
    "Add", "Aggregate", "And", "Cast", "Coalesce", "CountDistinct", "CountStar", "Distinct",
    "DropColumns", "Equals", "Field", "Filter", "FloorDivide", "Greater", "GreaterEqual", "IfElse",
    "InMemoryTable", "InValues", "IsNull", "JoinChain", "JoinLink", "JoinReference", "Lag", "Less",
    "LessEqual", "Limit", "Literal", "Max", "Min", "Multiply", "Not", "NotEquals", "NotNull", "Or",
    "Project", "RowNumber", "Sort", "SortKey", "Subtract", "Sum", "TimestampDelta", "UnboundTable",
    "Union", "WindowBoundary", "WindowFunction", "DatabaseTable",
})
JOINS = frozenset({"inner", "left", "cross"})


def violations(expr: Any) -> list[str]:
    """The operations of ``expr`` outside the portable subset (empty when it keeps to it)."""
    import ibis.expr.operations as ops

    found: set[str] = set()
    for node in expr.op().find(ops.Node):
        name = type(node).__name__
        if name not in ALLOWED:
            found.add(name)
        elif isinstance(node, ops.JoinLink) and node.how not in JOINS:
            found.add(f"JoinLink({node.how})")
        elif isinstance(node, ops.TimestampDelta) and node.part.value != "microsecond":
            found.add(f"TimestampDelta({node.part.value})")
    return sorted(found)


def definition_queries() -> dict[str, Any]:
    """Every query of the report definition, on symbolic tables (nothing runs)."""
    import ibis

    from whoson.engines.definition import Bounds, Definition
    from whoson.engines.parquet import schema

    events = ibis.table(ibis.Schema.from_pyarrow(schema()), name="events")
    slots = ibis.table({"slot": "int64", "day": "int64", "hour": "int64"}, name="slots")
    d = Definition(events, Bounds(2 * 10**15, 10**15, 3 * 10**15, 1, 1, 1, 1), slots)
    requests, winners, surveys = d.requests(), d.winners(), d.surveys()
    attributed, sessions = d.attributed(winners, requests), d.sessions(winners)
    return {
        "extent": d.extent(),
        "request_counts": d.request_counts(requests),
        "agent_request_counts": d.agent_request_counts(requests),
        "first_response_agents": d.first_response_agents(requests),
        "agent_conversations": d.agent_conversations(requests),
        "wait_summary": d.wait_summary(requests),
        "wait_ranks": d.wait_ranks(requests, [0, 1]),
        "request_urls": d.request_urls(requests),
        "page_viewers": d.page_viewers(),
        "event_slots": d.event_slots(),
        "url_requests": d.url_requests(requests),
        "page_stats": d.page_stats(requests),
        "exposures": d.exposures(winners),
        "visitor_waits": d.visitor_waits(requests),
        "event_days": d.event_days(),
        "event_totals": d.event_totals(),
        "top_triggers": d.top_triggers(10),
        "top_links": d.top_links(10),
        "session_counts": d.session_counts(sessions),
        "returning": d.returning(sessions),
        "order_counts": d.order_counts(attributed),
        "buyers": d.buyers(attributed, requests),
        "rating_counts": d.rating_counts(surveys),
        "feedback": d.feedback(surveys),
        "agents": d.agents(requests, attributed, surveys),
    }
