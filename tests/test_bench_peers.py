"""The benchmark's DuckDB and pandas peers compute hand-derived figures of a tiny log.

The log below exercises every definition the peers implement: duplicate
request and order creations (the earliest wins), each initiator's notion of a
response, pending requests, the inclusive 7-day attribution window, last touch
between two conversations, empty days in the daily trend. The expected figures
were worked out by hand from the metrics contract, not copied from a run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bench.figures import DAILY_KEYS, compare, daily_key, flatten, report_figures, whoson_figures

from whoson import Tracker
from whoson.logfile import write_log

D = Decimal

_LOG: list[tuple[str, str, str, dict[str, Any]]] = [
    # (type, ts, visitor, fields)
    ("page_view", "2026-03-02T10:00:00Z", "v1", {"url": "/"}),
    ("widget_impression", "2026-03-02T10:00:05Z", "v1", {}),
    ("widget_click", "2026-03-02T10:01:00Z", "v1", {}),
    ("request", "2026-03-02T10:01:00Z", "v1", {"request": "r1", "channel": "text", "initiator": "visitor"}),
    ("message", "2026-03-02T10:02:00Z", "v1", {"request": "r1", "sender": "agent", "agent": "ann"}),
    ("request_end", "2026-03-02T10:10:00Z", "v1", {"request": "r1", "reason": "closed", "resolved": True}),
    ("survey", "2026-03-02T10:11:00Z", "v1", {"request": "r1", "rating": 5}),
    ("widget_impression", "2026-03-02T11:00:00Z", "v2", {}),
    ("request", "2026-03-02T11:00:00Z", "v2", {"request": "r2", "channel": "video", "initiator": "visitor"}),
    ("request_end", "2026-03-02T11:05:00Z", "v2", {"request": "r2", "reason": "missed"}),
    ("survey", "2026-03-02T11:06:00Z", "v2", {"rating": 2}),
    ("request", "2026-03-02T11:59:00Z", "v1", {"request": "r8", "channel": "video", "initiator": "visitor"}),
    ("call_joined", "2026-03-02T12:00:00Z", "v1", {"request": "r8", "participant": "agent", "agent": "bob"}),
    ("order", "2026-03-02T12:00:00Z", "v1", {"order": "o1", "subtotal": D("100.00"), "discount": D("10.00")}),
    ("order", "2026-03-02T13:00:00Z", "v1", {"order": "o1", "subtotal": D("50.00")}),
    ("page_view", "2026-03-02T14:00:00Z", "v3", {"url": "/product/x"}),
    (
        "request",
        "2026-03-02T14:01:00Z",
        "v3",
        {"request": "r3", "channel": "text", "initiator": "agent", "agent": "bob"},
    ),
    ("message", "2026-03-02T14:02:00Z", "v3", {"request": "r3", "sender": "visitor"}),
    (
        "request",
        "2026-03-02T15:00:00Z",
        "v3",
        {"request": "r4", "channel": "text", "initiator": "agent", "agent": "bob"},
    ),
    (
        "request",
        "2026-03-04T09:00:00Z",
        "v4",
        {"request": "r5", "channel": "text", "initiator": "auto", "trigger": "help"},
    ),
    ("message", "2026-03-04T09:00:30Z", "v4", {"request": "r5", "sender": "visitor"}),
    ("order", "2026-03-04T09:20:00Z", "v4", {"order": "o3", "subtotal": D("30.00")}),
    (
        "request",
        "2026-03-04T09:30:00Z",
        "v4",
        {"request": "r6", "channel": "video", "initiator": "auto", "trigger": "help"},
    ),
    ("call_joined", "2026-03-04T09:31:00Z", "v4", {"request": "r6", "participant": "visitor"}),
    ("call_joined", "2026-03-04T09:32:00Z", "v4", {"request": "r6", "participant": "agent", "agent": "ann"}),
    ("request", "2026-03-04T09:40:00Z", "v4", {"request": "r6", "channel": "text", "initiator": "visitor"}),
    ("order", "2026-03-04T10:00:00Z", "v4", {"order": "o4", "subtotal": D("20.50"), "discount": D("0.50")}),
    ("survey", "2026-03-04T10:05:00Z", "v4", {"request": "r6", "rating": 4}),
    ("order", "2026-03-04T11:00:00Z", "v5", {"order": "o5", "subtotal": D("15.00")}),
    ("widget_impression", "2026-03-04T11:00:00Z", "v5", {}),
    ("request", "2026-03-09T14:00:00Z", "v6", {"request": "r7", "channel": "text", "initiator": "visitor"}),
    ("order", "2026-03-09T14:02:00Z", "v3", {"order": "o2", "subtotal": D("40.00")}),
    ("order", "2026-03-09T14:02:01Z", "v3", {"order": "o6", "subtotal": D("25.00")}),
]

AS_OF = datetime(2026, 3, 9, 14, 2, 1, tzinfo=UTC)

# Requests: r1 conv (visitor), r2 unsuccessful (visitor, ended unanswered), r8 conv (visitor,
# video), r3 conv (agent), r4 unsuccessful (agent), r5 unsuccessful auto the visitor answered,
# r6 conv (auto, video; its later creation as a visitor text request is ignored), r7 pending.
# Orders: o1 90.00 -> r8 (last touch, engaged at the order's instant, video); o2 40.00 -> r3
# exactly 7 days later (text); o4 20.00 -> r6 (video); o3 before r6 engaged, o5 without a
# conversation and o6 one second past the window are not attributed.
SCALARS: dict[str, Any] = {
    "visitors.with_impression": 3,
    "visitors.with_click": 1,
    "visitors.widget_ctr": 1 / 3,
    "requests.total": 8,
    "requests.text": 5,
    "requests.video": 3,
    "requests.by_initiator.visitor": 4,
    "requests.by_initiator.agent": 2,
    "requests.by_initiator.auto": 2,
    "requests.pending": 1,
    "requests.unsuccessful": 3,
    "acceptance.agent_initiated_rate": 1 / 2,
    "acceptance.visitor_request_rate": 2 / 3,
    "acceptance.auto_invitation_rate": 1.0,
    "conversations.total": 4,
    "conversations.text": 2,
    "conversations.video": 2,
    "sales.attributed_orders": 3,
    "sales.attributed_gmv": D("150.00"),
    "sales.attributed_gmv_by_channel.text": D("40.00"),
    "sales.attributed_gmv_by_channel.video": D("110.00"),
    "sales.aov": D("50.00"),
    "ratings.count": 3,
    "ratings.avg": 11 / 3,
    "ratings.nps": None,
    "ratings.distribution.1": 0,
    "ratings.distribution.2": 1,
    "ratings.distribution.3": 0,
    "ratings.distribution.4": 1,
    "ratings.distribution.5": 1,
}

_EMPTY_DAY: dict[str, Any] = {
    "visitors": 0,
    "widget_ctr": None,
    "requests": 0,
    "text_requests": 0,
    "video_requests": 0,
    "visitor_request_acceptance_rate": None,
    "conversations": 0,
    "video_conversations": 0,
    "avg_rating": None,
    "attributed_gmv": D("0"),
}

_DAYS: dict[date, dict[str, Any]] = {
    date(2026, 3, 2): {
        "visitors": 3,
        "widget_ctr": 1 / 2,
        "requests": 5,
        "text_requests": 3,
        "video_requests": 2,
        "visitor_request_acceptance_rate": 2 / 3,
        "conversations": 3,
        "video_conversations": 1,
        "avg_rating": 3.5,
        "attributed_gmv": D("90.00"),
    },
    date(2026, 3, 4): {
        "visitors": 2,
        "widget_ctr": 0.0,
        "requests": 2,
        "text_requests": 1,
        "video_requests": 1,
        "visitor_request_acceptance_rate": None,
        "conversations": 1,
        "video_conversations": 1,
        "avg_rating": 4.0,
        "attributed_gmv": D("20.00"),
    },
    date(2026, 3, 9): {
        **_EMPTY_DAY,
        "visitors": 2,
        "requests": 1,
        "text_requests": 1,
        "attributed_gmv": D("40.00"),
    },
}


def expected_figures() -> dict[str, Any]:
    """Every figure of the tiny log, empty days (3, 5, 6, 7 and 8 March) included."""
    figures = dict(SCALARS)
    for offset in range(8):
        day = date(2026, 3, 2) + timedelta(days=offset)
        row = _DAYS.get(day, _EMPTY_DAY)
        assert set(row) == set(DAILY_KEYS)
        for key in DAILY_KEYS:
            figures[daily_key(day, key)] = row[key]
    return figures


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny log as a JSON Lines file."""
    path = tmp_path_factory.mktemp("bench") / "tiny.jsonl"
    events = [
        {"id": f"e{n:02d}", "type": kind, "ts": ts, "visitor": visitor, **fields}
        for n, (kind, ts, visitor, fields) in enumerate(_LOG, start=1)
    ]
    write_log(path, events)
    return path


