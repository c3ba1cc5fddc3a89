"""The duckdb engine gives the python engine's report, figure for figure.

Differential tests: hypothesis streams (every event type, DST days, edge
delays, random ranges and parameters) and simulated shop logs over several
zones, sub-ranges, as_of moments and windows. Exact for counts and money,
1e-9 for rates and averages (tests/report_checks.assert_reports_equal).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings

from tests.report_checks import assert_reports_equal
from tests.strategies import Scenario, scenarios
from whoson import FixedClock, Tracker, simulate
from whoson.engines import report

pytest.importorskip("ibis")


def _tracker(scenario: Scenario) -> Tracker:
    tracker = Tracker(clock=FixedClock(scenario.as_of), tz=scenario.tz, rating_scale=scenario.scale)
    result = tracker.record_many(scenario.events)
    assert result.rejected == 0, [str(o.error) for o in result.errors]
    return tracker


class TestHypothesisStreams:
    """On generated streams, duckdb and python agree for every parameter."""

    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios())
    def test_same_report(self, scenario: Scenario) -> None:
        """A random stream, zone, range, as_of and windows: the same JSON tree."""
        tracker = _tracker(scenario)
        kwargs = scenario.report_kwargs()
        expected = tracker.report(**kwargs).to_dict()
        actual = tracker.report(engine="duckdb", **kwargs).to_dict()
        assert_reports_equal(actual, expected)


@pytest.fixture(scope="module")
def shop() -> Tracker:
    """Four simulated days across Berlin's spring-forward night (2026-03-29)."""
    tracker = Tracker(clock=FixedClock(datetime(2026, 4, 1, tzinfo=UTC)))
    result = tracker.record_many(simulate(visitors=160, days=4, seed=3, start=date(2026, 3, 27)))
    assert result.rejected == 0
    return tracker


CASES: list[dict[str, Any]] = [
    {"tz": "Europe/Berlin"},
    {"tz": "America/New_York", "start": "2026-03-28", "end": "2026-03-30"},
    {"tz": "Asia/Kolkata", "as_of": "2026-03-29T13:07:00Z"},
    {"tz": "Europe/Berlin", "start": "2026-03-29T00:00:00+01:00", "as_of": "2026-03-30T10:00:00Z",
     "attribution_window": "1d", "response_timeout": "30m", "fcr_window": "1h",
     "session_timeout": "5m", "cost": "1234.56"},
    {"tz": "UTC", "end": "2026-03-28T12:34:56Z", "attribution_window": "0s"},
]


