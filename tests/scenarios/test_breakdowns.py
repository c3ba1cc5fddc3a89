"""Hand-derived scenarios for breakdowns (``by=``) and the ``pages`` table (analysis.md).

The shop below is read in Europe/Berlin around the spring-forward night
(2026-03-29: 02:00 CET -> 03:00 CEST, 2026-03-29 local midnight = 2026-03-28T23:00Z).

- v1, session 1 (starts 22:50Z on 03-28 = 23:50 local, runs past local midnight):
  landing ``/?utm_source=mail&utm_campaign=spring``, DE, mobile, from google;
  sees and clicks the widget after midnight, asks r1 (visitor, text, sales),
  a1 answers, orders o1 (80) -> attributed to r1.
- v1, session 2 (next morning, 10:00Z): ``/shoes``, FR, desktop, no referrer;
  orders o2 (20) -> attributed to r1, a conversation of *another* session.
- v2: no page view at all (so ``(none)`` for every page-view dimension);
  a2 starts r2 (agent, video, no department), v2 joins: a conversation.
- v3: ``/help`` twice, no country, desktop, from News.Example; sees the widget;
  asks r3 (visitor, text, support) that nobody answers (unsuccessful at as_of).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.scenarios.helpers import Events, close, report, tracker
from whoson.core.errors import ConfigError

AS_OF = "2026-03-30T12:00:00Z"
BERLIN = "Europe/Berlin"
LANDING = "/?utm_source=mail&utm_campaign=spring"


def shop() -> list[dict[str, object]]:
    """The shop of the module docstring."""
    ev = Events()
    return [
        ev.page_view("v1", "2026-03-28T22:50:00Z", LANDING, country="DE", device="mobile",
                     referrer="https://www.google.com/search?q=boots"),
        ev.impression("v1", "2026-03-28T23:05:00Z"),
        ev.click("v1", "2026-03-28T23:06:00Z"),
        ev.request("v1", "2026-03-28T23:10:00Z", "r1", department="sales"),
        ev.agent_msg("v1", "2026-03-28T23:11:00Z", "r1", "a1"),
        ev.order("v1", "2026-03-28T23:20:00Z", "o1", "80"),
        ev.page_view("v1", "2026-03-29T10:00:00Z", "/shoes", country="FR", device="desktop"),
        ev.order("v1", "2026-03-29T10:05:00Z", "o2", "20"),
        ev.request("v2", "2026-03-29T09:00:00Z", "r2", channel="video", initiator="agent",
                   agent="a2"),
        ev.visitor_join("v2", "2026-03-29T09:01:00Z", "r2"),
        ev.page_view("v3", "2026-03-29T09:30:00Z", "/help", device="desktop",
                     referrer="https://News.Example/a"),
        ev.impression("v3", "2026-03-29T09:30:30Z"),
        ev.request("v3", "2026-03-29T09:31:00Z", "r3", department="support"),
        ev.page_view("v3", "2026-03-29T09:40:00Z", "/help"),
    ]


def row(value: str, visitors: int, seen: int, clicked: int, ctr: float | None, requests: int,
        conversations: int, acceptance: float | None, orders: int, gmv: str,
        conversion: float | None) -> dict[str, Any]:
    """One breakdown row, positional in the contract's key order."""
    return {
        "value": value, "visitors": visitors, "with_impression": seen, "with_click": clicked,
        "widget_ctr": ctr, "requests": requests, "conversations": conversations,
        "visitor_request_rate": acceptance, "attributed_orders": orders,
        "attributed_gmv": Decimal(gmv), "conversion_rate": conversion,
    }


# v1's first session: everything of r1 and o1; conversion 1/1.
FIRST: dict[str, Any] = {
    "visitors": 1, "seen": 1, "clicked": 1, "ctr": 1.0, "requests": 1, "conversations": 1,
    "acceptance": 1.0, "orders": 1, "gmv": "80", "conversion": 1.0,
}
# v1's second session: only o2 (attributed to r1 of the first session); no conversation in it.
SECOND: dict[str, Any] = {
    "visitors": 1, "seen": 0, "clicked": 0, "ctr": None, "requests": 0, "conversations": 0,
    "acceptance": None, "orders": 1, "gmv": "20", "conversion": None,
}
# v2 alone: r2 (agent request, so no visitor acceptance), a conversation without an order.
V2: dict[str, Any] = {
    "visitors": 1, "seen": 0, "clicked": 0, "ctr": None, "requests": 1, "conversations": 1,
    "acceptance": None, "orders": 0, "gmv": "0", "conversion": 0.0,
}
# v3 alone: saw the widget, r3 unanswered (visitor acceptance 0/1), nothing bought.
V3: dict[str, Any] = {
    "visitors": 1, "seen": 1, "clicked": 0, "ctr": 0.0, "requests": 1, "conversations": 0,
    "acceptance": 0.0, "orders": 0, "gmv": "0", "conversion": None,
}


