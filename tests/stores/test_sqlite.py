"""The SQLite store against the store contract, plus durability and concurrency."""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from whoson.core.errors import ConfigError, StoreError, StoreLockedError
from whoson.core.events import RatingScale
from whoson.stores.base import Store, StoreSettings
from whoson.stores.sqlite import SCHEMA_VERSION, SQLiteStore
from whoson.testing import StoreContract, make_event, sample_events


class TestSQLiteStore(StoreContract):
    """SQLiteStore keeps the store contract, reopening included."""

    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path
        self.count = 0

    def create_store(self) -> SQLiteStore:
        self.count += 1
        return SQLiteStore(self.folder / f"store{self.count}.db")

    def reopen_store(self, store: Store) -> SQLiteStore:
        assert isinstance(store, SQLiteStore)
        store.close()
        return SQLiteStore(store.path)

    def store_opener(self, store: Store) -> Callable[[], Store]:
        assert isinstance(store, SQLiteStore)
        return functools.partial(SQLiteStore, store.path)


class TestSQLiteFile:
    """How SQLiteStore treats the file it is given."""

    def test_reopen_keeps_positions_and_counts(self, tmp_path: Path) -> None:
        """Reopening continues positions and counting where the last object stopped."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as store:
            store.append(sample_events()[:3])
        with SQLiteStore(path) as store:
            store.append([make_event("heartbeat", id="late")])
            expected = ([1, 2, 3, 4], 4)
            assert expected == ([item.position for item in store.read()], len(store))

    def test_newer_schema_is_refused(self, tmp_path: Path) -> None:
        """A file written by a newer whoson is refused with a message saying so."""
        path = tmp_path / "s.db"
        SQLiteStore(path).close()
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                       (str(SCHEMA_VERSION + 1),))
        with pytest.raises(StoreError, match=rf"schema version {SCHEMA_VERSION + 1}, newer than .*upgrade whoson"):
            SQLiteStore(path)

    def test_garbled_schema_version_is_refused(self, tmp_path: Path) -> None:
        """An unreadable schema version is refused."""
        path = tmp_path / "s.db"
        SQLiteStore(path).close()
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = 'one' WHERE key = 'schema_version'")
        with pytest.raises(StoreError, match="unknown whoson schema version 'one'"):
            SQLiteStore(path)

    def test_foreign_database_is_refused(self, tmp_path: Path) -> None:
        """A SQLite file of another application is left alone."""
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE customers (id INTEGER)")
        with pytest.raises(StoreError, match="not a whoson store"):
            SQLiteStore(path)
        with sqlite3.connect(path) as db:
            expected = [("customers",)]
            assert expected == db.execute("SELECT name FROM sqlite_master").fetchall()

    def test_not_a_database(self, tmp_path: Path) -> None:
        """A file that is not SQLite gives a StoreError naming it."""
        path = tmp_path / "notes.db"
        path.write_text("hello, this is not a database " * 100)
        with pytest.raises(StoreError, match=r"notes\.db"):
            SQLiteStore(path)

    def test_missing_directory(self, tmp_path: Path) -> None:
        """A path in a missing directory gives a StoreError naming it."""
        with pytest.raises(StoreError, match="nowhere"):
            SQLiteStore(tmp_path / "nowhere" / "s.db")

    def test_wal_mode(self, tmp_path: Path) -> None:
        """The file is in WAL mode, so readers do not wait for writers."""
        path = tmp_path / "s.db"
        SQLiteStore(path).close()
        with sqlite3.connect(path) as db:
            expected = ("wal",)
            assert expected == db.execute("PRAGMA journal_mode").fetchone()

    def test_relative_path_survives_chdir(self, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
        """A store opened with a relative path keeps reading its file after a chdir."""
        monkeypatch.chdir(tmp_path)
        with SQLiteStore("rel.db") as store:
            store.append([make_event("heartbeat", id="h1")])
            monkeypatch.chdir("/")
            assert ["h1"] == [item.event.id for item in store.read()]

    def test_durable_syncs_every_commit(self, tmp_path: Path) -> None:
        """durable=True means synchronous=FULL; the default is NORMAL."""
        full, normal = 2, 1
        with SQLiteStore(tmp_path / "a.db", durable=True) as store:
            assert store._db is not None
            assert (full,) == store._db.execute("PRAGMA synchronous").fetchone()
        with SQLiteStore(tmp_path / "b.db") as store:
            assert store._db is not None
            assert (normal,) == store._db.execute("PRAGMA synchronous").fetchone()

    def test_busy_writer_gives_store_error(self, tmp_path: Path) -> None:
        """A writer that cannot get the file within busy_timeout gets a StoreError, not a hang."""
        path = tmp_path / "s.db"
        with SQLiteStore(path, busy_timeout=0.05) as store:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            try:
                with pytest.raises(StoreError, match="locked"):
                    store.append([make_event("heartbeat", id="h1")])
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert store.append([make_event("heartbeat", id="h1")]).ok

    def test_closed_store_raises(self, tmp_path: Path) -> None:
        """Using a closed store raises StoreError; closing twice is harmless."""
        store = SQLiteStore(tmp_path / "s.db")
        store.close()
        store.close()
        with pytest.raises(StoreError, match="closed"):
            len(store)

    def test_settings_given_to_a_new_file(self, tmp_path: Path) -> None:
        """Settings passed when creating a file are saved in it."""
        wanted = StoreSettings(currency="EUR", rating_scale=RatingScale(0, 10))
        SQLiteStore(tmp_path / "s.db", settings=wanted).close()
        with SQLiteStore(tmp_path / "s.db") as store:
            assert wanted == store.settings

    def test_conflicting_settings_on_open(self, tmp_path: Path) -> None:
        """Opening a file holding events with other settings raises ConfigError."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as store:
            store.append([make_event("heartbeat", id="h1")])
        with pytest.raises(ConfigError, match=r"1\.\.5"):
            SQLiteStore(path, settings=StoreSettings(rating_scale=RatingScale(0, 10)))

    def test_settings_seen_by_other_objects(self, tmp_path: Path) -> None:
        """Settings saved through one store object are seen by another on the same file."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as first, SQLiteStore(path) as second:
            first.save_settings(StoreSettings(currency="SEK"))
            assert StoreSettings(currency="SEK") == second.settings

    def test_unstorable_extra_is_rejected_alone(self, tmp_path: Path) -> None:
        """An event whose extras are not JSON is rejected without dropping the others."""
        with SQLiteStore(tmp_path / "s.db") as store:
            # Built past the contract (parse_event refuses both): the store still refuses them.
            bad = attrs.evolve(make_event("heartbeat", id="bad"), extra={"blob": object()})
            surrogate = attrs.evolve(make_event("heartbeat"), id="sur\ud800")
            result = store.append([make_event("heartbeat", id="a"), bad, surrogate,
                                   make_event("heartbeat", id="b")])
            expected = ["accepted", "rejected", "rejected", "accepted"]
            assert expected == [o.status.value for o in result.outcomes]
            stored = ["a", "b"]
            assert stored == [item.event.id for item in store.read()]
            error = result.outcomes[1].error
            assert error is not None
            assert "cannot be stored" in str(error)


class TestSQLiteLongRequests:
    """Appending to a long-lived request costs the same however long it already is."""

    @staticmethod
    def _steps_to_add_one(path: Path, earlier: int) -> int:
        """SQLite VM steps (in units of 100) to append one message to a request with ``earlier`` messages."""
        with SQLiteStore(path) as store:
            store.append([make_event("message", id=f"m{i}", request="r1") for i in range(earlier)])
            steps = [0]

            def count() -> int:
                steps[0] += 1
                return 0

            assert store._db is not None
            store._db.set_progress_handler(count, 100)
            store.append([make_event("message", id="last", request="r1")])
            store._db.set_progress_handler(None, 100)
            return steps[0]

    def test_append_does_not_scan_the_request(self, tmp_path: Path) -> None:
        """One more message after 5,000 costs about what it costs after 500 (not ten times more)."""
        short = self._steps_to_add_one(tmp_path / "short.db", 500)
        long = self._steps_to_add_one(tmp_path / "long.db", 5000)
        assert long < 2 * short + 5, f"{long} vs {short} hundred VM steps: the request is scanned"


class TestSQLiteConcurrency:
    """Several store objects on one file, used from several threads."""

    def test_concurrent_writers_lose_nothing(self, tmp_path: Path) -> None:
        """Two store objects appending overlapping batches from four threads store each id once."""
        path = tmp_path / "s.db"
        stores = [SQLiteStore(path, busy_timeout=30), SQLiteStore(path, busy_timeout=30)]
        events = [make_event("message", id=f"m{i}", visitor=f"v{i % 9}", request=f"r{i % 9}")
                  for i in range(600)]
        errors: list[BaseException] = []

        def work(worker: int) -> None:
            store = stores[worker % 2]
            try:
                for begin in range(worker * 50, worker * 50 + 600, 25):
                    result = store.append(events[begin % 600:][:25])
                    assert result.ok
            except BaseException as err:  # surfaced in the main thread
                errors.append(err)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        stored = list(stores[0].read())
        assert sorted(e.id for e in events) == sorted(item.event.id for item in stored)
        assert list(range(1, 601)) == [item.position for item in stored]
        assert len(events) == len(stores[1])
        for store in stores:
            store.close()

    def test_reader_while_writing(self, tmp_path: Path) -> None:
        """A read in progress keeps its snapshot while another object appends."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as writer, SQLiteStore(path) as reader:
            writer.append([make_event("heartbeat", id=f"h{i}") for i in range(5000)])
            reading = reader.read()
            first = next(reading)
            writer.append([make_event("heartbeat", id=f"late{i}") for i in range(10)])
            ids = [first.event.id, *(item.event.id for item in reading)]
            assert [f"h{i}" for i in range(5000)] == ids
            expected = 5010
            assert expected == len(reader)


