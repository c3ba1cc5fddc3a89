"""Hand-derived scenarios for the report range (half-open bounds) and ``as_of``.

Reading: with ``end`` only, daily rows start at the local date of the earliest
event (at or before ``as_of``) and stop at the local date of ``end - 1 µs``.
Reading: ``range.start``/``range.end`` are written as UTC instants with ``Z``
(a date bound as its local midnight converted to UTC); absent bounds are null.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from tests.scenarios.helpers import Events, report, tracker, ts


def edge_requests() -> list[dict[str, object]]:
    """Four requests at the edges of 2026-03-02 (UTC)."""
    ev = Events()
    return [
        ev.request("v1", "2026-03-01T23:59:59.999999Z", "r1"),  # 1 µs before 03-02
        ev.request("v2", "2026-03-02T00:00:00Z", "r2"),  # 03-02 midnight
        ev.request("v3", "2026-03-02T23:59:59.999999Z", "r3"),  # 1 µs before 03-03
        ev.request("v4", "2026-03-03T00:00:00Z", "r4"),  # 03-03 midnight
    ]


def dates(d: dict[str, Any]) -> list[str]:
    """The dates of the daily rows."""
    return [row["date"] for row in d["trends"]["daily"]]


class TestHalfOpenRange:
    """``[start, end)``: the start instant is in, the end instant is out."""

    def test_start_and_end(self) -> None:
        """Only r2 (at start) and r3 (1 µs before end) are in range."""
        d = report(edge_requests(), as_of="2026-03-04T00:00:00Z",
                   start=datetime(2026, 3, 2, tzinfo=UTC), end=datetime(2026, 3, 3, tzinfo=UTC))
        expected = (2, ["2026-03-02"])  # r2, r3; one daily row
        assert expected == (d["requests"]["total"], dates(d))
        expected_range = {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z",
                          "tz": "UTC", "as_of": "2026-03-04T00:00:00Z"}
        assert expected_range == d["range"]

    def test_end_only(self) -> None:
        """End 03-03 00:00: r1..r3 in; rows from r1's date to the date of end - 1 µs."""
        d = report(edge_requests(), as_of="2026-03-04T00:00:00Z",
                   end=datetime(2026, 3, 3, tzinfo=UTC))
        # r4 at the end instant is out. Last row: (03-03 00:00 - 1 µs).date() = 03-02.
        expected = (3, ["2026-03-01", "2026-03-02"])
        assert expected == (d["requests"]["total"], dates(d))
        expected_bounds = (None, "2026-03-03T00:00:00Z")
        assert expected_bounds == (d["range"]["start"], d["range"]["end"])

    def test_end_only_as_a_local_date(self) -> None:
        """End date 03-03 in Berlin is 03-02 23:00 UTC."""
        d = report(edge_requests(), as_of="2026-03-04T00:00:00Z", tz="Europe/Berlin",
                   end=date(2026, 3, 3))
        # Local (CET, +1): r1 03-02 00:59:59, r2 03-02 01:00, r3 03-03 00:59:59 (>= end),
        # r4 03-03 01:00 (>= end). In range: r1, r2, both on local 03-02.
        expected = (2, ["2026-03-02"], "2026-03-02T23:00:00Z")
        assert expected == (d["requests"]["total"], dates(d), d["range"]["end"])

    def test_start_only(self) -> None:
        """Start 03-02 00:00: r2, r3, r4 are in range."""
        d = report(edge_requests(), as_of="2026-03-04T00:00:00Z",
                   start=datetime(2026, 3, 2, tzinfo=UTC))
        expected = (3, "2026-03-02T00:00:00Z", None)
        assert expected == (d["requests"]["total"], d["range"]["start"], d["range"]["end"])

    def test_bounds_with_an_offset_are_normalised_to_utc(self) -> None:
        """A start of 01:00+01:00 is 00:00 UTC: r2 is in, r1 is out."""
        plus_one = timezone(timedelta(hours=1))
        d = report(edge_requests(), as_of="2026-03-04T00:00:00Z",
                   start=datetime(2026, 3, 2, 1, tzinfo=plus_one),
                   end=datetime(2026, 3, 3, 1, tzinfo=plus_one))
        expected = (2, "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")
        assert expected == (d["requests"]["total"], d["range"]["start"], d["range"]["end"])

    def test_default_range(self) -> None:
        """No bounds: every request, rows from 03-01 to 03-03, bounds null."""
        d = report(edge_requests(), as_of="2026-03-04T00:00:00Z")
        expected = (4, ["2026-03-01", "2026-03-02", "2026-03-03"])
        assert expected == (d["requests"]["total"], dates(d))
        expected_range = {"start": None, "end": None, "tz": "UTC",
                          "as_of": "2026-03-04T00:00:00Z"}
        assert expected_range == d["range"]


