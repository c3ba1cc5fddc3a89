"""What the live view answers with: immutable snapshots and their JSON form.

Every class has ``to_dict()`` with the key names of the live spec. Instants
become RFC 3339 UTC strings; money stays :class:`~decimal.Decimal` (as in
:meth:`whoson.core.events.Event.to_dict`), so encode with
:func:`whoson.codec.dumps` to keep it exact.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from whoson.core.time import format_ts

__all__ = [
    "CHAT_STATES",
    "ConversationSummary",
    "LivePage",
    "OrderSummary",
    "SessionSummary",
    "Signal",
    "TrailStep",
    "VisitorDetail",
    "VisitorSnapshot",
    "WaitingRequest",
]

CHAT_STATES = ("none", "pending", "in_conversation")


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_ts(moment)


@attrs.frozen
class TrailStep:
    """One page of the session's trail and the seconds spent on it."""

    url: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """``{"url": ..., "seconds": ...}``."""
        return {"url": self.url, "seconds": self.seconds}


@attrs.frozen
class Signal:
    """A reason to look at a visitor, with a sentence an agent can read.

    ``wait_seconds`` is set on the ``waiting`` signal only.

    >>> Signal("lingering", "on /pricing for 3m05s").to_dict()
    {'name': 'lingering', 'reason': 'on /pricing for 3m05s'}
    """

    name: str
    reason: str
    wait_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """``name`` and ``reason``, plus ``wait_seconds`` for ``waiting``."""
        out: dict[str, Any] = {"name": self.name, "reason": self.reason}
        if self.wait_seconds is not None:
            out["wait_seconds"] = self.wait_seconds
        return out


@attrs.frozen
class VisitorSnapshot:
    """One row of "who's on now", as of the instant it was taken.

    ``chat`` is ``"none"``, ``"pending"`` (an open request that is not yet a
    conversation) or ``"in_conversation"``; ``agent`` names the agent of that
    conversation (or of a pending agent invitation), else ``None``. Seconds are
    floats; ``url``/``title``/``on_page_seconds`` are ``None`` when the current
    session has no page view yet. ``invite_score`` is the invite model's
    chance that the visitor orders within its window if invited now
    (:mod:`whoson.live.scoring`), ``None`` before a model is fitted.
    """

    visitor: str
    customer: str | None
    name: str | None
    url: str | None
    title: str | None
    on_page_seconds: float | None
    session_started: datetime
    on_site_seconds: float
    pages_viewed: int
    trail: tuple[TrailStep, ...]
    page_visits: int
    visits: int
    returning: bool
    referrer: str | None
    device: str | None
    country: str | None
    cart_value: Decimal
    orders: int
    lifetime_value: Decimal
    chat: str
    agent: str | None
    signals: tuple[Signal, ...]
    invite_score: float | None = None

    @property
    def signal_names(self) -> frozenset[str]:
        """The names of this row's signals."""
        return frozenset(signal.name for signal in self.signals)

    def to_dict(self) -> dict[str, Any]:
        """The row with exactly the spec's keys, JSON-ready apart from Decimal money.

        ``chat`` carries its agent: ``{"state": ..., "agent": ...}``; ``returning``
        is left out (it is ``visits > 1``).
        """
        return {
            "visitor": self.visitor,
            "customer": self.customer,
            "name": self.name,
            "url": self.url,
            "title": self.title,
            "on_page_seconds": self.on_page_seconds,
            "session_started": format_ts(self.session_started),
            "on_site_seconds": self.on_site_seconds,
            "pages_viewed": self.pages_viewed,
            "trail": [step.to_dict() for step in self.trail],
            "page_visits": self.page_visits,
            "visits": self.visits,
            "referrer": self.referrer,
            "device": self.device,
            "country": self.country,
            "cart_value": self.cart_value,
            "orders": self.orders,
            "lifetime_value": self.lifetime_value,
            "chat": {"state": self.chat, "agent": self.agent},
            "signals": [signal.to_dict() for signal in self.signals],
            "invite_score": self.invite_score,
        }


