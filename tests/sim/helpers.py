"""Small, independent readings of a simulated log, written from the event contract."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from whoson.core.events import Event
from whoson.core.parsing import parse_event
from whoson.core.settings import ParseContext

USD = ParseContext(currency="USD")


def parsed(log: Iterable[dict[str, Any]]) -> list[Event]:
    """Every event of ``log`` through the contract's parser (raises on the first bad one)."""
    return [parse_event(event, USD) for event in log]


def engaged_times(events: list[Event]) -> dict[str, tuple[str, datetime]]:
    """Request id -> (visitor, engaged at) for requests that became conversations.

    Engaged at is the later of both sides' first responses; the initiator of a
    visitor or agent request responds by creating it, an auto request needs both.
    """
    created: dict[str, Event] = {}
    first: dict[tuple[str, str], datetime] = {}
    for event in events:
        if event.type == "request":
            created[event.request_id or ""] = event
        side = getattr(event, "sender", None) or getattr(event, "participant", None)
        if side is not None and event.request_id is not None:
            first.setdefault((event.request_id, side), event.ts)
    out: dict[str, tuple[str, datetime]] = {}
    for rid, request in created.items():
        initiator = getattr(request, "initiator", "")
        visitor = request.ts if initiator == "visitor" else first.get((rid, "visitor"))
        agent = request.ts if initiator == "agent" else first.get((rid, "agent"))
        if visitor is not None and agent is not None:
            out[rid] = (request.visitor or "", max(visitor, agent))
    return out


def attributed_orders(events: list[Event], window: timedelta = timedelta(days=7)) -> list[Event]:
    """Orders whose visitor had a conversation engaged in ``[order.ts - window, order.ts]``."""
    engaged: dict[str, list[datetime]] = {}
    for visitor, at in engaged_times(events).values():
        engaged.setdefault(visitor, []).append(at)
    return [
        event
        for event in events
        if event.type == "order"
        and any(event.ts - window <= at <= event.ts for at in engaged.get(event.visitor or "", []))
    ]
