"""The command line against hostile data, secrets and store mistakes (issue 8, items 13, 16-18)."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from whoson import Tracker
from whoson.cli.main import main
from whoson.core.errors import StoreError
from whoson.stores.sqlite import SQLiteStore
from whoson.stores.url import SQLITE_HEADER, is_store, open_store, redact

TS = "2026-03-01T12:00:00Z"
SECRET = "hunter2-Secret"


def write_log(path: Path, events: list[dict[str, Any]]) -> Path:
    """``events`` as a JSON Lines file at ``path``."""
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``whoson argv``."""
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


# Event text a browser or a host could send, aimed at the operator's terminal.
ESC_URL = "/sale\x1b[2J\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"
MARKUP_VISITOR = "[link=https://evil.example]v1[/link]"
CLOSE_TAG = "v2[/]"
BLINK_AGENT = "[blink]ann[/blink]"
ESC_NAME = "Zoë\x1b[5m\x9b31m"


def hostile_log(tmp_path: Path) -> Path:
    """A small shop day whose ids, urls, names, agents and triggers hold escapes and markup."""
    events: list[dict[str, Any]] = [
        {"id": "a1", "type": "agent_status", "ts": "2026-03-01T11:00:00Z", "agent": BLINK_AGENT,
         "status": "online", "name": "[red]Ann[/red]"},
    ]
    for n, visitor in enumerate((MARKUP_VISITOR, CLOSE_TAG)):
        events += [
            {"id": f"p{n}", "type": "page_view", "ts": TS, "visitor": visitor, "url": ESC_URL},
            {"id": f"i{n}", "type": "identify", "ts": "2026-03-01T12:00:10Z", "visitor": visitor,
             "customer": f"c{n}", "name": ESC_NAME},
            {"id": f"am{n}", "type": "auto_message", "ts": "2026-03-01T12:00:20Z",
             "visitor": visitor, "trigger": "[/]", "url": ESC_URL},
            {"id": f"amc{n}", "type": "auto_message_click", "ts": "2026-03-01T12:00:25Z",
             "visitor": visitor, "trigger": "[/]"},
            {"id": f"r{n}", "type": "request", "ts": "2026-03-01T12:00:30Z", "visitor": visitor,
             "request": f"req{n}", "channel": "text", "initiator": "visitor", "url": ESC_URL},
            {"id": f"m{n}", "type": "message", "ts": "2026-03-01T12:00:40Z", "visitor": visitor,
             "request": f"req{n}", "sender": "agent", "agent": BLINK_AGENT},
            {"id": f"s{n}", "type": "survey", "ts": "2026-03-01T12:01:00Z", "visitor": visitor,
             "request": f"req{n}", "agent": BLINK_AGENT, "rating": 5,
             "feedback": "\x1b[31m[/]great"},
        ]
    return write_log(tmp_path / "hostile.jsonl", events)


def assert_inert(text: str) -> None:
    """No control character from the data reached ``text`` raw (rich may add its own styles)."""
    for raw in ("\x1b[2J", "\x1b]8;", "\x07", "\x1b[5m", "\x9b"):
        assert raw not in text, f"{raw!r} reached the terminal"


