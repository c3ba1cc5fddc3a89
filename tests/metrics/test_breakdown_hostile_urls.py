"""Breakdowns read hostile referrers and landing urls without failing the report."""

from __future__ import annotations

from datetime import UTC, datetime

from whoson import FixedClock, Tracker
from whoson.core.parsing import parse_event


def _tracker(referrer: str, url: str) -> Tracker:
    tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
    tracker.record_many([
        parse_event({"id": "1", "type": "page_view", "ts": "2026-03-02T10:00:00Z",
                     "visitor": "v1", "url": url, "referrer": referrer}),
        parse_event({"id": "2", "type": "page_view", "ts": "2026-03-02T10:01:00Z",
                     "visitor": "v2", "url": "/ok"}),
    ])
    return tracker


class TestMalformedHost:
    """A referrer or landing url whose host urlsplit rejects is kept as sent, not a crash."""

    def test_referrer_bad_ipv6_literal(self) -> None:
        report = _tracker("https://[/]evil.example/", "/").report(by="referrer").to_dict()
        expected = [("(direct)", 1), ("https://[/]evil.example/", 1)]
        assert expected == [(row["value"], row["visitors"]) for row in report["breakdown"]]

    def test_utm_source_of_url_with_bad_host(self) -> None:
        url = "https://[shop/landing?utm_source=news&x=1#top"
        report = _tracker("https://a.example/", url).report(by="utm_source").to_dict()
        expected = [("(none)", 1), ("news", 1)]
        assert expected == [(row["value"], row["visitors"]) for row in report["breakdown"]]
