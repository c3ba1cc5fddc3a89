"""A log read for the engines keeps what Tracker.load keeps, and reports what it rejects alike.

The engines read a JSON Lines log without a tracker's store or projection
(:mod:`whoson.engines.jsonl`); these tests hold that path to the python
engine's: the same accepted events, duplicates, rejected lines and messages,
the same settled currency, and, end to end, the same report, stderr and exit
status from ``whoson report LOG``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.report_checks import assert_reports_equal
from whoson import Tracker
from whoson.cli.main import main
from whoson.engines.jsonl import read_log

pytest.importorskip("ibis")


def _line(**fields: Any) -> str:
    return json.dumps(fields)


def _messy_log(path: Path) -> Path:
    """A small shop log with every kind of line the ingest rules treat specially."""
    day = "2026-03-0{}T{:02d}:{:02d}:00Z"
    lines = [
        _line(id="pv1", type="page_view", ts=day.format(1, 9, 0), visitor="v1", url="https://s/a"),
        _line(id="r1", type="request", ts=day.format(1, 9, 1), visitor="v1", request="R1",
              channel="chat", initiator="visitor"),
        _line(id="m1", type="message", ts=day.format(1, 9, 2), visitor="v1", request="R1",
              sender="agent", agent="ann", text="hello"),
        _line(id="m2", type="message", ts=day.format(1, 9, 3), visitor="v1", request="R1",
              sender="visitor", text="hi"),
        "not json at all",
        "",
        _line(id="m1", type="message", ts=day.format(1, 9, 2), visitor="v1", request="R1",
              sender="agent", agent="ann", text="hello"),  # identical re-send: a duplicate
        _line(id="m1", type="message", ts=day.format(1, 9, 4), visitor="v1", request="R1",
              sender="agent", agent="bob"),  # same id, other content: rejected, first kept
        _line(id="x1", type="message", ts=day.format(1, 9, 5), visitor="v2", request="R1",
              sender="visitor"),  # another visitor's request: rejected
        _line(id="bad-type", type="nap", ts=day.format(1, 9, 6), visitor="v1"),
        _line(id="no-ts", type="heartbeat", visitor="v1"),
        _line(id="s1", type="survey", ts=day.format(1, 9, 7), visitor="v1", request="R1", rating=9),
        _line(id="s2", type="survey", ts=day.format(1, 9, 8), visitor="v1", request="R1", rating=4),
        _line(id="o1", type="order", ts=day.format(1, 10, 0), visitor="v1", order="A",
              subtotal="19.90", currency="EUR"),
        _line(id="o2", type="order", ts=day.format(1, 10, 1), visitor="v1", order="B",
              subtotal="5.00", currency="USD"),  # same batch as o1: the store's currency rule
        _line(id="o1", type="order", ts=day.format(1, 10, 0), visitor="v1", order="A",
              subtotal="19.90", currency="EUR"),
        _line(id="c1", type="widget_click", ts=day.format(2, 8, 0), visitor="v3"),
        _line(id="o3", type="order", ts=day.format(2, 11, 0), visitor="v3", order="C",
              subtotal="7.50", currency="USD"),  # a later batch: the tracker's currency rule
        _line(id="o4", type="order", ts=day.format(2, 11, 5), visitor="v1", order="D",
              subtotal="12.00", discount="2.00", currency="EUR"),
        _line(id="late", type="heartbeat", ts=day.format(3, 12, 0), visitor="v4"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class TestReadLog:
    """read_log's events, counts, errors and currency are Tracker.load's."""

    @pytest.mark.parametrize("batch_size", [1, 3, 5000])
    def test_same_as_tracker_load(self, tmp_path: Path, batch_size: int) -> None:
        """Every line kind, at batch sizes that put the currency conflicts inside and across batches."""
        log = _messy_log(tmp_path / "messy.jsonl")
        tracker = Tracker()
        expected = tracker.load(log, batch_size=batch_size)
        actual = read_log(log, Tracker().parse_context, batch_size=batch_size)
        assert expected == actual.result
        assert [str(e) for e in expected.errors] == [str(e) for e in actual.result.errors]
        assert [stored.event for stored in tracker.store.read()] == actual.events
        assert (tracker.currency, tracker.projection.last_ts) == (actual.currency, actual.newest)

    def test_configured_currency_and_scale(self, tmp_path: Path) -> None:
        """A configured currency and rating scale reject what the tracker rejects."""
        log = _messy_log(tmp_path / "messy.jsonl")
        tracker = Tracker(currency="USD", rating_scale="0..10")
        expected = tracker.load(log)
        actual = read_log(log, Tracker(currency="USD", rating_scale="0..10").parse_context)
        assert [str(e) for e in expected.errors] == [str(e) for e in actual.result.errors]
        assert [stored.event for stored in tracker.store.read()] == actual.events
        assert tracker.currency == actual.currency


class TestCommandLine:
    """``whoson report LOG --engine duckdb`` prints and exits as the python engine does."""

    @pytest.mark.parametrize("extra", [[], ["--tz", "Europe/Berlin", "--as-of", "2026-03-02T12:00:00Z"],
                                       ["--by", "initiator", "--start", "2026-03-02", "--end", "2026-03-03",
                                        "--compare", "previous"]])
    def test_bad_lines_and_duplicates(self, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      extra: list[str]) -> None:
        """Skipped lines on stderr, exit status 1, and the same report, figure for figure."""
        log = str(_messy_log(tmp_path / "messy.jsonl"))
        statuses, outs, errs = [], [], []
        for engine in ("python", "duckdb"):
            statuses.append(main(["report", log, "--json", "--engine", engine, *extra]))
            captured = capsys.readouterr()
            outs.append(json.loads(captured.out))
            errs.append(captured.err)
        assert [1, 1] == statuses
        assert errs[0] == errs[1]
        assert "skipped " in errs[0]
        assert_reports_equal(outs[1], outs[0])

    def test_no_events_and_missing_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An empty log and a missing file give the python engine's messages and statuses."""
        empty = tmp_path / "empty.jsonl"
        empty.write_text("", encoding="utf-8")
        results = []
        for source in (str(empty), str(tmp_path / "missing.jsonl")):
            for engine in ("python", "duckdb"):
                status = main(["report", source, "--json", "--engine", engine, "--as-of", "2026-03-01"]
                              if source.endswith("empty.jsonl") else ["report", source, "--engine", engine])
                captured = capsys.readouterr()
                results.append((status, captured.err))
        assert results[0] == results[1]
        assert results[2] == results[3]
        assert 2 == results[2][0]

    @pytest.mark.parametrize("engine", ["python", "duckdb"])
    def test_empty_stdin(self, engine: str, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
        """An empty log on standard input is named ``<stdin>``, as its skipped lines would be."""
        import io
        import sys

        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
        assert 0 == main(["report", "-", "--json", "--engine", engine])
        assert "<stdin>: no events\n" == capsys.readouterr().err

    def test_spark_master_needs_spark(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """``--spark-master`` with another engine is a usage error, not silently ignored."""
        log = _messy_log(tmp_path / "messy.jsonl")
        assert 2 == main(["report", str(log), "--engine", "duckdb", "--spark-master", "local[2]"])
        assert "--spark-master is for --engine spark (the engine is duckdb)" in capsys.readouterr().err
