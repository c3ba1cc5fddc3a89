"""Chat actions of agents and visitors, each one recorded as events of the contract.

Every step of a chat in the console is an event a report counts: an agent's
invitation is a ``request`` (initiator ``agent``) plus the agent's first
``message``; a visitor's own request is a ``request`` (initiator
``visitor``); each line typed is a ``message`` with its ``chars``; the end is
a ``request_end``; the survey a ``survey``.

**Message text and privacy.** ``text`` goes into the store only when the
tracker was opened with ``store_text=True``. Otherwise only ``chars`` is
stored, and the words travel from one side to the other through this
process's memory (:class:`TextRelay`, bounded, never written anywhere): a
transcript read later, or from another server process, shows the message
without its text.

>>> from datetime import UTC, datetime
>>> from whoson import FixedClock, Tracker
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)))
>>> _ = tracker.record({"id": "p", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
...                     "visitor": "v1", "url": "/help"})
>>> chats = ChatService(tracker)
>>> invite = chats.invite("ann", "v1", "Hello! Can I help?")
>>> chats.invite("bob", "v1", "Hi")
Traceback (most recent call last):
...
whoson.web.chat.ChatRefused: v1 already has an open invitation or chat held by ann
>>> [(m["sender"], m["text"], m["chars"]) for m in chats.transcript("v1", invite)]
[('agent', 'Hello! Can I help?', 18)]
"""

from __future__ import annotations

import hashlib
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from whoson.core.errors import InvalidEvent
from whoson.core.events import AutoMessageEvent, Event, MessageEvent
from whoson.core.time import format_ts
from whoson.live import ConversationSummary, VisitorDetail
from whoson.tracker import Tracker

__all__ = [
    "MAX_TEXT", "ChatRefused", "ChatService", "NotFound", "TextRelay", "chat_service",
    "open_invitation",
]

MAX_TEXT = 10_000


class ChatRefused(Exception):
    """The action conflicts with the chat's state (answered as HTTP 409)."""


class NotFound(Exception):
    """No such visitor or request (answered as HTTP 404)."""


class TextRelay:
    """Message texts by event id, in this process's memory only (at most ``size``).

    >>> relay = TextRelay(size=2)
    >>> relay.put("a", "one"); relay.put("b", "two"); relay.put("c", "three")
    >>> relay.get("a"), relay.get("c")
    (None, 'three')
    """

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, event_id: str, text: str) -> None:
        """Keep ``text`` for ``event_id`` (dropping the oldest beyond ``size``)."""
        with self._lock:
            self._texts[event_id] = text
            while len(self._texts) > self._size:
                self._texts.popitem(last=False)

    def get(self, event_id: str) -> str | None:
        """The text of ``event_id`` if this process still has it."""
        with self._lock:
            return self._texts.get(event_id)


def _current(detail: VisitorDetail) -> list[ConversationSummary]:
    """The requests of the visitor's current session that have not ended."""
    started = detail.snapshot.session_started
    return [c for c in detail.conversations if c.ended is None and c.started >= started]


def _answered(events: Iterable[Event], request: str) -> bool:
    return any(isinstance(e, MessageEvent) and e.request == request and e.sender == "visitor"
               for e in events)


def _holder(conversation: ConversationSummary) -> str:
    if conversation.agent is not None:
        return conversation.agent
    if conversation.initiator == "auto":
        return f"an automatic invitation ({conversation.trigger})"
    return "nobody yet (the visitor is waiting)"


def open_invitation(tracker: Tracker, visitor: str, relay: TextRelay | None = None
                    ) -> dict[str, Any] | None:
    """The invitation the visitor has not answered yet, or ``None`` (see :mod:`whoson.web.invites`)."""
    detail = tracker.visitor(visitor)
    if detail is None or not detail.online:
        return None
    events = tracker.live.events_of(visitor)
    for conversation in reversed(_current(detail)):
        if conversation.initiator not in ("agent", "auto"):
            continue
        if _answered(events, conversation.request):
            continue
        message, link = None, None
        for event in events:
            if (conversation.initiator == "agent" and isinstance(event, MessageEvent)
                    and event.request == conversation.request and event.sender == "agent"):
                message = _text(event, relay)
                break
            if (conversation.initiator == "auto" and isinstance(event, AutoMessageEvent)
                    and event.id == f"{conversation.request}:message"):
                raw = event.extra.get("message")
                message = raw if isinstance(raw, str) else None
                link = event.link
                break
        return {
            "request": conversation.request,
            "agent": conversation.agent,
            "message": message,
            "channel": conversation.channel or "text",
            "initiator": conversation.initiator,
            "trigger": conversation.trigger,
            "link": link,
        }
    return None


def _text(event: MessageEvent, relay: TextRelay | None) -> str | None:
    stored = event.extra.get("text")
    if isinstance(stored, str):
        return stored
    return relay.get(event.id) if relay is not None else None


