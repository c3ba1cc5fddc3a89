"""``whoson live SOURCE [--at T] [filters] [--json] [--limit N] [--watch]``: who is on.

The source (a log file, ``-`` or a store URL) is read like ``whoson report``
reads it (bad lines reported on stderr and skipped); its events with
``ts <= T`` are replayed, in event-time order, into a
:class:`~whoson.live.LiveView`, which is then asked who is online at ``T``.
On a store, ``--at`` defaults to now (the clock's); a log needs ``--at``.
``--url``, ``--country``, ``--signal``, ``--in-chat``/``--not-in-chat`` filter
as :meth:`whoson.live.LiveView.online` does. ``--watch`` (a store, now)
redraws every 2 seconds, reading only the events stored since the last
redraw, until Ctrl-C; with ``--json`` it prints one JSON line per redraw.

``--json`` prints one object: ``{"at": T, "online": [rows...], "total": n}``,
rows with exactly the keys of the live spec (money as exact JSON numbers),
``total`` counting every visitor online even when ``--limit`` shows fewer.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from whoson.cli.common import EXIT_DATA, EXIT_OK, UsageError, add_common, is_store_url
from whoson.cli.render import fmt, table
from whoson.codec import dumps
from whoson.core.errors import ConfigError
from whoson.core.events import Event
from whoson.core.time import format_ts, parse_duration
from whoson.live import SIGNALS, LiveConfig, LivePage, LiveView, VisitorSnapshot, format_duration
from whoson.metrics.params import resolve_instant, zone
from whoson.present import people
from whoson.textsafe import markup

__all__ = ["add_parser", "replay", "run"]

_TRAIL_STEPS = 4
WATCH_SECONDS = 2.0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``live`` subcommand."""
    parser = subparsers.add_parser(
        "live", help="who was on the site at an instant, replayed from a log or a store",
        description="Replay the events up to --at and show the visitors online then: page, "
        "time on page, trail and signals.",
    )
    parser.add_argument("source", metavar="SOURCE",
                        help="event log (.jsonl, - for stdin) or store URL")
    parser.add_argument("--at", metavar="T",
                        help="RFC 3339 instant, or a date (midnight in --tz); default on a store: now "
                        "(a log file needs it)")
    parser.add_argument("--json", action="store_true",
                        help='print {"at", "online": [rows], "total"} as JSON')
    parser.add_argument("--limit", type=int, default=50, metavar="N",
                        help="show at most N visitors, newest activity first (default 50; "
                        "0 = all)")
    parser.add_argument("--tz", default="UTC", metavar="ZONE",
                        help="IANA zone a date --at is read in (default UTC)")
    parser.add_argument("--presence-timeout", default="120s", metavar="DURATION",
                        help="online while active within this long (default 120s)")
    parser.add_argument("--session-timeout", default="30m", metavar="DURATION",
                        help="inactivity that starts a new visit (default 30m)")
    parser.add_argument("--url", metavar="PATTERN", help="only visitors whose current page matches "
                        "this glob (e.g. '/checkout*')")
    parser.add_argument("--country", metavar="CODE", help="only visitors from this country")
    parser.add_argument("--signal", choices=SIGNALS, help="only visitors showing this signal")
    chat = parser.add_mutually_exclusive_group()
    chat.add_argument("--in-chat", dest="in_chat", action="store_const", const=True, default=None,
                      help="only visitors with an open request or conversation")
    chat.add_argument("--not-in-chat", dest="in_chat", action="store_const", const=False,
                      help="only visitors with neither")
    parser.add_argument("--watch", action="store_true",
                        help="redraw every 2 s until Ctrl-C (a store, now)")
    add_common(parser)
    parser.set_defaults(run=run)


def replay(events: Iterator[Event], at: datetime, config: LiveConfig) -> LiveView:
    """A live view of ``events`` with ``ts <= at`` (any order; late ones are refolded)."""
    view = LiveView(config)
    for event in events:
        if event.ts <= at:
            view.apply(event)
    return view


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {"url": args.url, "country": args.country, "signal": args.signal, "in_chat": args.in_chat}


