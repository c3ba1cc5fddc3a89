"""Rich display: HTML in Jupyter (_repr_html_), one short line as repr."""

from __future__ import annotations

from datetime import UTC, datetime

from whoson import FixedClock, Tracker

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
AT = datetime(2026, 3, 2, 10, 1, tzinfo=UTC)


def tracker() -> Tracker:
    t = Tracker(clock=FixedClock(AT), currency="EUR")
    result = t.record_many([
        {"id": "1", "type": "page_view", "ts": "2026-03-02T10:00:00Z", "visitor": "ann", "url": "/a<b>"},
        {"id": "2", "type": "identify", "ts": "2026-03-02T10:00:01Z", "visitor": "ann", "customer": "c1",
         "name": HOSTILE_NAME},
        {"id": "3", "type": "page_view", "ts": "2026-03-02T10:00:30Z", "visitor": "bob", "url": "/"},
    ])
    assert not result.errors
    return t


class TestReport:
    """A report shows as the HTML report body, and reprs as one line naming its range."""

    def test_repr_is_one_short_line(self) -> None:
        expected = "<Report all data (2026-03-02 .. 2026-03-02), UTC, as of 2026-03-02 10:01>"
        assert expected == repr(tracker().report())

    def test_html(self) -> None:
        html = tracker().report()._repr_html_()
        assert "<h1>all data (2026-03-02 .. 2026-03-02)</h1>" in html
        assert html.count("<svg") == 6  # every chart but the leaderboard (no agent) and the wait (no request)
        assert "<script" not in html

    def test_a_breakdown_table_displays(self) -> None:
        table = tracker().report().table("daily")
        expected = "<Table daily: 1 rows x 11 columns>"
        assert expected == repr(table)
        assert "<td class=n>2</td>" in table._repr_html_()


class TestLive:
    """A live page and a visitor detail show as escaped HTML tables and short reprs."""

    def test_live_page(self) -> None:
        page = tracker().online(AT)
        expected = "<LivePage 2 online at 2026-03-02T10:01:00Z, 2 shown>"
        assert expected == repr(page)
        html = page._repr_html_()
        assert "2 online at 2026-03-02 10:01:00 UTC" in html
        assert "/a&lt;b&gt;" in html
        assert "<img" not in html

    def test_visitor_detail(self) -> None:
        detail = tracker().visitor("ann", AT)
        assert detail is not None
        expected = "<VisitorDetail 'ann': online, 1 sessions, 0 requests, 0 orders>"
        assert expected == repr(detail)
        html = detail._repr_html_()
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "<img" not in html
