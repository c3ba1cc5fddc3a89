"""Opening a store from a URL, as the CLI and ``Tracker.open`` do.

=====================================  ==========================================
URL                                    store
=====================================  ==========================================
``memory:`` or ``memory://``           a new :class:`~whoson.stores.memory.MemoryStore`
``sqlite:///events.db``                SQLite file ``events.db``, relative to the
                                       working directory
``sqlite:////var/lib/whoson/x.db``     SQLite file at the absolute path
``sqlite://`` or ``sqlite:///:memory:`` SQLite in memory (gone on close)
``events.db``, ``x.sqlite``            a bare path is a SQLite file when it ends in
                                       ``.db``, ``.sqlite`` or ``.sqlite3``, or is an
                                       existing file that starts with the SQLite
                                       header; any other bare path is a JSON Lines
                                       event log, not a store (:func:`is_store`)
``postgresql://user@host/db``          PostgreSQL (needs the ``postgres`` extra)
=====================================  ==========================================

SQLite URLs accept ``?durable=true`` and ``?busy_timeout=SECONDS``.

``open_store(url, create=False)`` is how reading code opens a store: it never
creates one (a missing SQLite file is ``StoreError("no such store: ...")``, and
``memory:`` holds nothing to read). Every message that shows a URL or DSN
shows it through :func:`redact`, so a password never reaches a log or a
terminal.

>>> parse_store_url("sqlite:///data/events.db?durable=1")
SQLiteStore('data/events.db', durable=True)
>>> open_store("mysql://admin:hunter2@localhost/x")
Traceback (most recent call last):
...
whoson.core.errors.StoreError: cannot open store 'mysql://admin:***@localhost/x': unknown scheme 'mysql'; ...
"""

from __future__ import annotations

import importlib
import os
import re
from typing import Any
from urllib.parse import parse_qs, unquote

import attrs

from whoson.core.errors import StoreError
from whoson.stores.base import Store, StoreSettings

__all__ = ["REDACTED", "StoreTarget", "is_store", "open_store", "parse_store_url", "redact"]

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SQLITE_HEADER = b"SQLite format 3\x00"
_ACCEPTED = ("memory:, sqlite:///path.db, a path ending .db/.sqlite/.sqlite3, "
             "or postgresql://...")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")

