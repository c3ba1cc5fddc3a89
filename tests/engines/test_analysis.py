"""``by=`` and ``compare=`` on the duckdb engine give the python engine's report.

Differential tests like test_duckdb.py: hypothesis streams (every dimension,
page views with and without referrers, utm values, departments, DST days)
and a simulated shop log over several zones, sub-ranges, as_of moments and
windows; plus a hand-computed breakdown and the command line on an export.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.report_checks import assert_reports_equal
from tests.strategies import Scenario, scenarios
from whoson import FixedClock, Tracker, simulate
from whoson.metrics.breakdowns import DIMENSIONS

pytest.importorskip("ibis")

dimensions = st.sampled_from(DIMENSIONS)


def _tracker(scenario: Scenario) -> Tracker:
    tracker = Tracker(clock=FixedClock(scenario.as_of), tz=scenario.tz, rating_scale=scenario.scale)
    result = tracker.record_many(scenario.events)
    assert result.rejected == 0, [str(o.error) for o in result.errors]
    return tracker


def _both(tracker: Tracker, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(duckdb, python) reports of the same arguments, as JSON trees."""
    expected = tracker.report(**kwargs).to_dict()
    actual = tracker.report(engine="duckdb", **kwargs).to_dict()
    return actual, expected


class TestHypothesisStreams:
    """On generated streams, duckdb and python agree on breakdowns and comparisons."""

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios(), dimensions)
    def test_breakdown(self, scenario: Scenario, by: str) -> None:
        """A random stream, zone, range, as_of and windows, by any dimension: the same rows."""
        actual, expected = _both(_tracker(scenario), **scenario.report_kwargs(by=by))
        assert_reports_equal(actual, expected)

    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios().filter(lambda s: s.start is not None and s.end is not None), dimensions)
    def test_compare_previous(self, scenario: Scenario, by: str) -> None:
        """The previous range (dates or instants) with a breakdown: previous and change agree."""
        actual, expected = _both(_tracker(scenario), **scenario.report_kwargs(by=by, compare="previous"))
        assert_reports_equal(actual, expected)

    @settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios(ranged=False))
    def test_compare_explicit_range(self, scenario: Scenario) -> None:
        """An explicit compared range of 30 hours from the first event."""
        first = min(e.ts for e in scenario.events)
        window = (first, first + timedelta(hours=30))
        actual, expected = _both(_tracker(scenario), **scenario.report_kwargs(compare=window))
        assert_reports_equal(actual, expected)


@pytest.fixture(scope="module")
def shop() -> Tracker:
    """Four simulated days across Berlin's spring-forward night (2026-03-29)."""
    tracker = Tracker(clock=FixedClock(datetime(2026, 4, 1, tzinfo=UTC)))
    result = tracker.record_many(simulate(visitors=160, days=4, seed=3, start=date(2026, 3, 27)))
    assert result.rejected == 0
    return tracker


CASES: list[dict[str, Any]] = [
    {"tz": "Europe/Berlin", "by": "country", "start": "2026-03-29", "end": "2026-03-31",
     "compare": "previous"},
    {"tz": "America/New_York", "by": "referrer", "start": "2026-03-28", "end": "2026-03-30"},
    {"tz": "Asia/Kolkata", "by": "landing_page", "as_of": "2026-03-29T13:07:00Z"},
    {"tz": "Europe/Berlin", "by": "returning", "start": "2026-03-29T00:00:00+01:00",
     "end": "2026-03-30T10:00:00Z", "as_of": "2026-03-30T10:00:00Z", "attribution_window": "1d",
     "response_timeout": "30m", "fcr_window": "1h", "session_timeout": "5m", "compare": "previous"},
    {"tz": "UTC", "by": "initiator", "end": "2026-03-28T12:34:56Z", "attribution_window": "2d"},
    {"tz": "Europe/Berlin", "by": "channel", "start": "2026-03-28", "end": "2026-03-31",
     "compare": ("2026-03-27T06:00:00Z", "2026-03-28T06:00:00Z")},
    {"tz": "UTC", "by": "department", "start": "2026-03-28", "end": "2026-03-30",
     "compare": "previous", "session_timeout": "10m"},
    {"tz": "Europe/Berlin", "by": "device", "as_of": "2026-03-30T00:00:00Z"},
]


