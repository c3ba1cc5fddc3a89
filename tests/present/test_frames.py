"""report.frame / to_arrow / table / events_frame: dtypes per the contract, values equal to_dict()."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from tests.present.synthetic import compared, extended
from whoson import FixedClock, Tracker
from whoson.metrics.report import Report
from whoson.present.frames import table_frame
from whoson.present.tables import TABLES, report_table, table_names

EVENTS = [
    {"id": "1", "type": "page_view", "ts": "2026-03-02T09:00:00Z", "visitor": "ann", "url": "/shoes",
     "country": "DE"},
    {"id": "2", "type": "widget_impression", "ts": "2026-03-02T09:00:05Z", "visitor": "ann"},
    {"id": "3", "type": "request", "ts": "2026-03-02T09:01:00Z", "visitor": "ann", "request": "r1",
     "channel": "text", "initiator": "visitor"},
    {"id": "4", "type": "message", "ts": "2026-03-02T09:01:30Z", "visitor": "ann", "request": "r1",
     "sender": "agent", "agent": "bo"},
    {"id": "5", "type": "order", "ts": "2026-03-02T09:20:00Z", "visitor": "ann", "order": "o1",
     "subtotal": "19.90", "currency": "EUR"},
    {"id": "6", "type": "survey", "ts": "2026-03-02T09:25:00Z", "visitor": "ann", "request": "r1",
     "rating": 4, "feedback": "quick"},
    {"id": "7", "type": "page_view", "ts": "2026-03-03T10:00:00Z", "visitor": "cy", "url": "/"},
]


@pytest.fixture
def small() -> Report:
    tracker = Tracker(clock=FixedClock(datetime(2026, 3, 4, tzinfo=UTC)), currency="EUR")
    tracker.record_many(EVENTS)
    return tracker.report("2026-03-02", "2026-03-04")


def same(frame_value: Any, plain: Any) -> bool:
    """A frame cell equals the to_dict() value it came from."""
    if plain is None:
        return bool(pd.isna(frame_value))
    if isinstance(frame_value, pd.Timestamp):
        if len(str(plain)) == 10:
            return frame_value.date().isoformat() == plain
        return frame_value == pd.Timestamp(plain)
    if isinstance(plain, (Decimal, float)):
        return float(frame_value) == float(plain)
    return bool(frame_value == plain)


def assert_frame_equals_tree(tree: dict[str, Any], name: str) -> None:
    table = report_table(tree, name)
    frame = table_frame(table)
    expected = (len(table.rows), table.columns)
    assert expected == (len(frame), list(frame.columns))
    for i, row in enumerate(table.rows):
        for column in table.columns:
            cell = frame[column].iloc[i]
            assert same(cell, row.get(column)), (name, i, column, cell, row.get(column))


class TestSmallScenario:
    """A hand-built day: one chat that sold 19.90 EUR, one quiet visitor the next day."""

    def test_daily_frame_values_and_dtypes(self, small: Report) -> None:
        daily = small.frame("daily")
        expected = {"date": "datetime64[ns]", "visitors": "int64", "widget_ctr": "float64",
                    "requests": "int64", "avg_rating": "float64", "attributed_gmv": "float64"}
        assert expected == {k: str(daily[k].dtype) for k in expected}
        expected_rows = [("2026-03-02", 1, 1, 1, 4.0, 19.9), ("2026-03-03", 1, 0, 0, None, 0.0)]
        actual = [(d.date().isoformat(), v, r, c, None if math.isnan(a) else a, g) for d, v, r, c, a, g in zip(
            daily["date"], daily["visitors"], daily["requests"], daily["conversations"], daily["avg_rating"],
            daily["attributed_gmv"], strict=True)]
        assert expected_rows == actual

    def test_summary_is_one_row_with_dotted_columns(self, small: Report) -> None:
        summary = small.frame("summary")
        expected = (1, 19.9, 0.0, "float64", "datetime64[ns, UTC]")  # seen, not clicked
        assert expected == (len(summary), summary["sales.attributed_gmv"][0], summary["visitors.widget_ctr"][0],
                            str(summary["sales.aov"].dtype), str(summary["range.start"].dtype))
        expected_distribution = [0, 0, 0, 1, 0]
        assert expected_distribution == [int(summary[f"ratings.distribution.{k}"][0]) for k in "12345"]

    def test_null_rates_are_nan(self, small: Report) -> None:
        summary = small.frame("summary")
        assert math.isnan(summary["support.cost_per_contact"][0])
        assert math.isnan(summary["ratings.nps"][0])

    def test_feedback_instants_are_utc_aware(self, small: Report) -> None:
        feedback = small.frame("feedback")
        expected = ("datetime64[ns, UTC]", pd.Timestamp("2026-03-02T09:25:00Z"), "quick", 4)
        assert expected == (str(feedback["ts"].dtype), feedback["ts"][0], feedback["feedback"][0],
                            int(feedback["rating"][0]))

    def test_agents_daily_has_one_row_per_agent_and_date(self, small: Report) -> None:
        frame = small.frame("agents_daily")
        expected = [("bo", "2026-03-02", 1), ("bo", "2026-03-03", 0)]
        assert expected == [(a, d.date().isoformat(), c) for a, d, c in
                            zip(frame["agent"], frame["date"], frame["conversations"], strict=True)]

    def test_arrow_matches_the_frame(self, small: Report) -> None:
        table = small.to_arrow("daily")
        expected = (["date", "visitors"], [19.9, 0.0])
        assert expected == (table.column_names[:2], table.column("attributed_gmv").to_pylist())

    def test_a_missing_table_names_what_there_is(self, small: Report) -> None:
        with pytest.raises(ValueError, match=r"table 'breakdown': this report has none .*by="):
            small.frame("breakdown")
        with pytest.raises(ValueError, match="no such table"):
            small.frame("weekly")


class TestFramesEqualToDict:
    """Every table's frame holds exactly the values of to_dict(), on a simulated week."""

    def test_every_table_of_the_engine(self, sim_tracker: Tracker) -> None:
        tree = sim_tracker.report("2026-03-02", "2026-03-09").to_dict()
        names = table_names(tree)
        assert {"summary", "daily", "hourly", "agents", "agents_daily", "top_urls", "feedback"} <= set(names)
        for name in names:
            assert_frame_equals_tree(tree, name)

    def test_sections_added_by_other_branches(self, sim_tracker: Tracker) -> None:
        current = sim_tracker.report("2026-03-05", "2026-03-08").to_dict()
        previous = sim_tracker.report("2026-03-02", "2026-03-05").to_dict()
        tree = extended(compared(current, previous))
        expected = set(TABLES)
        assert expected == set(table_names(tree))
        for name in ("breakdown", "pages", "experiments", "change"):
            assert_frame_equals_tree(tree, name)
        experiments = table_frame(report_table(tree, "experiments"))
        expected_ci = (-0.12, 0.25, "float64")
        assert expected_ci == (experiments["lift_ci95.low"][0], experiments["lift_ci95.high"][0],
                               str(experiments["incremental_gmv"].dtype))
        summary = table_frame(report_table(tree, "summary"))
        assert 0.7 == summary["support.wait.answered_within.120"][0]
        assert not any(c.startswith(("previous.", "change.")) for c in summary.columns)