REDACTED = "***"
"""What a password is replaced with."""
# user:password@ in any URL; password=... as a libpq keyword or a URL query parameter.
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*:(?://)?[^:/?#@\s'\"]*):[^\s'\"]*@")
_KEYWORD = re.compile(r"(?P<head>\b(?:ssl)?password\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^\s&'\"]*)",
                      re.IGNORECASE)


def _secrets(dsn: str) -> list[str]:
    found: list[str] = []
    userinfo = re.search(r"^[A-Za-z][A-Za-z0-9+.-]*:(?://)?[^:/?#@\s]*:(\S*)@", dsn)
    if userinfo is not None:
        found.append(userinfo.group(1))
    for match in _KEYWORD.finditer(dsn):
        value = match.group("value")
        found.append(value)
        if value.startswith("'"):
            found.append(re.sub(r"\\(.)", r"\1", value[1:-1]))
    found.extend([unquote(secret) for secret in found])
    # Short ones would garble the message; the patterns below still hide them in place.
    return sorted({secret for secret in found if len(secret) >= 3}, key=len, reverse=True)


def redact(text: str, dsn: str | None = None) -> str:
    """``text`` with every password replaced by ``***``: the one redaction whoson uses.

    Hides the password of any ``scheme://user:password@`` URL, ``password=``
    (libpq keyword DSNs, URL query parameters), and, when the ``dsn`` the
    message is about is given, that DSN's password wherever it appears (a
    driver may quote it alone, e.g. in a percent-encoding error). O(len(text)).

    >>> redact("postgresql://ann:s3cret@db/shop?sslmode=require")
    'postgresql://ann:***@db/shop?sslmode=require'
    >>> redact("host=db user=ann password='s3 cret' dbname=shop")
    'host=db user=ann password=*** dbname=shop'
    >>> redact('invalid percent-encoded token: "p%zz1"', dsn="postgresql://ann:p%zz1@db/shop")
    'invalid percent-encoded token: "***"'
    """
    if dsn:
        for secret in _secrets(dsn):
            text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(r"\g<head>:***@", text)
    return _KEYWORD.sub(r"\g<head>***", text)


def is_store(source: str | os.PathLike[str]) -> bool:
    """Whether SOURCE names a store (else it is a JSON Lines log): the one rule for bare paths.

    A URL with a scheme (``memory:``, ``sqlite:...``, ``postgresql://...``,
    or an unknown ``name://``) names a store. A bare path names a SQLite store
    when it ends in ``.db``, ``.sqlite`` or ``.sqlite3``, or is an existing
    file that starts with the SQLite header; any other path (and ``-``,
    standard input) is an event log. Cost: a ``stat`` and at most one 16-byte
    read of a regular file (pipes and devices are never read).

    >>> is_store("sqlite:///x.db"), is_store("shop.sqlite"), is_store("events.jsonl"), is_store("-")
    (True, True, False, False)
    """
    text = os.fspath(source)
    if text in ("memory:", "memory://") or "://" in text or text.startswith("sqlite:"):
        return True
    if text.lower().endswith(_SQLITE_SUFFIXES):
        return True
    if not os.path.isfile(text):  # never read from a pipe or device to find out
        return False
    try:
        with open(text, "rb") as stream:
            return stream.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


@attrs.frozen
class StoreTarget:
    """What a store URL names: the backend and its arguments."""

    backend: str
    location: str = ""
    options: dict[str, Any] = attrs.field(factory=dict)

    @property
    def persistent(self) -> bool:
        """Whether what is written outlives the store object (not ``memory:``, ``sqlite://``).

        >>> parse_store_url("sqlite://").persistent, parse_store_url("x.db").persistent
        (False, True)
        """
        if self.backend == "memory":
            return False
        return not (self.backend == "sqlite" and _private_sqlite(self.location))

    def __repr__(self) -> str:
        """Like the call that opens the store (passwords redacted)."""
        if self.backend == "memory":
            return "MemoryStore()"
        args = [repr(redact(self.location)), *(f"{k}={v!r}" for k, v in self.options.items())]
        name = {"sqlite": "SQLiteStore", "postgresql": "PostgresStore"}[self.backend]
        return f"{name}({', '.join(args)})"


def _private_sqlite(location: str) -> bool:
    return location in ("", ":memory:") or location.startswith("file::memory:")


def _flag(url: str, name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise StoreError(f"cannot open store {redact(url)!r}: {name}={text!r} must be true or false")


def _sqlite_options(url: str, query: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        value = values[-1]
        if name == "durable":
            options["durable"] = _flag(url, name, value)
        elif name == "busy_timeout":
            try:
                options["busy_timeout"] = float(value)
            except ValueError:
                raise StoreError(
                    f"cannot open store {redact(url)!r}: busy_timeout={value!r} must be seconds"
                ) from None
        else:
            raise StoreError(
                f"cannot open store {redact(url)!r}: unknown option {name!r} "
                "(durable, busy_timeout)"
            )
    return options


def parse_store_url(url: str | os.PathLike[str]) -> StoreTarget:
    """Read a store URL without opening anything; StoreError if it names no store.

    >>> parse_store_url("sqlite:////tmp/x.db")
    SQLiteStore('/tmp/x.db')
    >>> parse_store_url("reports/2026.sqlite")
    SQLiteStore('reports/2026.sqlite')
    >>> parse_store_url("events.jsonl")
    Traceback (most recent call last):
    ...
    whoson.core.errors.StoreError: 'events.jsonl' is an event log (JSON Lines), not a store: ...
    """
    text = os.fspath(url)
    if text in ("memory:", "memory://"):
        return StoreTarget("memory")
    if text.startswith(("postgresql://", "postgres://")):
        return StoreTarget("postgresql", text)
    if text.startswith("sqlite:"):
        rest, _, query = text.partition("?")
        if rest in ("sqlite:", "sqlite://", "sqlite:///", "sqlite:///:memory:"):
            return StoreTarget("sqlite", ":memory:", _sqlite_options(text, query))
        if not rest.startswith("sqlite:///"):
            raise StoreError(
                f"cannot open store {redact(text)!r}: a SQLite URL is sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db"
            )
        path = unquote(rest.removeprefix("sqlite:///"))
        return StoreTarget("sqlite", path, _sqlite_options(text, query))
    if "://" not in text and is_store(text):
        return StoreTarget("sqlite", text)
    scheme = _SCHEME.match(text)
    if scheme is None or "://" not in text:
        raise StoreError(
            f"{redact(text)!r} is an event log (JSON Lines), not a store: a bare path names a "
            "SQLite store only when it ends in .db, .sqlite or .sqlite3 or is a SQLite file "
            "(read a log with Tracker.load)"
        )
    problem = f"unknown scheme {scheme.group()[:-1]!r}"
    raise StoreError(f"cannot open store {redact(text)!r}: {problem}; use {_ACCEPTED}")


def open_store(url: str | os.PathLike[str], *, settings: StoreSettings | None = None,
               create: bool = True) -> Store:
    """Open the store ``url`` names (see the module's table).

    ``settings``, when given, are passed to the store: saved, or checked
    against the settings its events were validated with (ConfigError).
    With ``create=False`` (reading) nothing is ever created: a SQLite file
    must exist and be a whoson store, and an in-memory store, empty by
    definition, is refused. (A PostgreSQL database must exist anyway; its
    tables are created on first open.)

    >>> type(open_store("memory:")).__name__
    'MemoryStore'
    >>> open_store("sqlite:///no/such/file.db", create=False)
    Traceback (most recent call last):
    ...
    whoson.core.errors.StoreError: no such store: 'no/such/file.db' (reading never creates a store)
    """
    target = parse_store_url(url)
    if not create and not target.persistent:
        raise StoreError(f"{redact(os.fspath(url))!r} is an in-memory store: it holds nothing "
                         "to read (name a SQLite file or a PostgreSQL database)")
    if target.backend == "memory":
        from whoson.stores.memory import MemoryStore

        return MemoryStore(settings)
    if target.backend == "sqlite":
        from whoson.stores.sqlite import SQLiteStore

        if not create and not os.path.isfile(target.location):
            raise StoreError(f"no such store: {target.location!r} (reading never creates a store)")
        return SQLiteStore(target.location, settings=settings, create=create, **target.options)
    try:
        postgres = importlib.import_module("whoson.stores.postgres")
    except ModuleNotFoundError as err:
        raise StoreError(f"cannot open store {redact(os.fspath(url))!r}: PostgreSQL support is "
                         f"not available ({err}); install whoson[postgres]") from err
    store: Store = postgres.PostgresStore(target.location, settings=settings)
    return store
