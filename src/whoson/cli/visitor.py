"""``whoson visitor SOURCE VISITOR [--at T] [--json]``: one visitor's snapshot and history.

Only that visitor's events up to ``T`` are read (a store reads them by
visitor). ``T`` defaults to now on a store and to the newest event on a log
file. ``--json`` prints :meth:`whoson.live.VisitorDetail.to_dict` plus ``at``.
A visitor with no event up to ``T`` is an error (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta

from whoson.cli.common import EXIT_DATA, EXIT_OK, UsageError, add_common, is_store_url
from whoson.cli.render import fmt, table
from whoson.codec import dumps
from whoson.core.errors import ConfigError
from whoson.core.time import format_ts, parse_duration
from whoson.live import LiveConfig, LiveView, VisitorDetail, format_duration
from whoson.metrics.params import resolve_instant, zone
from whoson.present import people

__all__ = ["add_parser", "render_visitor", "run"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``visitor`` subcommand."""
    parser = subparsers.add_parser(
        "visitor", help="one visitor: where they are, their visits, chats and orders",
        description="Show one visitor's live snapshot at --at (default: now on a store, the newest "
        "event on a log) and their history: sessions, requests and conversations, orders.",
    )
    parser.add_argument("source", metavar="SOURCE", help="event log (.jsonl, - for stdin) or store URL")
    parser.add_argument("visitor", metavar="VISITOR", help="the visitor id")
    parser.add_argument("--at", metavar="T", help="RFC 3339 instant, or a date (midnight in --tz)")
    parser.add_argument("--json", action="store_true", help="print the detail as JSON")
    parser.add_argument("--tz", default="UTC", metavar="ZONE",
                        help="IANA zone for a date --at and for the times shown (default UTC)")
    parser.add_argument("--presence-timeout", default="120s", metavar="DURATION")
    parser.add_argument("--session-timeout", default="30m", metavar="DURATION")
    add_common(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the visitor's snapshot and history."""
    try:
        local = zone(args.tz)
        at = resolve_instant(args.at, local) if args.at is not None else None
        config = LiveConfig(presence_timeout=parse_duration(args.presence_timeout),
                            session_timeout=parse_duration(args.session_timeout))
    except (ConfigError, ValueError) as error:
        raise UsageError(str(error)) from None
    from whoson.cli.report import open_tracker

    tracker, skipped = open_tracker(args, session_timeout=config.session_timeout)
    with tracker:
        if at is None:
            newest = tracker.projection.last_ts
            at = tracker.clock.now() if is_store_url(args.source) or newest is None else newest
        view = LiveView(config)
        for item in tracker.store.read(end=at + timedelta(microseconds=1), visitor=args.visitor,
                                       order="time"):
            view.apply(item.event)
        currency = tracker.currency
    detail = view.visitor(args.visitor, at)
    if detail is None:
        print(f"whoson visitor: no visitor {fmt(args.visitor)!s} in {fmt(args.source)} up to {format_ts(at)}",
              file=sys.stderr)
        return EXIT_DATA
    if args.json:
        sys.stdout.write(dumps({"at": format_ts(at), **detail.to_dict()}) + "\n")
    else:
        sys.stdout.write(render_visitor(detail, args.tz, currency) + "\n")
    return EXIT_DATA if skipped else EXIT_OK


def render_visitor(detail: VisitorDetail, tz: str = "UTC", currency: str | None = None) -> str:
    """The detail as text: facts, then sessions, requests and orders tables (times in ``tz``,
    money in ``currency``)."""
    local = zone(tz)
    s = detail.snapshot

    def when(moment: datetime) -> str:
        return moment.astimezone(local).strftime("%Y-%m-%d %H:%M:%S")

    state = "online now" if detail.online else f"last seen {when(detail.last_seen)}"
    facts = people.facts(s, currency)
    width = max(len(k) for k, _ in facts)
    out = [f"visitor {fmt(people.who(s))}: {state} ({tz})", *(f"  {k.ljust(width)}  {fmt(v)}" for k, v in facts)]
    out.append("\nSessions\n" + table(
        ["#", "started", "on site", "pages", "landing", "referrer", "country", "device", "orders", "value"],
        [[str(x.number), when(x.started), format_duration(x.seconds), str(x.pages_viewed), fmt(x.landing),
          fmt(x.referrer), fmt(x.country), fmt(x.device), str(x.orders), fmt(x.order_value, "money")]
         for x in detail.sessions],
        [True, False, True, True, False, False, False, False, True, True]))
    if detail.conversations:
        out.append("\nRequests and conversations\n" + table(
            ["request", "started", "channel", "by", "trigger", "agent", "conv.", "end", "resolved", "rating",
             "feedback"],
            [[fmt(c.request), when(c.started), fmt(c.channel), fmt(c.initiator), fmt(c.trigger), fmt(c.agent),
              "yes" if c.conversation else "no", fmt(c.end_reason),
              "-" if c.resolved is None else ("yes" if c.resolved else "no"), fmt(c.rating), fmt(c.feedback)]
             for c in detail.conversations],
            [False, False, False, False, False, False, False, False, False, True, False]))
    if detail.orders:
        out.append("\nOrders\n" + table(
            ["order", "when", "value"],
            [[fmt(o.order), when(o.ts), f"{fmt(o.value, 'money')}{' ' + fmt(o.currency) if o.currency else ''}"]
             for o in detail.orders], [False, False, True]))
    return "\n".join(out)