def around_as_of() -> list[dict[str, object]]:
    """Events before, at and after 2026-03-02 12:00 UTC."""
    ev = Events()
    return [
        ev.page_view("v1", "2026-03-02T10:00:00Z", "/"),
        ev.request("v1", "2026-03-02T11:00:00Z", "r1"),
        ev.agent_msg("v1", "2026-03-02T12:30:00Z", "r1", "a1"),  # after as_of: ignored
        ev.request("v2", "2026-03-02T11:55:00Z", "r2"),
        ev.agent_msg("v2", "2026-03-02T12:00:00Z", "r2", "a2"),  # at as_of: counts
        ev.order("v2", "2026-03-02T12:05:00Z", "o1", "99.00"),  # after: ignored
        ev.page_view("v3", "2026-03-02T12:00:01Z", "/"),  # after: ignored
        ev.survey("v2", "2026-03-02T12:10:00Z", request="r2", rating=5),  # after: ignored
        ev.request("v4", "2026-03-02T13:00:00Z", "r4"),  # after: ignored
        ev.agent_status("2026-03-02T12:30:00Z", "a3"),  # after: ignored
        ev.page_view("v5", "2026-03-04T09:00:00Z", "/"),  # after: ignored (no 03-04 row)
    ]


class TestAsOf:
    """Events after as_of are ignored entirely; an event at as_of counts."""

    def expected(self) -> dict[str, object]:
        """The figures at 2026-03-02 12:00."""
        return {
            "visitors": 2,  # v1, v2 (v3, v5 only after as_of)
            "requests": 2,  # r1, r2 (r4 after)
            "conversations": 1,  # r2 (a2 at 12:00:00); r1's answer at 12:30 is not seen
            "unsuccessful": 1,  # r1: 60 min old, unanswered at as_of
            "pending": 0,
            "orders": 0,  # o1 at 12:05 is after as_of
            "ratings": 0,  # the survey at 12:10 is after as_of
            "first_response_avg": 300.0,  # r2: 12:00 - 11:55
            "dates": ["2026-03-02"],  # newest event at or before as_of is on 03-02
            "agents": ["a2"],  # a1 only answered after as_of; a3 only appears after
            "as_of": "2026-03-02T12:00:00Z",
        }

    @staticmethod
    def figures(d: dict[str, Any]) -> dict[str, object]:
        """The figures :meth:`expected` names, read from a report dict."""
        return {
            "visitors": d["visitors"]["total"],
            "requests": d["requests"]["total"],
            "conversations": d["conversations"]["total"],
            "unsuccessful": d["requests"]["unsuccessful"],
            "pending": d["requests"]["pending"],
            "orders": d["sales"]["all_orders"],
            "ratings": d["ratings"]["count"],
            "first_response_avg": d["support"]["first_response"]["avg"],
            "dates": dates(d),
            "agents": [row["agent"] for row in d["agents"]],
            "as_of": d["range"]["as_of"],
        }

    def test_clock_as_of(self) -> None:
        """The clock's now is the default as_of."""
        d = report(around_as_of(), as_of="2026-03-02T12:00:00Z")
        assert self.expected() == self.figures(d)

    def test_explicit_as_of_overrides_the_clock(self) -> None:
        """A tracker whose clock is days later, asked as of 12:00, gives the same figures."""
        t = tracker(around_as_of(), as_of="2026-03-10T00:00:00Z")
        d = t.report(as_of=ts("2026-03-02T12:00:00Z")).to_dict()
        assert self.expected() == self.figures(d)

    def test_later_as_of_sees_everything(self) -> None:
        """At 2026-03-05 the late answer, order, survey and requests all count."""
        d = report(around_as_of(), as_of="2026-03-05T00:00:00Z")
        figures = self.figures(d)
        expected_visitors = 5  # v1 v2 v3 v4 v5 all have events now
        assert expected_visitors == figures["visitors"]
        # r1 (answered 12:30), r2 -> 2 conversations; r4 unanswered -> unsuccessful.
        expected_counts = (3, 2, 1, 1, 1)  # requests, conversations, unsuccessful, orders, ratings
        assert expected_counts == (
            figures["requests"], figures["conversations"], figures["unsuccessful"],
            figures["orders"], figures["ratings"],
        )
        # Rows 03-02 .. 03-04 (v5's page view), 03-03 empty in between.
        expected_dates = ["2026-03-02", "2026-03-03", "2026-03-04"]
        assert expected_dates == figures["dates"]
