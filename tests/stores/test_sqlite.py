"""The SQLite store against the store contract, plus durability and concurrency."""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import attrs
import pytest

from whoson.core.errors import ConfigError, StoreError, StoreLockedError
from whoson.core.events import Event
from whoson.core.settings import RatingScale
from whoson.stores._rows import event_row, initial_meta
from whoson.stores.base import Store, StoreSettings
from whoson.stores.sqlite import _SCHEMA_V1, SCHEMA_VERSION, SQLiteStore
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


def make_v1_file(path: Path, events: list[Event] = ()) -> Path:  # type: ignore[assignment]
    """A store file as whoson wrote it before schema version 2 (the whole event as JSON)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        for statement in _SCHEMA_V1:
            db.execute(statement)
        meta = dict(initial_meta(StoreSettings()))
        meta["event_count"] = str(len(events))
        db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items()))
        db.executemany("INSERT INTO events (id, type, ts, visitor, request, body)"
                       " VALUES (?, ?, ?, ?, ?, ?)", [event_row(e) for e in events])
    return path


class TestSQLiteVersion1Store(TestSQLiteStore):
    """A file of schema version 1 keeps the whole store contract, in its own format."""

    def create_store(self) -> SQLiteStore:
        self.count += 1
        store = SQLiteStore(make_v1_file(self.folder / f"v1-{self.count}.db"))
        assert 1 == store.schema_version
        return store


class TestSQLiteFormats:
    """Files of every schema version open, read and append; reading never changes them."""

    def test_new_files_are_version_2(self, tmp_path: Path) -> None:
        """A new file is written in the compact format, with the event type codes in meta."""
        with SQLiteStore(tmp_path / "s.db") as store:
            store.append(sample_events())
            assert SCHEMA_VERSION == store.schema_version == 2
        with closing(sqlite3.connect(tmp_path / "s.db")) as db:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            types = {name for (name,) in db.execute("SELECT type FROM events")}
        assert "2" == meta["schema_version"]
        assert {int} == {type(code) for code in types}

    def test_version_1_file_reads_as_before(self, tmp_path: Path) -> None:
        """Every event of a version-1 file reads back equal, by every kind of query."""
        events = sample_events()
        path = make_v1_file(tmp_path / "old.db", events)
        with SQLiteStore(path, create=False) as store:
            assert 1 == store.schema_version
            assert events == [item.event for item in store.read()]
            assert sorted(events, key=lambda e: e.sort_key) == [
                item.event for item in store.read(order="time")]
            expected = [e for e in events if e.visitor == "v-sample" and e.type == "message"]
            assert expected == [item.event for item in store.read(visitor="v-sample",
                                                                  types={"message"})]
            assert len(events) == len(store)

    def test_version_1_file_appends_in_its_own_format(self, tmp_path: Path) -> None:
        """Appending to a version-1 file adds version-1 rows; a resend is a duplicate."""
        events = sample_events()
        path = make_v1_file(tmp_path / "old.db", events[:5])
        with SQLiteStore(path) as store:
            result = store.append(events)
            assert (len(events) - 5, 5) == (result.accepted, result.duplicates)
            assert events == [item.event for item in store.read()]
        with closing(sqlite3.connect(path)) as db:
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            bodies = [body for (body,) in db.execute("SELECT body FROM events ORDER BY position")]
        assert ("1",) == version
        assert [e.id for e in events] == [json.loads(body)["id"] for body in bodies]

    @pytest.mark.parametrize("version", [1, 2])
    def test_reading_changes_nothing(self, tmp_path: Path, version: int) -> None:
        """Opening with create=False and reading leaves the file's bytes as they were."""
        path = tmp_path / "s.db"
        if version == 1:
            make_v1_file(path, sample_events())
        else:
            with SQLiteStore(path) as store:
                store.append(sample_events())
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        with SQLiteStore(path, create=False) as store:
            assert len(sample_events()) == len(list(store.read(order="time")))
            assert store.load_checkpoint("tracker") is None
            assert store.get("sample-order") is not None
        after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        assert before == after

    def test_other_object_sees_new_strings(self, tmp_path: Path) -> None:
        """A store object reads events whose interned text another object wrote after it opened."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as first, SQLiteStore(path) as second:
            first.append([make_event("heartbeat", id="h1", visitor="v1", url="/a")])
            assert ["/a"] == [item.event.url for item in second.read()]  # type: ignore[attr-defined]
            second.append([make_event("heartbeat", id="h2", visitor="v2", url="/b")])
            expected = [("v1", "/a"), ("v2", "/b")]
            assert expected == [(item.event.visitor, item.event.url)  # type: ignore[attr-defined]
                                for item in first.read()]
            assert ["h2"] == [item.event.id for item in first.read(visitor="v2")]
            stored = first.get("h2")
            assert stored is not None
            assert "v2" == stored.event.visitor

    def test_failed_write_forgets_its_strings(self, tmp_path: Path) -> None:
        """Strings interned by an append that rolled back are not remembered as stored."""
        path = tmp_path / "s.db"
        with SQLiteStore(path, busy_timeout=0.05) as store:
            assert store._db is not None
            store._db.execute("CREATE TRIGGER fail BEFORE INSERT ON events"
                              " WHEN NEW.id = 'bad' BEGIN SELECT RAISE(ABORT, 'no'); END")
            with pytest.raises(StoreError):
                store.append([make_event("heartbeat", id="bad", visitor="ghost", url="/ghost")])
            store._db.execute("DROP TRIGGER fail")
            store.append([make_event("heartbeat", id="ok", visitor="real", url="/real")])
            stored = store.get("ok")
            assert stored is not None
            assert ("real", "/real") == (stored.event.visitor, stored.event.url)  # type: ignore[attr-defined]


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
    """Several store objects on one file (writers in threads and processes: the contract)."""

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