@attrs.frozen(repr=False)
class LivePage:
    """One page of :meth:`LiveView.online`: the rows and how many match in all.

    Shows as an HTML table in Jupyter; ``repr`` stays one line.
    """

    at: datetime
    rows: tuple[VisitorSnapshot, ...]
    total: int

    def __repr__(self) -> str:
        return f"<LivePage {self.total} online at {format_ts(self.at)}, {len(self.rows)} shown>"

    def _repr_html_(self) -> str:
        from whoson.present.html import live_page_html

        return live_page_html(self)

    def to_dict(self) -> dict[str, Any]:
        """``{"at": ..., "online": [rows...], "total": n}``."""
        return {
            "at": format_ts(self.at),
            "online": [row.to_dict() for row in self.rows],
            "total": self.total,
        }


@attrs.frozen
class SessionSummary:
    """One visit in a visitor's history (``seconds`` = last event - start)."""

    number: int
    started: datetime
    ended: datetime
    seconds: float
    pages_viewed: int
    landing: str | None
    referrer: str | None
    device: str | None
    country: str | None
    orders: int
    order_value: Decimal

    def to_dict(self) -> dict[str, Any]:
        """The summary with RFC 3339 instants."""
        out = attrs.asdict(self, recurse=False)
        out["started"] = format_ts(self.started)
        out["ended"] = format_ts(self.ended)
        return out


@attrs.frozen
class ConversationSummary:
    """One request of the visitor, and whether it became a conversation."""

    request: str
    started: datetime
    channel: str | None
    initiator: str | None
    trigger: str | None
    agent: str | None
    conversation: bool
    ended: datetime | None
    end_reason: str | None
    resolved: bool | None
    rating: int | None
    feedback: str | None

    def to_dict(self) -> dict[str, Any]:
        """The summary with RFC 3339 instants."""
        out = attrs.asdict(self, recurse=False)
        out["started"] = format_ts(self.started)
        out["ended"] = _ts(self.ended)
        return out


@attrs.frozen
class OrderSummary:
    """One order of the visitor; ``value`` = subtotal - discount."""

    order: str
    ts: datetime
    value: Decimal
    currency: str | None

    def to_dict(self) -> dict[str, Any]:
        """The summary with an RFC 3339 instant."""
        return {"order": self.order, "ts": format_ts(self.ts), "value": self.value,
                "currency": self.currency}


@attrs.frozen(repr=False)
class VisitorDetail:
    """A single visitor: the live row plus history (HTML in Jupyter, a one-line ``repr``).

    ``last_seen`` is the visitor's last activity (their last event, if none of
    their events is their own activity). When the visitor is not ``online``,
    ``snapshot`` is taken at ``last_seen`` (the page they were last on,
    durations frozen there).
    """

    snapshot: VisitorSnapshot
    online: bool
    last_seen: datetime
    sessions: tuple[SessionSummary, ...]
    conversations: tuple[ConversationSummary, ...]
    orders: tuple[OrderSummary, ...]

    def __repr__(self) -> str:
        state = "online" if self.online else f"last seen {format_ts(self.last_seen)}"
        return (f"<VisitorDetail {self.snapshot.visitor!r}: {state}, {len(self.sessions)} sessions, "
                f"{len(self.conversations)} requests, {len(self.orders)} orders>")

    def _repr_html_(self) -> str:
        from whoson.present.html import visitor_html

        return visitor_html(self)

    def to_dict(self) -> dict[str, Any]:
        """``snapshot`` (a row), ``online``, ``last_seen`` and the history lists."""
        return {
            "snapshot": self.snapshot.to_dict(),
            "online": self.online,
            "last_seen": format_ts(self.last_seen),
            "sessions": [s.to_dict() for s in self.sessions],
            "conversations": [c.to_dict() for c in self.conversations],
            "orders": [o.to_dict() for o in self.orders],
        }


@attrs.frozen
class WaitingRequest:
    """A visitor request no agent has answered yet, and how long it has waited."""

    request: str
    visitor: str
    since: datetime
    wait_seconds: float
    channel: str | None
    initiator: str | None
    url: str | None
    department: str | None

    def to_dict(self) -> dict[str, Any]:
        """The entry with an RFC 3339 ``since``."""
        out = attrs.asdict(self, recurse=False)
        out["since"] = format_ts(self.since)
        return out
