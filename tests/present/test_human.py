"""The human report's manners (analysis.md): heading, partial days, money, NPS, feedback,
24 hours, changes, and escaping of event text in text, Markdown and HTML."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.present.synthetic import compared, extended
from whoson import FixedClock, Tracker
from whoson.cli.render import render_report
from whoson.present.figures import outline, partial_days
from whoson.present.html import report_document
from whoson.present.markdown import report_markdown

HOSTILE = "\x1b[31mred\x07 <script>alert(1)</script> | **bold** \u202eevil"


def shop(scale: str | None = None, *, clock: datetime = datetime(2026, 3, 16, tzinfo=UTC)) -> Tracker:
    options: dict[str, Any] = {"currency": "EUR"}
    if scale is not None:
        options["rating_scale"] = scale
    return Tracker(clock=FixedClock(clock), **options)


def page_view(i: int, ts: str, visitor: str = "ann") -> dict[str, Any]:
    return {"id": f"p{i}", "type": "page_view", "ts": ts, "visitor": visitor, "url": "/"}


def survey(i: int, ts: str, rating: int | None, feedback: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {"id": f"s{i}", "type": "survey", "ts": ts, "visitor": f"v{i}"}
    if rating is not None:
        event["rating"] = rating
    if feedback is not None:
        event["feedback"] = feedback
    return event


class TestHeading:
    """The heading names the range as given, in local time of the zone, and as_of locally."""

    def test_the_spec_example(self) -> None:
        tracker = shop()
        tracker.record(page_view(1, "2026-03-10T10:00:00Z"))
        report = tracker.report("2026-03-09", "2026-03-16", tz="Europe/Berlin", as_of="2026-03-15T23:02:00Z")
        expected = "2026-03-09 .. 2026-03-15 (7 days), Europe/Berlin, as of 2026-03-16 00:02"
        assert expected == outline(report.to_dict()).heading

    def test_a_dst_day_is_still_one_day(self) -> None:
        # Europe/Berlin springs forward on 2026-03-29: that day has 23 hours.
        tracker = shop(clock=datetime(2026, 4, 1, tzinfo=UTC))
        report = tracker.report("2026-03-28", "2026-03-30", tz="Europe/Berlin")
        expected = "2026-03-28 .. 2026-03-29 (2 days), Europe/Berlin, as of 2026-04-01 02:00"
        assert expected == outline(report.to_dict()).heading

    def test_instants_show_local_time(self) -> None:
        tracker = shop()
        report = tracker.report("2026-03-09T08:00:00Z", "2026-03-09T16:00:00Z", tz="Europe/Berlin")
        expected = "2026-03-09 09:00 .. 2026-03-09 17:00 (8 hours), Europe/Berlin, as of 2026-03-16 01:00"
        assert expected == outline(report.to_dict()).heading

    def test_all_data_names_its_days(self) -> None:
        tracker = shop()
        tracker.record_many([page_view(1, "2026-03-02T10:00:00Z"), page_view(2, "2026-03-09T22:30:00Z")])
        report = tracker.report(tz="Europe/Berlin", as_of="2026-03-09T22:30:00Z")
        # 22:30Z on the 9th is 23:30 in Berlin: still the 9th.
        expected = "all data (2026-03-02 .. 2026-03-09), Europe/Berlin, as of 2026-03-09 23:30"
        assert expected == outline(report.to_dict()).heading

    def test_text_heading_has_no_microseconds_or_placeholders(self) -> None:
        tracker = shop()
        tracker.record(page_view(1, "2026-03-02T10:00:00.123456Z"))
        text = render_report(tracker.report(tz="Europe/Berlin", as_of="2026-03-02T10:00:00.123456Z"))
        expected = "whoson report  all data (2026-03-02 .. 2026-03-02), Europe/Berlin, as of 2026-03-02 11:00"
        assert expected == text.splitlines()[0]


class TestPartialDays:
    """A day cut short by the range or by as_of is marked partial; whole days are not."""

    def test_as_of_inside_the_last_day(self) -> None:
        tracker = shop()
        report = tracker.report("2026-03-09", "2026-03-12", tz="Europe/Berlin", as_of="2026-03-11T12:00:00Z")
        expected = [False, False, True]
        assert expected == partial_days(report.to_dict())
        daily = [line for line in render_report(report).splitlines() if line.startswith("2026-03-1")]
        expected_marks = [False, True]
        assert expected_marks == ["(partial)" in line for line in daily]

    def test_an_instant_start_cuts_the_first_day(self) -> None:
        tracker = shop()
        report = tracker.report("2026-03-09T12:00:00Z", "2026-03-11", tz="UTC")
        expected = [True, False]
        assert expected == partial_days(report.to_dict())

    def test_a_report_taken_at_the_end_is_whole(self) -> None:
        tracker = shop()
        report = tracker.report("2026-03-09", "2026-03-11", tz="UTC", as_of="2026-03-11T00:00:00Z")
        expected = [False, False]
        assert expected == partial_days(report.to_dict())


class TestFigures:
    """Money carries its currency, NPS says why it is missing, feedback counts texts."""

    def test_money_with_currency(self) -> None:
        tracker = shop()
        tracker.record({"id": "o", "type": "order", "ts": "2026-03-10T10:00:00Z", "visitor": "v", "order": "o1",
                        "subtotal": "1234.5", "currency": "EUR"})
        text = render_report(tracker.report("2026-03-10", "2026-03-11"), "EUR")
        expected = "1,234.50 EUR"
        assert expected == re.search(r"all GMV\s+(.*)", text).group(1).strip()  # type: ignore[union-attr]

    def test_nps_needs_a_0_to_10_scale(self) -> None:
        tracker = shop()
        tracker.record(survey(1, "2026-03-10T10:00:00Z", 5, None))
        lines = outline(tracker.report("2026-03-10", "2026-03-11").to_dict()).section("Ratings").lines
        expected = "needs a 0..10 scale"
        assert expected == next(line.value for line in lines if line.label == "NPS")

    def test_nps_on_0_to_10(self) -> None:
        tracker = shop("0..10")
        tracker.record_many([survey(1, "2026-03-10T10:00:00Z", 10, None), survey(2, "2026-03-10T10:01:00Z", 9, None),
                             survey(3, "2026-03-10T10:02:00Z", 3, None)])
        lines = outline(tracker.report("2026-03-10", "2026-03-11").to_dict()).section("Ratings").lines
        # promoters 2/3 - detractors 1/3 = +33 points
        expected = "+33"
        assert expected == next(line.value for line in lines if line.label == "NPS")

    def test_nps_without_ratings_on_0_to_10(self) -> None:
        tracker = shop("0..10")
        lines = outline(tracker.report("2026-03-10", "2026-03-11").to_dict()).section("Ratings").lines
        expected = "no ratings"
        assert expected == next(line.value for line in lines if line.label == "NPS")

    def test_with_feedback_counts_texts(self) -> None:
        tracker = shop()
        tracker.record_many([survey(1, "2026-03-10T10:00:00Z", 4, "nice"), survey(2, "2026-03-10T10:01:00Z", 2, None),
                             survey(3, "2026-03-10T10:02:00Z", None, "slow")])
        lines = outline(tracker.report("2026-03-10", "2026-03-11").to_dict()).section("Ratings").lines
        expected = "2 of 3 surveys"
        assert expected == next(line.value for line in lines if line.label == "with feedback")

    def test_hourly_table_has_24_rows(self) -> None:
        tracker = shop()
        tracker.record({"id": "r", "type": "request", "ts": "2026-03-10T13:30:00Z", "visitor": "v", "request": "r1",
                        "channel": "video", "initiator": "visitor"})
        text = render_report(tracker.report("2026-03-10", "2026-03-11", tz="Europe/Berlin"))
        rows = re.findall(r"^(\d\d):00\s+(\d+)\s+(\d+)\s+(\d+)$", text, re.MULTILINE)
        expected = ([f"{h:02d}" for h in range(24)], ("14", "0", "1", "1"))
        assert expected == ([r[0] for r in rows], rows[14])


class TestChangesAndNewSections:
    """Sections from other branches render from to_dict(): changes, breakdown, pages, experiments, wait."""

    @pytest.fixture
    def tree(self, sim_tracker: Tracker) -> dict[str, Any]:
        current = sim_tracker.report("2026-03-05", "2026-03-08").to_dict()
        previous = sim_tracker.report("2026-03-02", "2026-03-05").to_dict()
        return extended(compared(current, previous))

    def test_text_shows_the_change_next_to_each_figure(self, tree: dict[str, Any]) -> None:
        now, before = tree["visitors"]["total"], tree["previous"]["visitors"]["total"]
        delta = now - before
        expected = ["unique", "visitors", f"{now:,}", f"{delta:+d}", f"({(now / before - 1) * 100:+.1f}%)"]
        text = render_report(tree)
        assert expected == next(line.split() for line in text.splitlines() if "unique visitors" in line)
        assert "compared with 2026-03-02 .. 2026-03-04 (3 days)" in text

    def test_every_new_section_appears(self, tree: dict[str, Any]) -> None:
        text, md, html = render_report(tree), report_markdown(tree), report_document(tree)
        for needle in ("Breakdown", "Pages", "Invitation experiments", "How visitor requests end", "cart-rescue",
                       "-12.0 pp .. +25.0 pp"):
            assert needle in text
            assert needle in md
            assert needle in html.replace("&#x27;", "'")
        assert "/&lt;b&gt;odd&lt;/b&gt;" in html

    def test_rates_change_in_points(self, tree: dict[str, Any]) -> None:
        change = tree["change"]["visitors.widget_ctr"]
        line = next(x for x in outline(tree).section("Visitors").lines if x.key == "visitors.widget_ctr")
        expected = f"{'+' if change['delta'] > 0 else '-'}{abs(change['delta']) * 100:.1f} pts"
        assert expected == line.change


class TestEscaping:
    """Event text never reaches a terminal, a Markdown table or a page as markup or control codes."""

    @pytest.fixture
    def tree(self) -> dict[str, Any]:
        tracker = shop()
        tracker.record_many([
            {"id": "1", "type": "request", "ts": "2026-03-10T10:00:00Z", "visitor": "v", "request": "r1",
             "channel": "text", "initiator": "visitor", "url": "/x|<i>y</i>"},
            {"id": "2", "type": "message", "ts": "2026-03-10T10:00:10Z", "visitor": "v", "request": "r1",
             "sender": "agent", "agent": "bo"},
            survey(3, "2026-03-10T10:05:00Z", 4, HOSTILE),
        ])
        return tracker.report("2026-03-10", "2026-03-11").to_dict()

    def test_text(self, tree: dict[str, Any]) -> None:
        text = render_report(tree)
        assert "\x1b" not in text
        assert "\u202e" not in text
        assert "\\x1b[31mred\\x07" in text

    def test_markdown(self, tree: dict[str, Any]) -> None:
        md = report_markdown(tree)
        feedback_row = next(line for line in md.splitlines() if "alert" in line)
        expected = 6  # when, visitor, agent, rating, feedback: 5 cells, 6 unescaped pipes
        assert expected == len(re.findall(r"(?<!\\)\|", feedback_row))
        assert "\\<script\\>" in feedback_row
        assert "\\*\\*bold\\*\\*" in feedback_row

    def test_html(self, tree: dict[str, Any]) -> None:
        html = report_document(tree)
        assert "<script" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "/x|&lt;i&gt;y&lt;/i&gt;" in html
        assert "\u202e" not in html
