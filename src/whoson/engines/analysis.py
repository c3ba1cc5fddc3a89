"""``by=`` and ``compare=`` for the engines: the parameters of both runs, resolved once.

A comparison is two runs of the definition (the report's range and the
compared one, sharing ``as_of`` and every other parameter, as
:func:`whoson.metrics.compare.previous_bounds` says), joined by the shared
:meth:`~whoson.metrics.report.Report.compared_with`; a breakdown is computed
in the same run (see :mod:`whoson.engines.segments`).

>>> from whoson import Tracker
>>> params, by, previous = engine_params(Tracker(), {"start": "2026-03-08", "end": "2026-03-15",
...     "as_of": "2026-03-16T00:00:00Z", "compare": "previous", "by": "country"})
>>> by, previous.start.isoformat(), previous.end.isoformat()
('country', '2026-03-01T00:00:00+00:00', '2026-03-08T00:00:00+00:00')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from whoson.metrics.breakdowns import check_dimension
from whoson.metrics.compare import previous_bounds
from whoson.metrics.params import ReportParams
from whoson.metrics.report import Report

if TYPE_CHECKING:
    from whoson.tracker import Tracker

__all__ = ["engine_params", "parquet_engine_report"]


def engine_params(
    tracker: Tracker, options: Mapping[str, Any]
) -> tuple[ReportParams, str | None, ReportParams | None]:
    """The report's parameters, the breakdown dimension, and the compared range's parameters.

    ``options`` are :meth:`whoson.Tracker.report`'s keywords (``start``,
    ``end``, ``by``, ``compare`` and the rest).
    """
    rest = dict(options)
    by = rest.pop("by", None)
    compare = rest.pop("compare", None)
    if by is not None:
        check_dimension(by)
    params = tracker.report_params(**rest)
    if compare is None:
        return params, by, None
    start, end = rest.pop("start", None), rest.pop("end", None)
    before = previous_bounds(compare, params.start, params.end, start, end)
    rest["as_of"] = params.as_of
    return params, by, tracker.report_params(*before, **rest)


def parquet_engine_report(tracker: Tracker, con: Any, events: Any, options: Mapping[str, Any]) -> Report:
    """The report of ``options`` over ``events`` (an exported table on ``con``).

    ``tracker`` (holding no events) resolves the parameters with the
    export's settings.
    """
    from whoson.engines.run import engine_report

    params, by, previous = engine_params(tracker, options)
    return engine_report(con, events, params, by, previous)