class TestSQLiteFreshFileRace:
    """Opening a fresh file another process is preparing waits its turn instead of failing."""

    @staticmethod
    def _writer_on_fresh_file(path: Path) -> sqlite3.Connection:
        """A plain connection holding the write lock of a new file, as another opener does
        while it switches the file to WAL (SQLite then refuses WAL at once, no busy wait)."""
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        return other

    def test_open_waits_for_the_other_opener(self, tmp_path: Path) -> None:
        """The lock is released after 0.3 s: the store opens, in WAL mode, with its schema."""
        path = tmp_path / "fresh.db"
        other = self._writer_on_fresh_file(path)
        release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
        release.start()
        try:
            with SQLiteStore(path, busy_timeout=10) as store:
                assert store._db is not None
                assert ("wal",) == store._db.execute("PRAGMA journal_mode").fetchone()
                assert 1 == store.append([make_event("heartbeat", id="h1")]).accepted
        finally:
            release.join()
            other.close()

    def test_open_gives_up_after_the_busy_timeout(self, tmp_path: Path) -> None:
        """A lock held past busy_timeout gives StoreLockedError, not a hang."""
        path = tmp_path / "fresh.db"
        other = self._writer_on_fresh_file(path)
        started = time.monotonic()
        try:
            with pytest.raises(StoreLockedError, match="locked"):
                SQLiteStore(path, busy_timeout=0.2)
            waited = time.monotonic() - started
        finally:
            other.close()
        assert 0.2 <= waited < 5.0, f"waited {waited:.2f} s"
