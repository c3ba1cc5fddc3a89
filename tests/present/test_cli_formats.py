"""whoson report --format table|json|csv|md|html, -o and --table; CSV round-trips through pandas."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.present.synthetic import chart_count
from tests.present.test_frames import same
from whoson import Tracker
from whoson.cli.main import main
from whoson.present.tables import report_table, table_names

RANGE = ["--start", "2026-03-02", "--end", "2026-03-09", "--tz", "Europe/Berlin"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["report", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class TestCsv:
    """CSV: one table to stdout, or every table into a directory; pandas reads back the same values."""

    def test_one_table_to_stdout(self, sim_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, str(sim_log), *RANGE, "--format", "csv", "--table", "hourly")
        expected = (0, "hour,text_requests,video_requests", 25)
        lines = out.splitlines()
        assert expected == (status, lines[0], len(lines))

    def test_every_table_round_trips_through_pandas(
        self, sim_log: Path, sim_tracker: Tracker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out_dir = tmp_path / "tables"
        status, _, err = run(capsys, str(sim_log), *RANGE, "--as-of", "2026-03-08T20:00:00Z",
                             "--format", "csv", "-o", str(out_dir))
        assert status == 0
        tree = sim_tracker.report("2026-03-02", "2026-03-09", tz="Europe/Berlin").to_dict()
        names = table_names(tree)
        assert f"wrote {len(names)} tables" in err
        assert {"summary", "daily", "hourly", "agents", "agents_daily", "top_urls", "top_triggers", "top_links",
                "feedback"} <= set(names)
        expected_files = {f"{n}.csv" for n in names}
        assert expected_files == {p.name for p in out_dir.iterdir()}
        for path in out_dir.iterdir():
            table = report_table(tree, path.stem)
            frame = pd.read_csv(path, keep_default_na=True)
            expected_shape = (len(table.rows), table.columns)
            assert expected_shape == (len(frame), list(frame.columns))
            for i, row in enumerate(table.rows):
                for column in table.columns:
                    cell, plain = frame[column].iloc[i], row.get(column)
                    if isinstance(plain, str) and len(plain) in (10, 27, 24) and plain[:2] == "20":
                        cell = pd.Timestamp(cell)  # dates and instants come back as text
                    assert same(cell, plain), (path.name, i, column, cell, plain)

    def test_money_stays_exact_in_csv(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        log = tmp_path / "o.jsonl"
        log.write_text("".join(json.dumps({
            "id": str(i), "type": "order", "ts": f"2026-03-02T1{i}:00:00Z", "visitor": "v", "order": f"o{i}",
            "subtotal": amount, "currency": "EUR"}) + "\n" for i, amount in enumerate(["0.10", "0.20"])))
        _, out, _ = run(capsys, str(log), "--format", "csv", "--table", "summary")
        row = dict(zip(*[line.split(",") for line in out.splitlines()], strict=True))
        # 0.1 + 0.2 in binary floating point would print 0.30000000000000004.
        expected = ("0.30", "0.15", "2")
        assert expected == (row["sales.all_gmv"], row["sales.all_aov"], row["sales.all_orders"])
        assert Decimal("0.30") == Decimal(row["sales.all_gmv"])

    @pytest.mark.parametrize(("argv", "message"), [
        (["--format", "csv"], "--format csv needs --table NAME"),
        (["--table", "daily"], "--table goes with --format csv"),
        (["--json", "--format", "md"], "--json and --format md disagree"),
        (["--format", "csv", "--table", "breakdown"], "table 'breakdown': this report has none"),
    ])
    def test_usage_errors(self, sim_log: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                          message: str) -> None:
        status, out, err = run(capsys, str(sim_log), *argv)
        expected = (2, "")
        assert expected == (status, out)
        assert message in err


class TestDocuments:
    """md, html and json: the same report in other clothes; -o writes a file."""

    def test_json_alias(self, sim_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        _, by_flag, _ = run(capsys, str(sim_log), *RANGE, "--json")
        _, by_format, _ = run(capsys, str(sim_log), *RANGE, "--format", "json")
        assert by_flag == by_format
        assert json.loads(by_flag)["range"]["tz"] == "Europe/Berlin"

    def test_markdown_tables(self, sim_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run(capsys, str(sim_log), *RANGE, "--format", "md")
        lines = out.splitlines()
        assert lines[0].startswith("# whoson report: 2026-03-02 .. 2026-03-08 (7 days), Europe/Berlin, as of ")
        assert "## Requests by hour" in lines
        hour_rows = [line for line in lines if line.startswith("| ") and line[2:4].isdigit() and line[4:7] == ":00"]
        expected = 24
        assert expected == len(hour_rows)
        assert "| 2026-03-08 | " in out

    def test_html_file(self, sim_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        target = tmp_path / "report.html"
        status, out, err = run(capsys, str(sim_log), *RANGE, "--format", "html", "-o", str(target))
        expected = (0, "", f"wrote {target}\n")
        assert expected == (status, out, err)
        html = target.read_text()
        assert html.startswith("<!doctype html>")
        assert "<script" not in html
        assert "<link" not in html
        assert "src=" not in html
        tree = json.loads(run(capsys, str(sim_log), *RANGE, "--json")[1])
        expected_charts = chart_count(tree)
        assert expected_charts == html.count("<svg")
        assert expected_charts >= 7
        assert "2026-03-02 .. 2026-03-08 (7 days)" in html

    def test_output_into_a_missing_directory(self, sim_log: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
        status, _, err = run(capsys, str(sim_log), "--format", "html", "-o", str(tmp_path / "no" / "r.html"))
        assert status == 2
        assert "no such directory" in err
