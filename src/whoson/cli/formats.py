"""``whoson report --format table|json|csv|md|html [-o PATH] [--table NAME]``.

- ``table``: the human report as text (default); ``json``: the contract's key
  tree (``--json`` is an alias);
- ``csv``: ``--table NAME`` writes one table to stdout (or into ``-o DIR``);
  ``-o DIR`` alone writes every table the report has as ``DIR/NAME.csv``;
- ``md``: the human report as Markdown; ``html``: one self-contained page.

Without ``-o`` the output goes to stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from whoson.cli.common import UsageError
from whoson.codec import dumps
from whoson.metrics.report import Report
from whoson.present.tables import TABLES, report_table, table_names

__all__ = ["FORMATS", "add_format_options", "busy", "chosen_format", "write_report"]

FORMATS = ("table", "json", "csv", "md", "html")


def add_format_options(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``-o/--output`` and ``--table`` (``--json`` stays where it is)."""
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="table (default), json, csv, md (Markdown) or html (one self-contained page)")
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="write to PATH instead of stdout (a directory for --format csv)")
    parser.add_argument("--table", choices=TABLES, metavar="NAME",
                        help=f"with --format csv: the one table to write ({', '.join(TABLES)})")


def chosen_format(args: argparse.Namespace) -> str:
    """The output format, checking the options fit together (usage errors otherwise)."""
    fmt: str = args.format or ("json" if args.json else "table")
    if args.json and fmt != "json":
        raise UsageError(f"--json and --format {fmt} disagree; give one of them")
    if args.table is not None and fmt != "csv":
        raise UsageError("--table goes with --format csv")
    if fmt == "csv" and args.table is None and args.output is None:
        raise UsageError("--format csv needs --table NAME (one table to stdout) or -o DIR (every table)")
    if args.output is not None and fmt != "csv" and os.path.isdir(args.output):
        raise UsageError(f"-o {args.output}: is a directory; --format {fmt} writes one file")
    return fmt


def _write_text(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        raise UsageError(f"-o {output}: no such directory {parent}")
    with open(output, "w", encoding="utf-8") as stream:
        stream.write(text)
    print(f"wrote {output}", file=sys.stderr)


def write_report(report: Report, fmt: str, args: argparse.Namespace) -> None:
    """Write ``report`` in ``fmt`` to stdout or ``args.output``."""
    from whoson.cli.render import render_report

    tree = report.to_dict()
    currency = report.currency
    by = getattr(args, "by", None)  # --by, where the report engine offers breakdowns
    if fmt == "json":
        _write_text(dumps(tree) + "\n", args.output)
    elif fmt == "table":
        _write_text(render_report(tree, currency, by), args.output)
    elif fmt == "md":
        from whoson.present.markdown import report_markdown

        _write_text(report_markdown(tree, currency, by), args.output)
    elif fmt == "html":
        from whoson.present.html import report_document

        _write_text(report_document(tree, currency, by=by), args.output)
    else:
        _write_csv(tree, args.table, args.output, currency)


def _write_csv(tree: dict[str, Any], name: str | None, output: str | None, currency: str | None) -> None:
    try:
        names = [name] if name is not None else table_names(tree)
        tables = [report_table(tree, n, currency) for n in names]
    except ValueError as error:
        raise UsageError(str(error)) from None
    if output is None:
        sys.stdout.write(tables[0].csv())
        return
    if os.path.exists(output) and not os.path.isdir(output):
        raise UsageError(f"-o {output}: not a directory (--format csv writes one file per table)")
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        raise UsageError(f"-o {output}: no such directory {parent}")
    os.makedirs(output, exist_ok=True)
    for table in tables:
        with open(os.path.join(output, f"{table.name}.csv"), "w", encoding="utf-8", newline="") as stream:
            stream.write(table.csv())
    print(f"wrote {len(tables)} tables to {output}: {', '.join(t.name for t in tables)}", file=sys.stderr)


@contextmanager
def busy(description: str, after: float = 0.5) -> Iterator[None]:
    """A transient progress bar on stderr while long work runs, on a terminal only
    (not under ``CI``, not without rich); it appears only once the work has taken
    ``after`` seconds, so quick commands never flicker."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield
        return
    try:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    except ImportError:
        yield
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    progress = Progress(*columns, transient=True, console=Console(stderr=True))
    progress.add_task(description, total=None)
    timer = threading.Timer(after, progress.start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        progress.stop()
