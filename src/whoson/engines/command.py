"""``whoson report DIR|LOG --engine ...``: the command line's side of the engines."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from whoson.cli.common import UsageError
from whoson.core.errors import ConfigError
from whoson.metrics.compare import parse_compare
from whoson.metrics.report import Report

__all__ = ["log_report", "newest_ts", "parquet_report"]


def newest_ts(directory: str) -> datetime | None:
    """The newest event instant of an export (the CLI's default ``as_of``), None when empty.

    Reads only the ``ts`` column: with DuckDB when installed (it runs the
    report anyway), else with pyarrow.
    """
    from whoson.engines.parquet import _parquet_files
    from whoson.engines.shape import EPOCH

    files = sorted(_parquet_files(directory))
    if not files:
        return None
    try:
        import duckdb
    except ImportError:  # a Spark-only installation
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        column = ds.dataset(files, format="parquet").to_table(columns=["ts"]).column("ts")
        newest = pc.max(column).as_py()
        return newest.astimezone(UTC) if newest is not None else None
    con = duckdb.connect()
    try:
        rows = con.execute("SELECT epoch_us(max(ts)) FROM read_parquet(?)", [files]).fetchall()
    finally:
        con.close()
    micros = rows[0][0]
    return EPOCH + timedelta(microseconds=micros) if micros is not None else None


def parquet_report(args: argparse.Namespace) -> Report:
    """The report of ``whoson report DIR [--engine ...]`` for an exported directory."""
    from whoson.engines import report
    from whoson.engines.parquet import is_parquet_dir

    source = args.source
    if not is_parquet_dir(source):
        raise UsageError(f"{source}: is a directory, not an event log or a Parquet export")
    as_of = args.as_of
    if as_of is None:
        newest = newest_ts(source)
        if newest is None:
            print(f"{source}: no events", file=sys.stderr)
        as_of = newest if newest is not None else datetime.now(UTC)
    try:
        return report(
            os.fspath(source), args.engine, spark_master=args.spark_master,
            start=args.start, end=args.end, tz=args.tz, as_of=as_of,
            attribution_window=args.attribution_window, response_timeout=args.response_timeout,
            fcr_window=args.fcr_window, session_timeout=args.session_timeout, cost=args.cost,
            by=args.by, compare=parse_compare(args.compare) if args.compare is not None else None,
            **({"rating_scale": args.rating_scale} if args.rating_scale else {}),
        )
    except ConfigError as error:
        raise UsageError(str(error)) from None


def log_report(args: argparse.Namespace, options: dict[str, Any]) -> tuple[Report, int]:
    """The report of ``whoson report LOG --engine duckdb|spark``, and how many lines were skipped.

    Reads the log with the ingest rules (:func:`whoson.engines.vectorlog.read_for_engine`)
    into the engine's table, without a tracker's store or projection. What it
    prints (skipped lines, "no events") and raises are ``whoson report LOG``'s.
    ``options`` are the report options of the command line (``as_of`` may be ``None``); the
    range, ``--by`` and ``--compare`` are read from ``args``.
    """
    import gc

    from whoson.cli.common import print_errors, source_label, tracker_options
    from whoson.cli.formats import busy
    from whoson.engines import log_report as engine_log_report
    from whoson.engines.vectorlog import TableRead, read_for_engine
    from whoson.tracker import Tracker

    source = args.source
    try:
        probe = Tracker(**tracker_options(args))
    except ConfigError as error:
        raise UsageError(str(error)) from None
    ctx, keep_text = probe.parse_context, probe.store_text
    read: TableRead
    was_enabled = gc.isenabled()
    gc.disable()  # as load_source: millions of objects without reference cycles
    try:
        with busy(f"reading {source}"):
            if source == "-":
                read = read_for_engine(sys.stdin.buffer, ctx, name="<stdin>", store_text=keep_text)
            else:
                if not os.path.exists(source):
                    raise UsageError(f"{source}: no such file")
                read = read_for_engine(source, ctx, name=source, store_text=keep_text)
    finally:
        if was_enabled:
            gc.enable()
    if read.result.errors:
        print_errors(read.result.errors, prefix="skipped ")
    options = {**options, "start": args.start, "end": args.end, "by": args.by}
    if options.get("as_of") is None:
        if read.newest is None:
            print(f"{source_label(source)}: no events", file=sys.stderr)
        options["as_of"] = read.newest if read.newest is not None else probe.clock.now()
    try:
        options["compare"] = parse_compare(args.compare) if args.compare is not None else None
        with busy("computing the report"):
            report = engine_log_report(read, args.engine, probe, options, spark_master=args.spark_master)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return report, read.result.rejected
