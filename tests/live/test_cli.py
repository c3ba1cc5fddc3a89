"""``whoson live SOURCE --at T``: JSON and table output, errors, sources."""

from __future__ import annotations

import io
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.live.test_snapshot import ROW_KEYS
from whoson.cli.main import main

LINES = [
    {"id": "1", "type": "page_view", "ts": "2026-03-02T11:58:00Z", "visitor": "ann",
     "url": "/pricing", "country": "DE"},
    {"id": "2", "type": "page_view", "ts": "2026-03-02T11:59:00Z", "visitor": "bob",
     "url": "/", "referrer": "https://news.example/"},
    {"id": "3", "type": "page_view", "ts": "2026-03-02T11:59:30Z", "visitor": "bob",
     "url": "/cart"},
    {"id": "4", "type": "cart_update", "ts": "2026-03-02T11:59:31Z", "visitor": "bob",
     "value": "19.90"},
    {"id": "5", "type": "heartbeat", "ts": "2026-03-02T11:59:50Z", "visitor": "ann"},
    {"id": "6", "type": "page_view", "ts": "2026-03-02T11:50:00Z", "visitor": "cid", "url": "/"},
    {"id": "7", "type": "page_view", "ts": "2026-03-02T12:00:30Z", "visitor": "dee", "url": "/"},
]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["live", *argv])
    out, err = capsys.readouterr()
    return status, out, err


class TestJson:
    """--json prints {"at", "online", "total"} with the spec's row keys."""

    def test_rows_at_the_instant(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, err = run(capsys, str(log), "--at", "2026-03-02T12:00:00Z", "--json")
        expected = (0, "")
        assert expected == (status, err)
        data = json.loads(out, parse_float=Decimal)
        expected = ["at", "online", "total"]
        assert expected == list(data)
        # ann active at 11:59:50, bob at 11:59:31; cid too long ago; dee not yet.
        expected_rows = [("ann", "/pricing", 120, 1), ("bob", "/cart", 30, 1)]
        assert expected_rows == [(r["visitor"], r["url"], r["on_page_seconds"], r["visits"])
                                 for r in data["online"]]
        expected = ("2026-03-02T12:00:00Z", 2)
        assert expected == (data["at"], data["total"])
        expected = ROW_KEYS
        assert expected == list(data["online"][0])
        bob = data["online"][1]
        expected_bob = (Decimal("19.90"), [{"url": "/", "seconds": 30}, {"url": "/cart", "seconds": 30}],
                        "https://news.example/")
        assert expected_bob == (bob["cart_value"], bob["trail"], bob["referrer"])
        expected = [{"name": "lingering", "reason": "on /pricing for 2m00s"}]
        assert expected == data["online"][0]["signals"]

    def test_limit_keeps_the_total(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run(capsys, str(log), "--at", "2026-03-02T12:00:00Z", "--json",
                        "--limit", "1")
        data = json.loads(out)
        expected = (["ann"], 2)
        assert expected == ([r["visitor"] for r in data["online"]], data["total"])

    def test_a_date_means_midnight(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run(capsys, str(log), "--at", "2026-03-03", "--json")
        expected = {"at": "2026-03-03T00:00:00Z", "online": [], "total": 0}
        assert expected == json.loads(out)

    def test_stdin(self, log: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(log.read_bytes())))
        _, out, _ = run(capsys, "-", "--at", "2026-03-02T12:00:40Z", "--json")
        expected = ["dee", "ann", "bob"]
        assert expected == [r["visitor"] for r in json.loads(out)["online"]]


class TestTable:
    """Without --json: a titled table with page, times, trail and signals."""

    def test_table(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, str(log), "--at", "2026-03-02T12:00:00Z", "--limit", "1")
        lines = out.splitlines()
        expected = 0
        assert expected == status
        expected = "2 online at 2026-03-02T12:00:00Z (newest 1 shown)"
        assert expected == lines[0]
        header = lines[2].split()
        expected = ["visitor", "page", "on", "page", "on", "site", "visits", "trail", "chat",
                    "signals"]
        assert expected == header
        assert lines[4].startswith("ann ")
        assert "/pricing (2m00s)" in lines[4]
        assert "lingering: on /pricing for 2m00s" in lines[4]

    def test_nobody_online(self, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run(capsys, str(log), "--at", "2026-03-01T00:00:00Z")
        expected = "0 online at 2026-03-01T00:00:00Z\n"
        assert expected == out


class TestErrors:
    """Bad input gives one clear line per problem, never a traceback."""

    def test_bad_lines_are_reported_and_skipped(self, log: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
        with log.open("a") as handle:
            handle.write('{"id": "8", "type": "page_view", "ts": "2026-03-02T11:59:00",'
                         ' "visitor": "eve", "url": "/"}\n')
        status, out, err = run(capsys, str(log), "--at", "2026-03-02T12:00:00Z", "--json")
        # The whole answer is printed, and the skipped line makes the exit status 1.
        expected = 1
        assert expected == status
        expected = 2
        assert expected == json.loads(out)["total"]
        assert f"{log}:8:" in err
        assert "must carry a UTC offset" in err

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["missing.jsonl", "--at", "2026-03-02T12:00:00Z"], "missing.jsonl: no such file"),
            (["{log}", "--at", "noon"], "instant"),
            (["{log}", "--at", "2026-03-02T12:00:00"], "UTC offset"),
            (["{log}", "--at", "2026-03-02T12:00:00Z", "--limit", "-1"], "--limit must be >= 0"),
        ],
    )
    def test_usage_errors(self, log: Path, capsys: pytest.CaptureFixture[str],
                          argv: list[str], message: str) -> None:
        status, out, err = run(capsys, *[a.replace("{log}", str(log)) for a in argv])
        expected = (2, "")
        assert expected == (status, out)
        assert err.startswith("whoson live: ")
        assert message in err
        expected = 1
        assert expected == len(err.strip().splitlines())


def test_store_url(log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A store URL is read in place, only events up to --at."""
    url = f"sqlite:///{tmp_path / 'whoson.db'}"
    expected = 0
    assert expected == main(["ingest", str(log), "--into", url])
    capsys.readouterr()
    status, out, _ = run(capsys, url, "--at", "2026-03-02T12:00:00Z", "--json")
    expected = (0, ["ann", "bob"])
    assert expected == (status, [r["visitor"] for r in json.loads(out)["online"]])
