"""``whoson report SOURCE``: the report of the metrics contract, as tables or JSON."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from typing import Any

from whoson.cli.common import (
    EXIT_DATA,
    EXIT_OK,
    UsageError,
    add_common,
    is_store_url,
    load_source,
    open_store_tracker,
    print_errors,
    source_label,
    tracker_options,
)
from whoson.cli.formats import add_format_options, busy, chosen_format, write_report
from whoson.core.errors import ConfigError
from whoson.metrics.breakdowns import DIMENSIONS
from whoson.metrics.compare import parse_compare
from whoson.metrics.params import DEFAULTS, ReportOptions
from whoson.tracker import Tracker

__all__ = ["add_parser", "open_tracker", "report_options", "run"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report", help="compute the report of a log or a store",
        description="The whoson report: visitors, requests, acceptance, conversations, sales, "
        "ratings, support, auto messages, trends and the agent leaderboard.",
    )
    parser.add_argument(
        "source", metavar="SOURCE",
        help="event log (.jsonl, - for stdin), store URL or Parquet export directory",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON (= --format json)")
    add_format_options(parser)
    parser.add_argument("--start", metavar="T", help="RFC 3339 instant or date (local midnight)")
    parser.add_argument("--end", metavar="T", help="exclusive end: instant or date")
    # Left out, an option takes the library's default (whoson.metrics.params.DEFAULTS).
    parser.add_argument("--tz", metavar="ZONE", help=f"IANA zone for days and hours (default {DEFAULTS.tz_name})")
    parser.add_argument("--as-of", metavar="T", help="moment of the report (default: newest event)")
    for name in ("attribution_window", "response_timeout", "fcr_window", "session_timeout"):
        default = _duration_text(getattr(DEFAULTS, name))
        parser.add_argument(f"--{name.replace('_', '-')}", metavar="DURATION", help=f"default {default}")
    parser.add_argument("--cost", metavar="AMOUNT", help="channel cost for the range")
    parser.add_argument("--engine", choices=("python", "duckdb", "spark"), default="python",
                        help="where the report runs (same figures; see docs/scale.md)")
    parser.add_argument("--spark-master", metavar="URL", help="Spark master (default local[2])")
    parser.add_argument("--by", choices=DIMENSIONS, metavar="DIM",
                        help=f"add a breakdown by one of: {', '.join(DIMENSIONS)}")
    parser.add_argument("--compare", metavar="previous|START..END",
                        help="also report the previous range (or START..END) and the change")
    add_common(parser)
    parser.set_defaults(run=run)


def _duration_text(duration: timedelta) -> str:
    """``7d``, ``10m``, ``24h``: a default as the options are written.

    >>> _duration_text(timedelta(hours=24)), _duration_text(timedelta(minutes=10))
    ('24h', '10m')
    """
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and (unit != "d" or seconds // size != 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def report_options(args: argparse.Namespace) -> ReportOptions:
    """The report options given on the command line (the others take their defaults).

    ``--session-timeout`` and ``--rating-scale`` are the tracker's settings (see
    :func:`~whoson.cli.common.tracker_options`); ``--as-of`` defaults to the newest event.
    """
    given: ReportOptions = {}
    if args.tz is not None:
        given["tz"] = args.tz
    for name in ("attribution_window", "response_timeout", "fcr_window", "cost"):
        value = getattr(args, name)
        if value is not None:
            given[name] = value
    return given


def open_tracker(args: argparse.Namespace, **options: Any) -> tuple[Tracker, int]:
    """A tracker over SOURCE (a store opened in place, or a log loaded into memory),
    and how many log lines were skipped.

    Bad log lines are reported on stderr and skipped; the output covers the
    rest, and the command then exits with status 1, like ``ingest``.
    """
    try:
        options = tracker_options(args, **options)
        if is_store_url(args.source):
            return open_store_tracker(args.source, options), 0
        tracker = Tracker(**options)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    result = load_source(tracker, args.source)
    if result.errors:
        print_errors(result.errors, prefix="skipped ")
    return tracker, result.rejected


def run(args: argparse.Namespace) -> int:
    """Print the report (tables, JSON, CSV, Markdown or HTML: see :mod:`whoson.cli.formats`)."""
    fmt = chosen_format(args)
    if args.spark_master is not None and args.engine != "spark":
        raise UsageError(f"--spark-master is for --engine spark (the engine is {args.engine})")
    if os.path.isdir(args.source):
        from whoson.engines.command import parquet_report

        with busy(f"computing the report on {args.engine}"):
            report = parquet_report(args)
        write_report(report, fmt, args)
        return EXIT_OK
    if args.engine != "python" and not is_store_url(args.source):
        from whoson.engines.command import log_report

        report, skipped = log_report(args, {**report_options(args), "as_of": args.as_of})
        write_report(report, fmt, args)
        return EXIT_DATA if skipped else EXIT_OK
    with busy(f"reading {args.source}"):
        tracker, skipped = open_tracker(args)
    with tracker:
        options = report_options(args)
        options["as_of"] = args.as_of
        if args.as_of is None:
            newest = tracker.projection.last_ts
            if newest is None:
                print(f"{source_label(args.source)}: no events", file=sys.stderr)
            options["as_of"] = newest if newest is not None else tracker.clock.now()
        try:
            with busy("computing the report"):
                report = tracker.report(
                    args.start, args.end, engine=args.engine, spark_master=args.spark_master, by=args.by,
                    compare=parse_compare(args.compare) if args.compare is not None else None, **options,
                )
        except ConfigError as error:
            raise UsageError(str(error)) from None
    write_report(report, fmt, args)
    return EXIT_DATA if skipped else EXIT_OK
