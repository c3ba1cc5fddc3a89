"""The tag t.js in a real Chromium against a real server: what reaches the store, and when."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import LiveServer

pytestmark = pytest.mark.timeout(60)


def events(server: LiveServer, kind: str | None = None) -> list[dict[str, Any]]:
    """Stored events in arrival order (optionally one type)."""
    found = [s.event.to_dict() for s in server.tracker.store.read()]
    return [e for e in found if kind is None or e["type"] == kind]


def wait_for(check: Callable[[], Any], timeout: float = 5.0, page: Any = None) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds.

    With ``page``, the wait lets Playwright run its route handlers (its sync
    API only dispatches them while one of its own calls waits).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        pause(0.05, page)


def pause(seconds: float, page: Any = None) -> None:
    """Sleep; through the page when given, so route handlers keep running."""
    if page is not None:
        page.wait_for_timeout(seconds * 1000)
    else:
        time.sleep(seconds)


def hide(page: Any) -> None:
    """Hide the tab as Chromium does when the visitor switches away.

    Headless Chromium never hides a page (bring_to_front and a minimised
    window keep it visible), so the property flips and the event fires by hand.
    """
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")


def show(page: Any) -> None:
    """Show the tab again (see :func:`hide`)."""
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")


class TestFirstView:
    """Opening a page carrying the tag stores one page_view with server time and the visitor's ids."""

    def test_first_page_view(self, live_server: LiveServer, page: Any) -> None:
        """Visitor id in localStorage and the cookie; tab and page-view ids on the event; server time."""
        opened = datetime.now(UTC)
        page.goto(live_server.url + "/products?utm_source=mail&email=a%40b.c")
        viewed = wait_for(lambda: events(live_server, "page_view"))
        ids = page.evaluate("whoson('ids')")
        cookie = {c["name"]: c["value"] for c in page.context.cookies()}["whoson_vid"]
        event = viewed[0]
        assert 1 == len(viewed)
        assert (ids["visitor"], ids["visitor"]) == (event["visitor"], cookie)
        assert ids["visitor"] == page.evaluate("localStorage.getItem('whoson_vid')")
        assert (ids["tab"], ids["pageview"]) == (event["tab"], event["pageview"])
        assert ("/products?utm_source=mail", "Products · Trailhead demo shop") == (event["url"], event["title"])
        assert ("desktop", True) == (event["device"], event["automation"])
        ts = datetime.fromisoformat(event["ts"].replace("Z", "+00:00"))
        assert opened - timedelta(seconds=1) <= ts <= datetime.now(UTC)

    def test_returning_visitor_keeps_id(self, live_server: LiveServer, page: Any) -> None:
        """A second page load in the same browser is the same visitor, in the same tab."""
        page.goto(live_server.url + "/")
        wait_for(lambda: events(live_server, "page_view"))
        page.goto(live_server.url + "/help")
        viewed = wait_for(lambda: len(events(live_server, "page_view")) == 2 and events(live_server, "page_view"))
        assert 1 == len({e["visitor"] for e in viewed})
        assert 1 == len({e["tab"] for e in viewed})
        assert 2 == len({e["pageview"] for e in viewed})


    def test_background_tab_waits_until_shown(self, live_server: LiveServer, page: Any) -> None:
        """A page opened in a background tab is viewed only once the visitor shows it."""
        page.add_init_script("""
            Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
            Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});""")
        page.goto(live_server.url + "/help")
        page.wait_for_function("typeof whoson === 'function'")
        page.wait_for_timeout(700)
        assert [] == events(live_server, "page_view")
        show(page)
        viewed = wait_for(lambda: events(live_server, "page_view"))
        assert ["/help"] == [e["url"] for e in viewed]


