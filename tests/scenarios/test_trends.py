"""Hand-derived scenarios for ``trends`` (daily rows and hourly buckets), DST included.

Reading: a daily row's ``visitors`` is the distinct visitors with any event
on that local date; its ``widget_ctr`` and ``visitor_request_acceptance_rate``
are the range definitions restricted to the date (null when the date has no
impression / no non-pending visitor request); ``avg_rating`` uses surveys by
their ``ts`` date; ``attributed_gmv`` sums attributed orders by their ``ts``.
Reading: ``hourly`` sums requests created in range by local wall-clock hour
over all dates; on a 25-hour day both occurrences of the repeated hour fall
in the same bucket, and on a 23-hour day the skipped hour stays 0.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.scenarios.helpers import Events, close, day_rows, empty_daily_row, report

AS_OF = "2026-03-05T00:00:00Z"


def three_days() -> list[dict[str, object]]:
    """Activity on 03-02 and 03-04, nothing on 03-03 (UTC)."""
    ev = Events()
    return [
        # 03-02
        ev.page_view("v1", "2026-03-02T09:00:00Z", "/"),
        ev.impression("v1", "2026-03-02T09:01:00Z"),
        ev.click("v1", "2026-03-02T09:02:00Z"),
        ev.request("v1", "2026-03-02T09:03:00Z", "r1"),  # visitor/text, hour 9
        ev.agent_msg("v1", "2026-03-02T09:04:00Z", "r1", "a1"),  # engaged 09:04
        ev.survey("v1", "2026-03-02T09:30:00Z", request="r1", rating=4),
        ev.order("v1", "2026-03-02T10:00:00Z", "o1", "50.00"),  # attributed to r1
        ev.page_view("v2", "2026-03-02T11:00:00Z", "/"),
        ev.impression("v2", "2026-03-02T11:01:00Z"),
        ev.request("v2", "2026-03-02T11:05:00Z", "r2", channel="video"),  # hour 11, unanswered
        ev.end("v2", "2026-03-02T11:06:00Z", "r2", "missed"),
        ev.request("v3", "2026-03-02T12:00:00Z", "r3", channel="video", initiator="agent",
                   agent="a1"),  # hour 12
        ev.visitor_join("v3", "2026-03-02T12:01:00Z", "r3"),
        # 03-04
        ev.order("v1", "2026-03-04T08:00:00Z", "o2", "20.00"),  # r1 engaged 47 h before
        ev.page_view("v4", "2026-03-04T13:00:00Z", "/"),
        ev.request("v4", "2026-03-04T13:01:00Z", "r4"),  # visitor/text, hour 13
        ev.agent_msg("v4", "2026-03-04T13:02:00Z", "r4", "a2"),
        ev.survey("v4", "2026-03-04T13:10:00Z", request="r4", rating=2),
        ev.survey("v4", "2026-03-04T13:20:00Z", request="r4", rating=5),
    ]


EXPECTED_DAILY: list[dict[str, Any]] = [
    {
        "date": "2026-03-02",
        "visitors": 3,  # v1 v2 v3
        "widget_ctr": 0.5,  # clicked v1 / shown v1 v2
        "requests": 3,  # r1 r2 r3
        "text_requests": 1,  # r1
        "video_requests": 2,  # r2 r3
        "visitor_request_acceptance_rate": 0.5,  # r1 conversation / r1 r2
        "conversations": 2,  # r1 r3
        "video_conversations": 1,  # r3
        "avg_rating": 4.0,
        "attributed_gmv": Decimal("50.00"),  # o1
    },
    empty_daily_row("2026-03-03"),  # no event: zeros and nulls, row still present
    {
        "date": "2026-03-04",
        "visitors": 2,  # v1 (order) and v4
        "widget_ctr": None,  # no impression that day
        "requests": 1,  # r4
        "text_requests": 1,
        "video_requests": 0,
        "visitor_request_acceptance_rate": 1.0,  # r4 answered
        "conversations": 1,
        "video_conversations": 0,
        "avg_rating": 3.5,  # (2 + 5) / 2
        "attributed_gmv": Decimal("20.00"),  # o2, attributed to r1 (03-02)
    },
]


class TestDailyRows:
    """One row per local date, empty dates included."""

    def test_rows_with_an_empty_day(self) -> None:
        """Explicit date range 03-02..03-05 (end exclusive): three rows."""
        d = report(three_days(), as_of=AS_OF, start=date(2026, 3, 2), end=date(2026, 3, 5))
        expected = close(EXPECTED_DAILY)
        assert expected == d["trends"]["daily"]

    def test_default_range_spans_first_to_last_event(self) -> None:
        """Without bounds: from the first event's date to the newest event's date."""
        d = report(three_days(), as_of=AS_OF)
        expected = close(EXPECTED_DAILY)
        assert expected == d["trends"]["daily"]

    def test_empty_days_at_the_edges(self) -> None:
        """A range wider than the data has empty rows before and after."""
        d = report(three_days(), as_of=AS_OF, start=date(2026, 3, 1), end=date(2026, 3, 6))
        expected = [empty_daily_row("2026-03-01"), *EXPECTED_DAILY, empty_daily_row("2026-03-05")]
        assert close(expected) == d["trends"]["daily"]


class TestHourly:
    """24 rows of text/video requests by local hour."""

    def test_hourly(self) -> None:
        """r1 text at 9, r2 video at 11, r3 video at 12, r4 text at 13."""
        d = report(three_days(), as_of=AS_OF)
        expected = [{"hour": h, "text_requests": 0, "video_requests": 0} for h in range(24)]
        expected[9]["text_requests"] = 1  # r1
        expected[11]["video_requests"] = 1  # r2
        expected[12]["video_requests"] = 1  # r3
        expected[13]["text_requests"] = 1  # r4
        assert expected == d["trends"]["hourly"]


# (tz, start date, end date, request instants (UTC), expected requests per local date,
#  expected requests per local hour, expected range start/end in UTC)
DST_CASES = [
    pytest.param(
        "Europe/Berlin", date(2026, 3, 28), date(2026, 3, 31),
        [
            "2026-03-27T22:59:59Z",  # 03-27 23:59:59 CET: before the range
            "2026-03-27T23:00:00Z",  # 03-28 00:00 CET -> 03-28, hour 0
            "2026-03-28T22:30:00Z",  # 03-28 23:30 CET -> 03-28, hour 23
            "2026-03-28T23:00:00Z",  # 03-29 00:00 CET -> 03-29, hour 0
            "2026-03-29T00:30:00Z",  # 03-29 01:30 CET -> hour 1
            "2026-03-29T01:30:00Z",  # 03-29 03:30 CEST (02:xx skipped) -> hour 3
            "2026-03-29T21:59:00Z",  # 03-29 23:59 CEST -> 03-29, hour 23 (23-hour day)
            "2026-03-29T22:00:00Z",  # 03-30 00:00 CEST -> 03-30, hour 0
            "2026-03-30T21:59:59Z",  # 03-30 23:59:59 CEST -> 03-30, hour 23
            "2026-03-30T22:00:00Z",  # 03-31 00:00 CEST: the end bound, excluded
        ],
        {"2026-03-28": 2, "2026-03-29": 4, "2026-03-30": 2},
        {0: 3, 1: 1, 3: 1, 23: 3},
        ("2026-03-27T23:00:00Z", "2026-03-30T22:00:00Z"),  # local midnights, CET / CEST
        id="berlin-spring-23h",
    ),
    pytest.param(
        "Europe/Berlin", date(2026, 10, 24), date(2026, 10, 27),
        [
            "2026-10-23T21:59:00Z",  # 10-23 23:59 CEST: before the range
            "2026-10-23T22:00:00Z",  # 10-24 00:00 CEST -> 10-24, hour 0
            "2026-10-24T22:00:00Z",  # 10-25 00:00 CEST -> 10-25, hour 0
            "2026-10-25T00:30:00Z",  # 10-25 02:30 CEST -> hour 2 (first time)
            "2026-10-25T01:30:00Z",  # 10-25 02:30 CET -> hour 2 (second time)
            "2026-10-25T22:59:00Z",  # 10-25 23:59 CET -> 10-25, hour 23 (25-hour day)
            "2026-10-25T23:00:00Z",  # 10-26 00:00 CET -> 10-26, hour 0
            "2026-10-26T23:00:00Z",  # 10-27 00:00 CET: the end bound, excluded
        ],
        {"2026-10-24": 1, "2026-10-25": 4, "2026-10-26": 1},
        {0: 3, 2: 2, 23: 1},
        ("2026-10-23T22:00:00Z", "2026-10-26T23:00:00Z"),
        id="berlin-autumn-25h",
    ),
    pytest.param(
        "America/New_York", date(2026, 3, 7), date(2026, 3, 10),
        [
            "2026-03-07T04:59:00Z",  # 03-06 23:59 EST: before the range
            "2026-03-08T04:59:00Z",  # 03-07 23:59 EST -> 03-07, hour 23
            "2026-03-08T05:00:00Z",  # 03-08 00:00 EST -> 03-08, hour 0
            "2026-03-08T06:30:00Z",  # 03-08 01:30 EST -> hour 1
            "2026-03-08T07:30:00Z",  # 03-08 03:30 EDT (02:xx skipped) -> hour 3
            "2026-03-09T03:59:00Z",  # 03-08 23:59 EDT -> 03-08, hour 23 (23-hour day)
            "2026-03-09T04:00:00Z",  # 03-09 00:00 EDT -> 03-09, hour 0
            "2026-03-10T04:00:00Z",  # 03-10 00:00 EDT: the end bound, excluded
        ],
        {"2026-03-07": 1, "2026-03-08": 4, "2026-03-09": 1},
        {0: 2, 1: 1, 3: 1, 23: 2},
        ("2026-03-07T05:00:00Z", "2026-03-10T04:00:00Z"),
        id="new-york-spring-23h",
    ),
    pytest.param(
        "America/New_York", date(2026, 10, 31), date(2026, 11, 3),
        [
            "2026-10-31T03:59:00Z",  # 10-30 23:59 EDT: before the range
            "2026-11-01T03:59:00Z",  # 10-31 23:59 EDT -> 10-31, hour 23
            "2026-11-01T04:00:00Z",  # 11-01 00:00 EDT -> 11-01, hour 0
            "2026-11-01T05:30:00Z",  # 11-01 01:30 EDT -> hour 1 (first time)
            "2026-11-01T06:30:00Z",  # 11-01 01:30 EST -> hour 1 (second time)
            "2026-11-02T04:59:00Z",  # 11-01 23:59 EST -> 11-01, hour 23 (25-hour day)
            "2026-11-02T05:00:00Z",  # 11-02 00:00 EST -> 11-02, hour 0
            "2026-11-03T05:00:00Z",  # 11-03 00:00 EST: the end bound, excluded
        ],
        {"2026-10-31": 1, "2026-11-01": 4, "2026-11-02": 1},
        {0: 2, 1: 2, 23: 2},
        ("2026-10-31T04:00:00Z", "2026-11-03T05:00:00Z"),
        id="new-york-autumn-25h",
    ),
]


class TestDaylightSaving:
    """Local dates and hours across DST changes; date bounds are local midnights."""

    @pytest.mark.parametrize(
        ("tz", "start", "end", "instants", "per_day", "per_hour", "bounds"), DST_CASES
    )
    def test_dst(
        self,
        tz: str,
        start: date,
        end: date,
        instants: list[str],
        per_day: dict[str, int],
        per_hour: dict[int, int],
        bounds: tuple[str, str],
    ) -> None:
        """Every request lands on its local date and hour; the DST day is one row."""
        ev = Events()
        events = [ev.request(f"v{n}", at, f"r{n}") for n, at in enumerate(instants)]
        d = report(events, as_of="2026-12-01T00:00:00Z", tz=tz, start=start, end=end)
        assert per_day == day_rows(d, "requests")
        expected_hourly = [
            {"hour": h, "text_requests": per_hour.get(h, 0), "video_requests": 0}
            for h in range(24)
        ]
        assert expected_hourly == d["trends"]["hourly"]
        expected_range = {"start": bounds[0], "end": bounds[1], "tz": tz,
                          "as_of": "2026-12-01T00:00:00Z"}
        assert expected_range == d["range"]
        expected_total = sum(per_day.values())  # the in-range requests, nothing else
        assert expected_total == d["requests"]["total"]
