"""whoson ingest and whoson report, as a product owner runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from whoson.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHOP = EXAMPLES / "small_shop.jsonl"
BAD = EXAMPLES / "bad_lines.jsonl"

# The key tree of the metrics contract, written out by hand from it.
WAIT_KEYS = {"requests", "answered", "abandoned", "still_waiting", "answered_within",
             "abandoned_within", "median_answer_seconds"}
EXPERIMENT_KEYS = {
    "trigger", "invited", "held_out", "invited_converted", "held_out_converted",
    "invited_conversion_rate", "held_out_conversion_rate", "lift", "lift_ci95",
    "invited_gmv_per_visitor", "held_out_gmv_per_visitor", "incremental_gmv",
}
SPEC_KEYS: dict[str, Any] = {
    "range": {"start", "end", "tz", "as_of"},
    "visitors": {"total", "sessions", "returning", "with_impression", "with_click", "widget_ctr"},
    "requests": {"total", "text", "video", "by_initiator", "breakdown", "unsuccessful",
                 "unanswered_from_visitors", "pending", "offline", "top_urls"},
    "acceptance": {"agent_initiated_rate", "visitor_request_rate", "auto_invitation_rate"},
    "conversations": {"total", "text", "video", "avg_duration_minutes", "by_initiator"},
    "sales": {"attributed_orders", "attributed_gmv", "attributed_gmv_by_channel", "aov",
              "conversion_rate", "all_orders", "all_gmv", "all_aov", "sales_per_conversation"},
    "ratings": {"count", "avg", "distribution", "csat", "nps", "feedback"},
    "support": {"first_response", "avg_handle_minutes", "transfers", "escalations",
                "escalation_rate", "first_contact_resolution_rate", "cart_abandonment_rate",
                "cost_per_contact", "wait"},
    "auto_messages": {"shown", "clicks", "top_triggers", "top_links"},
    "trends": {"daily", "hourly"},
    "agents": None,
    "experiments": None,
    "pages": None,  # analysis.md: always in the report
}
DAILY_KEYS = {"date", "visitors", "widget_ctr", "requests", "text_requests", "video_requests",
              "visitor_request_acceptance_rate", "conversations", "video_conversations",
              "avg_rating", "attributed_gmv"}
AGENT_KEYS = {"agent", "avg_rating", "initiated_requests", "initiated_acceptance_rate",
              "conversations", "attributed_sales", "attributed_orders", "first_response_avg",
              "avg_handle_minutes", "daily"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class TestReportJson:
    """--json prints exactly the contract's keys, nothing else on stdout."""

    def test_key_tree(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Every section has exactly the contract's keys."""
        status, out, _ = run(capsys, "report", str(SHOP), "--json", "--currency", "EUR")
        assert 0 == status
        report = json.loads(out)
        assert set(SPEC_KEYS) == set(report)
        for section, keys in SPEC_KEYS.items():
            if keys is not None:
                assert keys == set(report[section]), section
        assert {"avg", "median", "p90"} == set(report["support"]["first_response"])
        assert {"visitor", "agent", "auto"} == set(report["requests"]["by_initiator"])
        assert {"text", "video"} == set(report["requests"]["breakdown"])
        assert [str(v) for v in range(1, 6)] == list(report["ratings"]["distribution"])
        assert all(DAILY_KEYS == set(row) for row in report["trends"]["daily"])
        assert list(range(24)) == [row["hour"] for row in report["trends"]["hourly"]]
        assert report["agents"]
        assert all(AGENT_KEYS == set(row) for row in report["agents"])
        assert WAIT_KEYS == set(report["support"]["wait"])
        assert all(EXPERIMENT_KEYS == set(row) for row in report["experiments"])

    def test_default_as_of_is_newest_event(self, capsys: pytest.CaptureFixture[str]) -> None:
        """On a log, the report is taken as of the newest event."""
        newest = max(json.loads(line)["ts"] for line in SHOP.read_text().splitlines() if line)
        _, out, _ = run(capsys, "report", str(SHOP), "--json", "--currency", "EUR")
        assert newest.replace("+00:00", "Z") == json.loads(out)["range"]["as_of"]

    def test_money_is_exact(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Money is written with its exact digits (no float rounding)."""
        _, out, _ = run(capsys, "report", str(SHOP), "--json", "--currency", "EUR")
        gmv = json.loads(out, parse_float=str)["sales"]["all_gmv"]
        orders = [json.loads(line, parse_float=str) for line in SHOP.read_text().splitlines()
                  if '"type": "order"' in line or '"type":"order"' in line]
        from decimal import Decimal
        expected = sum((Decimal(str(o["subtotal"])) - Decimal(str(o.get("discount", 0)))
                        for o in orders), Decimal(0))
        assert expected == Decimal(gmv)

    def test_bad_lines_skipped_with_reasons(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A log with bad lines still gives the report of the good ones; stderr names each,
        and the exit status is 1, as for ingest."""
        status, out, err = run(capsys, "report", str(BAD), "--json")
        assert 1 == status
        assert "visitors" in json.loads(out)
        lines = [line for line in err.splitlines() if line.startswith("skipped")]
        assert len(lines) >= 10
        assert all("bad_lines.jsonl:" in line for line in lines)


class TestReportTables:
    """Without --json the report is readable text."""

    def test_sections(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The human report has its main sections and the agent table."""
        status, out, _ = run(capsys, "report", str(SHOP), "--currency", "EUR", "--tz", "Europe/Berlin")
        assert 0 == status
        for heading in ("Visitors", "Requests", "Conversations", "Sales", "Ratings", "Daily", "Agents"):
            assert f"\n{heading}" in out


class TestIngest:
    """ingest appends a log to a store and reports per line."""

    def test_exit_codes_and_counts(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """Clean log: exit 0; re-ingest: duplicates only, exit 0; bad lines: exit 1."""
        url = f"sqlite:///{tmp_path / 'w.db'}"
        status, out, _ = run(capsys, "ingest", str(SHOP), "--into", url, "--currency", "EUR")
        assert 0 == status
        assert "rejected: 0" in out
        status, out, _ = run(capsys, "ingest", str(SHOP), "--into", url)
        assert 0 == status
        assert "accepted: 0" in out
        assert "duplicate: " in out
        status, _, err = run(capsys, "ingest", str(BAD), "--into", f"sqlite:///{tmp_path / 'b.db'}")
        assert 1 == status
        numbers = [int(line.split(":")[1]) for line in err.splitlines() if line.startswith("rejected")]
        assert numbers == sorted(numbers)
        assert len(numbers) >= 10

    def test_store_report_equals_log_report(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A report on the store the log went into equals the report on the log."""
        url = f"sqlite:///{tmp_path / 'w.db'}"
        run(capsys, "ingest", str(SHOP), "--into", url, "--currency", "EUR")
        _, from_store, _ = run(capsys, "report", url, "--json")
        _, from_log, _ = run(capsys, "report", str(SHOP), "--json", "--currency", "EUR")
        assert json.loads(from_log) == json.loads(from_store)

    def test_strict_stops_at_first_bad_line(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """--strict stops at the first bad line; the lines before it are stored."""
        url = f"sqlite:///{tmp_path / 's.db'}"
        status, _, err = run(capsys, "ingest", str(BAD), "--into", url, "--strict")
        assert 1 == status
        assert "stopped (strict)" in err
        # Lines 1 and 2 of the example are good, line 3 is the first bad one.
        assert "bad_lines.jsonl:3:" in err
        from whoson.stores import open_store
        with open_store(url) as store:
            assert ["ok-01", "ok-02"] == [s.event.id for s in store.read()]

    def test_into_must_be_a_store(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A file path instead of a store URL is a usage error."""
        status, _, err = run(capsys, "ingest", str(SHOP), "--into", "out.jsonl")
        assert 2 == status
        assert "store URL" in err


class TestUsageErrors:
    """Bad arguments give one clear line and exit 2, never a traceback."""

    @pytest.mark.parametrize(("argv", "needle"), [
        (["report", "missing.jsonl"], "no such file"),
        (["report", str(SHOP), "--tz", "Mars/Base"], "Mars/Base"),
        (["report", str(SHOP), "--start", "yesterday"], "start"),
        (["report", str(SHOP), "--response-timeout", "ten"], "duration"),
        (["report", str(SHOP), "--rating-scale", "5"], "scale"),
        (["report", "ftp://x"], "ftp"),
        (["report", str(SHOP), "--cost", "1e999999999"], "cost"),
        (["report", str(SHOP), "--cost", "-5"], "cost"),
        (["report", str(SHOP), "--cost", "NaN"], "cost"),
        (["report", str(SHOP), "--attribution-window", "99999999999d"], "duration"),
        (["report", str(SHOP), "--start", "0001-01-01", "--tz", "Pacific/Kiritimati"], "1900"),
        (["report", str(SHOP), "--end", "9999-12-31"], "9000"),
        (["report", str(SHOP), "--start", "1901-01-01", "--end", "8999-01-01"], "days"),
        (["report", str(SHOP), "--rating-scale", "1..2000000000"], "101"),
        (["report", str(SHOP), "--currency", "eur"], "ISO 4217"),
    ])
    def test_one_line(self, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
        """The message names what was wrong."""
        status, _, err = run(capsys, *argv)
        assert 2 == status
        assert needle in err
        assert "Traceback" not in err
        assert 1 == len(err.strip().splitlines())

    def test_module_entry_point(self) -> None:
        """python -m whoson runs the same command line."""
        done = subprocess.run([sys.executable, "-m", "whoson", "--version"], capture_output=True,
                              text=True, check=False)
        assert 0 == done.returncode
        assert done.stdout.startswith("whoson ")
