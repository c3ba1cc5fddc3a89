"""The PostgreSQL store against the store contract, on a throwaway local server.

The server is created for this module with ``initdb`` into a temporary
folder and started on 127.0.0.1 with a free port (run as the ``postgres``
user when the tests run as root, since PostgreSQL refuses to run as root).
Every store gets a schema of its own. The module is skipped, with the reason,
when psycopg or the server binaries are missing.
"""

from __future__ import annotations

import functools
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from whoson.core.errors import StoreError
from whoson.stores.base import Store
from whoson.stores.postgres import PostgresStore
from whoson.stores.url import open_store
from whoson.testing import StoreContract, make_event

from .test_stateful import StoreMachine

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed: pip install "
                              "'whoson[postgres]' to run the PostgreSQL store tests")


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A throwaway PostgreSQL server: ``schema_dsn()`` gives a DSN on a fresh schema."""

    def __init__(self, dsn: str, control: Callable[[str], None] | None = None) -> None:
        self.dsn = dsn
        self._names = itertools.count(1)
        self._control = control

    def control(self, action: str) -> None:
        """``pg_ctl`` ``stop``, ``start`` or ``restart`` (same port; stopping drops every connection)."""
        assert self._control is not None
        self._control(action)

    def schema_dsn(self) -> str:
        """A DSN whose tables land in a new, empty schema."""
        name = f"store{next(self._names)}"
        with psycopg.connect(self.dsn, autocommit=True) as db:
            db.execute(f"CREATE SCHEMA {name}")
        return f"{self.dsn} options='-c search_path={name}'"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not on PATH "
                    "or in /usr/lib/postgresql/*/bin")
    owner: dict[str, Any] = {}
    folder = Path(tempfile.mkdtemp(prefix="whoson-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        os.chown(folder, account.pw_uid, account.pw_gid)
        owner = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    data, log, port = folder / "data", folder / "server.log", _free_port()

    def run(*args: str) -> None:
        subprocess.run(args, check=True, cwd=folder, capture_output=True, text=True,
                       timeout=120, **owner)

    try:
        run(initdb, "-D", str(data), "-U", "whoson", "--auth=trust", "-E", "UTF8",
            "--no-locale", "--no-sync")
        run(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -F", "start")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        detail = getattr(err, "stderr", "") or (log.read_text() if log.exists() else "")
        shutil.rmtree(folder, ignore_errors=True)
        message = f"could not start a throwaway PostgreSQL server: {err}; {detail[-500:]}"
        # CI installs the server binaries: there a server that will not start is a failure.
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    def control(action: str) -> None:
        run(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "-m", "fast", "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -F", action)

    try:
        yield Server(f"host=127.0.0.1 port={port} user=whoson dbname=postgres", control)
    finally:
        subprocess.run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                       cwd=folder, capture_output=True, timeout=60, **owner)
        shutil.rmtree(folder, ignore_errors=True)


class TestPostgresStore(StoreContract):
    """PostgresStore keeps the store contract, reopening included."""

    @pytest.fixture(autouse=True)
    def _server(self, server: Server) -> None:
        self.server = server

    def create_store(self) -> PostgresStore:
        return PostgresStore(self.server.schema_dsn())

    def reopen_store(self, store: Store) -> PostgresStore:
        assert isinstance(store, PostgresStore)
        store.close()
        return PostgresStore(store.dsn)

    def store_opener(self, store: Store) -> Callable[[], Store]:
        assert isinstance(store, PostgresStore)
        return functools.partial(PostgresStore, store.dsn)

    def break_connections(self, store: Store) -> bool:
        """Terminate every other backend, as a server restart does to its clients."""
        with psycopg.connect(self.server.dsn, autocommit=True) as db:
            db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                       " WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'")
        return True


class TestPostgresDetails:
    """Behaviour specific to PostgresStore."""

    def test_time_order_matches_python(self, server: Server) -> None:
        """Equal timestamps are ordered by id as Python orders strings, whatever the locale."""
        ids = ["B", "a", "é", "Z", "_", "aa", "\u00e9a", "e\u0301"]
        with PostgresStore(server.schema_dsn()) as store:
            store.append([make_event("heartbeat", id=i) for i in ids])
            assert sorted(ids) == [item.event.id for item in store.read(order="time")]

    def test_newer_schema_is_refused(self, server: Server) -> None:
        """Tables written by a newer whoson are refused with a message saying so."""
        dsn = server.schema_dsn()
        PostgresStore(dsn).close()
        with psycopg.connect(dsn, autocommit=True) as db:
            db.execute("UPDATE whoson_meta SET value = '99' WHERE key = 'schema_version'")
        with pytest.raises(StoreError, match="schema version 99, newer"):
            PostgresStore(dsn)

    def test_nul_in_id_is_rejected_alone(self, server: Server) -> None:
        """PostgreSQL text cannot hold NUL: such an event is rejected, the others kept.

        (The event contract refuses control characters in ids, so only an event
        built past parse_event can get here.)"""
        with PostgresStore(server.schema_dsn()) as store:
            result = store.append([attrs.evolve(make_event("heartbeat"), id="a\x00b"),
                                   make_event("heartbeat", id="ok", note="nul \x00 in body")])
            expected = ["rejected", "accepted"]
            assert expected == [o.status.value for o in result.outcomes]
            stored = store.get("ok")
            assert stored is not None
            assert "nul \x00 in body" == stored.event.extra["note"]

    def test_opened_from_url(self, server: Server) -> None:
        """open_store accepts a postgresql:// URL."""
        host, port = "127.0.0.1", server.dsn.split("port=")[1].split()[0]
        with open_store(f"postgresql://whoson@{host}:{port}/postgres") as store:
            assert isinstance(store, PostgresStore)

    def test_bad_dsn(self) -> None:
        """An unreachable server gives a StoreError."""
        with pytest.raises(StoreError, match="cannot open PostgreSQL store"):
            PostgresStore(f"host=127.0.0.1 port={_free_port()} user=nobody connect_timeout=2")


