"""The human report's sections on waiting and on invitation experiments.

>>> from whoson import FixedClock, Tracker
>>> from datetime import UTC, datetime
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 13, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "request", "ts": "2026-03-02T12:00:00Z", "visitor": "v1",
...      "request": "q1", "channel": "text", "initiator": "visitor"},
...     {"id": "2", "type": "message", "ts": "2026-03-02T12:00:20Z", "visitor": "v1",
...      "request": "q1", "sender": "agent", "agent": "ann"}])
>>> print(experiment_sections(tracker.report())[0])
How visitor requests end: 1 requests, 1 answered, 0 abandoned, 0 still waiting
within  answered  abandoned
------  --------  ---------
   15s      0.0%       0.0%
   30s    100.0%       0.0%
 1m00s    100.0%       0.0%
 2m00s    100.0%       0.0%
 5m00s    100.0%       0.0%
median time to an answer: 20s
"""

from __future__ import annotations

from whoson.cli.render import fmt, table
from whoson.metrics.experiments import WAIT_POINTS
from whoson.metrics.report import Report
from whoson.textsafe import terminal

__all__ = ["experiment_sections"]


def experiment_sections(report: Report) -> list[str]:
    """Text sections for ``support.wait`` and ``experiments`` (none when there is nothing)."""
    sections: list[str] = []
    wait = report.support.wait
    if wait.requests:
        rows = [[fmt(point, "s"), fmt(wait.answered_within[str(point)], "rate"),
                 fmt(wait.abandoned_within[str(point)], "rate")] for point in WAIT_POINTS]
        sections.append(
            f"How visitor requests end: {wait.requests} requests, {wait.answered} answered, "
            f"{wait.abandoned} abandoned, {wait.still_waiting} still waiting\n"
            + table(["within", "answered", "abandoned"], rows)
            + f"\nmedian time to an answer: {_median(wait.median_answer_seconds)}"
            + (f"\n{wait.still_waiting} still waiting: counted up to their wait so far "
               "(censored), so the shares are estimates; none is counted as answered or "
               "abandoned yet" if wait.still_waiting else "")
        )
    if report.experiments:
        rows = [
            [terminal(row.trigger), str(row.invited), fmt(row.invited_conversion_rate, "rate"),
             str(row.held_out), fmt(row.held_out_conversion_rate, "rate"),
             _points(row.lift), _interval(row.lift_ci95), fmt(row.incremental_gmv, "money")]
            for row in report.experiments
        ]
        sections.append(
            "Invitation experiments (invited vs held out; conversion = an order within the "
            "attribution window)\n"
            + table(["trigger", "invited", "conv.", "held out", "conv.", "lift", "95% interval",
                     "incremental GMV"], rows)
            + "\nlift: the extra share of visitors who buy because they were invited; an "
            "interval that contains 0 has not proven anything yet"
        )
    return sections


def _median(seconds: float | None) -> str:
    if seconds is None:
        return "- (not reached: under half of the requests answered)"
    return fmt(seconds, "s")


def _points(value: float | None) -> str:
    """A difference of rates in percentage points, signed."""
    return "-" if value is None else f"{value * 100:+.1f} pp"


def _interval(bounds: tuple[float, float] | None) -> str:
    return "-" if bounds is None else f"{_points(bounds[0])} .. {_points(bounds[1])}"
