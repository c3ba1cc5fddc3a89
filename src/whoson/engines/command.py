"""``whoson report DIR`` for a Parquet export: the command line's side of the engines."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from whoson.cli.common import UsageError
from whoson.core.errors import ConfigError
from whoson.metrics.compare import parse_compare
from whoson.metrics.report import Report

__all__ = ["newest_ts", "parquet_report"]


def newest_ts(directory: str) -> datetime | None:
    """The newest event instant of an export (the CLI's default ``as_of``), None when empty.

    Reads only the ``ts`` column.
    """
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from whoson.engines.parquet import _parquet_files

    files = sorted(_parquet_files(directory))
    if not files:
        return None
    column = ds.dataset(files, format="parquet").to_table(columns=["ts"]).column("ts")
    newest = pc.max(column).as_py()
    return newest.astimezone(UTC) if newest is not None else None


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