class TestTerminalSafety:
    """Escape sequences and rich markup in event data never reach the terminal raw."""

    def test_report_tables(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, err = run(["report", str(hostile_log(tmp_path))], capsys)
        assert (0, "") == (status, err)
        assert_inert(out)
        assert "/sale\\x1b[2J\\x1b]8;;https://evil.example\\x07click" in out
        assert BLINK_AGENT in out  # plain tables print markup as the text it is

    def test_live_plain_table(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(["live", str(hostile_log(tmp_path)), "--at", "2026-03-01T12:01:00Z"],
                             capsys)
        assert 0 == status
        assert_inert(out)
        assert f"{MARKUP_VISITOR} (Zoë\\x1b[5m\\x9b31m)" in out
        assert CLOSE_TAG in out

    def test_live_rich_table(self, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
        # A colour terminal: rich renders markup, so markup in the data must arrive inert.
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setenv("COLUMNS", "400")
        monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
        status, out, _ = run(["live", str(hostile_log(tmp_path)), "--at", "2026-03-01T12:01:00Z"],
                             capsys)
        assert 0 == status
        assert_inert(out)
        assert "\x1b[5m" not in out  # no blinking: [blink] stayed text
        assert "[link=https://evil.example]v1[/link]" in out
        assert "v2[/]" in out
        assert "[blink]ann[/blink]" in out

    def test_rejected_lines_are_escaped(self, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
        log = tmp_path / "bad.jsonl"
        log.write_text('{"id": "x\\u001b[2J", "type": "nap\\u001b]8;;http://x\\u0007"}\n')
        status, _, err = run(["report", str(log)], capsys)
        assert 1 == status
        assert_inert(err)


class TestPasswordsNeverEchoed:
    """Every message that shows a store URL or DSN hides its password."""

    @pytest.mark.parametrize("source", [
        f"mysql://admin:{SECRET}@db.example/shop",
        f"sqlite://admin:{SECRET}@host/x.db",
        f"sqlite:admin:{SECRET}@x.db",
        f"host=db user=admin password={SECRET} dbname=shop",
        f"host=db password='{SECRET} x' dbname=shop",
        f"postgresql://127.0.0.1:1/shop?connect_timeout=2&password={SECRET}",
    ])
    @pytest.mark.parametrize("command", [["report"], ["live", "--at", TS]])
    def test_reading_commands(self, source: str, command: list[str],
                              capsys: pytest.CaptureFixture[str]) -> None:
        if source.startswith("postgresql"):
            pytest.importorskip("psycopg", reason="psycopg is not installed")
        argv = [command[0], source, *command[1:]]
        status, out, err = run(argv, capsys)
        assert (2, "") == (status, out)
        assert SECRET not in err
        if not source.startswith("postgresql"):  # the driver's message names no DSN
            assert "***" in err

    def test_ingest_target(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        log = write_log(tmp_path / "a.jsonl", [])
        status, _, err = run(["ingest", str(log), "--into", f"mysql://u:{SECRET}@h/x"], capsys)
        assert 2 == status
        assert SECRET not in err

    def test_percent_encoding_error_of_the_driver(self,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
        pytest.importorskip("psycopg", reason="psycopg is not installed")
        status, _, err = run(["report", f"postgresql://u:p%zz{SECRET}@127.0.0.1:1/db"], capsys)
        assert 2 == status
        assert "invalid percent-encoded token" in err
        assert SECRET not in err

    def test_repr_of_a_postgres_store(self) -> None:
        pytest.importorskip("psycopg", reason="psycopg is not installed")
        from whoson.stores.postgres import PostgresStore

        store = PostgresStore.__new__(PostgresStore)  # repr needs no connection
        store.dsn = f"postgresql://ann:{SECRET}@db/shop"
        assert "PostgresStore('postgresql://ann:***@db/shop')" == repr(store)
        store.dsn = f"dbname=shop password={SECRET}"
        assert "PostgresStore('dbname=shop password=***')" == repr(store)

    @pytest.mark.parametrize(("text", "expected"), [
        (f"postgresql://ann:{SECRET}@db:5432/shop", "postgresql://ann:***@db:5432/shop"),
        (f"postgres://:{SECRET}@db/shop", "postgres://:***@db/shop"),
        (f"postgresql://ann:p@ss{SECRET}@db/shop", "postgresql://ann:***@db/shop"),
        ("postgresql://ann@db/shop", "postgresql://ann@db/shop"),
        (f"'x://u:{SECRET}@h' and 'y://v:{SECRET}@k'", "'x://u:***@h' and 'y://v:***@k'"),
        (f"host=db PASSWORD = {SECRET} port=5", "host=db PASSWORD = *** port=5"),
        (f"sslpassword={SECRET}", "sslpassword=***"),
        (f"db?user=a&password={SECRET}&x=1", "db?user=a&password=***&x=1"),
    ])
    def test_redact(self, text: str, expected: str) -> None:
        assert expected == redact(text)

    def test_redact_finds_the_dsn_secret_anywhere(self) -> None:
        dsn = f"postgresql://ann:{SECRET}%21@db/shop"
        message = f'token "{SECRET}%21" and decoded "{SECRET}!" in a driver message'
        assert 'token "***" and decoded "***" in a driver message' == redact(message, dsn)


class TestStoreRules:
    """Reading never creates a store; ingest refuses stores that keep nothing; one bare-path rule."""

    @pytest.mark.parametrize("target", ["sqlite://", "sqlite:///", "sqlite:///:memory:",
                                        "memory:", "memory://"])
    def test_ingest_into_an_in_memory_store_is_refused(
            self, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        log = write_log(tmp_path / "a.jsonl", [
            {"id": "h", "type": "heartbeat", "ts": TS, "visitor": "v"}])
        status, out, err = run(["ingest", str(log), "--into", target], capsys)
        assert (2, "") == (status, out)
        assert "keeps nothing once the command ends" in err

    @pytest.mark.parametrize("source", ["sqlite:///typo.db", "typo.db", "typo.sqlite3"])
    @pytest.mark.parametrize("command", [["report"], ["live", "--at", TS], ["visitor", "v"],
                                         ["export", "--parquet", "out"]])
    def test_reading_a_missing_store(self, source: str, command: list[str], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        status, out, err = run([command[0], source, *command[1:]], capsys)
        assert (2, "") == (status, out)
        assert "no such store: 'typo." in err
        assert [] == list(tmp_path.iterdir())

    def test_reading_an_in_memory_store(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, _, err = run(["report", "memory:"], capsys)
        assert 2 == status
        assert "holds nothing to read" in err

    def test_reading_never_changes_a_foreign_sqlite_file(
            self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE t (x)")
        db.close()
        before = path.read_bytes()
        status, _, err = run(["report", str(path)], capsys)
        assert 2 == status
        assert "is not a whoson store" in err
        assert before == path.read_bytes()

    def test_a_log_named_like_a_store(self, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
        path = write_log(tmp_path / "events.db", [
            {"id": "h", "type": "heartbeat", "ts": TS, "visitor": "v"}])
        status, _, err = run(["report", str(path)], capsys)
        assert 2 == status
        assert "file is not a database" in err

    def test_one_rule_for_bare_paths(self, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
        log = write_log(tmp_path / "shop.jsonl", [
            {"id": "p", "type": "page_view", "ts": TS, "visitor": "v", "url": "/"}])
        store_path = tmp_path / "shop.data"  # no suffix: recognised by its SQLite header
        assert 0 == main(["ingest", str(log), "--into", f"sqlite:///{store_path}"])
        assert SQLITE_HEADER == store_path.read_bytes()[:16]
        capsys.readouterr()
        for source in (str(store_path), f"sqlite:///{store_path}", str(log)):
            status, out, _ = run(["report", source, "--json"], capsys)
            assert (0, 1) == (status, json.loads(out)["visitors"]["total"])
        assert (True, False) == (is_store(str(store_path)), is_store(str(log)))
        with Tracker.open(str(store_path)) as tracker:
            assert 1 == len(tracker.store)
        with pytest.raises(StoreError, match="is an event log"):
            Tracker.open(str(log))

    def test_ingest_creates_a_bare_db_path(self, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
        log = write_log(tmp_path / "a.jsonl", [
            {"id": "h", "type": "heartbeat", "ts": TS, "visitor": "v"}])
        status, out, _ = run(["ingest", str(log), "--into", str(tmp_path / "new.db")], capsys)
        assert (0, True) == (status, out.startswith("accepted: 1"))
        assert 1 == len(open_store(str(tmp_path / "new.db"), create=False))


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """A whoson SQLite store and a second connection able to hold its write lock."""
    path = tmp_path / "busy.db"
    SQLiteStore(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    yield path, other
    other.close()


class TestDatabaseLocked:
    """Past the busy timeout, ingest says what was stored and that re-running is safe."""

    def test_locked_from_the_start(self, locked: tuple[Path, sqlite3.Connection], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
        path, other = locked
        log = write_log(tmp_path / "a.jsonl", [
            {"id": f"h{i}", "type": "heartbeat", "ts": TS, "visitor": "v"} for i in range(3)])
        url = f"sqlite:///{path}?busy_timeout=0.2"
        other.execute("BEGIN IMMEDIATE")
        status, out, err = run(["ingest", str(log), "--into", url], capsys)
        assert (1, "") == (status, out)
        assert "database is locked" in err
        assert "nothing of this operation was written" in err
        assert ("stored before the error: 0 new events (the store now holds 0); re-running the "
                "same command is safe") in err
        other.execute("ROLLBACK")
        status, out, _ = run(["ingest", str(log), "--into", url], capsys)
        assert (0, "accepted: 3  duplicate: 0  rejected: 0") == (status, out.split("  (")[0])

    def test_locked_after_the_first_batch(self, locked: tuple[Path, sqlite3.Connection],
                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
        path, other = locked
        log = write_log(tmp_path / "a.jsonl", [
            {"id": f"h{i}", "type": "heartbeat", "ts": TS, "visitor": "v"} for i in range(5003)])
        real_append = SQLiteStore.append

        def append_then_lock(store: SQLiteStore, *args: Any, **kwargs: Any) -> Any:
            result = real_append(store, *args, **kwargs)
            if not other.in_transaction:  # another process takes the lock after batch 1
                other.execute("BEGIN IMMEDIATE")
            return result

        monkeypatch.setattr(SQLiteStore, "append", append_then_lock)
        url = f"sqlite:///{path}?busy_timeout=0.2"
        status, _, err = run(["ingest", str(log), "--into", url], capsys)
        assert 1 == status
        assert "stored before the error: 5000 new events (the store now holds 5000)" in err
        other.execute("ROLLBACK")
        monkeypatch.setattr(SQLiteStore, "append", real_append)
        status, out, _ = run(["ingest", str(log), "--into", url], capsys)
        assert (0, "accepted: 3  duplicate: 5000  rejected: 0") == (status, out.split("  (")[0])

    def test_the_library_error_says_retry_is_safe(
            self, locked: tuple[Path, sqlite3.Connection]) -> None:
        from whoson.core.errors import StoreLockedError
        from whoson.testing import make_event

        path, other = locked
        other.execute("BEGIN IMMEDIATE")
        with (SQLiteStore(path, busy_timeout=0.1) as store,
              pytest.raises(StoreLockedError, match="re-sending the same events is safe")):
            store.append([make_event("heartbeat", id="h")])
        other.execute("ROLLBACK")
