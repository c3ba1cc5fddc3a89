"""The event contract: one frozen attrs class per event type.

Events are parsed from plain mappings (a decoded JSON line) by
:func:`parse_event`, which checks every rule of the contract and raises
:class:`~whoson.core.errors.InvalidEvent` naming the field, value and rule.
:meth:`Event.to_dict` gives the mapping back, unknown extra fields included.

Optional fields keep ``None`` when the producer left them out, so a round trip
never invents a value; the properties (``Order.value``, ``RequestEvent.is_offline``)
apply the contract's defaults.

>>> event = parse_event({"id": "e1", "type": "page_view", "ts": "2026-03-01T13:00:00+01:00",
...                      "visitor": "v1", "url": "/shoes", "utm": "spring"})
>>> event.ts.isoformat(), event.url
('2026-03-01T12:00:00+00:00', '/shoes')
>>> event.to_dict()
{'id': 'e1', 'type': 'page_view', 'ts': '2026-03-01T12:00:00Z', 'visitor': 'v1', 'url': '/shoes', 'utm': 'spring'}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from sys import intern
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from whoson.core.bounds import (
    MAX_EVENT_BYTES,
    check_string,
    clean_extra,
    json_size,
    read_count,
    read_money,
)
from whoson.core.errors import InvalidEvent, excerpt

__all__ = [
    "EVENT_TYPES",
    "AgentStatusEvent",
    "AutoMessageClickEvent",
    "AutoMessageEvent",
    "CallJoinedEvent",
    "CartUpdateEvent",
    "Event",
    "HeartbeatEvent",
    "HoldoutEvent",
    "IdentifyEvent",
    "MessageEvent",
    "OrderEvent",
    "PageLeaveEvent",
    "PageViewEvent",
    "ParseContext",
    "RatingScale",
    "RequestEndEvent",
    "RequestEvent",
    "SurveyEvent",
    "TransferEvent",
    "WidgetClickEvent",
    "WidgetImpressionEvent",
    "admit",
    "format_ts",
    "parse_event",
    "parse_ts",
    "settle_currency",
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


@attrs.frozen
class RatingScale:
    """The closed integer range survey ratings live on (1..5 unless configured).

    >>> RatingScale.parse("0..10")
    RatingScale(low=0, high=10)
    >>> RatingScale(1, 5).values
    (1, 2, 3, 4, 5)
    """

    low: int = 1
    high: int = 5

    def __attrs_post_init__(self) -> None:
        if self.low >= self.high:
            raise ValueError(f"rating scale {self.low}..{self.high} must have low < high")
        if self.high - self.low > 100:
            raise ValueError(f"rating scale {self.low}..{self.high} has more than 101 values")

    @property
    def values(self) -> tuple[int, ...]:
        """Every value of the scale, ascending."""
        return tuple(range(self.low, self.high + 1))

    @classmethod
    def parse(cls, text: str) -> RatingScale:
        """Read ``"1..5"`` or ``"1-5"``."""
        match = re.fullmatch(r"\s*(-?\d+)\s*(?:\.\.|-)\s*(-?\d+)\s*", text)
        if match is None:
            raise ValueError(f"rating scale {text!r} must look like 1..5 or 0..10")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.low}..{self.high}"


CurrencyConverter = Callable[[Decimal, str, datetime], Decimal]


@attrs.frozen
class ParseContext:
    """The tracker settings some rules depend on.

    ``currency`` is the tracker's currency (``None``: orders must not name one
    the caller did not expect, so any is accepted and the caller fixes it);
    ``converter`` turns an amount in another currency into the tracker's.
    """

    rating_scale: RatingScale = RatingScale()
    currency: str | None = None
    converter: CurrencyConverter | None = None


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


_fromisoformat = datetime.fromisoformat


def parse_ts(raw: Any, field: str = "ts") -> datetime:
    """An RFC 3339 timestamp with a UTC offset, in UTC, between the years 1900 and 9000.

    >>> parse_ts("2026-03-29T02:30:00+02:00").isoformat()
    '2026-03-29T00:30:00+00:00'
    >>> try:
    ...     parse_ts("2026-03-29T02:30:00")
    ... except InvalidEvent as err:
    ...     print(err.rule)
    must carry a UTC offset (Z or +hh:mm); no guessing
    """
    try:
        moment = _parse_ts(raw, field)
    except OverflowError:
        moment = datetime.min.replace(tzinfo=UTC)
    if not _FIRST_YEAR <= moment.year < _LAST_YEAR:
        raise InvalidEvent(field, raw, f"must lie between the years {_FIRST_YEAR} and {_LAST_YEAR}")
    return moment


# Far from datetime's own limits, where moving to a local zone would overflow.
_FIRST_YEAR, _LAST_YEAR = 1900, 9000


# RFC 3339 allows a leap second (second 60); Python's datetime has none.
_LEAP = re.compile(r"^(.{10}[Tt ]\d\d:\d\d):60(?:[.,]\d+)?(?=[Zz+-]|$)")
_GENERIC = "Invalid isoformat string"


def _parse_ts(raw: Any, field: str) -> datetime:
    if type(raw) is str:
        # Fast path for a clean string; anything odd takes the checked path below.
        try:
            parsed = _fromisoformat(raw)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is UTC:
                return parsed
            if parsed.tzinfo is not None and parsed.utcoffset() is not None:
                return parsed.astimezone(UTC)
    if isinstance(raw, datetime):
        parsed = raw
    else:
        if not isinstance(raw, str):
            raise InvalidEvent(field, raw, "must be an RFC 3339 string")
        text = raw.strip()
        if text.endswith("z"):  # RFC 3339 section 5.6: "T" and "Z" may be lower case
            text = text[:-1] + "Z"
        # A leap second is read as the last microsecond of its minute.
        text = _LEAP.sub(r"\1:59.999999", text, count=1)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as err:
            why = str(err)
            rule = "must be an RFC 3339 timestamp such as 2026-03-01T12:00:00Z"
            raise InvalidEvent(field, raw, rule if _GENERIC in why else f"{rule} ({why})") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidEvent(field, raw, "must carry a UTC offset (Z or +hh:mm); no guessing")
    return parsed.astimezone(UTC)


def format_ts(moment: datetime) -> str:
    """Write a UTC instant the way whoson stores it (``Z``, microseconds only if any).

    >>> format_ts(parse_ts("2026-03-01T12:00:00.250+00:00"))
    '2026-03-01T12:00:00.250000Z'
    """
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _read_string(field: str, raw: Any, limit: int, *, identifier: bool = True) -> str:
    if not isinstance(raw, str):
        raise InvalidEvent(field, raw, "must be a string")
    if not raw:
        raise InvalidEvent(field, raw, "must not be empty")
    if len(raw) > limit:
        raise InvalidEvent(field, raw, f"must be at most {limit} characters (has {len(raw)})")
    check_string(field, raw, identifier=identifier)
    return raw


def _read_field(field: str, raw: Any, meta: Mapping[str, Any], ctx: ParseContext) -> Any:
    kind: Kind = meta["kind"]
    if kind is Kind.ID:
        return _read_string(field, raw, MAX_ID)
    if kind is Kind.URL:
        return _read_string(field, raw, MAX_URL, identifier=False)
    if kind is Kind.TEXT:
        if isinstance(raw, str) and len(raw) <= MAX_TEXT:
            check_string(field, raw, identifier=False)
            return raw
        return _read_string(field, raw, MAX_TEXT, identifier=False)
    if kind is Kind.MONEY:
        return read_money(field, raw)
    if kind is Kind.BOOL:
        if not isinstance(raw, bool):
            raise InvalidEvent(field, raw, "must be true or false")
        return raw
    if kind is Kind.COUNT:
        return read_count(field, raw)
    if kind is Kind.RATING:
        scale = ctx.rating_scale
        return read_count(field, raw, scale.low, scale.high, f"must be on the rating scale {scale}")
    if kind is Kind.CURRENCY:
        if not isinstance(raw, str) or re.fullmatch(r"[A-Z]{3}", raw) is None:
            raise InvalidEvent(field, raw, "must be an ISO 4217 code such as 'EUR'")
        return raw
    choices: tuple[str, ...] = meta["choices"]
    if raw not in choices or not isinstance(raw, str):
        raise InvalidEvent(field, raw, "must be one of " + ", ".join(map(repr, choices)))
    return raw


# Most events carry no extra field: they all share this empty, read-only mapping.
_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


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

    id: str
    ts: datetime
    visitor: str | None = None
    extra: Mapping[str, Any] = attrs.field(default=_NO_EXTRA, hash=False, repr=False)

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
        """Cross-field rules of the type; overridden where the contract has some."""

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
class RequestEvent(Event):
    """A text or video chat request was created by a visitor, an agent or a rule."""

    TYPE: ClassVar[str] = "request"
    request: str = _spec(Kind.ID, required=True)
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

    def _check(self) -> None:
        _require_agent_when(self, "initiator", "agent")

    @property
    def request_id(self) -> str:
        """The request this event names."""
        return self.request


@attrs.frozen(kw_only=True)
class MessageEvent(Event):
    """A text message inside a request, from the visitor or an agent."""

    TYPE: ClassVar[str] = "message"
    request: str = _spec(Kind.ID, required=True)
    sender: str = _spec(Kind.CHOICE, required=True, choices=SIDES)
    agent: str | None = _spec(Kind.ID)
    chars: int | None = _spec(Kind.COUNT)

    @property
    def side(self) -> str:
        """Who responded: ``"visitor"`` or ``"agent"``."""
        return self.sender

    def _check(self) -> None:
        _require_agent_when(self, "sender", "agent")

    @property
    def request_id(self) -> str:
        """The request this event names."""
        return self.request


@attrs.frozen(kw_only=True)
class CallJoinedEvent(Event):
    """A side joined the video call."""

    TYPE: ClassVar[str] = "call_joined"
    request: str = _spec(Kind.ID, required=True)
    participant: str = _spec(Kind.CHOICE, required=True, choices=SIDES)
    agent: str | None = _spec(Kind.ID)

    @property
    def side(self) -> str:
        """Who responded: ``"visitor"`` or ``"agent"``."""
        return self.participant

    def _check(self) -> None:
        _require_agent_when(self, "participant", "agent")

    @property
    def request_id(self) -> str:
        """The request this event names."""
        return self.request


@attrs.frozen(kw_only=True)
class TransferEvent(Event):
    """The conversation moved to another agent (an escalation if ``escalation``)."""

    TYPE: ClassVar[str] = "transfer"
    request: str = _spec(Kind.ID, required=True)
    from_agent: str | None = _spec(Kind.ID)
    to_agent: str | None = _spec(Kind.ID)
    escalation: bool | None = _spec(Kind.BOOL)

    @property
    def is_escalation(self) -> bool:
        """Whether the transfer went to a second level or supervisor."""
        return bool(self.escalation)

    @property
    def request_id(self) -> str:
        """The request this event names."""
        return self.request


@attrs.frozen(kw_only=True)
class RequestEndEvent(Event):
    """The request or conversation ended."""

    TYPE: ClassVar[str] = "request_end"
    request: str = _spec(Kind.ID, required=True)
    reason: str | None = _spec(
        Kind.CHOICE, choices=("closed", "declined", "cancelled", "missed", "timeout")
    )
    resolved: bool | None = _spec(Kind.BOOL)

    @property
    def request_id(self) -> str:
        """The request this event names."""
        return self.request


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

# Per type, computed once: the fields after the envelope as (name, metadata,
# required) and every key the type knows, so that parsing a line does no
# per-call bookkeeping.
_FIELDS: dict[type[Event], tuple[tuple[str, Mapping[str, Any], bool], ...]] = {
    cls: tuple(
        (f.name, f.metadata, bool(f.metadata["required"]))
        for f in attrs.fields(cls)
        if f.name not in ("id", "ts", "visitor", "extra")
    )
    for cls in EVENT_TYPES.values()
}
# Per field: the (shortest, longest) plain string accepted without further checks.
_PLAIN = {Kind.ID: (1, MAX_ID), Kind.URL: (1, MAX_URL), Kind.TEXT: (0, MAX_TEXT)}
_PLANS: dict[type[Event], tuple[tuple[str, Mapping[str, Any], bool, int, int], ...]] = {
    cls: tuple(
        (name, meta, required, *_PLAIN.get(meta["kind"], (1, 0))) for name, meta, required in fields
    )
    for cls, fields in _FIELDS.items()
}
_KNOWN: dict[type[Event], frozenset[str]] = {
    cls: frozenset(ENVELOPE) | {name for name, _, _ in fields} for cls, fields in _FIELDS.items()
}


def parse_event(data: Mapping[str, Any] | Event, ctx: ParseContext = ParseContext()) -> Event:
    """Check a mapping against the event contract and build its typed event.

    A typed event passes through after the context-dependent checks (rating
    scale, currency). JSON ``null`` in an optional field counts as absent.

    >>> parse_event({"id": "x", "type": "request", "ts": "2026-03-01T12:00:00Z",
    ...              "visitor": "v", "request": "r1", "channel": "text", "initiator": "agent"})
    Traceback (most recent call last):
    ...
    whoson.core.errors.InvalidEvent: event 'x': field 'agent' = None: is required when initiator is 'agent'
    """
    if type(data) is not dict:
        if isinstance(data, Event):
            data = data.to_dict()
        elif not isinstance(data, Mapping):
            raise InvalidEvent("event", data, "must be a JSON object")
    raw_id = data.get("id")
    event_id = _read_string("id", raw_id, MAX_ID) if raw_id is not None else None
    if event_id is None:
        raise InvalidEvent("id", raw_id, "is required")
    try:
        return _parse_checked(data, event_id, ctx)
    except InvalidEvent as err:
        if err.event_id is None:
            err.event_id = event_id
        raise
    except (RecursionError, ArithmeticError, TypeError, ValueError) as err:
        # A safety net: no value may escape the contract as anything but a rejection.
        raise InvalidEvent("event", event_id, f"cannot be read: {type(err).__name__}: {err}",
                           event_id=event_id) from None


def _parse_checked(data: Mapping[str, Any], event_id: str, ctx: ParseContext) -> Event:
    type_name = data.get("type")
    cls = EVENT_TYPES.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise InvalidEvent("type", type_name, "must be one of " + ", ".join(sorted(EVENT_TYPES)))
    raw_ts = data.get("ts")
    if raw_ts is None:
        raise InvalidEvent("ts", None, "is required")
    ts = parse_ts(raw_ts)
    visitor = data.get("visitor")
    if visitor is None:
        if cls.VISITOR_REQUIRED:
            raise InvalidEvent("visitor", None, f"is required on {cls.TYPE} events")
    elif type(visitor) is not str or not 0 < len(visitor) <= MAX_ID or not visitor.isprintable():
        visitor = _read_string("visitor", visitor, MAX_ID)
    else:
        # Visitor ids, urls, agents and request ids repeat across events: one copy each.
        visitor = intern(visitor)
    values: dict[str, Any] = {}
    for name, meta, required, shortest, longest in _PLANS[cls]:
        raw = data.get(name)
        if raw is None:
            if required:
                raise InvalidEvent(name, None, f"is required on {cls.TYPE} events")
            continue
        # Plain strings and booleans are by far the most common values: accept them
        # inline; anything else (and every error) goes through _read_field.
        if type(raw) is str:
            if (shortest <= len(raw) <= longest or raw in meta["choices"]) and raw.isprintable():
                values[name] = intern(raw)
                continue
        elif (raw is True or raw is False) and meta["kind"] is Kind.BOOL:
            values[name] = raw
            continue
        values[name] = _read_field(name, raw, meta, ctx)
    known = _KNOWN[cls]
    extra: Mapping[str, Any] = _NO_EXTRA
    size = 0
    if not known.issuperset(data):
        extra, size = _read_extras(data, known)
    event = cls(id=event_id, ts=ts, visitor=visitor, extra=extra, **values)
    # Cheap upper bound first (an escaped character takes at most 6 bytes); measure only above it.
    size += 64 * (len(values) + 4) + 6 * (
        len(event_id) + len(visitor or "") + sum(len(v) for v in values.values() if type(v) is str)
    )
    if size > MAX_EVENT_BYTES:
        _check_size(event)
    event._check()
    if isinstance(event, OrderEvent):
        event = settle_currency(event, ctx)
    return event


def _read_extras(data: Mapping[str, Any], known: frozenset[str]) -> tuple[dict[str, Any], int]:
    """The fields the type does not know, as exact JSON values, and their encoded size."""
    extra: dict[str, Any] = {}
    size = 0
    for key, value in data.items():
        if key in known:
            continue
        if not isinstance(key, str):
            raise InvalidEvent(str(excerpt(key)), key, "field names must be strings")
        if len(key) <= MAX_EVENT_BYTES:  # a longer name sinks the event by its size anyway
            check_string(key, key, identifier=False)
        extra[key], value_size = clean_extra(key, value)
        size += len(key) * 6 + 4 + value_size
    return extra, size


def _check_size(event: Event) -> None:
    """Refuse an event whose compact JSON exceeds the bound, naming its largest field."""
    total, shares = json_size(event.to_dict())
    if total > MAX_EVENT_BYTES:
        largest = max(shares, key=shares.__getitem__)
        raise InvalidEvent(
            largest, event.to_dict()[largest],
            f"makes the event at least {total} bytes as JSON; an event encodes to at most "
            f"{MAX_EVENT_BYTES} bytes (64 KiB)",
            event_id=event.id,
        )


def settle_currency(event: OrderEvent, ctx: ParseContext) -> OrderEvent:
    """Convert an order in a foreign currency with the context's converter, or reject it."""
    if event.currency is None or ctx.currency is None or event.currency == ctx.currency:
        return event
    if ctx.converter is None:
        raise InvalidEvent(
            "currency", event.currency,
            f"must be the tracker's currency {ctx.currency!r} (no converter configured)",
            event_id=event.id,
        )

    def convert(amount: Decimal | None) -> Decimal | None:
        if amount is None or ctx.converter is None:
            return amount
        return ctx.converter(amount, event.currency or "", event.ts)

    extra = dict(event.extra)
    extra["original"] = {
        "currency": event.currency,
        "subtotal": event.subtotal,
        **{k: v for k in ("discount", "shipping", "tax") if (v := getattr(event, k)) is not None},
    }
    return attrs.evolve(
        event,
        subtotal=ctx.converter(event.subtotal, event.currency, event.ts),
        discount=convert(event.discount),
        shipping=convert(event.shipping),
        tax=convert(event.tax),
        currency=ctx.currency,
        extra=extra,
    )


def admit(event: Event, ctx: ParseContext) -> Event:
    """Re-check an already typed event against the context's settings.

    The rating scale and the currency are settings of a tracker, so an event
    built elsewhere (or read with other settings) is checked again here.

    >>> survey = parse_event({"id": "s", "type": "survey", "ts": "2026-03-01T12:00:00Z",
    ...                       "visitor": "v", "rating": 9}, ParseContext(RatingScale(0, 10)))
    >>> admit(survey, ParseContext())
    Traceback (most recent call last):
    ...
    whoson.core.errors.InvalidEvent: event 's': field 'rating' = 9: must be on the rating scale 1..5
    """
    if isinstance(event, SurveyEvent) and event.rating is not None:
        scale = ctx.rating_scale
        if not scale.low <= event.rating <= scale.high:
            raise InvalidEvent(
                "rating", event.rating, f"must be on the rating scale {scale}", event_id=event.id
            )
    if isinstance(event, OrderEvent):
        return settle_currency(event, ctx)
    return event
