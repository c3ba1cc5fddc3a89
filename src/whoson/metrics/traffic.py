"""Visitor figures: unique visitors, sessions, returning visitors, widget CTR."""

from __future__ import annotations

import attrs

from whoson.metrics.params import ratio
from whoson.metrics.tally import Tally

__all__ = ["VisitorFigures", "visitor_figures"]


@attrs.frozen
class VisitorFigures:
    """``visitors`` section: who came, how often, and who saw or clicked the widget."""

    total: int
    sessions: int
    returning: int
    with_impression: int
    with_click: int
    widget_ctr: float | None


def visitor_figures(tally: Tally) -> VisitorFigures:
    """The ``visitors`` section from the range's tally."""
    seen = tally.distinct("seen")
    clicked = tally.distinct("clicked")
    return VisitorFigures(
        total=tally.distinct("visitors"),
        sessions=int(tally.number(("sessions",))),
        returning=tally.distinct("returning"),
        with_impression=seen,
        with_click=clicked,
        widget_ctr=ratio(clicked, seen),
    )
