"""The event contract's types: one frozen attrs class per event type.

Each class declares its fields with the :class:`Kind` that says how a raw JSON
value is read; :func:`whoson.core.parsing.parse_event` checks a mapping against
them and builds the event. :meth:`Event.to_dict` gives the mapping back, unknown
extra fields included. Events about one chat request share
:class:`RequestScopedEvent`.

Optional fields keep ``None`` when the producer left them out, so a round trip
never invents a value; the properties (``Order.value``, ``RequestEvent.is_offline``)
apply the contract's defaults.

>>> from whoson.core.parsing import parse_event
>>> event = parse_event({"id": "e1", "type": "page_view", "ts": "2026-03-01T13:00:00+01:00",
...                      "visitor": "v1", "url": "/shoes", "utm": "spring"})
>>> event.ts.isoformat(), event.url
('2026-03-01T12:00:00+00:00', '/shoes')
>>> event.to_dict()
{'id': 'e1', 'type': 'page_view', 'ts': '2026-03-01T12:00:00Z', 'visitor': 'v1', 'url': '/shoes', 'utm': 'spring'}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from whoson.core.errors import InvalidEvent
from whoson.core.time import format_ts

__all__ = [
    "ENVELOPE",
    "EVENT_TYPES",
    "MAX_ID",
    "MAX_TEXT",
    "MAX_URL",
    "NO_EXTRA",
    "AgentStatusEvent",
    "AutoMessageClickEvent",
    "AutoMessageEvent",
    "CallJoinedEvent",
    "CartUpdateEvent",
    "Event",
    "HeartbeatEvent",
    "HoldoutEvent",
    "IdentifyEvent",
    "Kind",
    "MessageEvent",
    "OrderEvent",
    "PageLeaveEvent",
    "PageViewEvent",
    "RequestEndEvent",
    "RequestEvent",
    "RequestScopedEvent",
    "SurveyEvent",
    "TransferEvent",
    "WidgetClickEvent",
    "WidgetImpressionEvent",
]

MAX_ID = 200
MAX_URL = 8192
MAX_TEXT = 10_000
ENVELOPE = ("id", "type", "ts", "visitor")


class Kind(Enum):
    """How a field's raw JSON value is read and checked."""

    ID = "id"
    URL = "url"
    TEXT = "text"
    MONEY = "money"
    BOOL = "bool"
    COUNT = "count"
    RATING = "rating"
    CURRENCY = "currency"
    CHOICE = "choice"


def _spec(
    kind: Kind,
    *,
    required: bool = False,
    choices: tuple[str, ...] = (),
) -> Any:
    return attrs.field(
        default=None,
        metadata={"kind": kind, "required": required, "choices": choices},
    )


# Most events carry no extra field: they all share this empty, read-only mapping.
NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value)
    return value