class TestPostgresConnections:
    """Server restarts and silent servers: reconnecting, and giving up in time."""

    def test_store_survives_a_server_restart(self, server: Server) -> None:
        """After the server restarts, the same store object appends, reads and waits again."""
        with PostgresStore(server.schema_dsn()) as store:
            store.append([make_event("heartbeat", id="before")])
            server.control("restart")
            result = store.append([make_event("heartbeat", id="after")])
            assert ["accepted"] == [o.status.value for o in result.outcomes]
            assert ["before", "after"] == [item.event.id for item in store.read()]
            server.control("restart")
            assert 2 == store.wait(1, timeout=1.0)

    def test_calls_fail_clearly_while_the_server_is_down(self, server: Server) -> None:
        """With the server stopped, calls raise StoreError; once it is back, the same object works."""
        with PostgresStore(server.schema_dsn(), connect_timeout=2) as store:
            store.append([make_event("heartbeat", id="before")])
            server.control("stop")
            try:
                with pytest.raises(StoreError, match="cannot open PostgreSQL store"):
                    store.append([make_event("heartbeat", id="during")])
                with pytest.raises(StoreError):
                    _ = store.position
            finally:
                server.control("start")
            result = store.append([make_event("heartbeat", id="after")])
            assert ["accepted"] == [o.status.value for o in result.outcomes]
            assert ["before", "after"] == [item.event.id for item in store.read()]

    def test_following_tracker_survives_a_server_restart(self, server: Server) -> None:
        """A tracker following the store keeps following it across a server restart."""
        from whoson import FixedClock, Tracker

        dsn = server.schema_dsn()
        clock = FixedClock(datetime(2026, 3, 1, 12, 1, tzinfo=UTC))
        with Tracker(PostgresStore(dsn), clock=clock) as writer, \
                Tracker(PostgresStore(dsn), clock=clock) as reader:
            writer.record({"id": "p1", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
                           "visitor": "v1", "url": "/"})
            server.control("restart")
            writer.record({"id": "p2", "type": "page_view", "ts": "2026-03-01T12:00:30Z",
                           "visitor": "v2", "url": "/"})
            assert ["v2", "v1"] == [row.visitor for row in reader.online().rows]

    def test_silent_server_times_out(self) -> None:
        """A server that accepts but never answers fails the connect after connect_timeout."""
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(4)
            port = silent.getsockname()[1]
            begin = time.monotonic()
            with pytest.raises(StoreError, match="cannot open PostgreSQL store"):
                PostgresStore(f"host=127.0.0.1 port={port} user=whoson", connect_timeout=2)
            waited = time.monotonic() - begin
            assert 1.5 <= waited < 8, f"gave up after {waited:.1f} s, not about 2 s"
            begin = time.monotonic()
            with pytest.raises(StoreError):
                open_store(f"postgresql://whoson@127.0.0.1:{port}/postgres?connect_timeout=2")
            waited = time.monotonic() - begin
            assert 1.5 <= waited < 8, f"the URL's connect_timeout was not used ({waited:.1f} s)"

    def test_default_connect_timeout(self, server: Server) -> None:
        """Without connect_timeout in the DSN, 10 seconds apply; the DSN's own value wins."""
        with PostgresStore(server.schema_dsn()) as store:
            assert {"connect_timeout": 10} == store._options
        with PostgresStore(f"{server.schema_dsn()} connect_timeout=3") as store:
            assert {} == store._options


class TestPostgresMachine:
    """PostgresStore under random batches, against the model."""

    def test_state_machine(self, server: Server) -> None:
        """Random appends and reads agree with the plain-Python model."""

        class PostgresMachine(StoreMachine):
            def open(self) -> Store:
                return PostgresStore(server.schema_dsn())

        run_state_machine_as_test(
            PostgresMachine, settings=settings(max_examples=10, stateful_step_count=12,
                                               deadline=None),
        )
