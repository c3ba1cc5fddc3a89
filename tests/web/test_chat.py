"""Chat steps as events: hand-timed chats give exactly the report's figures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import LiveServer
from tests.web.sse_client import events, read_until
from whoson import FixedClock, Tracker
from whoson.core.errors import InvalidEvent
from whoson.rules import Rule
from whoson.rules.conditions import UrlMatches
from whoson.rules.model import Invite
from whoson.web.chat import ChatRefused, ChatService
from whoson.web.invites import pending_invite

T0 = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def shop(clock: FixedClock, **options: object) -> Tracker:
    """A tracker at T0 with visitor v1 on /help since T0."""
    tracker = Tracker(clock=clock, **options)  # type: ignore[arg-type]
    tracker.record({"id": "pv", "type": "page_view", "ts": "2026-03-02T12:00:00Z", "visitor": "v1", "url": "/help"})
    return tracker


class TestVisitorChat:
    """A visitor's own chat, timed by hand."""

    def test_figures(self) -> None:
        """Request at +10 s, ann answers at +40 s: one conversation, first response 30 s, rating 4."""
        clock = FixedClock(T0)
        tracker = shop(clock)
        chats = ChatService(tracker)
        clock.set(datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC))
        request = chats.start("v1", "/help")
        assert request == chats.start("v1", "/help")  # asking again joins the open request
        clock.set(datetime(2026, 3, 2, 12, 0, 40, tzinfo=UTC))
        chats.agent_message("ann", request, "Hello, how can I help?")
        clock.set(datetime(2026, 3, 2, 12, 1, 0, tzinfo=UTC))
        chats.visitor_message("v1", request, "Where is my parcel?")
        clock.set(datetime(2026, 3, 2, 12, 2, 0, tzinfo=UTC))
        assert "closed" == chats.visitor_end("v1", request)
        chats.survey("v1", request, 4, "Fast")
        report = tracker.report()
        ann = {a.agent: a for a in report.agents}["ann"]
        assert (1, 1, 1) == (report.requests.total, report.requests.by_initiator["visitor"], report.conversations.total)
        assert (30.0, 30.0) == (report.support.first_response.avg, ann.first_response_avg)
        assert (1, 4.0, ("Fast",)) == (report.ratings.count, report.ratings.avg,
                                      tuple(f.feedback for f in report.ratings.feedback))

    def test_cancel_before_answer(self) -> None:
        """Closing the panel before any answer cancels the request: no conversation."""
        tracker = shop(FixedClock(T0))
        chats = ChatService(tracker)
        request = chats.start("v1")
        assert "cancelled" == chats.visitor_end("v1", request)
        report = tracker.report()
        assert (1, 0) == (report.requests.total, report.conversations.total)

    def test_refusals(self) -> None:
        """A second survey, an off-scale rating and a message after the end are refused."""
        tracker = shop(FixedClock(T0))
        chats = ChatService(tracker)
        request = chats.start("v1")
        chats.agent_message("ann", request, "Hi")
        with pytest.raises(ChatRefused, match="held by ann"):
            chats.agent_message("bob", request, "Me too")
        with pytest.raises(InvalidEvent) as off_scale:
            chats.survey("v1", request, 9)
        assert ("rating", 9) == (off_scale.value.field, off_scale.value.value)
        chats.visitor_end("v1", request)
        chats.survey("v1", request, 5)
        with pytest.raises(ChatRefused, match="already has its survey"):
            chats.survey("v1", request, 1)
        with pytest.raises(ChatRefused, match="has ended"):
            chats.visitor_message("v1", request, "Hello?")


class TestInvitations:
    """Agent and rule invitations, declined or answered."""

    def test_declined(self) -> None:
        """A waved-away invitation is one agent request, declined, with no conversation."""
        tracker = shop(FixedClock(T0))
        chats = ChatService(tracker)
        request = chats.invite("ann", "v1", "Hi!")
        assert "declined" == chats.visitor_end("v1", request, decline=True)
        report = tracker.report()
        assert (1, 0, 0.0) == (report.requests.by_initiator["agent"], report.conversations.total,
                               report.acceptance.agent_initiated_rate)
        assert pending_invite(tracker, "v1") is None

    def test_answered_invitation_is_no_longer_pending(self) -> None:
        """Once the visitor writes, the invitation is a conversation, not a bubble."""
        tracker = shop(FixedClock(T0))
        chats = ChatService(tracker)
        request = chats.invite("ann", "v1", "Hi!")
        assert request == pending_invite(tracker, "v1")["request"]  # type: ignore[index]
        chats.visitor_message("v1", request, "Hello")
        assert pending_invite(tracker, "v1") is None
        assert "in_conversation" == tracker.online().rows[0].chat

    def test_rule_invitation(self) -> None:
        """A rule's invitation comes with the rule's text and no agent."""
        rule = Rule("help-desk", [UrlMatches("/help*")], Invite("text", "Questions? We're here."))
        tracker = shop(FixedClock(T0), rules=[rule])
        invite = pending_invite(tracker, "v1")
        assert invite is not None
        assert (None, "auto", "help-desk", "Questions? We're here.") == (
            invite["agent"], invite["initiator"], invite["trigger"], invite["message"])
        with pytest.raises(ChatRefused, match=r"automatic invitation \(help-desk\)"):
            ChatService(tracker).invite("ann", "v1", "Hi")


