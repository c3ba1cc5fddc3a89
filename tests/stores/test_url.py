"""Store URLs: what each one opens, and clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from whoson.core.errors import ConfigError, StoreError
from whoson.core.settings import RatingScale
from whoson.stores.base import StoreSettings
from whoson.stores.memory import MemoryStore
from whoson.stores.sqlite import SQLiteStore
from whoson.stores.url import StoreTarget, open_store, parse_store_url


class TestParse:
    """parse_store_url names the backend and its arguments."""

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("memory:", StoreTarget("memory")),
            ("memory://", StoreTarget("memory")),
            ("sqlite:///events.db", StoreTarget("sqlite", "events.db")),
            ("sqlite:///data/events.db", StoreTarget("sqlite", "data/events.db")),
            ("sqlite:////var/lib/w.db", StoreTarget("sqlite", "/var/lib/w.db")),
            ("sqlite:///my%20events.db", StoreTarget("sqlite", "my events.db")),
            ("sqlite://", StoreTarget("sqlite", ":memory:")),
            ("sqlite:///:memory:", StoreTarget("sqlite", ":memory:")),
            ("sqlite:///x.db?durable=true&busy_timeout=2.5",
             StoreTarget("sqlite", "x.db", {"durable": True, "busy_timeout": 2.5})),
            ("events.db", StoreTarget("sqlite", "events.db")),
            ("/abs/Events.SQLITE", StoreTarget("sqlite", "/abs/Events.SQLITE")),
            ("rel/x.sqlite3", StoreTarget("sqlite", "rel/x.sqlite3")),
            ("postgresql://u@localhost:5433/db", StoreTarget("postgresql",
                                                             "postgresql://u@localhost:5433/db")),
            ("postgres://localhost/db", StoreTarget("postgresql", "postgres://localhost/db")),
        ],
    )
    def test_accepted(self, url: str, expected: StoreTarget) -> None:
        """Each accepted form names the expected backend and location."""
        assert expected == parse_store_url(url)

    @pytest.mark.parametrize(
        ("url", "problem"),
        [
            ("mysql://localhost/x", "unknown scheme 'mysql'"),
            ("http://example.com/x.db", "unknown scheme 'http'"),
            ("events.jsonl", "is an event log (JSON Lines), not a store"),
            ("memory", "is an event log (JSON Lines), not a store"),
            ("sqlite:relative.db", "sqlite:///relative/path.db"),
            ("sqlite:///x.db?fast=1", "unknown option 'fast'"),
            ("sqlite:///x.db?durable=maybe", "must be true or false"),
            ("sqlite:///x.db?busy_timeout=soon", "must be seconds"),
        ],
    )
    def test_refused(self, url: str, problem: str) -> None:
        """Anything else is a StoreError naming the URL, the problem and the accepted forms."""
        with pytest.raises(StoreError) as caught:
            parse_store_url(url)
        message = str(caught.value)
        assert repr(url) in message
        assert problem in message
        if "unknown scheme" in problem:
            assert "sqlite:///path.db" in message
        if "not a store" in problem:
            assert ".db, .sqlite or .sqlite3" in message


class TestOpen:
    """open_store opens the named store with the given settings."""

    def test_memory(self) -> None:
        """memory: gives a fresh MemoryStore with the settings."""
        settings = StoreSettings(currency="EUR")
        store = open_store("memory:", settings=settings)
        assert isinstance(store, MemoryStore)
        assert settings == store.settings

    def test_sqlite_relative_to_working_directory(self, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        """sqlite:///name.db is a file in the working directory."""
        monkeypatch.chdir(tmp_path)
        with open_store("sqlite:///w.db?durable=true") as store:
            assert isinstance(store, SQLiteStore)
            assert store.durable
        assert (tmp_path / "w.db").exists()

    def test_sqlite_absolute_and_plain_path(self, tmp_path: Path) -> None:
        """sqlite:////abs and a bare path open the same file."""
        path = tmp_path / "w.db"
        with open_store(f"sqlite:///{path}") as store:
            assert str(path) == getattr(store, "path", None)
            store.save_settings(StoreSettings(rating_scale=RatingScale(0, 10)))
        with open_store(path) as store:
            assert RatingScale(0, 10) == store.settings.rating_scale

    def test_settings_checked(self, tmp_path: Path) -> None:
        """Settings that contradict stored events raise ConfigError."""
        from whoson.testing import make_event

        path = tmp_path / "w.db"
        with open_store(path) as store:
            store.append([make_event("heartbeat", id="h1")])
        with pytest.raises(ConfigError):
            open_store(path, settings=StoreSettings(rating_scale=RatingScale(0, 10)))
