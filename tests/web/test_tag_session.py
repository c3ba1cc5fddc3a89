"""A scripted browsing session in Chromium gives exactly the figures counted by hand; the invitation bubble."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .conftest import LiveServer
from .test_tag import events, wait_for

pytestmark = pytest.mark.timeout(90)

SHOTS = Path(__file__).parent / "screenshots"


class TestScriptedSession:
    """Two visitors click through the demo shop; the report and the live view match a hand count."""

    def test_report_matches_hand_count(self, live_server: LiveServer, browser: Any) -> None:
        """Ann buys socks over five pages; Bob reads help, switches topic (SPA) and clicks the chat widget."""
        ann_context, bob_context = browser.new_context(), browser.new_context()
        try:
            ann, bob = ann_context.new_page(), bob_context.new_page()
            # Ann: home -> products -> add socks (to /cart) -> checkout -> place order (to /thanks).
            ann.goto(live_server.url + "/")
            ann.click("text=All products")
            ann.click("#add-wool-socks")
            ann.wait_for_url("**/cart")
            ann.click("#to-checkout")
            ann.click("#place-order")
            ann.wait_for_selector("#thanks")
            # Bob: help -> returns (pushState) -> "Chat with us" (the chat panel asks for a chat).
            bob.goto(live_server.url + "/help")
            bob.click("a[data-topic=returns]")
            bob.click("#chat-widget")
            wait_for(lambda: len(events(live_server, "page_view")) == 7 and events(live_server, "request"), 8)
            wait_for(lambda: events(live_server, "widget_click"))
            SHOTS.mkdir(exist_ok=True)
            bob.screenshot(path=str(SHOTS / "demo-shop-chat.png"))
            ann.screenshot(path=str(SHOTS / "demo-shop-thanks.png"))
        finally:
            ann_context.close()
            bob_context.close()
        tracker = live_server.tracker
        today = datetime.now(UTC).date()
        report = tracker.report(today, today + timedelta(days=1)).to_dict()
        visitors = report["visitors"]
        assert (2, 2, 0, 2, 1) == (visitors["total"], visitors["sessions"], visitors["returning"],
                                   visitors["with_impression"], visitors["with_click"])
        assert Decimal("0.5") == Decimal(str(visitors["widget_ctr"]))
        requests = report["requests"]
        assert (1, 1, {"visitor": 1, "agent": 0, "auto": 0}, 1) == (
            requests["total"], requests["text"], requests["by_initiator"], requests["pending"])
        assert 0 == report["conversations"]["total"]
        sales = report["sales"]
        assert (1, Decimal("14.50"), 0) == (sales["all_orders"], Decimal(str(sales["all_gmv"])),
                                            sales["attributed_orders"])
        assert 0 == Decimal(str(report["support"]["cart_abandonment_rate"]))
        rows = {row.url: row for row in tracker.online().rows}
        assert ["/help/returns", "/thanks"] == sorted(rows)
        assert (5, 2) == (rows["/thanks"].pages_viewed, rows["/help/returns"].pages_viewed)
        assert [e["url"] for e in events(live_server, "page_view")].count("/cart") == 1
        assert 6 == len(events(live_server, "widget_impression"))


class TestInvitationBubble:
    """An invitation in the collector's reply shows an accessible bubble and a DOM event."""

    INVITE: ClassVar[dict[str, Any]] = {
        "request": "r-inv", "agent": "ann", "message": "Need a hand with sizes?", "channel": "text",
        "initiator": "agent", "trigger": None, "link": None}

    def _invite_once(self, page: Any) -> list[dict[str, Any]]:
        declined: list[dict[str, Any]] = []

        def collect(route: Any) -> None:
            response = route.fetch()
            body = response.json()
            if not getattr(self, "_sent", False):
                self._sent = True
                body["invite"] = self.INVITE
            route.fulfill(response=response, json=body)

        page.route("**/whoson/collect", collect)
        page.route("**/whoson/chat/decline", lambda r: (declined.append(json.loads(r.request.post_data)),
                                                        r.fulfill(status=202, json={}))[1])
        page.route("**/whoson/chat.js", lambda r: r.fulfill(
            content_type="text/javascript",
            body="window.whosonChat = {open: function (o) { window.__chat = o; }};"))
        return declined

    def test_accept(self, live_server: LiveServer, page: Any) -> None:
        """The bubble carries the agent's words; accepting records a notification click and opens the chat."""
        self._invite_once(page)
        page.add_init_script("window.addEventListener('whoson:invite', e => { window.__invite = e.detail; });")
        page.goto(live_server.url + "/products")
        bubble = page.wait_for_selector("#whoson-bubble")
        assert "Need a hand with sizes?" in bubble.inner_text()
        assert ("dialog", "Chat invitation") == (bubble.get_attribute("role"), bubble.get_attribute("aria-label"))
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "invitation-bubble.png"))
        assert "r-inv" == page.evaluate("window.__invite.request")
        page.click("#whoson-accept")
        opened = page.wait_for_function("window.__chat").json_value()
        ids = page.evaluate("whoson('ids')")
        assert (ids["visitor"], ids["tab"], "r-inv") == (opened["visitor"], opened["tab"], opened["invite"]["request"])
        clicks = wait_for(lambda: events(live_server, "widget_click"), page=page)
        assert ["notification"] == [c["source"] for c in clicks]
        assert 0 == page.locator("#whoson-bubble").count()

    def test_dismiss_with_escape(self, live_server: LiveServer, page: Any) -> None:
        """Escape dismisses the bubble and tells the server the visitor declined."""
        declined = self._invite_once(page)
        page.goto(live_server.url + "/")
        page.wait_for_selector("#whoson-bubble")
        page.keyboard.press("Escape")
        wait_for(lambda: declined, page=page)
        assert "r-inv" == declined[0]["request"]
        assert 0 == page.locator("#whoson-bubble").count()
        assert [] == events(live_server, "widget_click")

    def test_host_widget_takes_over(self, live_server: LiveServer, page: Any) -> None:
        """A host that cancels whoson:invite shows its own widget: no bubble."""
        self._invite_once(page)
        page.add_init_script(
            "window.addEventListener('whoson:invite', e => { e.preventDefault(); window.__own = 1; });")
        page.goto(live_server.url + "/")
        page.wait_for_function("window.__own === 1")
        page.wait_for_timeout(300)
        assert 0 == page.locator("#whoson-bubble").count()
