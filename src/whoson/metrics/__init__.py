"""The report of the metrics contract, computed from a projection of events."""

from whoson.core.time import parse_duration
from whoson.metrics.params import ReportParams
from whoson.metrics.report import Report, build_report

__all__ = ["Report", "ReportParams", "build_report", "parse_duration"]