class TestEventsFrame:
    """tracker.events_frame: envelope first, then fields; ts UTC-aware; money float."""

    def test_columns_and_types(self) -> None:
        tracker = Tracker(clock=FixedClock(datetime(2026, 3, 4, tzinfo=UTC)))
        tracker.record_many(EVENTS)
        frame = tracker.events_frame(types=["order", "page_view"])
        expected = ["id", "type", "ts", "visitor"]
        assert expected == list(frame.columns[:4])
        expected_rows = [("1", "page_view"), ("5", "order"), ("7", "page_view")]
        assert expected_rows == list(zip(frame["id"], frame["type"], strict=True))
        expected_types = ("datetime64[ns, UTC]", "float64", 19.9)
        assert expected_types == (str(frame["ts"].dtype), str(frame["subtotal"].dtype), frame["subtotal"][1])
        assert pd.isna(frame["subtotal"][0])
        assert frame["url"][0] == "/shoes"

    def test_range_in_the_tracker_zone(self) -> None:
        tracker = Tracker(clock=FixedClock(datetime(2026, 3, 4, tzinfo=UTC)), tz="Asia/Tokyo")
        tracker.record_many(EVENTS)
        # 2026-03-03 in Tokyo = [03-02 15:00Z, 03-03 15:00Z): only the page view at 03-03 10:00Z.
        expected = ["7"]
        assert expected == list(tracker.events_frame("2026-03-03", "2026-03-04")["id"])


class TestEventsFrameExtrasNamedLikeFields:
    """An extra named like another type's typed field stays out of the typed column."""

    def test_chars_extra_on_a_page_view(self) -> None:
        tracker = Tracker(clock=FixedClock(datetime(2026, 3, 4, tzinfo=UTC)))
        tracker.record_many([
            {"id": "p", "type": "page_view", "ts": "2026-03-03T10:00:00Z", "visitor": "v",
             "url": "/", "chars": 1e300, "subtotal": "lots"},
            {"id": "r", "type": "request", "ts": "2026-03-03T10:01:00Z", "visitor": "v",
             "request": "q", "initiator": "visitor", "channel": "text"},
            {"id": "m", "type": "message", "ts": "2026-03-03T10:02:00Z", "visitor": "v",
             "request": "q", "sender": "visitor", "chars": 12},
            {"id": "o", "type": "order", "ts": "2026-03-03T10:03:00Z", "visitor": "v",
             "order": "o1", "subtotal": "19.90", "currency": "EUR"},
        ])
        frame = tracker.events_frame()
        expected_types = ("Int64", "float64", "object", "object")
        actual_types = (str(frame["chars"].dtype), str(frame["subtotal"].dtype),
                        str(frame["extra.chars"].dtype), str(frame["extra.subtotal"].dtype))
        assert expected_types == actual_types
        expected = [(None, None, Decimal("1E+300"), "lots"), (None, None, None, None),
                    (12, None, None, None), (None, 19.9, None, None)]
        actual = [(None if pd.isna(c) else int(c), None if pd.isna(s) else s,
                   None if pd.isna(ec) else ec, None if pd.isna(es) else es)
                  for c, s, ec, es in zip(frame["chars"], frame["subtotal"], frame["extra.chars"],
                                          frame["extra.subtotal"], strict=True)]
        assert expected == actual