class TestSinglePageApp:
    """History API navigation makes page views; repeats of the same path do not."""

    def test_push_replace_back(self, live_server: LiveServer, page: Any) -> None:
        """pushState, replaceState to the same path, an anchor, back: exactly the expected views."""
        page.goto(live_server.url + "/help")
        wait_for(lambda: events(live_server, "page_view"))
        page.click("a[data-topic=returns]")
        wait_for(lambda: len(events(live_server, "page_view")) == 2)
        page.evaluate("history.replaceState({}, '', '/help/returns')")
        page.evaluate("location.hash = 'faq'")
        page.click("a[data-topic=sizes]")
        wait_for(lambda: len(events(live_server, "page_view")) == 3)
        page.evaluate("history.replaceState({}, '', '/help/sizes?utm_campaign=x')")
        wait_for(lambda: len(events(live_server, "page_view")) == 4)
        page.go_back()
        wait_for(lambda: len(events(live_server, "page_view")) == 5)
        time.sleep(0.5)
        viewed = events(live_server, "page_view")
        assert ["/help", "/help/returns", "/help/sizes", "/help/sizes?utm_campaign=x", "/help/returns"] == [
            e["url"] for e in viewed]
        assert 5 == len({e["pageview"] for e in viewed})

    def test_back_forward_cache_restore(self, live_server: LiveServer, page: Any) -> None:
        """Going back to a page (restored from the back-forward cache or loaded again) is a new view."""
        page.goto(live_server.url + "/products")
        wait_for(lambda: events(live_server, "page_view"))
        page.click("text=Help")
        wait_for(lambda: len(events(live_server, "page_view")) == 2)
        page.go_back()
        viewed = wait_for(lambda: len(events(live_server, "page_view")) == 3 and events(live_server, "page_view"))
        assert ["/products", "/help", "/products"] == [e["url"] for e in viewed]


class TestHeartbeatsAndLeave:
    """Heartbeats only while visible; a leave by beacon when hidden or closed."""

    def test_hidden_tab_sends_no_heartbeats(self, make_server: Callable[..., LiveServer], page: Any) -> None:
        """Beats every second while visible; hidden: a leave and no beat; visible again: a new view."""
        server = make_server(heartbeat_seconds=1)
        page.goto(server.url + "/")
        wait_for(lambda: events(server, "heartbeat"), timeout=6)
        hide(page)
        left = wait_for(lambda: events(server, "page_leave"))
        beats = len(events(server, "heartbeat"))
        time.sleep(1.6)
        assert beats == len(events(server, "heartbeat"))
        assert 1 == len(left)
        show(page)
        wait_for(lambda: len(events(server, "page_view")) == 2)
        wait_for(lambda: len(events(server, "heartbeat")) > beats, timeout=4)

    def test_reply_changes_interval(self, live_server: LiveServer, page: Any) -> None:
        """The collector's reply sets the interval: a reply saying 1 s beats the page every second."""

        def answer(route: Any) -> None:
            response = route.fetch()
            body = response.json()
            route.fulfill(response=response, json={**body, "heartbeat": 1})

        page.route("**/whoson/collect", answer)
        page.goto(live_server.url + "/")
        wait_for(lambda: len(events(live_server, "heartbeat")) >= 3, timeout=8, page=page)
        beats = events(live_server, "heartbeat")
        # Server-stamped times jitter by the request's own delay on a loaded machine: the mean
        # of two gaps is about 1 s, far from the default 30 s.
        span = datetime.fromisoformat(beats[2]["ts"][:-1]) - datetime.fromisoformat(beats[0]["ts"][:-1])
        assert 0.5 <= span.total_seconds() / 2 <= 1.8

    def test_leave_beacon_on_close(self, live_server: LiveServer, page: Any) -> None:
        """Closing the tab sends page_leave for the page view that was open."""
        page.goto(live_server.url + "/cart")
        viewed = wait_for(lambda: events(live_server, "page_view"))[0]
        page.close()
        left = wait_for(lambda: events(live_server, "page_leave"))
        assert 1 == len(left)
        assert (viewed["pageview"], "/cart") == (left[0]["pageview"], left[0]["url"])


class TestRetries:
    """Network errors, 5xx and 429 are retried with backoff; other 4xx never."""

    def test_retry_after_503(self, live_server: LiveServer, page: Any) -> None:
        """A 503 then a 429 with Retry-After: the batch arrives on the third try, stored once."""
        attempts: list[float] = []

        def answer(route: Any) -> None:
            attempts.append(time.monotonic())
            if len(attempts) == 1:
                route.fulfill(status=503, body="store unavailable\n")
            elif len(attempts) == 2:
                route.fulfill(status=429, headers={"Retry-After": "2"}, body="slow down\n")
            else:
                route.continue_()

        page.route("**/whoson/collect", answer)
        page.goto(live_server.url + "/")
        viewed = wait_for(lambda: events(live_server, "page_view"), timeout=8, page=page)
        assert 3 == len(attempts)
        assert attempts[1] - attempts[0] >= 0.9
        assert attempts[2] - attempts[1] >= 1.9
        assert 1 == len(viewed)

    def test_no_retry_after_400(self, live_server: LiveServer, page: Any) -> None:
        """A 400 drops the batch: no second try, and later events still go out."""
        bodies: list[dict[str, Any]] = []

        def answer(route: Any) -> None:
            bodies.append(json.loads(route.request.post_data))
            if len(bodies) == 1:
                route.fulfill(status=400, body="bad batch\n")
            else:
                route.continue_()

        page.route("**/whoson/collect", answer)
        page.goto(live_server.url + "/")
        wait_for(lambda: bodies, page=page)
        pause(1.6, page)
        assert 1 == len(bodies)
        page.evaluate("whoson('track', 'widget_click', {source: 'widget'})")
        wait_for(lambda: events(live_server, "widget_click"), page=page)
        assert 2 == len(bodies)
        assert [] == events(live_server, "page_view")