def run(args: argparse.Namespace) -> int:
    """Print who is (or was, at ``--at``) online: a table, or JSON with ``--json``."""
    if args.limit < 0:
        raise UsageError(f"--limit must be >= 0, got {args.limit}")
    store = is_store_url(args.source)
    if args.at is None and not store:
        raise UsageError(f"{args.source} is a log file: give --at T (who was on then); "
                         "a store shows who is on now without it")
    if args.watch and (args.at is not None or not store):
        raise UsageError("--watch follows a store now; it takes no --at")
    try:
        at = resolve_instant(args.at, zone(args.tz)) if args.at is not None else None
        config = LiveConfig(
            presence_timeout=parse_duration(args.presence_timeout),
            session_timeout=parse_duration(args.session_timeout),
        )
    except (ConfigError, ValueError) as error:
        raise UsageError(str(error)) from None
    # The report command's reader: same acceptance, duplicates and line errors.
    from whoson.cli.report import open_tracker

    tracker, skipped = open_tracker(args, session_timeout=config.session_timeout)
    with tracker:
        moment = at if at is not None else _now(tracker)
        stored = tracker.store.read(end=moment + timedelta(microseconds=1), order="time")
        position = tracker.store.position
        view = replay((item.event for item in stored), moment, config)
        _show(view, moment, args, clear=args.watch)
        if args.watch:
            try:
                while True:
                    time.sleep(WATCH_SECONDS)
                    for item in tracker.store.read(after=position):
                        view.apply(item.event)
                        position = max(position, item.position)
                    _show(view, _now(tracker), args, clear=True)
            except KeyboardInterrupt:
                return EXIT_OK
    return EXIT_DATA if skipped else EXIT_OK


def _now(tracker: Any) -> datetime:
    """The clock's now to the second: what a person asking "who is on now" means."""
    now: datetime = tracker.clock.now()
    return now.replace(microsecond=0)


def _show(view: LiveView, at: datetime, args: argparse.Namespace, *, clear: bool) -> None:
    limit = args.limit if args.limit > 0 else max(1, len(view))
    page = view.online(at, limit=limit, **_filters(args))
    if args.json:
        sys.stdout.write(dumps(page.to_dict()) + "\n")
    else:
        if clear and sys.stdout.isatty():
            sys.stdout.write("\x1b[H\x1b[2J")
        sys.stdout.write(render_live(page) + "\n")
        if clear:
            sys.stdout.write("(redrawn every 2 s; Ctrl-C to stop)\n")
    sys.stdout.flush()


def _trail(row: VisitorSnapshot) -> str:
    steps = [f"{step.url} ({format_duration(step.seconds)})" for step in row.trail]
    if len(steps) > _TRAIL_STEPS:
        steps = ["...", *steps[-_TRAIL_STEPS:]]
    return " > ".join(steps) or "-"


def _cells(row: VisitorSnapshot) -> list[str]:
    return [
        people.who(row),
        row.url or "-",
        "-" if row.on_page_seconds is None else format_duration(row.on_page_seconds),
        format_duration(row.on_site_seconds),
        str(row.visits),
        _trail(row),
        people.chat(row),
        people.signals(row),
    ]


_HEADERS = ["visitor", "page", "on page", "on site", "visits", "trail", "chat", "signals"]


def render_live(page: LivePage) -> str:
    """The page as a titled table: rich when it is installed and stdout is a terminal."""
    shown = len(page.rows)
    title = f"{page.total} online at {format_ts(page.at)}"
    if shown < page.total:
        title += f" (newest {shown} shown)"
    if not page.rows:
        return title
    if sys.stdout.isatty():
        try:
            return _rich_table(title, page)
        except ImportError:
            pass
    return title + "\n\n" + table(_HEADERS, [[fmt(c) for c in _cells(row)] for row in page.rows])


def _rich_table(title: str, page: LivePage) -> str:
    from rich.console import Console  # optional extra [cli]
    from rich.table import Table

    grid = Table(title=title, title_justify="left")
    for header in _HEADERS:
        grid.add_column(header, overflow="fold")
    for row in page.rows:
        # Event text is inert here: no control sequences, no rich markup ([/], [link=...]).
        grid.add_row(*(markup(cell) for cell in _cells(row)))
    console = Console()
    with console.capture() as capture:
        console.print(grid)
    return capture.get().rstrip("\n")
