"""Building valid events in tests with only the fields that matter.

>>> make_event("order", id="o1", subtotal="20.00", discount="5").value
Decimal('15.00')
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from whoson.core.events import EVENT_TYPES, Event
from whoson.core.parsing import parse_event
from whoson.core.settings import ParseContext

__all__ = ["BASE_TS", "make_event", "sample_events"]

BASE_TS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
"""The instant :func:`make_event` uses when no ``ts`` is given."""

_REQUIRED: dict[str, dict[str, Any]] = {
    "page_view": {"url": "/"},
    "identify": {"customer": "c1"},
    "cart_update": {"value": "0"},
    "order": {"order": "A1", "subtotal": "10.00"},
    "auto_message": {"trigger": "t1"},
    "auto_message_click": {"trigger": "t1"},
    "holdout": {"trigger": "t1"},
    "request": {"request": "r1", "channel": "text", "initiator": "visitor"},
    "message": {"request": "r1", "sender": "visitor"},
    "call_joined": {"request": "r1", "participant": "visitor"},
    "transfer": {"request": "r1"},
    "request_end": {"request": "r1"},
    "agent_status": {"agent": "a1", "status": "online"},
}
_ids = itertools.count(1)
_UNSET: Any = object()


def make_event(
    type_: str,
    /,
    *,
    id: str | None = None,
    ts: str | datetime = BASE_TS,
    visitor: str | None = _UNSET,
    context: ParseContext | None = None,
    **fields: Any,
) -> Event:
    """A valid event of ``type_``: required fields get defaults, ``fields`` override them.

    The id defaults to ``"<type>-<n>"``, unique within the process; the
    visitor to ``"v1"`` (none for ``agent_status``); ``ts`` to
    :data:`BASE_TS`. Unknown ``fields`` become extras. A field given as
    ``None`` is left out. The event goes through
    :func:`~whoson.core.parsing.parse_event`, so an invalid combination raises
    :class:`~whoson.core.errors.InvalidEvent`.

    >>> e = make_event("message", id="m1", request="r9", sender="agent", agent="ann")
    >>> (e.type, e.visitor, e.request, e.agent)
    ('message', 'v1', 'r9', 'ann')
    >>> make_event("agent_status", id="s1").visitor is None
    True
    """
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}; known: {', '.join(EVENT_TYPES)}")
    if visitor is _UNSET:
        visitor = None if type_ == "agent_status" else "v1"
    data: dict[str, Any] = {
        "id": id if id is not None else f"{type_}-{next(_ids)}",
        "type": type_,
        "ts": ts,
        "visitor": visitor,
    }
    data.update(_REQUIRED.get(type_, {}))
    data.update(fields)
    present = {key: value for key, value in data.items() if value is not None}
    return parse_event(present, context if context is not None else ParseContext())


def sample_events(visitor: str = "v-sample", request: str = "r-sample") -> list[Event]:
    """One event of every type, with optional fields, extras and exact decimals.

    All name the same ``visitor`` and ``request``; timestamps are one second
    apart from :data:`BASE_TS`, some with microseconds.

    >>> sorted({e.type for e in sample_events()}) == sorted(EVENT_TYPES)
    True
    """
    def at(seconds: int, micros: int = 0) -> datetime:
        return BASE_TS + timedelta(seconds=seconds, microseconds=micros)

    common: dict[str, Any] = {"visitor": visitor}
    chat: dict[str, Any] = {"visitor": visitor, "request": request}
    specs: list[tuple[str, dict[str, Any]]] = [
        ("page_view", {**common, "url": "/shoes?size=42", "title": "Chaussures d'été",
                       "referrer": "https://search.example/?q=shoes", "session": "s1",
                       "device": "mobile", "country": "FR", "user_agent": "Mozilla/5.0",
                       "utm": {"source": "mail", "tags": ["a", 1, None, True]}}),
        ("heartbeat", {**common, "url": "/shoes?size=42"}),
        ("identify", {**common, "customer": "c-42", "name": "Zoë", "email": "z@example.com"}),
        ("cart_update", {**common, "value": Decimal("59.90"), "items": 2}),
        ("widget_impression", {**common, "url": "/shoes"}),
        ("widget_click", {**common, "url": "/shoes", "source": "notification"}),
        ("auto_message", {**common, "trigger": "cart-idle", "link": "/help", "url": "/cart"}),
        ("auto_message_click", {**common, "trigger": "cart-idle", "link": "/help"}),
        ("holdout", {**common, "trigger": "cart-idle", "url": "/cart"}),
        ("request", {**chat, "channel": "video", "initiator": "auto", "trigger": "cart-idle",
                     "url": "/cart", "offline": False, "department": "sales"}),
        ("message", {**chat, "sender": "agent", "agent": "ann", "chars": 42}),
        ("call_joined", {**chat, "participant": "agent", "agent": "ann"}),
        ("transfer", {**chat, "from_agent": "ann", "to_agent": "bob", "escalation": True}),
        ("order", {**common, "order": "A-100", "subtotal": Decimal("100.10"),
                   "discount": Decimal("0.10"), "shipping": Decimal("4.90"),
                   "tax": Decimal("1E+1"), "currency": "EUR",
                   "coupon": {"code": "SPRING", "rate": Decimal("0.050")}}),
        ("request_end", {**chat, "reason": "closed", "resolved": True}),
        ("survey", {**chat, "agent": "bob", "rating": 5, "submitted": True,
                    "feedback": "très bien \u2713"}),
        ("page_leave", {**common, "url": "/thanks"}),
        ("agent_status", {"agent": "ann", "status": "away", "name": "Ann", "capacity": 3}),
    ]
    return [
        make_event(type_, id=f"sample-{type_}", ts=at(i, 250_000 * (i % 3)), **fields)
        for i, (type_, fields) in enumerate(specs)
    ]
