"""whoson live on a store (now by default), its filters and --watch; whoson visitor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from whoson import Tracker
from whoson.cli.main import main
from whoson.codec import dumps

ROOT = Path(__file__).resolve().parents[2]


def ago(seconds: float) -> str:
    moment = datetime.now(UTC) - timedelta(seconds=seconds)
    return moment.isoformat().replace("+00:00", "Z")


def fill(url: str, events: list[dict[str, Any]]) -> None:
    with Tracker.open(url) as tracker:
        result = tracker.record_many(events)
        assert not result.errors


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A store whose visitors were active moments ago (real clock, as `whoson live` reads it)."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    fill(url, [
        {"id": "a1", "type": "page_view", "ts": ago(150), "visitor": "ann", "url": "/checkout", "country": "DE"},
        {"id": "a2", "type": "heartbeat", "ts": ago(20), "visitor": "ann"},
        {"id": "b1", "type": "page_view", "ts": ago(40), "visitor": "bob", "url": "/shoes", "country": "FR"},
        {"id": "b2", "type": "request", "ts": ago(30), "visitor": "bob", "request": "r1", "channel": "text",
         "initiator": "visitor"},
        {"id": "c1", "type": "page_view", "ts": ago(900), "visitor": "cy", "url": "/", "country": "DE"},
    ])
    return url


def live(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    status = main(["live", *argv])
    captured = capsys.readouterr()
    out = json.loads(captured.out) if captured.out.startswith("{") else captured.out
    return status, out, captured.err


class TestNowOnAStore:
    """Without --at a store shows who is on now; the filters narrow it as the library does."""

    def test_now(self, store: str, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = live(capsys, store, "--json")
        # ann active 20 s ago, bob 30 s ago; cy left 15 minutes ago.
        expected = (0, ["ann", "bob"], 2)
        assert expected == (status, [r["visitor"] for r in out["online"]], out["total"])

    @pytest.mark.parametrize(("argv", "visitors"), [
        (["--country", "de"], ["ann"]),
        (["--url", "/sho*"], ["bob"]),
        (["--signal", "lingering"], ["ann"]),
        (["--in-chat"], ["bob"]),
        (["--not-in-chat"], ["ann"]),
        (["--limit", "1"], ["ann"]),
    ])
    def test_filters(self, store: str, capsys: pytest.CaptureFixture[str], argv: list[str],
                     visitors: list[str]) -> None:
        _, out, _ = live(capsys, store, "--json", *argv)
        assert visitors == [r["visitor"] for r in out["online"]]

    def test_a_log_needs_at(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        log = tmp_path / "x.jsonl"
        log.write_text("")
        status, _, err = live(capsys, str(log))
        assert status == 2
        assert "is a log file: give --at T" in err

    def test_watch_takes_no_at(self, store: str, capsys: pytest.CaptureFixture[str]) -> None:
        status, _, err = live(capsys, store, "--watch", "--at", "2026-03-02T10:00:00Z")
        assert status == 2
        assert "--watch follows a store now" in err


class TestWatch:
    """--watch redraws every 2 s with what was stored meanwhile, and stops cleanly on Ctrl-C."""

    @pytest.mark.timeout(30)
    def test_redraws_until_interrupted(self, store: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        process = subprocess.Popen([sys.executable, "-m", "whoson", "live", store, "--watch", "--json"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert process.stdout is not None
            first = json.loads(process.stdout.readline())
            fill(store, [{"id": "d1", "type": "page_view", "ts": ago(1), "visitor": "dee", "url": "/new"}])
            second = json.loads(process.stdout.readline())
        finally:
            process.send_signal(signal.SIGINT)
            status = process.wait(timeout=10)
        expected = (["ann", "bob"], ["dee", "ann", "bob"], 0)
        assert expected == ([r["visitor"] for r in first["online"]], [r["visitor"] for r in second["online"]], status)
        elapsed = (datetime.fromisoformat(second["at"]) - datetime.fromisoformat(first["at"])).total_seconds()
        assert 1.9 <= elapsed < 10


class TestVisitor:
    """whoson visitor: snapshot and history, as text and JSON; an unknown visitor is an error."""

    @pytest.fixture
    def log(self, tmp_path: Path) -> Path:
        events = [
            {"id": "1", "type": "page_view", "ts": "2026-03-02T10:00:00Z", "visitor": "ann", "url": "/",
             "referrer": "https://search.example/"},
            {"id": "2", "type": "page_view", "ts": "2026-03-03T09:00:00Z", "visitor": "ann", "url": "/cart"},
            {"id": "3", "type": "request", "ts": "2026-03-03T09:01:00Z", "visitor": "ann", "request": "r1",
             "channel": "text", "initiator": "visitor"},
            {"id": "4", "type": "message", "ts": "2026-03-03T09:01:20Z", "visitor": "ann", "request": "r1",
             "sender": "agent", "agent": "bo"},
            {"id": "5", "type": "order", "ts": "2026-03-03T09:05:00Z", "visitor": "ann", "order": "o1",
             "subtotal": "42.00", "currency": "EUR"},
            {"id": "6", "type": "page_view", "ts": "2026-03-03T09:06:00Z", "visitor": "bob", "url": "/"},
        ]
        path = tmp_path / "v.jsonl"
        path.write_text("".join(dumps(e) + "\n" for e in events))
        return path

    def test_json(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status = main(["visitor", str(log), "ann", "--json"])
        data = json.loads(capsys.readouterr().out)
        # The newest event of the log (09:06) is the default instant: ann was active at 09:05.
        expected = (0, "2026-03-03T09:06:00Z", True, 2, ["r1"], ["o1"], "/cart")
        assert expected == (status, data["at"], data["online"], len(data["sessions"]),
                            [c["request"] for c in data["conversations"]], [o["order"] for o in data["orders"]],
                            data["snapshot"]["url"])

    def test_text_at_an_earlier_instant(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status = main(["visitor", str(log), "ann", "--at", "2026-03-02T10:01:00Z", "--tz", "Europe/Berlin"])
        out = capsys.readouterr().out
        assert status == 0
        assert out.startswith("visitor ann: online now (Europe/Berlin)")
        assert "1  2026-03-02 11:00:00" in out  # the first session, in Berlin time
        assert "Orders" not in out  # the order comes a day later

    def test_unknown_visitor(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status = main(["visitor", str(log), "zed"])
        err = capsys.readouterr().err
        assert status == 1
        assert "no visitor zed in" in err
