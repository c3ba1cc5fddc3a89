"""Hand-derived scenarios for ``compare=`` (analysis.md, "Comparison").

The week 2026-03-29 .. 2026-04-05 in Europe/Berlin holds the spring-forward
night, so it is 167 hours long; the seven local days before it
(2026-03-22 .. 2026-03-29) are 168 hours. u1's page view at 00:30 local on
2026-03-22 (2026-03-21T23:30Z) is in the previous *days*, but not in the 167
hours before the week's start (which begin at 2026-03-22T00:00Z).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scenarios.helpers import Events, close, report
from whoson.core.errors import ConfigError

AS_OF = "2026-04-06T00:00:00Z"
BERLIN = "Europe/Berlin"


def log() -> list[dict[str, object]]:
    ev = Events()
    return [
        ev.page_view("u1", "2026-03-21T23:30:00Z", "/"),       # 03-22 00:30 CET: previous days
        ev.page_view("u2", "2026-03-25T12:00:00Z", "/"),       # previous
        ev.request("u2", "2026-03-25T12:01:00Z", "r1"),
        ev.agent_msg("u2", "2026-03-25T12:02:00Z", "r1", "a1"),  # a conversation
        ev.page_view("u3", "2026-03-30T08:00:00Z", "/"),       # this week
        ev.page_view("u4", "2026-04-01T08:00:00Z", "/"),       # this week
        ev.page_view("u5", "2026-04-04T21:59:00Z", "/"),       # 04-04 23:59 CEST: this week
        ev.page_view("u6", "2026-04-04T22:00:00Z", "/"),       # 04-05 00:00 CEST: neither
    ]


class TestCompareDates:
    """Date bounds compare with the same number of local days just before."""

    def test_previous_range_and_figures(self) -> None:
        """Previous = 2026-03-22 .. 2026-03-29 local: u1 and u2, r1 a conversation."""
        d = report(log(), as_of=AS_OF, tz=BERLIN, start="2026-03-29", end="2026-04-05",
                   compare="previous")
        assert {"start": "2026-03-28T23:00:00Z", "end": "2026-04-04T22:00:00Z",
                "tz": BERLIN, "as_of": AS_OF} == d["range"]
        assert {"start": "2026-03-21T23:00:00Z", "end": "2026-03-28T23:00:00Z",
                "tz": BERLIN, "as_of": AS_OF} == d["previous"]["range"]
        change = d["change"]
        assert {"previous": 2, "current": 3, "delta": 1, "ratio": 1.5} == change["visitors.total"]
        assert close({"previous": 1, "current": 0, "delta": -1, "ratio": 0.0}) == change[
            "requests.total"]
        # A rate that has no denominator now: delta and ratio are null.
        assert {"previous": 1.0, "current": None, "delta": None, "ratio": None} == change[
            "acceptance.visitor_request_rate"]
        # Previous 0: the ratio is null, the delta is not.
        assert {"previous": 0, "current": 0, "delta": 0, "ratio": None} == change[
            "requests.pending"]
        assert {"previous": Decimal(0), "current": Decimal(0), "delta": Decimal(0),
                "ratio": None} == change["sales.attributed_gmv"]
        assert 7 == len(d["previous"]["trends"]["daily"])

    def test_change_keys(self) -> None:
        """Numeric leaves outside lists, dotted from the root; never range, lists or text."""
        d = report(log(), as_of=AS_OF, tz=BERLIN, start="2026-03-29", end="2026-04-05",
                   compare="previous")
        keys = list(d["change"])
        assert "requests.by_initiator.agent" in keys
        assert "requests.breakdown.video.auto" in keys
        assert "ratings.distribution.5" in keys
        assert "support.first_response.p90" in keys
        assert not [k for k in keys if k.split(".")[0] in (
            "range", "trends", "agents", "pages", "previous")]
        assert not [k for k in keys if "top_urls" in k or "feedback" in k]
        assert all(set(v) == {"previous", "current", "delta", "ratio"}
                   for v in d["change"].values())
        assert "previous" not in d["previous"]
        assert "change" not in d["previous"]


class TestCompareInstants:
    """Instant bounds compare with the same duration just before."""

    def test_same_duration(self) -> None:
        """The same week as instants (167 h): the 167 h before start at 03-22T00:00Z, without u1."""
        d = report(log(), as_of=AS_OF, tz=BERLIN, start="2026-03-28T23:00:00Z",
                   end="2026-04-04T22:00:00Z", compare="previous")
        assert "2026-03-22T00:00:00Z" == d["previous"]["range"]["start"]
        assert 1 == d["previous"]["visitors"]["total"]
        assert {"previous": 1, "current": 3, "delta": 2, "ratio": 3.0} == d["change"][
            "visitors.total"]

    def test_explicit_range(self) -> None:
        """An explicit (start, end) pair, here a single local day holding only u1."""
        d = report(log(), as_of=AS_OF, tz=BERLIN, start="2026-03-29", end="2026-04-05",
                   compare=("2026-03-22", "2026-03-23"))
        assert 1 == d["previous"]["visitors"]["total"]
        assert ["2026-03-22"] == [r["date"] for r in d["previous"]["trends"]["daily"]]

    def test_breakdown_in_both(self) -> None:
        """``by`` applies to the previous report too."""
        d = report(log(), as_of=AS_OF, tz=BERLIN, start="2026-03-29", end="2026-04-05",
                   compare="previous", by="returning")
        assert [("new", 2)] == [(r["value"], r["visitors"]) for r in d["previous"]["breakdown"]]
        assert [("new", 3)] == [(r["value"], r["visitors"]) for r in d["breakdown"]]

    @pytest.mark.parametrize("bounds", [{}, {"start": "2026-03-29"}, {"end": "2026-04-05"}])
    def test_needs_both_bounds(self, bounds: dict[str, str]) -> None:
        """compare='previous' without a start and an end is an error saying so."""
        with pytest.raises(ConfigError, match="needs a range with both a start and an end"):
            report(log(), as_of=AS_OF, compare="previous", **bounds)

    def test_unknown_compare(self) -> None:
        """Anything but 'previous' or a pair is an error naming the value."""
        with pytest.raises(ConfigError, match="compare 'last week' must be 'previous'"):
            report(log(), as_of=AS_OF, start="2026-03-29", end="2026-04-05",
                   compare="last week")
