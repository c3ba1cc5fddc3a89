"""whoson report --by and --compare, as a product owner runs them on the example shop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from whoson.cli.main import main

SHOP = Path(__file__).resolve().parents[2] / "examples" / "small_shop.jsonl"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class TestBy:
    """--by adds the breakdown to the JSON and a table to the text report."""

    def test_json_rows(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Rows carry the contract's keys and split the requests of the report."""
        status, out, _ = run(capsys, "report", str(SHOP), "--json", "--by", "country")
        assert 0 == status
        report = json.loads(out)
        keys = {"value", "visitors", "with_impression", "with_click", "widget_ctr", "requests",
                "conversations", "visitor_request_rate", "attributed_orders", "attributed_gmv",
                "conversion_rate"}
        assert report["breakdown"]
        assert all(keys == set(row) for row in report["breakdown"])
        assert report["requests"]["total"] == sum(r["requests"] for r in report["breakdown"])
        assert report["pages"]

    def test_table(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The text report ends with the pages and the breakdown tables."""
        status, out, _ = run(capsys, "report", str(SHOP), "--by", "device")
        assert 0 == status
        assert "\nPages\nurl " in out
        assert "\nBreakdown by device\ndevice " in out
        assert "desktop" in out.split("Breakdown by device")[1]

    def test_unknown_dimension(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown dimension is a usage error listing the choices."""
        with pytest.raises(SystemExit) as stop:
            main(["report", str(SHOP), "--by", "colour"])
        assert 2 == stop.value.code
        assert "invalid choice: 'colour'" in capsys.readouterr().err


class TestCompare:
    """--compare previous|START..END adds previous and change."""

    def test_previous(self, capsys: pytest.CaptureFixture[str]) -> None:
        """One local day compared with the day before."""
        status, out, _ = run(capsys, "report", str(SHOP), "--json", "--tz", "Europe/Berlin",
                             "--start", "2026-03-03", "--end", "2026-03-04",
                             "--compare", "previous")
        assert 0 == status
        report = json.loads(out)
        assert "2026-03-01T23:00:00Z" == report["previous"]["range"]["start"]
        total = report["change"]["visitors.total"]
        assert (total["previous"], total["current"]) == (
            report["previous"]["visitors"]["total"], report["visitors"]["total"])

    def test_explicit(self, capsys: pytest.CaptureFixture[str]) -> None:
        """START..END names the other range; the text report shows the change table."""
        status, out, _ = run(capsys, "report", str(SHOP), "--start", "2026-03-03",
                             "--end", "2026-03-04", "--compare", "2026-03-01..2026-03-03")
        assert 0 == status
        lines = out.splitlines()
        assert "compared with 2026-03-01 .. 2026-03-02 (2 days)" == lines[1]
        # Both ranges have the two visitors of small_shop.jsonl: no change.
        assert ["unique", "visitors", "2", "\u00b10"] == next(
            line.split() for line in lines if "unique visitors" in line)

    @pytest.mark.parametrize(("argv", "message"), [
        (["--compare", "previous"], "needs a range with both a start and an end"),
        (["--start", "2026-03-03", "--end", "2026-03-04", "--compare", "yesterday"],
         "compare 'yesterday' must be 'previous' or START..END"),
    ])
    def test_usage_errors(self, capsys: pytest.CaptureFixture[str], argv: list[str],
                          message: str) -> None:
        """A comparison that cannot be made is a usage error (exit 2) saying why."""
        status, out, err = run(capsys, "report", str(SHOP), *argv)
        assert 2 == status
        assert "" == out
        assert message in err


class TestParquetDirectory:
    """--by and --compare on an exported Parquet directory give the log's report, on each engine."""

    @pytest.mark.parametrize("engine", ["python", "duckdb"])
    @pytest.mark.parametrize("extra", [["--by", "country"],
                                       ["--compare", "previous", "--start", "2026-03-03",
                                        "--end", "2026-03-04"]])
    def test_same_as_the_log(self, engine: str, extra: list[str], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
        pytest.importorskip("ibis")
        from tests.report_checks import assert_reports_equal

        assert 0 == main(["export", str(SHOP), "--parquet", str(tmp_path / "pq")])
        capsys.readouterr()
        status, out, _ = run(capsys, "report", str(tmp_path / "pq"), "--json", "--engine", engine, *extra)
        expected = json.loads(run(capsys, "report", str(SHOP), "--json", *extra)[1])
        assert 0 == status
        assert "breakdown" in expected or "change" in expected
        assert_reports_equal(json.loads(out), expected)