class TestSimulatedShop:
    """On a simulated shop log, duckdb and python agree on zones, ranges, as_of and windows."""

    @pytest.mark.parametrize("kwargs", CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
    def test_same_report(self, shop: Tracker, kwargs: dict[str, Any]) -> None:
        """The same figures, and the report is not empty (the log has conversations and sales)."""
        kwargs = {"as_of": datetime(2026, 4, 1, tzinfo=UTC), **kwargs}
        expected = shop.report(**kwargs).to_dict()
        actual = shop.report(engine="duckdb", **kwargs).to_dict()
        assert expected["conversations"]["total"] > 0
        assert_reports_equal(actual, expected)

    def test_dst_day_has_one_row(self, shop: Tracker) -> None:
        """The 23-hour Berlin day is one daily row, in both engines."""
        kwargs = {"as_of": datetime(2026, 4, 1, tzinfo=UTC), "tz": "Europe/Berlin",
                  "start": "2026-03-29", "end": "2026-03-30"}
        daily = shop.report(engine="duckdb", **kwargs).to_dict()["trends"]["daily"]
        assert ["2026-03-29"] == [row["date"] for row in daily]


class TestHandComputed:
    """A tiny log whose figures are worked out by hand, on the duckdb engine."""

    EVENTS: ClassVar[list[dict[str, Any]]] = [
        {"id": "1", "type": "page_view", "ts": "2026-03-28T22:50:00Z", "visitor": "v1", "url": "/shoes"},
        {"id": "2", "type": "request", "ts": "2026-03-28T22:55:00Z", "visitor": "v1", "request": "r1",
         "channel": "text", "initiator": "visitor"},
        {"id": "3", "type": "message", "ts": "2026-03-28T22:56:30Z", "visitor": "v1", "request": "r1",
         "sender": "agent", "agent": "ann"},
        {"id": "4", "type": "request_end", "ts": "2026-03-28T23:05:00Z", "visitor": "v1", "request": "r1",
         "resolved": True},
        {"id": "5", "type": "order", "ts": "2026-03-29T09:00:00Z", "visitor": "v1", "order": "A",
         "subtotal": "100.00", "discount": "10.00"},
        {"id": "6", "type": "order", "ts": "2026-03-29T09:00:00Z", "visitor": "v1", "order": "A",
         "subtotal": "999.00"},
        {"id": "7", "type": "widget_impression", "ts": "2026-03-29T10:00:00Z", "visitor": "v2"},
    ]

    def test_figures(self) -> None:
        """Berlin dates: the request is on 28 March (23:55 local), the order on 29 March."""
        tracker = Tracker(clock=FixedClock(datetime(2026, 3, 30, tzinfo=UTC)))
        assert tracker.record_many(self.EVENTS).rejected == 0
        got = tracker.report(tz="Europe/Berlin", engine="duckdb").to_dict()
        # Order A counts once (event 5 wins by id): 100.00 - 10.00, attributed to r1 (engaged 22:56:30).
        assert (1, 90, 90) == (got["sales"]["attributed_orders"], got["sales"]["attributed_gmv"],
                               got["sales"]["all_gmv"])
        assert [{"url": "/shoes", "requests": 1}] == got["requests"]["top_urls"]
        assert {"avg": 90.0, "median": 90.0, "p90": 90.0} == got["support"]["first_response"]
        # Conversation 22:56:30 -> 23:05:00 is 8.5 minutes; resolved, no transfer, no new request.
        assert (8.5, 1.0) == (got["conversations"]["avg_duration_minutes"],
                              got["support"]["first_contact_resolution_rate"])
        daily = {row["date"]: (row["requests"], row["attributed_gmv"]) for row in got["trends"]["daily"]}
        assert {"2026-03-28": (1, 0), "2026-03-29": (0, 90)} == daily
        assert (2, 1, 0) == (got["visitors"]["total"], got["visitors"]["with_impression"],
                             got["visitors"]["with_click"])
        assert ["ann"] == [row["agent"] for row in got["agents"]]


class TestSources:
    """whoson.engines.report reads a log, a store URL or a Parquet export alike."""

    def test_log_store_and_parquet(self, tmp_path: Any) -> None:
        """The same report from the three sources, on duckdb and python."""
        from whoson.engines.parquet import export
        from whoson.logfile import write_log

        log = tmp_path / "shop.jsonl"
        write_log(log, simulate(visitors=40, days=2, seed=5, start=date(2026, 10, 24)))
        store = f"sqlite:///{tmp_path / 'shop.db'}"
        with Tracker.open(store) as filling:
            filling.load(log)
        export(str(log), str(tmp_path / "pq"))
        kwargs = {"tz": "Europe/Berlin", "as_of": "2026-10-26T00:00:00Z"}
        expected = report(str(log), "python", **kwargs).to_dict()
        for source in (str(log), store, str(tmp_path / "pq")):
            for engine in ("duckdb", "python"):
                assert_reports_equal(report(source, engine, **kwargs).to_dict(), expected)

    def test_unknown_engine(self, tmp_path: Any) -> None:
        """An unknown engine name is a clear configuration error."""
        from whoson.core.errors import ConfigError

        with pytest.raises(ConfigError, match="engine 'oracle' must be one of python, duckdb, spark"):
            report(str(tmp_path), "oracle")


class TestEdges:
    """Empty results stay empty rather than failing."""

    def test_as_of_before_everything(self) -> None:
        """A report taken before the first event is empty on both engines, not an error."""
        tracker = Tracker(clock=FixedClock(datetime(2026, 3, 30, tzinfo=UTC)))
        tracker.record({"id": "1", "type": "heartbeat", "ts": "2026-03-29T10:00:00Z", "visitor": "v"})
        as_of = datetime(2026, 3, 29, tzinfo=UTC) - timedelta(days=1)
        got = tracker.report(as_of=as_of, engine="duckdb").to_dict()
        assert_reports_equal(got, tracker.report(as_of=as_of).to_dict())
        assert (0, []) == (got["visitors"]["total"], got["trends"]["daily"])
