"""Opening a store from a URL, as the CLI and ``Tracker.open`` do.

=====================================  ==========================================
URL                                    store
=====================================  ==========================================
``memory:`` or ``memory://``           a new :class:`~whoson.stores.memory.MemoryStore`
``sqlite:///events.db``                SQLite file ``events.db``, relative to the
                                       working directory
``sqlite:////var/lib/whoson/x.db``     SQLite file at the absolute path
``sqlite://`` or ``sqlite:///:memory:`` SQLite in memory (gone on close)
``events.db``, ``x.sqlite``            a plain path ending ``.db``, ``.sqlite`` or
                                       ``.sqlite3`` is a SQLite file
``postgresql://user@host/db``          PostgreSQL (needs the ``postgres`` extra)
=====================================  ==========================================

SQLite URLs accept ``?durable=true`` and ``?busy_timeout=SECONDS``.

>>> parse_store_url("sqlite:///data/events.db?durable=1")
SQLiteStore('data/events.db', durable=True)
>>> open_store("mysql://localhost/x")
Traceback (most recent call last):
...
whoson.core.errors.StoreError: cannot open store 'mysql://localhost/x': unknown scheme 'mysql'; ...
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

__all__ = ["StoreTarget", "open_store", "parse_store_url"]

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_ACCEPTED = ("memory:, sqlite:///path.db, a path ending .db/.sqlite/.sqlite3, "
             "or postgresql://...")


@attrs.frozen
class StoreTarget:
    """What a store URL names: the backend and its arguments."""

    backend: str
    location: str = ""
    options: dict[str, Any] = attrs.field(factory=dict)

    def __repr__(self) -> str:
        """Like the call that opens the store."""
        if self.backend == "memory":
            return "MemoryStore()"
        args = [repr(self.location), *(f"{k}={v!r}" for k, v in self.options.items())]
        name = {"sqlite": "SQLiteStore", "postgresql": "PostgresStore"}[self.backend]
        return f"{name}({', '.join(args)})"


def _flag(url: str, name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise StoreError(f"cannot open store {url!r}: {name}={text!r} must be true or false")


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
                    f"cannot open store {url!r}: busy_timeout={value!r} must be seconds"
                ) from None
        else:
            raise StoreError(
                f"cannot open store {url!r}: unknown option {name!r} (durable, busy_timeout)"
            )
    return options


def parse_store_url(url: str | os.PathLike[str]) -> StoreTarget:
    """Read a store URL without opening anything; StoreError if it names no store.

    >>> parse_store_url("sqlite:////tmp/x.db")
    SQLiteStore('/tmp/x.db')
    >>> parse_store_url("reports/2026.sqlite")
    SQLiteStore('reports/2026.sqlite')
    """
    text = os.fspath(url)
    if text in ("memory:", "memory://"):
        return StoreTarget("memory")
    if text.startswith(("postgresql://", "postgres://")):
        return StoreTarget("postgresql", text)
    if text.startswith("sqlite:"):
        rest, _, query = text.partition("?")
        if rest in ("sqlite:", "sqlite://", "sqlite:///:memory:"):
            return StoreTarget("sqlite", ":memory:", _sqlite_options(text, query))
        if not rest.startswith("sqlite:///"):
            raise StoreError(
                f"cannot open store {text!r}: a SQLite URL is sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db"
            )
        path = unquote(rest.removeprefix("sqlite:///"))
        return StoreTarget("sqlite", path, _sqlite_options(text, query))
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]+):", text)
    if "://" not in text and text.lower().endswith(_SQLITE_SUFFIXES):
        return StoreTarget("sqlite", text)
    problem = f"unknown scheme {scheme.group(1)!r}" if scheme else "not a store URL"
    raise StoreError(f"cannot open store {text!r}: {problem}; use {_ACCEPTED}")


def open_store(url: str | os.PathLike[str], *, settings: StoreSettings | None = None) -> Store:
    """Open the store ``url`` names (see the module's table).

    ``settings``, when given, are passed to the store: saved, or checked
    against the settings its events were validated with (ConfigError).

    >>> type(open_store("memory:")).__name__
    'MemoryStore'
    """
    target = parse_store_url(url)
    if target.backend == "memory":
        from whoson.stores.memory import MemoryStore

        return MemoryStore(settings)
    if target.backend == "sqlite":
        from whoson.stores.sqlite import SQLiteStore

        return SQLiteStore(target.location, settings=settings, **target.options)
    try:
        postgres = importlib.import_module("whoson.stores.postgres")
    except ModuleNotFoundError as err:
        raise StoreError(f"cannot open store {os.fspath(url)!r}: PostgreSQL support is not "
                         f"available ({err}); install whoson[postgres]") from err
    store: Store = postgres.PostgresStore(target.location, settings=settings)
    return store