class TestDuckDBPeer:
    """DuckDB SQL over its own table of the log gives the hand-derived figures."""

    def test_every_figure(self, log_path: Path) -> None:
        """All scalar, distribution and daily figures equal the hand-derived ones."""
        pytest.importorskip("duckdb")
        from bench import peer_duckdb

        con = peer_duckdb.connect()
        assert len(_LOG) == peer_duckdb.load(con, str(log_path))
        assert [] == [str(m) for m in compare(expected_figures(), peer_duckdb.figures(con))]

    def test_recomputing_gives_the_same_figures(self, log_path: Path) -> None:
        """A second computation on the same table (the warm timing) repeats the first."""
        pytest.importorskip("duckdb")
        from bench import peer_duckdb

        con = peer_duckdb.connect()
        peer_duckdb.load(con, str(log_path))
        first = peer_duckdb.figures(con)
        assert first == peer_duckdb.figures(con)


class TestPandasPeer:
    """pandas DataFrame operations on the log give the hand-derived figures."""

    def test_every_figure(self, log_path: Path) -> None:
        """All scalar, distribution and daily figures equal the hand-derived ones."""
        pytest.importorskip("pandas")
        from bench import peer_pandas

        frame = peer_pandas.load(str(log_path))
        assert len(_LOG) == len(frame)
        assert [] == [str(m) for m in compare(expected_figures(), peer_pandas.figures(frame))]


