"""``whoson ingest LOG --into STORE [--strict]``: append a log to a store."""

from __future__ import annotations

import argparse
import sys
from functools import partial

from whoson.cli.common import (
    EXIT_DATA,
    EXIT_OK,
    UsageError,
    add_common,
    error_line,
    is_store_url,
    load_source,
    open_store_tracker,
    print_errors,
    tracker_options,
)
from whoson.core.errors import StoreError
from whoson.logfile import LogFormatError
from whoson.textsafe import terminal
from whoson.tracker import Tracker
from whoson.tracking.loading import store_log

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``ingest`` subcommand."""
    parser = subparsers.add_parser(
        "ingest", help="append an event log to a store",
        description="Append a JSON Lines event log to a store. Bad lines are reported with "
        "their line numbers; the good lines are stored.",
    )
    parser.add_argument("log", metavar="LOG.jsonl", help="event log, or - for stdin")
    parser.add_argument("--into", required=True, metavar="STORE", help="e.g. sqlite:///whoson.db")
    parser.add_argument("--strict", action="store_true", help="stop at the first bad line")
    add_common(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Ingest; exit 0 when every line was accepted or a duplicate, 1 when some were rejected."""
    if not is_store_url(args.into):
        raise UsageError(f"--into {args.into!r} must be a store URL such as sqlite:///whoson.db")
    with open_store_tracker(args.into, tracker_options(args), create=True) as tracker:
        before = len(tracker.store)
        try:
            # Storing needs no tracker state: the events go straight to the store.
            result = load_source(tracker, args.log, strict=args.strict, load=partial(
                store_log, tracker.store, ctx=tracker.parse_context, store_text=tracker.store_text))
        except StoreError as error:
            # Batches written before the failure stay; the rest can simply be sent again.
            print(error_line("ingest", error), file=sys.stderr)
            print(_stored_so_far(tracker, before), file=sys.stderr)
            return EXIT_DATA
        except LogFormatError as error:
            print(terminal(f"stopped (strict): {error}"), file=sys.stderr)
            print(f"stored before the bad line: {len(tracker.store)} events in total", file=sys.stderr)
            return EXIT_DATA
        print(
            f"accepted: {result.accepted}  duplicate: {result.duplicates}  "
            f"rejected: {result.rejected}  (store now holds {len(tracker.store)} events)"
        )
    print_errors(result.errors, prefix="rejected ")
    return EXIT_OK if result.ok else EXIT_DATA


def _stored_so_far(tracker: Tracker, before: int) -> str:
    """What an interrupted ingest left in the store, and that re-running it is safe."""
    try:
        now = len(tracker.store)
    except StoreError:
        return "stored before the error: unknown (the store cannot be read either)"
    return (f"stored before the error: {now - before} new events (the store now holds {now}); "
            "re-running the same command is safe: events already stored count as duplicates")