class TestSimulatedShop:
    """On a simulated shop log, duckdb and python agree for each dimension and comparison."""

    @pytest.mark.parametrize("kwargs", CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
    def test_same_report(self, shop: Tracker, kwargs: dict[str, Any]) -> None:
        """The same JSON tree, and the breakdown is not trivial (several values, some sales)."""
        kwargs = {"as_of": datetime(2026, 4, 1, tzinfo=UTC), **kwargs}
        actual, expected = _both(shop, **kwargs)
        assert len(expected["breakdown"]) > 1
        assert_reports_equal(actual, expected)


class TestHandComputed:
    """Two sessions of one visitor, worked out by hand."""

    EVENTS: ClassVar[list[dict[str, Any]]] = [
        {"id": "1", "type": "page_view", "ts": "2026-03-02T09:00:00Z", "visitor": "v1",
         "url": "/?utm_source=mail", "referrer": "https://News.example/a"},
        {"id": "2", "type": "request", "ts": "2026-03-02T09:01:00Z", "visitor": "v1", "request": "r1",
         "channel": "text", "initiator": "visitor", "department": "sales"},
        {"id": "3", "type": "message", "ts": "2026-03-02T09:02:00Z", "visitor": "v1", "request": "r1",
         "sender": "agent", "agent": "ann"},
        {"id": "4", "type": "widget_click", "ts": "2026-03-02T12:00:00Z", "visitor": "v1"},
        {"id": "5", "type": "order", "ts": "2026-03-02T12:05:00Z", "visitor": "v1", "order": "A",
         "subtotal": "50.00"},
        {"id": "6", "type": "page_view", "ts": "2026-03-02T12:10:00Z", "visitor": "v2", "url": "/"},
    ]

    def _report(self, by: str) -> list[tuple[Any, ...]]:
        tracker = Tracker(clock=FixedClock(datetime(2026, 3, 3, tzinfo=UTC)))
        assert tracker.record_many(self.EVENTS).rejected == 0
        rows = tracker.report(by=by, engine="duckdb").to_dict()["breakdown"]
        return [(r["value"], r["visitors"], r["with_click"], r["requests"], r["attributed_gmv"])
                for r in rows]

    def test_session_values(self) -> None:
        """The request is in v1's first session (mail), the click and order in a second one
        without a page view ((none)); v2 lands without any utm value."""
        assert [("(none)", 2, 1, 0, 50), ("mail", 1, 0, 1, 0)] == self._report("utm_source")
        assert [("(direct)", 1, 0, 0, 0), ("(none)", 1, 1, 0, 50), ("news.example", 1, 0, 1, 0)] \
            == self._report("referrer")

    def test_request_values(self) -> None:
        """By department: the order goes with its attributing conversation's request."""
        assert [("sales", 1, 1, 1, 50)] == self._report("department")


class TestCommandLine:
    """``whoson report DIR --by --compare`` on a Parquet export, and on a log, for duckdb."""

    def test_export_and_log(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """The same JSON from the export on duckdb, the log on duckdb and the log on python."""
        from whoson.cli.main import main
        from whoson.logfile import write_log

        log = tmp_path / "shop.jsonl"
        write_log(log, simulate(visitors=40, days=3, seed=7, start=date(2026, 10, 24)))
        assert 0 == main(["export", str(log), "--parquet", str(tmp_path / "pq")])
        capsys.readouterr()
        args = ["--json", "--tz", "Europe/Berlin", "--start", "2026-10-25", "--end", "2026-10-27",
                "--by", "landing_page", "--compare", "previous"]
        outputs = []
        for source, engine in ((log, "python"), (log, "duckdb"), (tmp_path / "pq", "duckdb")):
            assert 0 == main(["report", str(source), "--engine", engine, *args])
            outputs.append(json.loads(capsys.readouterr().out))
        assert outputs[0]["breakdown"]
        assert "change" in outputs[0]
        for other in outputs[1:]:
            assert_reports_equal(other, outputs[0])
