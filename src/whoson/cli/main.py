"""``whoson``: the command line entry point (also ``python -m whoson``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from whoson import __version__
from whoson.cli import export, ingest, live, report, serve, simulate, visitor
from whoson.cli.common import EXIT_DATA, EXIT_USAGE, UsageError, error_line
from whoson.core.errors import ConfigError, WhosonError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="whoson", description="Who's On for any website backend: live visitors and "
        "exact live-chat analytics.",
    )
    parser.add_argument("--version", action="version", version=f"whoson {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in (ingest, report, live, visitor, simulate, serve, export):
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status (0 ok, 1 data errors, 2 usage errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except (UsageError, ConfigError, ValueError) as error:
        _complain(args.command, error)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_DATA
    except (WhosonError, OSError) as error:
        _complain(args.command, error)
        return EXIT_DATA
    except KeyboardInterrupt:
        print(f"whoson {args.command}: interrupted", file=sys.stderr)
        return 130
    return status


def _complain(command: str, error: BaseException) -> None:
    """One line on stderr: no password, no control character from the data."""
    print(error_line(command, error), file=sys.stderr)