class TestPrivacy:
    """Message text is stored only with store_text; otherwise it lives in one process's memory."""

    def test_text_not_stored_by_default(self) -> None:
        """Another process (another relay) sees chars but no text."""
        tracker = shop(FixedClock(T0))
        request = ChatService(tracker).invite("ann", "v1", "Hello there")
        elsewhere = ChatService(tracker)
        assert [("agent", 11, None)] == [(m["sender"], m["chars"], m["text"])
                                         for m in elsewhere.transcript("v1", request)]

    def test_store_text(self) -> None:
        """With store_text the text is in the store, so every process can show it."""
        tracker = shop(FixedClock(T0), store_text=True)
        request = ChatService(tracker).invite("ann", "v1", "Hello there")
        assert ["Hello there"] == [m["text"] for m in ChatService(tracker).transcript("v1", request)]


class TestTwoProcesses:
    """Two trackers on one SQLite store: a racing second invitation is refused."""

    def test_same_request_id_conflicts(self, tmp_path: Path) -> None:
        """bob's tracker has not seen ann's invitation yet; the store refuses his."""
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        clock = FixedClock(datetime(2026, 3, 2, 12, 0, 5, tzinfo=UTC))
        first = Tracker.open(url, clock=clock)
        first.record({"id": "pv", "type": "page_view", "ts": "2026-03-02T12:00:00Z", "visitor": "v1",
                      "url": "/help"})
        second = Tracker.open(url, clock=clock)
        services = ChatService(first), ChatService(second)
        try:
            services[0].invite("ann", "v1", "Hi from ann")
            with pytest.raises(ChatRefused, match="already has an open invitation"):
                services[1].invite("bob", "v1", "Hi from bob")
            requests = [s.event for s in second.store.read() if s.event.type == "request"]
            assert ["ann"] == [r.agent for r in requests]
        finally:
            first.close()
            second.close()


class TestVisitorEndpoints:
    """The visitor's side over HTTP: origin check, chat steps, pushed messages."""

    def test_foreign_origin_refused(self, live_server: LiveServer) -> None:
        """A page on another site cannot start a chat for a visitor."""
        live_server.tracker.record({"id": "pv", "type": "page_view", "ts": "2026-03-02T12:00:00Z",
                                    "visitor": "v1", "url": "/help"})
        reply = httpx.post(live_server.base + "/chat/start", json={"visitor": "v1"},
                           headers={"origin": "https://evil.example"}, timeout=5)
        assert 403 == reply.status_code
        assert [] == [s for s in live_server.tracker.store.read() if s.event.type == "request"]

    def test_message_pushed_within_2s(self, make_server: Callable[..., LiveServer]) -> None:
        """The agent's answer reaches the visitor's stream within 2 s."""
        server = make_server(agents={"ann": "t"})
        server.tracker.record({"id": "pv", "type": "page_view",
                               "ts": server.tracker.clock.now().isoformat(), "visitor": "v1", "url": "/help"})
        request = httpx.post(server.base + "/chat/start", json={"visitor": "v1"}, timeout=5).json()["request"]
        sent: list[float] = []

        def answer() -> None:
            time.sleep(0.3)
            sent.append(time.monotonic())
            httpx.post(f"{server.base}/api/chats/{request}/messages", json={"text": "Hi!", "visitor": "v1"},
                       headers={"authorization": "Bearer t"}, timeout=5)

        url = f"{server.base}/chat/stream?visitor=v1&request={request}"
        with httpx.stream("GET", url, timeout=httpx.Timeout(5.0)) as response:
            threading.Thread(target=answer).start()
            got = read_until(events(response), lambda e: e.event == "message", 5)
            arrived = time.monotonic()
        assert ("agent", "ann", "Hi!", 1) == (got[-1].data["sender"], got[-1].data["agent"],
                                              got[-1].data["text"], got[-1].id)
        assert arrived - sent[0] < 2.0
