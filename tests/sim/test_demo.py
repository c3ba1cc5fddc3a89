"""``python -m whoson.demo``: a simulated week into SQLite, its report and who's on."""

from __future__ import annotations

from pathlib import Path

import pytest

from whoson.demo import busiest_minute, main


def activity(ts: str, visitor: str, kind: str = "heartbeat") -> dict[str, str]:
    return {"type": kind, "ts": ts, "visitor": visitor}


class TestBusiestMinute:
    """The busiest minute counts visitors active in it or in the minute before."""

    def test_two_minute_window_wins_over_a_single_minute(self) -> None:
        log = [
            activity("2026-03-02T10:00:10Z", "a"),
            activity("2026-03-02T10:01:20Z", "b"),
            activity("2026-03-02T11:00:05Z", "c"),
            activity("2026-03-02T11:00:06Z", "c"),
        ]
        moment = busiest_minute(log)
        assert moment is not None
        assert "2026-03-02T10:01:59+00:00" == moment.isoformat()

    def test_other_event_types_do_not_count(self) -> None:
        log = [
            activity("2026-03-02T10:00:10Z", "a"),
            activity("2026-03-02T12:00:10Z", "b", kind="order"),
            activity("2026-03-02T12:00:20Z", "c", kind="message"),
        ]
        moment = busiest_minute(log)
        assert moment is not None
        assert "2026-03-02T10:00:59+00:00" == moment.isoformat()


class TestDemo:
    """The demo fills the store, prints the report and the live view, and can run again."""

    def test_runs_twice_on_the_same_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        db = tmp_path / "demo.db"
        argv = ["--db", str(db), "--visitors", "120", "--days", "2", "--seed", "4"]
        assert 0 == main(argv)
        first = capsys.readouterr().out
        assert " 0 already there, 0 rejected" in first
        assert "Who's on at the busiest minute" in first
        assert 0 == main(argv)
        second = capsys.readouterr().out
        assert ": 0 recorded," in second
        assert first.split("Who's on")[1].split("Done in")[0] == second.split("Who's on")[1].split("Done in")[0]