def _new_id(kind: str) -> str:
    return f"chat:{kind}:{uuid.uuid4().hex}"


class ChatService:
    """Records chat steps for one tracker; thread-safe (one lock around check-then-record).

    Several server processes share the store: two agents inviting the same
    visitor from two processes at once compute the same request id (from the
    visitor, the session and the requests so far), so the store keeps the
    first and the second is refused as a conflict.
    """

    def __init__(self, tracker: Tracker, relay: TextRelay | None = None) -> None:
        self.tracker = tracker
        self.relay = relay if relay is not None else TextRelay()
        self._lock = threading.Lock()

    # -- helpers ------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.tracker.clock.now()

    def _detail(self, visitor: str) -> VisitorDetail:
        detail = self.tracker.visitor(visitor)
        if detail is None:
            raise NotFound(f"no visitor {visitor!r}")
        return detail

    def _conversation(self, visitor: str, request: str) -> ConversationSummary:
        for conversation in self._detail(visitor).conversations:
            if conversation.request == request:
                return conversation
        raise NotFound(f"visitor {visitor!r} has no request {request!r}")

    def visitor_of(self, request: str, hint: str | None = None) -> str:
        """The visitor a request belongs to (``hint`` first, then every online visitor)."""
        candidates = [hint] if hint else []
        candidates += [row.visitor for row in self.tracker.online(limit=1_000_000).rows]
        for visitor in candidates:
            detail = self.tracker.visitor(visitor)
            if detail is not None and any(c.request == request for c in detail.conversations):
                return visitor
        raise NotFound(f"no open chat {request!r}")

    def _record(self, events: list[dict[str, Any]]) -> None:
        result = self.tracker.record_many(events, strict=True)
        for outcome in result.outcomes:
            if outcome.error is not None:
                if isinstance(outcome.error, InvalidEvent) and outcome.error.field in (
                    "rating", "text", "feedback", "message",
                ):
                    raise outcome.error
                raise ChatRefused(f"not recorded: {outcome.error}")

    def _message(self, request: str, visitor: str, sender: str, text: str,
                 agent: str | None = None, at: datetime | None = None) -> dict[str, Any]:
        if not isinstance(text, str) or not text.strip():
            raise InvalidEvent("text", text, "must be a non-empty string")
        if len(text) > MAX_TEXT:
            raise InvalidEvent("text", f"{len(text)} characters", f"must be at most {MAX_TEXT} characters")
        event: dict[str, Any] = {
            "id": _new_id("message"), "type": "message",
            "ts": format_ts(at if at is not None else self._now()), "visitor": visitor,
            "request": request, "sender": sender, "chars": len(text),
        }
        if agent is not None:
            event["agent"] = agent
        if self.tracker.store_text:
            event["text"] = text
        self.relay.put(event["id"], text)
        return event

    # -- agents -------------------------------------------------------------------

    def invite(self, agent: str, visitor: str, message: str, channel: str = "text") -> str:
        """Record the agent's invitation (request + message); return the request id.

        Raises :class:`ChatRefused` naming the holder when the visitor already
        has an open request or conversation, or is not online.
        """
        if channel not in ("text", "video"):
            raise InvalidEvent("channel", channel, "must be 'text' or 'video'")
        with self._lock:
            detail = self._detail(visitor)
            if not detail.online:
                raise ChatRefused(f"{visitor} is not online")
            current = _current(detail)
            if current:
                raise ChatRefused(
                    f"{visitor} already has an open invitation or chat held by {_holder(current[-1])}"
                )
            basis = f"{visitor}|{format_ts(detail.snapshot.session_started)}|{len(detail.conversations)}"
            request = "inv:" + hashlib.sha256(basis.encode()).hexdigest()[:20]
            now = self._now()
            events = [
                {"id": f"{request}:request", "type": "request", "ts": format_ts(now),
                 "visitor": visitor, "request": request, "channel": channel,
                 "initiator": "agent", "agent": agent},
                # The message a millisecond after the request: it sorts after it in event time.
                self._message(request, visitor, "agent", message, agent=agent,
                              at=now + timedelta(milliseconds=1)),
            ]
            if detail.snapshot.url is not None:
                events[0]["url"] = detail.snapshot.url
            try:
                self._record(events)
            except ChatRefused:
                holder = self._conversation(visitor, request).agent if self._has(visitor, request) else None
                raise ChatRefused(
                    f"{visitor} already has an open invitation or chat held by {holder or 'another agent'}"
                ) from None
            return request

    def _has(self, visitor: str, request: str) -> bool:
        try:
            self._conversation(visitor, request)
        except NotFound:
            return False
        return True

    def agent_message(self, agent: str, request: str, text: str, visitor: str | None = None) -> str:
        """Record an agent's message in an open request; return the message event id."""
        with self._lock:
            owner = self.visitor_of(request, visitor)
            conversation = self._conversation(owner, request)
            if conversation.ended is not None:
                raise ChatRefused(f"chat {request} has ended")
            if conversation.agent not in (None, agent):
                raise ChatRefused(f"chat {request} is held by {conversation.agent}")
            event = self._message(request, owner, "agent", text, agent=agent)
            self._record([event])
            return str(event["id"])

    def agent_end(self, agent: str, request: str, visitor: str | None = None,
                  resolved: bool | None = None) -> None:
        """Close a request from the console (``request_end`` reason ``closed``)."""
        with self._lock:
            owner = self.visitor_of(request, visitor)
            conversation = self._conversation(owner, request)
            if conversation.ended is not None:
                return
            if conversation.agent not in (None, agent):
                raise ChatRefused(f"chat {request} is held by {conversation.agent}")
            event: dict[str, Any] = {"id": f"{request}:end", "type": "request_end",
                                     "ts": format_ts(self._now()), "visitor": owner,
                                     "request": request, "reason": "closed"}
            if resolved is not None:
                event["resolved"] = resolved
            self._record([event])

    # -- visitors -----------------------------------------------------------------

    def start(self, visitor: str, url: str | None = None) -> str:
        """The visitor asks to chat: their open request, or a new visitor request."""
        with self._lock:
            detail = self._detail(visitor)
            current = _current(detail)
            if current:
                return current[-1].request
            request = _new_id("request").split(":", 2)[2]
            event: dict[str, Any] = {"id": f"{request}:request", "type": "request",
                                     "ts": format_ts(self._now()), "visitor": visitor,
                                     "request": request, "channel": "text", "initiator": "visitor"}
            if url:
                event["url"] = url
            self._record([event])
            return request

    def visitor_message(self, visitor: str, request: str, text: str) -> str:
        """Record the visitor's message; return the message event id."""
        with self._lock:
            conversation = self._conversation(visitor, request)
            if conversation.ended is not None:
                raise ChatRefused(f"chat {request} has ended")
            event = self._message(request, visitor, "visitor", text)
            self._record([event])
            return str(event["id"])

    def visitor_end(self, visitor: str, request: str, *, decline: bool = False) -> str:
        """The visitor closes the panel: ``declined`` (an invitation waved away), ``closed``
        (a conversation) or ``cancelled`` (their own request before any answer)."""
        with self._lock:
            conversation = self._conversation(visitor, request)
            if conversation.ended is not None:
                return conversation.end_reason or "closed"
            if decline and conversation.initiator in ("agent", "auto"):
                reason = "declined"
            else:
                reason = "closed" if conversation.conversation else "cancelled"
            self._record([{"id": f"{request}:end", "type": "request_end",
                           "ts": format_ts(self._now()), "visitor": visitor,
                           "request": request, "reason": reason}])
            return reason

    def survey(self, visitor: str, request: str, rating: int | None,
               feedback: str | None = None) -> None:
        """Record the visitor's survey of a request (once; a second one is refused)."""
        with self._lock:
            conversation = self._conversation(visitor, request)
            event: dict[str, Any] = {"id": f"{request}:survey", "type": "survey",
                                     "ts": format_ts(self._now()), "visitor": visitor,
                                     "request": request, "submitted": True}
            if conversation.agent is not None:
                event["agent"] = conversation.agent
            if rating is not None:
                event["rating"] = rating
            if feedback:
                event["feedback"] = feedback
            if conversation.rating is not None or conversation.feedback is not None:
                raise ChatRefused(f"chat {request} already has its survey")
            self._record([event])

    # -- reading ------------------------------------------------------------------

    def transcript(self, visitor: str, request: str) -> list[dict[str, Any]]:
        """The request's messages in order: ``id``, ``ts``, ``sender``, ``agent``,
        ``chars`` and ``text`` (``None`` when neither the store nor this process has it)."""
        return [
            {"id": e.id, "ts": format_ts(e.ts), "sender": e.sender, "agent": e.agent,
             "chars": e.chars, "text": _text(e, self.relay)}
            for e in self.tracker.live.events_of(visitor)
            if isinstance(e, MessageEvent) and e.request == request
        ]

    def state(self, visitor: str, request: str) -> dict[str, Any]:
        """The request's summary (live.md's conversation fields) plus its transcript."""
        conversation = self._conversation(visitor, request)
        return {**conversation.to_dict(), "visitor": visitor,
                "messages": self.transcript(visitor, request)}


_SERVICES: weakref.WeakKeyDictionary[Tracker, ChatService] = weakref.WeakKeyDictionary()
_SERVICES_LOCK = threading.Lock()


def chat_service(tracker: Tracker) -> ChatService:
    """The one :class:`ChatService` of ``tracker`` in this process (so the console, the
    visitor endpoints and the collector's invitations share one text relay).

    >>> tracker = Tracker()
    >>> chat_service(tracker) is chat_service(tracker)
    True
    """
    with _SERVICES_LOCK:
        service = _SERVICES.get(tracker)
        if service is None:
            service = _SERVICES[tracker] = ChatService(tracker)
        return service
