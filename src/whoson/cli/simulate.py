"""``whoson simulate``: write a realistic, seeded event log of a shop with a chat team."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from typing import IO, Any

from whoson.cli.common import EXIT_OK, UsageError
from whoson.codec import dumps
from whoson.sim import SimConfig, estimate_events, events_for_target, simulate
from whoson.sim.causal import CausalModel
from whoson.sim.engine import DEFAULT_START

__all__ = ["add_parser", "run"]

_CHUNK = 2000
_PROGRESS_FROM = 200_000


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-02") from None


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``simulate`` subcommand."""
    parser = subparsers.add_parser(
        "simulate",
        help="write a realistic, seeded event log of a shop with agents",
        description="Simulate a web shop with a live-chat team and write its event log as "
        "JSON Lines, in time order. The same arguments always give the same log.",
    )
    parser.add_argument(
        "--visitors",
        type=_positive,
        default=500,
        metavar="N",
        help="distinct visitors over the whole run (default 500)",
    )
    parser.add_argument("--days", type=_positive, default=7, metavar="D", help="days simulated (default 7)")
    parser.add_argument("--seed", type=_seed, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--start",
        type=_day,
        default=DEFAULT_START,
        metavar="DATE",
        help=f"first day, midnight UTC (default {DEFAULT_START.isoformat()})",
    )
    parser.add_argument(
        "--events",
        type=_positive,
        default=None,
        metavar="N",
        help="write exactly N events instead (the visitor count is chosen to reach N; overrides --visitors)",
    )
    parser.add_argument(
        "--experiment",
        action="store_true",
        help="build in what invitations cause: control groups (holdout events) and known "
        "lifts (+10 points at checkout, +4 on help pages; see docs/experiments.md)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="LOG.jsonl", help="where to write; - for stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the log; a one-line summary goes to stderr (never stdout)."""
    config = SimConfig(causal=CausalModel()) if getattr(args, "experiment", False) else None
    if args.events is not None:
        events: Iterable[dict[str, Any]] = events_for_target(
            args.events, seed=args.seed, days=args.days, start=args.start, config=config
        )
        expected = args.events
        what = f"{args.events} events"
    else:
        events = simulate(args.visitors, args.days, args.seed, args.start, config)
        expected = estimate_events(args.visitors, args.days)
        what = f"{args.visitors} visitors"
    if args.output == "-":
        written = _write(events, sys.stdout, expected)
        sys.stdout.flush()
        target = "stdout"
    else:
        written = _write_file(events, args.output, expected)
        target = args.output
    print(
        f"wrote {written} events to {target}: {what} over {args.days} days from "
        f"{args.start.isoformat()}, seed {args.seed}",
        file=sys.stderr,
    )
    return EXIT_OK


def _write_file(events: Iterable[dict[str, Any]], path: str, expected: int) -> int:
    """Write through a temporary file so an interrupted run leaves no half log behind."""
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise UsageError(f"{path}: no such directory {folder!r}")
    partial = f"{path}.partial"
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as stream:
            written = _write(events, stream, expected)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return written


def _write(events: Iterable[dict[str, Any]], stream: IO[str], expected: int) -> int:
    written = 0
    for chunk in _with_progress(_chunks(events), expected):
        stream.write("".join(chunk))
        written += len(chunk)
    return written


def _chunks(events: Iterable[dict[str, Any]]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for event in events:
        chunk.append(dumps(event) + "\n")
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _with_progress(chunks: Iterator[list[str]], expected: int) -> Iterator[list[str]]:
    """A progress bar on stderr for big runs in a terminal, when rich is installed."""
    if expected < _PROGRESS_FROM or not sys.stderr.isatty() or os.environ.get("CI"):
        yield from chunks
        return
    try:
        from rich.console import Console  # optional extra [cli]
        from rich.progress import Progress
    except ImportError:
        yield from chunks
        return
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("simulating", total=expected)
        for chunk in chunks:
            progress.advance(task, len(chunk))
            yield chunk
