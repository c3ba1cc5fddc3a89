"""Visitor figures: unique visitors, sessions, returning visitors, widget CTR."""

from __future__ import annotations

import attrs

from whoson.metrics.params import ratio
from whoson.metrics.scope import Scope

__all__ = ["VisitorFigures", "visitor_figures", "widget_visitors"]


@attrs.frozen
class VisitorFigures:
    """``visitors`` section: who came, how often, and who saw or clicked the widget."""

    total: int
    sessions: int
    returning: int
    with_impression: int
    with_click: int
    widget_ctr: float | None


def widget_visitors(scope: Scope) -> tuple[set[str], set[str]]:
    """Visitors with an impression (a click counts as one) and with a click, in range."""
    params = scope.params
    projection = scope.projection
    seen = {visitor for ts, visitor in projection.impressions if params.in_range(ts)}
    clicked = {visitor for ts, visitor in projection.clicks if params.in_range(ts)}
    return seen, clicked


def visitor_figures(scope: Scope) -> VisitorFigures:
    """The ``visitors`` section of the report."""
    sessions = scope.sessions_started_in_range()
    seen, clicked = widget_visitors(scope)
    return VisitorFigures(
        total=len(scope.visitors_with_events()),
        sessions=len(sessions),
        returning=len({s.visitor for s in sessions if s.returning}),
        with_impression=len(seen),
        with_click=len(clicked),
        widget_ctr=ratio(len(clicked), len(seen)),
    )
