"""``whoson serve`` as a newcomer runs it: real processes, real ports, a shared SQLite store."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

from .conftest import BROWSER_UA  # noqa: E402

pytestmark = pytest.mark.timeout(60)

SRC = str(Path(__file__).resolve().parents[2] / "src")


class Served:
    """One ``whoson serve`` process and what it printed on start."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": SRC, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "whoson", "serve", *args, "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.banner: list[str] = []
        assert self.process.stdout is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.banner.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C"):
                break
        text = "\n".join(self.banner)
        match = re.search(r"http://127\.0\.0\.1:(\d+)", text)
        if match is None:
            self.process.kill()
            err = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"no URL in {text!r}; stderr: {err}")
        self.url = f"http://127.0.0.1:{match.group(1)}"

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit status and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return self.process.returncode, err


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Start ``whoson serve`` processes; all are stopped at the end."""
    started: list[Served] = []

    def start(*args: str) -> Served:
        served = Served(*args)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def page_view(event_id: str, visitor: str, url: str = "/") -> bytes:
    """One page view batch as the tag sends it."""
    return (f'{{"visitor": "{visitor}", "events": [{{"id": "{event_id}", "type": "page_view", '
            f'"url": "{url}", "age_ms": 0}}]}}').encode()


def datetime_of(served: Served, db: Path, event_id: str) -> Any:
    """The stored time of one event."""
    from whoson import Tracker

    with Tracker.open(f"sqlite:///{db}") as tracker:
        found = tracker.store.get(event_id)
    assert found is not None
    return found.event.ts


class TestServe:
    """Start, banner, demo shop, clean stop."""

    def test_banner_demo_and_clean_stop(self, serve: Any, tmp_path: Path) -> None:
        """The banner lists shop, console and token, aligned; SIGTERM stores what was sent and exits 0."""
        db = tmp_path / "demo.db"
        served = serve(f"sqlite:///{db}", "--demo-site", "--agent", "demo:s3cret")
        text = "\n".join(served.banner)
        assert f"demo shop        {served.url}/" in text
        assert f"agents' console  {served.url}/whoson/live" in text
        assert [19] * 4 == [len(line) - len(line[2:].split("  ", 1)[1].lstrip()) for line in served.banner[1:5]]
        assert "agent 'demo' token: s3cret" in text
        with httpx.Client(timeout=10) as client:
            assert "Trailhead" in client.get(served.url + "/").text
            reply = client.post(served.url + "/whoson/collect", content=page_view("e1", "v1"),
                                headers={"content-type": "text/plain", "user-agent": BROWSER_UA})
            assert 202 == reply.status_code
        status, err = served.stop()
        assert (0, "whoson serve: stopped") == (status, err.strip().splitlines()[-1])
        from whoson import Tracker

        with Tracker.open(f"sqlite:///{db}") as tracker:
            assert ["e1"] == [s.event.id for s in tracker.store.read()]

    def test_rules_fire_by_the_clock(self, serve: Any, tmp_path: Path) -> None:
        """With --rules, a time-based rule fires about 2 s after the page view with no other event."""
        rules = tmp_path / "rules.toml"
        rules.write_text('[[rules]]\nname = "linger"\n[rules.when]\nurl = "/pricing"\ntime_on_page = "2s"\n'
                         '[rules.action]\ntype = "message"\nmessage = "Questions about pricing?"\n')
        db = tmp_path / "rules.db"
        served = serve(f"sqlite:///{db}", "--rules", str(rules))
        with httpx.Client(timeout=10) as client:
            reply = client.post(served.url + "/whoson/collect", content=page_view("r1", "v1", "/pricing"),
                                headers={"content-type": "text/plain", "user-agent": BROWSER_UA})
        assert 202 == reply.status_code
        from whoson import Tracker

        fired: list[Any] = []
        deadline = time.monotonic() + 8
        while not fired and time.monotonic() < deadline:
            time.sleep(0.2)
            with Tracker.open(f"sqlite:///{db}") as tracker:
                fired = [s.event for s in tracker.store.read(types=["auto_message"])]
        assert [("v1", "linger")] == [(e.visitor, e.trigger) for e in fired]
        viewed = datetime_of(served, db, "r1")
        # Never before 2 s on the page; the once-a-second tick may run late on a loaded machine.
        assert 2.0 <= (fired[0].ts - viewed).total_seconds() <= 5.0

    @pytest.mark.parametrize(("args", "message"), [
        (["memory:"], "SOURCE 'memory:' must be a store URL"),
        (["sqlite:///x.db", "--prefix", "no-slash"], "--prefix 'no-slash' must be a path"),
        (["sqlite:///x.db", "--agent", "nocolon"], "--agent 'nocolon' must look like NAME:TOKEN"),
        (["sqlite:///x.db", "--port", "70000"], "--port 70000 must be between 0 and 65535"),
    ])
    def test_usage_errors(self, args: list[str], message: str, tmp_path: Path, capsys: Any,
                          monkeypatch: Any) -> None:
        """Bad arguments: exit 2 with one line naming the problem, nothing started and no file made."""
        from whoson.cli.main import main

        monkeypatch.chdir(tmp_path)
        assert 2 == main(["serve", *args])
        err = capsys.readouterr().err
        assert [f"whoson serve: {message}"] == [line[:len(f"whoson serve: {message}")] for line in err.splitlines()]
        assert [] == list(tmp_path.iterdir())


class TestSeveralProcesses:
    """Two processes over one SQLite file: what one collects, the other shows within 1 s."""

    def test_page_view_shows_in_the_other_process(self, serve: Any, tmp_path: Path) -> None:
        """A page view posted to process A is in process B's /api/online within 1 s."""
        store = f"sqlite:///{tmp_path / 'shared.db'}"
        first = serve(store, "--agent", "ann:tok")
        second = serve(store, "--agent", "ann:tok")
        auth = {"authorization": "Bearer tok"}
        with httpx.Client(timeout=10) as client:
            assert 0 == client.get(second.url + "/whoson/api/online", headers=auth).json()["total"]
            reply = client.post(first.url + "/whoson/collect", content=page_view("p1", "v-shared", "/pricing"),
                                headers={"content-type": "text/plain", "user-agent": BROWSER_UA})
            assert 202 == reply.status_code
            stored_at = time.monotonic()
            rows: list[dict[str, Any]] = []
            while time.monotonic() - stored_at < 1.0:
                rows = client.get(second.url + "/whoson/api/online", headers=auth).json()["rows"]
                if rows:
                    break
                time.sleep(0.05)
            assert 1.0 > time.monotonic() - stored_at
        assert [("v-shared", "/pricing")] == [(r["visitor"], r["url"]) for r in rows]
