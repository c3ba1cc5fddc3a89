"""``whoson export SOURCE --parquet DIR``: typed, partitioned, de-duplicated, incremental."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.dataset as ds  # noqa: E402

from whoson.cli.main import main  # noqa: E402
from whoson.engines.parquet import export  # noqa: E402


def _write(path: Path, events: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return str(path)


def _table(directory: Path) -> Any:
    files = sorted(str(p) for p in directory.rglob("*.parquet"))
    return ds.dataset(files, format="parquet").to_table()


BASE = [
    {"id": "1", "type": "page_view", "ts": "2026-03-01T23:59:59.123456Z", "visitor": "v1", "url": "/a",
     "color": "red"},
    {"id": "2", "type": "order", "ts": "2026-03-02T00:00:00Z", "visitor": "v1", "order": "A",
     "subtotal": "19.90", "discount": 1, "currency": "EUR"},
    {"id": "3", "type": "request", "ts": "2026-03-02T00:01:00Z", "visitor": "v1", "request": "r1",
     "channel": "video", "initiator": "visitor", "offline": True},
    {"id": "4", "type": "survey", "ts": "2026-03-02T00:02:00Z", "visitor": "v1", "rating": 5},
]


class TestLayout:
    """Columns are typed and files are partitioned by UTC date."""

    def test_types_and_partitions(self, tmp_path: Path) -> None:
        """ts is a UTC microsecond timestamp, money decimal(38,6), flags bool, ratings int."""
        export(_write(tmp_path / "a.jsonl", BASE), str(tmp_path / "out"))
        table = _table(tmp_path / "out")
        types = {name: str(table.schema.field(name).type) for name in
                 ("ts", "subtotal", "discount", "offline", "rating", "extra")}
        assert {"ts": "timestamp[us, tz=UTC]", "subtotal": "decimal128(38, 6)",
                "discount": "decimal128(38, 6)", "offline": "bool", "rating": "int64",
                "extra": "string"} == types
        partitions = sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir())
        assert ["date=2026-03-01", "date=2026-03-02"] == partitions
        rows = {row["id"]: row for row in table.to_pylist()}
        assert '{"color":"red"}' == rows["1"]["extra"]
        assert 123456 == rows["1"]["ts"].microsecond
        assert (True, 5) == (rows["3"]["offline"], rows["4"]["rating"])


class TestIncremental:
    """A second run appends only new events; the first of two conflicting ids stays."""

    def test_second_run_appends_new_only(self, tmp_path: Path) -> None:
        """4 events, then the same 4 plus 1 new and 1 conflicting: 1 more row, the old id kept."""
        out = str(tmp_path / "out")
        first = export(_write(tmp_path / "a.jsonl", BASE), out)
        changed = dict(BASE[0], url="/changed")
        new = {"id": "5", "type": "heartbeat", "ts": "2026-03-03T10:00:00Z", "visitor": "v2"}
        second = export(_write(tmp_path / "b.jsonl", [*BASE[1:], changed, new]), out)
        assert (4, 0) == (first.written, first.already)
        assert (1, 4) == (second.written, second.already)
        rows = {row["id"]: row for row in _table(tmp_path / "out").to_pylist()}
        assert (5, "/a") == (len(rows), rows["1"]["url"])

    def test_bad_lines_and_duplicates(self, tmp_path: Path) -> None:
        """Invalid lines are reported and skipped; duplicates inside one log are written once."""
        bad = {"id": "9", "type": "order", "ts": "2026-03-02T00:00:00Z", "visitor": "v1", "order": "B",
               "subtotal": "-1"}
        result = export(_write(tmp_path / "a.jsonl", [*BASE, BASE[0], bad]), str(tmp_path / "out"))
        assert (4, 1) == (result.written, len(result.errors))
        assert "subtotal" in result.errors[0]

    def test_money_beyond_six_decimals(self, tmp_path: Path) -> None:
        """An amount decimal(38,6) cannot hold is refused by the event contract: line, field, value, rule."""
        odd = dict(BASE[1], id="7", order="C", subtotal="1.1234567")
        result = export(_write(tmp_path / "a.jsonl", [odd]), str(tmp_path / "out"))
        assert (0, 1) == (result.written, len(result.errors))
        assert "a.jsonl:1: field 'subtotal' = '1.1234567': must have at most 6 decimals" in result.errors[0]


class TestCommand:
    """The CLI exports, then reports the export on duckdb like the log on python."""

    def test_export_then_report(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Exit 0, a summary line, and the same JSON report from the log and from the export."""
        log = _write(tmp_path / "a.jsonl", BASE)
        out = str(tmp_path / "out")
        assert 0 == main(["export", log, "--parquet", out])
        assert "written: 4  already exported: 0  rejected: 0" in capsys.readouterr().out
        assert 0 == main(["export", log, "--parquet", out])
        assert "written: 0  already exported: 4" in capsys.readouterr().out
        assert 0 == main(["report", log, "--json", "--tz", "Europe/Berlin"])
        from_log = json.loads(capsys.readouterr().out)
        assert 0 == main(["report", out, "--engine", "duckdb", "--json", "--tz", "Europe/Berlin"])
        from_parquet = json.loads(capsys.readouterr().out)
        assert from_log == from_parquet
        assert 0 == main(["report", log, "--engine", "duckdb", "--json", "--tz", "Europe/Berlin"])
        assert from_log == json.loads(capsys.readouterr().out)

    def test_missing_source(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A missing log is a usage error naming it."""
        assert 2 == main(["export", str(tmp_path / "nope.jsonl"), "--parquet", str(tmp_path / "out")])
        assert "nope.jsonl: no such file" in capsys.readouterr().err


class TestStoreSource:
    """A store URL exports its stored events as they are, with its settings."""

    def test_sqlite_store(self, tmp_path: Path) -> None:
        """The 4 stored events are written once; the store's currency is kept beside them."""
        from whoson import Tracker

        url = f"sqlite:///{tmp_path / 'shop.db'}"
        with Tracker.open(url) as tracker:
            tracker.load(_write(tmp_path / "a.jsonl", BASE))
        out = tmp_path / "out"
        assert (4, 0) == (export(url, str(out)).written, export(url, str(out)).written)
        assert {"rating_scale": "1..5", "currency": "EUR"} == json.loads((out / "_whoson.json").read_text())


class TestReadingNeverCreates:
    """Exporting or reporting a missing store from Python is an error, and no file appears."""

    def test_export_missing_store(self, tmp_path: Path) -> None:
        """export() of a missing SQLite store raises StoreError; neither the store nor DIR is made."""
        from whoson.core.errors import StoreError

        missing = tmp_path / "missing.db"
        with pytest.raises(StoreError, match="no such store"):
            export(f"sqlite:///{missing}", str(tmp_path / "out"))
        assert [] == sorted(p.name for p in tmp_path.iterdir())

    def test_report_missing_store(self, tmp_path: Path) -> None:
        """whoson.engines.report() of a missing store raises StoreError and creates nothing."""
        from whoson.core.errors import StoreError
        from whoson.engines import report

        missing = tmp_path / "missing.db"
        with pytest.raises(StoreError, match="no such store"):
            report(f"sqlite:///{missing}", "duckdb")
        assert [] == sorted(p.name for p in tmp_path.iterdir())