class TestConsent:
    """In consent mode nothing is stored or sent until the host says yes."""

    PAGE = """<!doctype html><title>Consent</title>
<script defer src="/whoson/t.js" data-consent="required"></script><p>hello</p>"""

    def test_consent_queue(self, live_server: LiveServer, page: Any) -> None:
        """Before consent: no request, no id, no cookie. After: the page view, timed when the page opened."""
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url) if "/collect" in r.url else None)
        page.route(live_server.url + "/consent", lambda r: r.fulfill(body=self.PAGE, content_type="text/html"))
        opened = datetime.now(UTC)
        page.goto(live_server.url + "/consent")
        page.wait_for_function("typeof whoson === 'function'")
        time.sleep(1.0)
        assert ([], None, []) == (requests, page.evaluate("localStorage.getItem('whoson_vid')"),
                                  page.context.cookies())
        page.evaluate("whoson('consent', true)")
        viewed = wait_for(lambda: events(live_server, "page_view"))
        ts = datetime.fromisoformat(viewed[0]["ts"].replace("Z", "+00:00"))
        assert opened - timedelta(seconds=1) <= ts <= opened + timedelta(seconds=1)
        assert viewed[0]["visitor"] == page.evaluate("localStorage.getItem('whoson_vid')")

    def test_opt_out(self, live_server: LiveServer, page: Any) -> None:
        """An opted-out browser sends nothing on the next pages."""
        page.goto(live_server.url + "/")
        wait_for(lambda: events(live_server, "page_view"))
        page.evaluate("whoson('optout', true)")
        page.goto(live_server.url + "/help")
        time.sleep(0.7)
        assert ["/"] == [e["url"] for e in events(live_server, "page_view")]


class TestForgeryAndClock:
    """A browser cannot forge money, and its clock cannot move a figure."""

    def test_forged_order_rejected(self, live_server: LiveServer, page: Any) -> None:
        """An order posted from the page's console is rejected; the report has no order."""
        page.goto(live_server.url + "/")
        wait_for(lambda: events(live_server, "page_view"))
        reply = page.evaluate("""async () => {
            const ids = whoson('ids');
            const r = await fetch(ids.prefix + '/collect', {method: 'POST', body: JSON.stringify({
                visitor: ids.visitor,
                events: [{id: 'forged', type: 'order', order: 'X1', subtotal: '999.00', age_ms: 0}]})});
            return [r.status, await r.json()];
        }""")
        assert [202, [{"index": 0, "field": "type", "rule": "not accepted from a browser"}]] == [
            reply[0], reply[1]["rejected"]]
        assert (0, 0) == (live_server.tracker.report().sales.all_orders, len(events(live_server, "order")))

    def test_wrong_clock_moves_no_figure(self, live_server: LiveServer, page: Any) -> None:
        """A browser clock a year behind: the visit is stamped now and counted today."""
        page.add_init_script("""(() => {
            const real = Date.now, shift = -365 * 86400e3;
            Date.now = () => real() + shift;
        })()""")
        page.goto(live_server.url + "/")
        viewed = wait_for(lambda: events(live_server, "page_view"))
        assert page.evaluate("new Date(Date.now()).getUTCFullYear()") == datetime.now(UTC).year - 1
        ts = datetime.fromisoformat(viewed[0]["ts"].replace("Z", "+00:00"))
        assert abs((datetime.now(UTC) - ts).total_seconds()) < 5
        today = datetime.now(UTC).date()
        report = live_server.tracker.report(today, today + timedelta(days=1))
        a_year_ago = live_server.tracker.report(today - timedelta(days=366), today - timedelta(days=364))
        assert (1, 0) == (report.visitors.total, a_year_ago.visitors.total)
