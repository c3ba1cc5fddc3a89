"""``whoson export SOURCE --parquet DIR``: the events as typed Parquet for the engines."""

from __future__ import annotations

import argparse
import os
import sys

from whoson.cli.common import EXIT_DATA, EXIT_OK, MAX_ERROR_LINES, UsageError, add_common, is_store_url
from whoson.core.errors import ConfigError, StoreError
from whoson.core.settings import RatingScale
from whoson.stores.url import open_store

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``export`` subcommand."""
    parser = subparsers.add_parser(
        "export", help="write the events as Parquet for the duckdb and spark engines",
        description="Write the valid, de-duplicated events of a log or a store as Parquet, "
        "partitioned by UTC date. Running it again appends only the new events.",
    )
    parser.add_argument("source", metavar="SOURCE", help="event log (.jsonl) or store URL")
    parser.add_argument("--parquet", required=True, metavar="DIR", help="directory to write to")
    add_common(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Export; exit 0 when every event was written or already there, 1 when some were rejected."""
    from whoson.engines.parquet import export

    if is_store_url(args.source):
        # Reading never creates a store: the exporter's own open would make
        # an empty SQLite file out of a typo and report "written: 0".
        try:
            open_store(args.source, create=False).close()
        except StoreError as error:
            raise UsageError(str(error)) from None
    elif not os.path.isfile(args.source):
        raise UsageError(f"{args.source}: no such file")
    if os.path.exists(args.parquet) and not os.path.isdir(args.parquet):
        raise UsageError(f"--parquet {args.parquet}: is a file, not a directory")
    try:
        scale = RatingScale.parse(args.rating_scale) if args.rating_scale else None
        result = export(args.source, args.parquet, rating_scale=scale, currency=args.currency)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    print(f"written: {result.written}  already exported: {result.already}  "
          f"rejected: {len(result.errors)}  ({args.parquet})")
    for line in result.errors[:MAX_ERROR_LINES]:
        print(f"rejected {line}", file=sys.stderr)
    if len(result.errors) > MAX_ERROR_LINES:
        print(f"rejected ... and {len(result.errors) - MAX_ERROR_LINES} more", file=sys.stderr)
    return EXIT_DATA if result.errors else EXIT_OK
