"""The whole story in a real Chromium: a visitor on the demo shop, an agent in the console.

Two browser contexts (own cookies and storage each) against a real server on
127.0.0.1: the visitor shows up, moves and leaves in the console; the agent
invites, the visitor accepts, they chat both ways, the visitor ends and rates,
and the report counts exactly that. Screenshots of both sides are saved with
the test's artifacts (``tmp_path``; also in ``$WHOSON_SCREENSHOTS`` when set).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer
from whoson.web.console import console_of

AGENTS = {"ann": "ann-token"}


@pytest.fixture
def server(make_server: Callable[..., LiveServer]) -> LiveServer:
    """The demo shop and whoson with one agent, ann."""
    return make_server(agents=AGENTS)


@pytest.fixture
def agent(browser: Any, server: LiveServer) -> Iterator[Any]:
    """ann's console page, signed in through the login form, its stream connected."""
    context = browser.new_context(viewport={"width": 1440, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(server.base + "/live")
    page.fill("input[name=agent]", "ann")
    page.fill("input[name=token]", AGENTS["ann"])
    page.click("button[type=submit]")
    page.wait_for_selector(".conn:text-is('live')")
    yield page
    context.close()


@pytest.fixture
def visitor(browser: Any) -> Iterator[Any]:
    """A visitor's browser context (its own storage, so its own visitor id)."""
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def shoot(page: Any, tmp_path: Path, name: str) -> Path:
    """Save a screenshot with the test's artifacts (and in $WHOSON_SCREENSHOTS if set)."""
    path = tmp_path / name
    page.screenshot(path=str(path))
    target = os.environ.get("WHOSON_SCREENSHOTS")
    if target:
        shutil.copy(path, Path(target) / name)
    return path


def within(seconds: float, wait: Callable[[int], Any]) -> float:
    """Run ``wait(timeout_ms)``; return how long it took (it raises when over ``seconds``)."""
    started = time.monotonic()
    wait(int(seconds * 1000))
    return time.monotonic() - started


class TestConsoleFollowsVisitor:
    """The console shows a visitor arrive, move and leave, each within 2 s."""

    def test_arrive_move_leave(self, server: LiveServer, agent: Any, visitor: Any) -> None:
        """Open the shop, click to the products, close the tab: the row follows."""
        shop = visitor.new_page()
        shop.goto(server.url + "/")
        vid = shop.wait_for_function("window.whoson && whoson('ids').visitor").json_value()
        row = f'tr[data-visitor="{vid}"]'
        within(2, lambda ms: agent.wait_for_selector(row, timeout=ms))
        assert "active" == agent.text_content(f"{row} .status-label")
        shop.click("header a[href='/products']")
        shop.wait_for_load_state()
        within(2, lambda ms: agent.wait_for_function(
            "sel => (document.querySelector(sel + ' .page-title') || {}).title === '/products'", arg=row, timeout=ms))
        shop.close()
        within(2, lambda ms: agent.wait_for_selector(f"{row}.gone", timeout=ms))
        assert "left" == agent.text_content(f"{row} .status-label")


class TestWaitingTicks:
    """A waiting visitor's row counts the wait up, as the queue card does."""

    def test_waiting_reason_ticks(self, server: LiveServer, agent: Any, visitor: Any) -> None:
        """The row's 'waiting Ns for an agent' is not frozen at the second the request came in."""
        shop = visitor.new_page()
        shop.goto(server.url + "/help")
        vid = shop.wait_for_function("window.whoson && whoson('ids').visitor").json_value()
        shop.click("#chat-widget")
        reason = f'tr[data-visitor="{vid}"].st-waiting .reason'
        agent.wait_for_selector(reason)
        within(4, lambda ms: agent.wait_for_function(
            "sel => document.querySelector(sel).textContent === 'waiting 2s for an agent'", arg=reason, timeout=ms))
        assert "waiting" == agent.text_content(f'tr[data-visitor="{vid}"] .status-label')


class TestNarrowScreen:
    """On a 1280-pixel laptop the chat column stays on screen, however long the row's texts."""

    def test_answer_button_visible(self, server: LiveServer, agent: Any) -> None:
        """A waiting visitor with a long trail, title and two signals: Answer is not cut off."""
        now = datetime.now(UTC)
        long = "/collections/outdoor-gear/trail-running-shoes-waterproof-extra-wide"
        server.tracker.record_many([
            *({"id": f"n{i}", "type": "page_view", "visitor": "wide", "url": f"{long}/{i % 2}",
               "title": "Trail running shoes, waterproof, extra wide · Trailhead demo shop",
               "referrer": "https://www.example-search-engine.com/search?q=shoes",
               "ts": (now - timedelta(seconds=300 - 60 * i)).isoformat()} for i in range(5)),
            {"id": "nr", "type": "request", "visitor": "wide", "request": "wide-r", "channel": "text",
             "initiator": "visitor", "ts": now.isoformat()},
        ])
        agent.set_viewport_size({"width": 1280, "height": 720})
        button = 'tr[data-visitor="wide"] button.invite'
        agent.wait_for_selector(button)
        edge = agent.evaluate("sel => [document.querySelector(sel).getBoundingClientRect().right,"
                              " document.querySelector('.table-wrap').getBoundingClientRect().right]", button)
        assert ("Answer", True) == (agent.text_content(button), edge[0] <= edge[1])


class TestTabsShareOneStream:
    """An agent's tabs with the same filters share one stream; another tab takes over when it closes."""

    def test_two_tabs_one_stream(self, server: LiveServer, agent: Any) -> None:
        """Both tabs show new rows while the server holds one stream for the agent."""
        console = console_of(server.app.state.whoson_app)
        second = agent.context.new_page()
        second.goto(server.base + "/live")
        second.wait_for_selector(".conn:text-is('live (shared)')")
        now = server.tracker.clock.now().isoformat()
        server.tracker.record({"id": "t1", "type": "page_view", "ts": now, "visitor": "tab-a", "url": "/a"})
        for page in (agent, second):
            page.wait_for_selector('tr[data-visitor="tab-a"]', timeout=2000)
        assert 1 == console.watching("ann")
        agent.close()
        second.wait_for_selector(".conn:text-is('live')")
        server.tracker.record({"id": "t2", "type": "page_view", "ts": now, "visitor": "tab-b", "url": "/b"})
        second.wait_for_selector('tr[data-visitor="tab-b"]', timeout=2000)


class TestInviteChatSurvey:
    """Invite -> bubble -> accept -> messages both ways -> end -> survey, counted exactly."""

    def test_story(self, server: LiveServer, agent: Any, visitor: Any, tmp_path: Path) -> None:
        """Every step shows on the other side in time, and the report counts it once."""
        shop = visitor.new_page()
        shop.goto(server.url + "/help")
        vid = shop.wait_for_function("window.whoson && whoson('ids').visitor").json_value()
        row = f'tr[data-visitor="{vid}"]'
        agent.wait_for_selector(row)
        agent.click(f"{row} button.invite")
        agent.fill("#visitor-panel .invite-form textarea", "Hi, I'm Ann. Looking for our returns policy?")
        agent.click("#visitor-panel button:text('Invite to chat')")

        within(5, lambda ms: shop.wait_for_selector("#whoson-bubble", timeout=ms))
        assert "ann: Hi, I'm Ann. Looking for our returns policy?" == shop.text_content("#whoson-bubble p")
        shop.click("#whoson-accept")
        shop.wait_for_selector("#whoson-chat .whoson-msg.agent")
        shop.fill("#whoson-chat-input", "Yes please, can I return shoes after 30 days?")
        shop.click("#whoson-chat-send")

        within(2, lambda ms: agent.wait_for_selector("#visitor-panel .msg.visitor", timeout=ms))
        assert "Yes please, can I return shoes after 30 days?" == agent.text_content(
            "#visitor-panel .msg.visitor").split("visitor ·")[0]
        agent.fill("#visitor-panel .chat-form textarea", "You can, within 60 days. <b>Free</b> labels too!")
        agent.press("#visitor-panel .chat-form textarea", "Enter")
        within(2, lambda ms: shop.wait_for_selector("#whoson-chat .whoson-msg.agent >> nth=1", timeout=ms))
        agent.wait_for_selector(f"{row}.st-in_chat")
        shoot(agent, tmp_path, "console-chat.png")
        shoot(shop, tmp_path, "visitor-chat.png")

        shop.click("#whoson-chat-close")
        shop.wait_for_selector("#whoson-survey")
        shop.click("#whoson-survey button[data-rating='5']")
        shop.fill("#whoson-survey-feedback", "Quick and kind")
        shoot(shop, tmp_path, "visitor-survey.png")
        shop.click("#whoson-survey-submit")
        shop.wait_for_selector("#whoson-survey >> text=Thank you!")

        report = server.tracker.report()
        ann = {figures.agent: figures for figures in report.agents}["ann"]
        assert (1, 1) == (report.requests.total, report.requests.by_initiator["agent"])
        assert (1, 1) == (report.conversations.total, report.conversations.by_initiator["agent"])
        assert (1, 1, 1.0) == (ann.initiated_requests, ann.conversations, report.acceptance.agent_initiated_rate)
        assert (1, 5.0) == (report.ratings.count, report.ratings.avg)
        assert ["Quick and kind"] == [item.feedback for item in report.ratings.feedback]
        messages = [e.event for e in server.tracker.store.read() if e.event.type == "message"]
        assert [("agent", 44), ("visitor", 45), ("agent", 48)] == [(m.sender, m.chars) for m in messages]
        assert all("text" not in m.to_dict() for m in messages)


class TestEscaping:
    """Event data reaches the page as text, never as markup."""

    def test_markup_in_event_data_is_text(self, server: LiveServer, agent: Any) -> None:
        """A title and a name carrying HTML show literally and run nothing."""
        hostile = '<img src=x onerror="window.pwned=1">'
        now = server.tracker.clock.now().isoformat()
        server.tracker.record_many([
            {"id": "x1", "type": "page_view", "ts": now, "visitor": "vx", "url": "/x", "title": hostile},
            {"id": "x2", "type": "identify", "ts": now, "visitor": "vx", "customer": "c1", "name": hostile},
        ])
        row = 'tr[data-visitor="vx"]'
        agent.wait_for_selector(row)
        assert (hostile, hostile) == (agent.text_content(f"{row} .who"), agent.text_content(f"{row} .page-title"))
        assert 0 == agent.locator(f"{row} img").count()
        assert agent.evaluate("window.pwned") is None
