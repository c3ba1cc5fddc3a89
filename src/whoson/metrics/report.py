"""The report: every figure of the metrics contract, typed and immutable.

:func:`build_report` computes it from a projection holding the events up to
``as_of``; :meth:`Report.to_dict` gives the JSON key tree of the contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from whoson.core.projection import Projection
from whoson.core.time import format_ts
from whoson.metrics.agents import AgentFigures, agent_figures
from whoson.metrics.auto_messages import AutoMessageFigures, auto_message_figures
from whoson.metrics.breakdowns import BreakdownRow, breakdown
from whoson.metrics.compare import Change, changes
from whoson.metrics.conversations import ConversationFigures, conversation_figures
from whoson.metrics.experiments import ExperimentRow, experiment_rows, wait_figures
from whoson.metrics.ledger import Ledger, Past, View, from_scratch, view
from whoson.metrics.pages import PageRow, page_rows
from whoson.metrics.params import ReportParams
from whoson.metrics.ratings import RatingFigures, rating_figures
from whoson.metrics.requests import (
    AcceptanceFigures,
    RequestFigures,
    acceptance_figures,
    request_figures,
)
from whoson.metrics.sales import SalesFigures, sales_figures
from whoson.metrics.support import SupportFigures, support_figures
from whoson.metrics.trends import Trends, trends
from whoson.metrics.visitors import VisitorFigures, visitor_figures

__all__ = ["RangeInfo", "Report", "assemble", "build_report", "to_plain"]


@attrs.frozen
class RangeInfo:
    """``range`` section: what the report covers and when it was taken."""

    start: datetime | None
    end: datetime | None
    tz: str
    as_of: datetime


@attrs.frozen(repr=False)
class Report:
    """Every figure of a report; attribute names are the contract's keys.

    For analysts: :meth:`frame` (pandas), :meth:`to_arrow`, :meth:`plot`
    (matplotlib), :meth:`table`; in Jupyter it displays as the HTML report.
    ``currency`` (not a figure, not in :meth:`to_dict`) labels money.

    >>> from whoson import Tracker, FixedClock
    >>> from datetime import datetime, UTC
    >>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))
    >>> _ = tracker.record({"id": "1", "type": "widget_click", "ts": "2026-03-01T10:00:00Z",
    ...                     "visitor": "v1"})
    >>> report = tracker.report()
    >>> report.visitors.widget_ctr, report.to_dict()["visitors"]["with_impression"]
    (1.0, 1)
    """

    range: RangeInfo
    visitors: VisitorFigures
    requests: RequestFigures
    acceptance: AcceptanceFigures
    conversations: ConversationFigures
    sales: SalesFigures
    ratings: RatingFigures
    support: SupportFigures
    auto_messages: AutoMessageFigures
    trends: Trends
    agents: tuple[AgentFigures, ...]
    experiments: tuple[ExperimentRow, ...]
    pages: tuple[PageRow, ...] = ()
    # Only with ``by=`` / ``compare=`` (analysis.md); absent from to_dict() otherwise.
    breakdown: tuple[BreakdownRow, ...] | None = None
    previous: Report | None = None
    change: Mapping[str, Change] | None = None
    currency: str | None = attrs.field(default=None, kw_only=True, metadata={"figure": False})

    def __repr__(self) -> str:
        from whoson.present.figures import heading

        return f"<Report {heading(self.to_dict())}>"

    def _repr_html_(self) -> str:
        from whoson.present.html import CSS, report_body

        return f"<style>{CSS}</style>{report_body(self.to_dict(), self.currency)}"

    def table(self, name: str) -> Any:
        """The table ``name`` as a :class:`whoson.present.Table` (see :meth:`frame` for names)."""
        from whoson.present.tables import report_table

        return report_table(self.to_dict(), name, self.currency)

    def frame(self, name: str) -> Any:
        """The table ``name`` as a pandas DataFrame (extra ``[pandas]``).

        Names: ``daily``, ``hourly``, ``agents``, ``agents_daily``, ``top_urls``,
        ``top_triggers``, ``top_links``, ``feedback``, ``pages``, ``breakdown``,
        ``experiments``, ``change`` (when the report has them) and ``summary``
        (one row, dotted column names). Dates are ``datetime64``, rates and money
        ``float64``, nulls NaN/NA. Cost: O(rows x columns).
        """
        from whoson.present.frames import table_frame

        return table_frame(self.table(name))

    def to_arrow(self, name: str) -> Any:
        """The table ``name`` as a pyarrow Table (extra ``[arrow]``)."""
        from whoson.present.frames import table_arrow

        return table_arrow(self.table(name))

    def plot(self, name: str, ax: Any = None) -> Any:
        """Draw ``daily``, ``hourly``, ``agents``, ``ratings`` or ``funnel`` with matplotlib
        (extra ``[plot]``), into ``ax`` when given; returns the Axes."""
        from whoson.present.plots import plot

        return plot(self.to_dict(), name, ax, self.currency)

    def to_dict(self) -> dict[str, Any]:
        """The report as the contract's JSON key tree.

        Money stays :class:`~decimal.Decimal`, instants become UTC strings,
        dates ``YYYY-MM-DD``; :func:`whoson.codec.dumps` writes it as JSON.
        """
        plain = to_plain(self)
        assert isinstance(plain, dict)
        for optional in ("breakdown", "previous", "change"):
            if plain[optional] is None:
                del plain[optional]
        if self.previous is not None:
            plain["previous"] = self.previous.to_dict()
        return plain

    def compared_with(self, previous: Report) -> Report:
        """This report with ``previous`` and the ``change`` of every figure since it."""
        return attrs.evolve(
            self, previous=previous, change=changes(previous.to_dict(), self.to_dict())
        )


def to_plain(value: Any) -> Any:
    """Turn report objects into dicts, lists, strings and numbers (Decimal kept)."""
    if attrs.has(type(value)):
        return {f.name: to_plain(getattr(value, f.name)) for f in attrs.fields(type(value))
                if f.metadata.get("figure", True)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [to_plain(v) for v in value]
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def build_report(
    projection: Projection, params: ReportParams, ledger: Ledger | Past | None = None,
    by: str | None = None,
) -> Report:
    """Compute the report of ``params`` from a projection of the events up to ``as_of``.

    With a ``ledger`` that serves these parameters, the report reads its slot
    tallies (catching up on recent events first), as does a :class:`~whoson.metrics.ledger.Past`
    view of a ledger at an earlier ``as_of`` (no breakdown); otherwise every visitor's
    contribution is computed afresh. ``by`` adds the breakdown by that dimension.
    """
    if ledger is not None and ledger.serves(params):
        range_view = ledger.view(params)
    else:
        range_view = view(projection, from_scratch(projection, params), params)
    report = assemble(range_view, params)
    if by is not None:
        report = attrs.evolve(report, breakdown=breakdown(
            by, projection, params, range_view, ledger if isinstance(ledger, Ledger) else None))
    return report


def assemble(range_view: View, params: ReportParams) -> Report:
    """The report from a range view's tallies: every division, rate and ordering.

    Shared by every engine: the python engine's ledger and the SQL engines
    (:mod:`whoson.engines`) both hand their tallies over here.
    """
    total = range_view.total
    scale = params.rating_scale
    return Report(
        range=RangeInfo(params.start, params.end, params.tz_name, params.as_of),
        visitors=visitor_figures(total),
        requests=request_figures(total),
        acceptance=acceptance_figures(total),
        conversations=conversation_figures(total),
        sales=sales_figures(total),
        ratings=rating_figures(total, scale),
        support=support_figures(total, params.cost, wait_figures(total, params.as_of)),
        auto_messages=auto_message_figures(total),
        trends=trends(range_view, scale),
        agents=agent_figures(range_view),
        experiments=experiment_rows(total),
        pages=page_rows(total),
    )
