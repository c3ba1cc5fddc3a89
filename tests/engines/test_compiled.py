"""The compile cache gives the report Ibis gives, whether its SQL comes from Ibis, memory or a file."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.report_checks import assert_reports_equal
from whoson import simulate
from whoson.engines import compiled, report
from whoson.logfile import write_log

pytest.importorskip("ibis")

KWARGS_LIST = [
    {"tz": "Europe/Berlin", "as_of": "2026-10-26T00:00:00Z"},
    {"tz": "America/New_York", "start": "2026-10-25", "end": "2026-10-26", "as_of": "2026-10-26T06:00:00Z",
     "attribution_window": "2d", "response_timeout": "3m", "fcr_window": "6h"},
    {"tz": "Asia/Kolkata", "start": "2026-10-25T07:30:00Z", "as_of": "2026-10-25T20:00:00Z", "by": "channel"},
]


def _forget() -> None:
    """As a new process: nothing compiled in memory, the file not read yet."""
    compiled._MEMORY.clear()
    compiled._LOADED.clear()


class TestCompileCache:
    """Sentinel parameters substituted into cached SQL give the python engine's figures."""

    def test_cold_warm_and_from_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Each shape compiled cold, reused warm, and read back from the cache file alike."""
        monkeypatch.setenv("WHOSON_SQL_CACHE", str(tmp_path / "cache"))
        log = tmp_path / "shop.jsonl"
        write_log(log, simulate(visitors=40, days=2, seed=6, start=date(2026, 10, 24)))
        _forget()
        for kwargs in KWARGS_LIST:
            expected = report(str(log), "python", **kwargs).to_dict()
            cold = report(str(log), "duckdb", **kwargs).to_dict()
            warm = report(str(log), "duckdb", **kwargs).to_dict()
            _forget()
            from_file = report(str(log), "duckdb", **kwargs).to_dict()
            for got in (cold, warm, from_file):
                assert_reports_equal(got, expected)
        files = list((tmp_path / "cache").glob("sql-*.json"))
        assert 1 == len(files)
        entries = json.loads(files[0].read_text(encoding="utf-8"))
        assert any(key.startswith("requests|start=True,end=True,") for key in entries)
        # The file holds sentinels, never a run's values (here the first run's as_of).
        extent = next(entry for key, entry in entries.items() if key.startswith("extent|start=False,end=False,"))
        assert str(compiled.SENTINEL) in extent["sql"]
        as_of_us = str(int(datetime(2026, 10, 26, tzinfo=UTC).timestamp()) * 1_000_000)
        assert as_of_us not in files[0].read_text(encoding="utf-8")

    def test_off(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """``WHOSON_SQL_CACHE=off`` writes no file and changes no figure."""
        monkeypatch.setenv("WHOSON_SQL_CACHE", "off")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        log = tmp_path / "shop.jsonl"
        write_log(log, simulate(visitors=20, days=1, seed=2, start=date(2026, 10, 25)))
        _forget()
        kwargs = KWARGS_LIST[0]
        assert_reports_equal(report(str(log), "duckdb", **kwargs).to_dict(),
                             report(str(log), "python", **kwargs).to_dict())
        assert not (tmp_path / "xdg").exists()

    def test_substitute_negative_and_untouched(self) -> None:
        """Negative values are parenthesised (no ``--`` comment); other numbers stay as they are."""
        sentinel = compiled.SENTINEL + 3
        sql = f"SELECT x - {sentinel}, 73400000000000000000 FROM t"
        assert "SELECT x - (-7), 73400000000000000000 FROM t" == compiled.substitute(sql, {sentinel: -7})

    def test_export_then_log(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """An export (with its ``date`` column) and a log share no compiled SQL that would not fit."""
        from whoson.engines.parquet import export

        monkeypatch.setenv("WHOSON_SQL_CACHE", str(tmp_path / "cache"))
        log = tmp_path / "shop.jsonl"
        write_log(log, simulate(visitors=20, days=1, seed=3, start=date(2026, 10, 25)))
        export(str(log), str(tmp_path / "pq"))
        _forget()
        kwargs = KWARGS_LIST[0]
        expected = report(str(log), "python", **kwargs).to_dict()
        for source in (str(tmp_path / "pq"), str(log), str(tmp_path / "pq")):
            assert_reports_equal(report(source, "duckdb", **kwargs).to_dict(), expected)

    def test_tables_of_one_shape_on_one_connection(self) -> None:
        """Two event tables with the same columns but other names each get their own SQL."""
        import ibis

        from whoson import FixedClock, Tracker
        from whoson.core.parsing import parse_event
        from whoson.engines.parquet import events_table
        from whoson.engines.run import engine_report, named_table

        _forget()
        con = ibis.duckdb.connect()
        as_of = datetime(2026, 10, 27, tzinfo=UTC)
        for name, seed in (("first_events", 1), ("second_events", 2)):
            events = [parse_event(raw) for raw in simulate(visitors=15, days=1, seed=seed,
                                                           start=date(2026, 10, 25))]
            tracker = Tracker(clock=FixedClock(as_of))
            tracker.record_many(events)
            params = tracker.report_params(as_of=as_of)
            got = engine_report(con, named_table(con, name, events_table(events)), params)
            assert_reports_equal(got.to_dict(), tracker.report(as_of=as_of).to_dict())