@attrs.frozen(kw_only=True)
class Event:
    """Fields every event carries: ``id``, ``ts`` (aware UTC), ``visitor``.

    ``extra`` keeps the fields the contract does not know, for a lossless round trip.
    """

    TYPE: ClassVar[str] = ""
    VISITOR_REQUIRED: ClassVar[bool] = True
    AGENT_WHEN: ClassVar[tuple[str, str] | None] = None
    """``(field, value)``: the ``agent`` field is required when ``field`` has ``value``."""

    id: str
    ts: datetime
    visitor: str | None = None
    extra: Mapping[str, Any] = attrs.field(default=NO_EXTRA, hash=False, repr=False)

    @property
    def type(self) -> str:
        """The contract's name for this event type, e.g. ``"page_view"``."""
        return self.TYPE

    @property
    def sort_key(self) -> tuple[datetime, str]:
        """Event-time order: ``(ts, id)``, the order every metric uses."""
        return (self.ts, self.id)

    def to_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready mapping: envelope, set fields, then extras.

        Money stays :class:`~decimal.Decimal`; timestamps become UTC strings.
        """
        out: dict[str, Any] = {"id": self.id, "type": self.TYPE, "ts": format_ts(self.ts)}
        if self.visitor is not None:
            out["visitor"] = self.visitor
        for field in attrs.fields(type(self)):
            if field.name in ("id", "ts", "visitor", "extra"):
                continue
            value = getattr(self, field.name)
            if value is not None:
                out[field.name] = _json_value(value)
        out.update(self.extra)
        return out

    def _check(self) -> None:
        """Cross-field rules of the type: :attr:`AGENT_WHEN`; overridden where the contract has others."""
        if self.AGENT_WHEN is not None:
            _require_agent_when(self, *self.AGENT_WHEN)

    @property
    def request_id(self) -> str | None:
        """The request this event names, if its type names one."""
        value = getattr(self, "request", None)
        return value if isinstance(value, str) else None


def _require_agent_when(event: Event, field: str, role: str) -> None:
    if getattr(event, field) == role and getattr(event, "agent", None) is None:
        raise InvalidEvent("agent", None, f"is required when {field} is {role!r}", event_id=event.id)


@attrs.frozen(kw_only=True)
class PageViewEvent(Event):
    """The visitor opened a page."""

    TYPE: ClassVar[str] = "page_view"
    url: str = _spec(Kind.URL, required=True)
    title: str | None = _spec(Kind.TEXT)
    referrer: str | None = _spec(Kind.URL)
    session: str | None = _spec(Kind.ID)
    device: str | None = _spec(Kind.TEXT)
    country: str | None = _spec(Kind.TEXT)
    user_agent: str | None = _spec(Kind.TEXT)


@attrs.frozen(kw_only=True)
class HeartbeatEvent(Event):
    """The visitor is still on the page."""

    TYPE: ClassVar[str] = "heartbeat"
    url: str | None = _spec(Kind.URL)


@attrs.frozen(kw_only=True)
class PageLeaveEvent(Event):
    """The visitor left the page (tab closed or navigated away)."""

    TYPE: ClassVar[str] = "page_leave"
    url: str | None = _spec(Kind.URL)


@attrs.frozen(kw_only=True)
class IdentifyEvent(Event):
    """The visitor is a known customer."""

    TYPE: ClassVar[str] = "identify"
    customer: str = _spec(Kind.ID, required=True)
    name: str | None = _spec(Kind.TEXT)
    email: str | None = _spec(Kind.TEXT)


@attrs.frozen(kw_only=True)
class CartUpdateEvent(Event):
    """The cart subtotal is now ``value`` (0: emptied)."""

    TYPE: ClassVar[str] = "cart_update"
    value: Decimal = _spec(Kind.MONEY, required=True)


@attrs.frozen(kw_only=True)
class OrderEvent(Event):
    """A purchase; its :attr:`value` is ``subtotal - discount``.

    >>> from whoson.core.parsing import parse_event
    >>> e = parse_event({"id": "o", "type": "order", "ts": "2026-03-01T12:00:00Z", "visitor": "v",
    ...                  "order": "A1", "subtotal": "100.00", "discount": 15, "shipping": 4.9})
    >>> e.value
    Decimal('85.00')
    """

    TYPE: ClassVar[str] = "order"
    order: str = _spec(Kind.ID, required=True)
    subtotal: Decimal = _spec(Kind.MONEY, required=True)
    discount: Decimal | None = _spec(Kind.MONEY)
    shipping: Decimal | None = _spec(Kind.MONEY)
    tax: Decimal | None = _spec(Kind.MONEY)
    currency: str | None = _spec(Kind.CURRENCY)

    @property
    def value(self) -> Decimal:
        """Order value: subtotal minus discount; shipping and tax excluded."""
        return self.subtotal - (self.discount or Decimal(0))

    def _check(self) -> None:
        if self.value < 0:
            raise InvalidEvent(
                "discount", self.discount, "must not exceed subtotal (order value < 0)",
                event_id=self.id,
            )


@attrs.frozen(kw_only=True)
class WidgetImpressionEvent(Event):
    """The chat widget was shown."""

    TYPE: ClassVar[str] = "widget_impression"
    url: str | None = _spec(Kind.URL)


@attrs.frozen(kw_only=True)
class WidgetClickEvent(Event):
    """The visitor clicked the widget or a chat notification (implies an impression)."""

    TYPE: ClassVar[str] = "widget_click"
    url: str | None = _spec(Kind.URL)
    source: str | None = _spec(Kind.CHOICE, choices=("widget", "notification"))


@attrs.frozen(kw_only=True)
class AutoMessageEvent(Event):
    """A rule showed an automatic message, possibly carrying a link."""

    TYPE: ClassVar[str] = "auto_message"
    trigger: str = _spec(Kind.ID, required=True)
    link: str | None = _spec(Kind.URL)
    url: str | None = _spec(Kind.URL)


@attrs.frozen(kw_only=True)
class AutoMessageClickEvent(Event):
    """The visitor clicked an automatic message or its link."""

    TYPE: ClassVar[str] = "auto_message_click"
    trigger: str = _spec(Kind.ID, required=True)
    link: str | None = _spec(Kind.URL)


@attrs.frozen(kw_only=True)
class HoldoutEvent(Event):
    """A rule would have invited the visitor, who is in its control group: nothing was shown.

    Recorded by the rules engine only (a browser may not send it); see docs/experiments.md.
    """

    TYPE: ClassVar[str] = "holdout"
    trigger: str = _spec(Kind.ID, required=True)
    url: str | None = _spec(Kind.URL)


CHANNELS = ("text", "video")
INITIATORS = ("visitor", "agent", "auto")
SIDES = ("visitor", "agent")


@attrs.frozen(kw_only=True)
class RequestScopedEvent(Event):
    """An event inside one chat request, which it names in ``request`` (required).

    The base of :class:`RequestEvent`, :class:`MessageEvent`, :class:`CallJoinedEvent`,
    :class:`TransferEvent` and :class:`RequestEndEvent`; :class:`SurveyEvent` names
    its request optionally, so it is not one.
    """

    request: str = _spec(Kind.ID, required=True)

    @property
    def request_id(self) -> str:
        """The request this event names."""
        return self.request


@attrs.frozen(kw_only=True)
class RequestEvent(RequestScopedEvent):
    """A text or video chat request was created by a visitor, an agent or a rule."""

    TYPE: ClassVar[str] = "request"
    AGENT_WHEN: ClassVar[tuple[str, str] | None] = ("initiator", "agent")
    channel: str = _spec(Kind.CHOICE, required=True, choices=CHANNELS)
    initiator: str = _spec(Kind.CHOICE, required=True, choices=INITIATORS)
    agent: str | None = _spec(Kind.ID)
    trigger: str | None = _spec(Kind.ID)
    url: str | None = _spec(Kind.URL)
    offline: bool | None = _spec(Kind.BOOL)
    department: str | None = _spec(Kind.TEXT)

    @property
    def is_offline(self) -> bool:
        """Whether the request was left while no agent was available."""
        return bool(self.offline)


@attrs.frozen(kw_only=True)
class MessageEvent(RequestScopedEvent):
    """A text message inside a request, from the visitor or an agent."""

    TYPE: ClassVar[str] = "message"
    AGENT_WHEN: ClassVar[tuple[str, str] | None] = ("sender", "agent")
    sender: str = _spec(Kind.CHOICE, required=True, choices=SIDES)
    agent: str | None = _spec(Kind.ID)
    chars: int | None = _spec(Kind.COUNT)

    @property
    def side(self) -> str:
        """Who responded: ``"visitor"`` or ``"agent"``."""
        return self.sender


@attrs.frozen(kw_only=True)
class CallJoinedEvent(RequestScopedEvent):
    """A side joined the video call."""

    TYPE: ClassVar[str] = "call_joined"
    AGENT_WHEN: ClassVar[tuple[str, str] | None] = ("participant", "agent")
    participant: str = _spec(Kind.CHOICE, required=True, choices=SIDES)
    agent: str | None = _spec(Kind.ID)

    @property
    def side(self) -> str:
        """Who responded: ``"visitor"`` or ``"agent"``."""
        return self.participant


@attrs.frozen(kw_only=True)
class TransferEvent(RequestScopedEvent):
    """The conversation moved to another agent (an escalation if ``escalation``)."""

    TYPE: ClassVar[str] = "transfer"
    from_agent: str | None = _spec(Kind.ID)
    to_agent: str | None = _spec(Kind.ID)
    escalation: bool | None = _spec(Kind.BOOL)

    @property
    def is_escalation(self) -> bool:
        """Whether the transfer went to a second level or supervisor."""
        return bool(self.escalation)


@attrs.frozen(kw_only=True)
class RequestEndEvent(RequestScopedEvent):
    """The request or conversation ended."""

    TYPE: ClassVar[str] = "request_end"
    reason: str | None = _spec(
        Kind.CHOICE, choices=("closed", "declined", "cancelled", "missed", "timeout")
    )
    resolved: bool | None = _spec(Kind.BOOL)


@attrs.frozen(kw_only=True)
class SurveyEvent(Event):
    """A satisfaction / NPS survey was submitted or closed out."""

    TYPE: ClassVar[str] = "survey"
    request: str | None = _spec(Kind.ID)
    agent: str | None = _spec(Kind.ID)
    rating: int | None = _spec(Kind.RATING)
    submitted: bool | None = _spec(Kind.BOOL)
    feedback: str | None = _spec(Kind.TEXT)


@attrs.frozen(kw_only=True)
class AgentStatusEvent(Event):
    """An agent's availability changed (carries no visitor)."""

    TYPE: ClassVar[str] = "agent_status"
    VISITOR_REQUIRED: ClassVar[bool] = False
    agent: str = _spec(Kind.ID, required=True)
    status: str = _spec(Kind.CHOICE, required=True, choices=("online", "away", "offline"))
    name: str | None = _spec(Kind.TEXT)
    capacity: int | None = _spec(Kind.COUNT)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        PageViewEvent, HeartbeatEvent, PageLeaveEvent, IdentifyEvent, CartUpdateEvent,
        OrderEvent, WidgetImpressionEvent, WidgetClickEvent, AutoMessageEvent,
        AutoMessageClickEvent, HoldoutEvent, RequestEvent, MessageEvent, CallJoinedEvent, TransferEvent,
        RequestEndEvent, SurveyEvent, AgentStatusEvent,
    )
}