def breakdown(by: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = report(shop(), as_of=AS_OF, tz=BERLIN, by=by, **params)[
        "breakdown"]
    return rows


class TestSessionDimensions:
    """Each session-level dimension takes its value from the session of the entity's event."""

    def test_country(self) -> None:
        """v2 (no page view) and v3 (no country) share (none); o2 counts in FR, its session."""
        assert close([
            # v2 + v3: r2 and r3, one conversation (r2, v2), v3 saw the widget; nothing bought.
            row("(none)", 2, 1, 0, 0.0, 2, 1, 0.0, 0, "0", 0.0),
            row("DE", **FIRST),
            row("FR", **SECOND),
        ]) == breakdown("country")

    def test_device(self) -> None:
        """desktop holds v1's second session and v3; ties (1 visitor) go by value."""
        assert close([
            # v1 (session 2: o2) and v3 (widget, r3): no conversation, so no conversion rate.
            row("desktop", 2, 1, 0, 0.0, 1, 0, 0.0, 1, "20", None),
            row("(none)", **V2),
            row("mobile", **FIRST),
        ]) == breakdown("device")

    def test_referrer(self) -> None:
        """Host names (lower case); (direct) without a referrer; (none) without a page view."""
        assert close([
            row("(direct)", **SECOND),
            row("(none)", **V2),
            row("news.example", **V3),
            row("www.google.com", **FIRST),
        ]) == breakdown("referrer")

    def test_landing_page(self) -> None:
        """The session's first page view url, query included."""
        assert close([
            row("(none)", **V2),
            row(LANDING, **FIRST),
            row("/help", **V3),
            row("/shoes", **SECOND),
        ]) == breakdown("landing_page")

    @pytest.mark.parametrize(("by", "value"), [("utm_source", "mail"), ("utm_campaign", "spring")])
    def test_utm(self, by: str, value: str) -> None:
        """Only v1's first session landed with utm values; the rest is (none)."""
        assert close([
            # v1 (session 2: o2), v2 (r2, conversation), v3 (widget, r3): v2 talked, v1 bought.
            row("(none)", 3, 1, 0, 0.0, 2, 1, 0.0, 1, "20", 0.0),
            row(value, **FIRST),
        ]) == breakdown(by)

    def test_returning(self) -> None:
        """Every visitor's first session is new; v1's second one is returning."""
        assert close([
            # v1 s1, v2, v3: widget v1+v3, click v1; r1 conv, r2 conv, r3 not; o1.
            row("new", 3, 2, 1, 0.5, 3, 2, 0.5, 1, "80", 0.5),
            row("returning", **SECOND),
        ]) == breakdown("returning")


class TestRequestDimensions:
    """Request-level dimensions: requests by their field, orders by their attributing request."""

    def test_channel(self) -> None:
        """Both of v1's orders follow r1 (text); widget counts are the requesters' own."""
        assert close([
            # v1 (r1) and v3 (r3): both saw the widget, v1 clicked; r1 conv; o1 + o2.
            row("text", 2, 2, 1, 0.5, 2, 1, 0.5, 2, "100", 1.0),
            row("video", **V2),
        ]) == breakdown("channel")

    def test_initiator(self) -> None:
        """The same split by who started the request."""
        assert close([
            row("visitor", 2, 2, 1, 0.5, 2, 1, 0.5, 2, "100", 1.0),
            row("agent", **V2),
        ]) == breakdown("initiator")

    def test_department(self) -> None:
        """A request without a department is (none)."""
        assert close([
            row("(none)", **V2),
            row("sales", 1, 1, 1, 1.0, 1, 1, 1.0, 2, "100", 1.0),
            row("support", **V3),
        ]) == breakdown("department")


class TestBreakdownRange:
    """Session values come from the session's first page view even when it is out of range."""

    def test_session_straddling_midnight(self) -> None:
        """From local 2026-03-29: v1's session began 10 min before, in DE; its entities count."""
        rows = breakdown("country", start="2026-03-29", end="2026-03-30")
        assert close(row("DE", **FIRST)) == rows[1]

    def test_day_before(self) -> None:
        """Local 2026-03-28 holds only v1's landing page view."""
        assert close([row("DE", 1, 0, 0, None, 0, 0, None, 0, "0", None)]) == breakdown(
            "country", end="2026-03-29")

    def test_sums_match_the_report(self) -> None:
        """Requests, conversations and attributed sales of the rows add up to the report."""
        d = report(shop(), as_of=AS_OF, tz=BERLIN, by="utm_source")
        rows = d["breakdown"]
        assert (3, 2, 2, Decimal("100")) == (
            sum(r["requests"] for r in rows), sum(r["conversations"] for r in rows),
            sum(r["attributed_orders"] for r in rows), sum(r["attributed_gmv"] for r in rows))
        assert (3, 2, 2, Decimal("100")) == (
            d["requests"]["total"], d["conversations"]["total"],
            d["sales"]["attributed_orders"], d["sales"]["attributed_gmv"])

    def test_incremental_equals_fresh(self) -> None:
        """A breakdown asked for before more events arrive is kept up to date."""
        events = shop()
        t = tracker(events[:6], as_of=AS_OF, tz=BERLIN)
        assert [("DE", 1)] == [(r.value, r.requests) for r in t.report(by="country").breakdown]
        assert t.record_many(events[6:]).rejected == 0
        assert [r.value for r in t.report(by="country").breakdown] == ["(none)", "DE", "FR"]
        assert t.report(by="country").to_dict() == report(events, as_of=AS_OF, tz=BERLIN,
                                                          by="country")

    def test_without_by_no_breakdown(self) -> None:
        """Without ``by`` the report has no breakdown key at all."""
        assert "breakdown" not in report(shop(), as_of=AS_OF)

    def test_unknown_dimension(self) -> None:
        """An unknown dimension is an error naming the value and the choices."""
        with pytest.raises(ConfigError, match="by 'colour' must be one of country, device"):
            report(shop(), as_of=AS_OF, by="colour")


def pages_shop() -> list[dict[str, object]]:
    """Three viewers of /a and /b, requests found by url or by the latest page view."""
    ev = Events()
    return [
        ev.page_view("p1", "2026-03-02T10:00:00Z", "/a"),
        ev.page_view("p1", "2026-03-02T10:01:00Z", "/b"),
        ev.page_view("p1", "2026-03-02T10:02:00Z", "/a"),
        # r1 has no url: p1's latest page view at 10:03 is /a. a1 answers: a conversation.
        ev.request("p1", "2026-03-02T10:03:00Z", "r1"),
        ev.agent_msg("p1", "2026-03-02T10:03:30Z", "r1", "a1"),
        ev.page_view("p2", "2026-03-02T10:00:00Z", "/a"),
        ev.page_view("p2", "2026-03-02T10:04:00Z", "/b"),
        # p2 *receives* r2 (agent request) on /b (latest page view); never answered.
        ev.request("p2", "2026-03-02T10:05:00Z", "r2", initiator="agent", agent="a1"),
        ev.page_view("p3", "2026-03-02T11:00:00Z", "/b"),
        # r3 names /c, which nobody viewed: in top_urls, not in pages.
        ev.request("p3", "2026-03-02T11:01:00Z", "r3", url="/c"),
        # p4 has no page view and r4 no url: it counts for no page.
        ev.request("p4", "2026-03-02T12:00:00Z", "r4"),
    ]


def page(url: str, views: int, visitors: int, requests: int, conversations: int,
         chat_rate: float | None) -> dict[str, Any]:
    return {"url": url, "page_views": views, "visitors": visitors, "requests": requests,
            "conversations": conversations, "chat_rate": chat_rate}


class TestPages:
    """The pages table: views, viewers, requests by url, and the chat rate of viewers."""

    def test_whole_log(self) -> None:
        """/a: p1 twice + p2, r1 on it; /b: p1, p2, p3, r2 received by p2 there; ties by url."""
        d = report(pages_shop(), as_of="2026-03-02T13:00:00Z")
        assert close([
            page("/a", 3, 2, 1, 1, 1 / 2),   # chatted: p1 (r1) of {p1, p2}
            page("/b", 3, 3, 1, 0, 1 / 3),   # chatted: p2 (r2) of {p1, p2, p3}
        ]) == d["pages"]
        assert {"/a": 1, "/b": 1, "/c": 1} == {u["url"]: u["requests"]
                                              for u in d["requests"]["top_urls"]}

    def test_range(self) -> None:
        """From 10:01:30 only p1's second /a and p2, p3 on /b are in range: most views first."""
        d = report(pages_shop(), as_of="2026-03-02T13:00:00Z", start="2026-03-02T10:01:30Z")
        assert close([
            page("/b", 2, 2, 1, 0, 1 / 2),   # p2 (r2) of {p2, p3}
            page("/a", 1, 1, 1, 1, 1.0),     # p1 (r1)
        ]) == d["pages"]

    def test_no_page_views(self) -> None:
        """A log without page views has an empty pages table (the key is still there)."""
        ev = Events()
        d = report([ev.request("x", "2026-03-02T10:00:00Z", "r", url="/a")],
                   as_of="2026-03-02T11:00:00Z")
        assert [] == d["pages"]