class TestWhosonAgrees:
    """whoson's own report gives the same figures, so the peers repeat whoson's work."""

    def test_every_figure(self, log_path: Path) -> None:
        """The whoson report of the log, as of its newest event, has the hand-derived figures."""
        tracker = Tracker()
        assert len(_LOG) == tracker.load(log_path).accepted
        report = tracker.report(as_of=AS_OF)
        assert [] == [str(m) for m in compare(expected_figures(), whoson_figures(report))]


class TestWholeReportPeers:
    """The whole-report peers agree with whoson on every figure of the tiny log's report."""

    def test_plain_python(self, log_path: Path) -> None:
        """The indexed reference gives whoson's whole report, leaf by leaf."""
        from bench import peer_python

        tracker = Tracker()
        tracker.load(log_path)
        expected = report_figures(tracker.report(as_of=AS_OF))
        actual = flatten(peer_python.report(peer_python.load(str(log_path)), AS_OF))
        assert [] == [str(m) for m in compare(expected, actual)]

    def test_plain_python_equals_the_reference(self, log_path: Path) -> None:
        """The indexes change nothing: the peer's report is the quadratic reference's own."""
        from bench import peer_python

        from tests import reference

        events = peer_python.load(str(log_path))
        params = {"as_of": AS_OF, "attribution_window": timedelta(days=3), "fcr_window": timedelta(hours=1)}
        peer_python.install()
        indexed = reference.reference_report(events, **params)
        peer_python.uninstall()
        assert reference.reference_report(events, **params) == indexed

    def test_duckdb_sql(self, log_path: Path) -> None:
        """The duckdb engine's SQL over DuckDB's read of the file gives whoson's whole report."""
        pytest.importorskip("ibis")
        pytest.importorskip("duckdb")
        from bench import peer_sql

        tracker = Tracker()
        tracker.load(log_path)
        result = peer_sql.run(str(log_path), AS_OF, warm_budget=0.0)
        assert len(_LOG) == result["rows"]
        expected = report_figures(tracker.report(as_of=AS_OF))
        assert [] == [str(m) for m in compare(expected, report_figures(result["report"]))]
        assert result["results_checked"] > 0


class TestCompare:
    """compare() is exact for counts, to the cent for money and close for rates."""

    def test_equal_figures(self) -> None:
        """Money equal to the cent and rates equal up to rounding are no mismatch."""
        expected = {"n": 3, "gmv": D("10.00"), "rate": 1 / 3, "none": None}
        actual = {"n": 3, "gmv": D("10.0000"), "rate": 0.1 + 1 / 3 - 0.1, "none": None}
        assert [] == compare(expected, actual)

    def test_differences(self) -> None:
        """A count off by one, a cent off, None against 0 and a missing key are all flagged."""
        expected = {"n": 3, "gmv": D("10.00"), "rate": None, "gone": 1}
        actual = {"n": 4, "gmv": D("10.01"), "rate": 0.0}
        assert ["gmv", "gone", "n", "rate"] == [m.key for m in compare(expected, actual)]

    def test_float_count_is_not_a_count(self) -> None:
        """A peer returning 3.0 for a count of 3 is a mismatch (types leak otherwise)."""
        assert ["n"] == [m.key for m in compare({"n": 3}, {"n": 3.0})]
