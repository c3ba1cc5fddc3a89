"""What the subcommands share: exit codes, opening a SOURCE, progress, error lines."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

from whoson.core.errors import StoreError
from whoson.logfile import LogError
from whoson.stores.url import is_store, open_store, parse_store_url, redact
from whoson.textsafe import terminal
from whoson.tracker import LoadResult, Tracker

__all__ = [
    "EXIT_DATA",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "error_line",
    "is_store_url",
    "load_source",
    "open_store_tracker",
    "print_errors",
    "tracker_options",
]

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
MAX_ERROR_LINES = 200


class UsageError(Exception):
    """A command was called with arguments it cannot work with (exit status 2)."""


def is_store_url(source: str) -> bool:
    """Whether SOURCE names a store rather than a log file (the rule of :func:`~whoson.stores.url.is_store`)."""
    return is_store(source)


class _ProgressLines:
    """Iterates a binary file's lines, advancing a progress bar by bytes read."""

    def __init__(self, stream: IO[bytes], total: int, description: str) -> None:
        self.name = getattr(stream, "name", None)
        self._stream = stream
        self._total = total
        self._description = description

    def __iter__(self) -> Iterator[bytes]:
        from rich.progress import (  # optional extra [cli]
            BarColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        columns = (
            TextColumn("{task.description}"), BarColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True, console=_stderr_console()) as progress:
            task = progress.add_task(self._description, total=self._total)
            pending = 0
            for line in self._stream:
                pending += len(line)
                if pending >= 1 << 20:
                    progress.advance(task, pending)
                    pending = 0
                yield line


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _with_progress(stream: IO[bytes], path: str) -> IO[bytes]:
    """Wrap ``stream`` in a progress bar when it pays: big file, terminal, rich installed."""
    size = os.path.getsize(path)
    if size < 8 << 20 or not sys.stderr.isatty() or os.environ.get("CI"):
        return stream
    try:
        import rich  # noqa: F401
    except ImportError:
        return stream
    return cast(IO[bytes], _ProgressLines(stream, size, f"reading {os.path.basename(path)}"))


def load_source(tracker: Tracker, source: str, *, strict: bool = False,
                load: Callable[..., LoadResult] | None = None) -> LoadResult:
    """Load a log file (or ``-`` for stdin) into ``tracker`` (with ``load``: ``tracker.load``'s stand-in).

    The garbage collector is paused meanwhile: a bulk load creates millions of
    objects without reference cycles, and scanning them repeatedly costs a
    fifth of the time. (The library never does this; the CLI owns its process.)
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(load or tracker.load, source, strict=strict)
    finally:
        if was_enabled:
            gc.enable()


def _load(load: Callable[..., LoadResult], source: str, *, strict: bool) -> LoadResult:
    if source == "-":
        return load(sys.stdin.buffer, strict=strict, name="<stdin>")
    if not os.path.exists(source):
        raise UsageError(f"{source}: no such file")
    if os.path.isdir(source):
        raise UsageError(f"{source}: is a directory, not an event log")
    with open(source, "rb") as stream:
        return load(_with_progress(stream, source), strict=strict, name=source)


def source_label(source: str) -> str:
    """How messages name a source: ``<stdin>`` for ``-`` (as skipped lines do), else without passwords.

    >>> source_label("-"), source_label("postgresql://ann:secret@db/shop")
    ('<stdin>', 'postgresql://ann:***@db/shop')
    """
    return "<stdin>" if source == "-" else redact(source)


def error_line(command: str, error: BaseException | str) -> str:
    """``whoson COMMAND: message`` with passwords redacted and control characters escaped.

    >>> error_line("report", "cannot open store 'pg://ann:pw@db/x'\\x1b[2J")
    "whoson report: cannot open store 'pg://ann:***@db/x'\\\\x1b[2J"
    """
    return f"whoson {command}: {terminal(redact(str(error)))}"


def print_errors(errors: tuple[LogError, ...] | list[LogError], *, prefix: str = "") -> None:
    """One line per rejected line on stderr (the first MAX_ERROR_LINES, then a count)."""
    for error in errors[:MAX_ERROR_LINES]:
        print(terminal(f"{prefix}{error}"), file=sys.stderr)
    if len(errors) > MAX_ERROR_LINES:
        print(f"{prefix}... and {len(errors) - MAX_ERROR_LINES} more rejected lines", file=sys.stderr)


def tracker_options(args: argparse.Namespace, **options: Any) -> dict[str, Any]:
    """Tracker settings given on the command line (``--rating-scale``, ``--currency``,
    ``--session-timeout``); left out, the tracker's defaults apply."""
    for name in ("rating_scale", "currency", "session_timeout"):
        if getattr(args, name, None) is not None:
            options[name] = getattr(args, name)
    return options


def open_store_tracker(url: str, options: dict[str, Any], *, create: bool = False) -> Tracker:
    """A tracker over the store at ``url``; a store that cannot be opened is a usage error.

    Reading commands (the default) never create a store: a missing one is
    "no such store". Writing commands pass ``create=True``, and are refused a
    store that would keep nothing once the command ends (``memory:``,
    ``sqlite://``).
    """
    try:
        if create and not parse_store_url(url).persistent:
            raise UsageError(f"{redact(url)!r} keeps nothing once the command ends: name a "
                             "store that persists, such as sqlite:///whoson.db")
        store = open_store(url, create=create)
    except StoreError as error:
        raise UsageError(str(error)) from None
    try:
        return Tracker(store, **options)
    except BaseException:
        store.close()
        raise


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every data-reading command takes."""
    parser.add_argument(
        "--rating-scale", default=None, metavar="LOW..HIGH",
        help="survey rating scale the events use (default 1..5; a store keeps its own)",
    )
    parser.add_argument(
        "--currency", default=None, metavar="CODE",
        help="ISO 4217 currency orders must be in (default: the first order's)",
    )
