"""Parsing the event contract: a plain mapping in, a checked typed event out.

:func:`parse_event` checks every rule of the contract (envelope, required
fields, each field's kind and bounds, cross-field rules, the rating scale and
currency of a :class:`~whoson.core.settings.ParseContext`) and raises
:class:`~whoson.core.errors.InvalidEvent` naming the field, value and rule.
:func:`admit` re-checks an already typed event against a context's settings.
This is the hot path of ingestion: per type, the plan of fields is computed once.

>>> parse_event({"id": "e1", "type": "survey", "ts": "2026-03-01T12:00:00Z",
...              "visitor": "v1", "rating": 5}).rating
5
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from sys import intern
from typing import Any, cast

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
from whoson.core.events import (
    ENVELOPE,
    EVENT_TYPES,
    MAX_ID,
    MAX_TEXT,
    MAX_URL,
    NO_EXTRA,
    Event,
    Kind,
    OrderEvent,
    SurveyEvent,
)
from whoson.core.settings import ParseContext, RatingScale
from whoson.core.time import parse_ts

__all__ = ["admit", "parse_event", "settle_currency"]


def _read_string(field: str, raw: Any, limit: int, *, identifier: bool = True) -> str:
    if not isinstance(raw, str):
        raise InvalidEvent(field, raw, "must be a string")
    if not raw:
        raise InvalidEvent(field, raw, "must not be empty")
    if len(raw) > limit:
        raise InvalidEvent(field, raw, f"must be at most {limit} characters (has {len(raw)})")
    check_string(field, raw, identifier=identifier)
    return raw


def _read_rating(field: str, raw: Any, scale: RatingScale) -> int:
    """The one rating rule: an integer on the context's scale."""
    return read_count(field, raw, scale.low, scale.high, f"must be on the rating scale {scale}")


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
        return _read_rating(field, raw, ctx.rating_scale)
    if kind is Kind.CURRENCY:
        if not isinstance(raw, str) or re.fullmatch(r"[A-Z]{3}", raw) is None:
            raise InvalidEvent(field, raw, "must be an ISO 4217 code such as 'EUR'")
        return raw
    choices: tuple[str, ...] = meta["choices"]
    if raw not in choices or not isinstance(raw, str):
        raise InvalidEvent(field, raw, "must be one of " + ", ".join(map(repr, choices)))
    return raw


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
    if type(data) is dict:
        # The common shape takes a precompiled path; anything it does not settle, the checked one.
        raw_id = data.get("id")
        type_name = data.get("type")
        if type(raw_id) is str and type(type_name) is str and 0 < len(raw_id) <= MAX_ID:
            fast = _FAST.get(type_name)
            if fast is not None and raw_id.isprintable():
                try:
                    event = fast(data, raw_id, ctx)
                except Exception:  # the checked path says what is wrong
                    event = None
                if event is not None:
                    return event
    else:
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
    extra: Mapping[str, Any] = NO_EXTRA
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


# -- the precompiled path -------------------------------------------------------------
#
# Per type, one function generated from the plan above that reads an event whose
# every value is of the common kind (plain strings, booleans, money and counts
# read by _read_field) with straight-line code, and builds it by setting its
# slots (the classes have no validators or converters, so this makes the same
# object as ``cls(**values)``). It returns ``None``, or raises, for anything it
# does not settle: then the checked path (_parse_checked) reads the mapping from
# scratch and gives the outcome and the message. So it only ever accepts what
# the checked path accepts, with the same values, and rejects nothing itself.

_FIRST_YEAR, _LAST_YEAR = 1900, 9000  # those of whoson.core.time.parse_ts


def _slot_setter(cls: type[Event], name: str) -> Any:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name].__set__
    raise AttributeError(name)  # pragma: no cover - every attrs field has a slot


def _compile_fast(cls: type[Event]) -> Callable[[dict[str, Any], str, ParseContext], Event | None]:
    """The precompiled reader of ``cls`` (see above); the source is built from ``_PLANS[cls]``."""
    plan = _PLANS[cls]
    names = [f.name for f in attrs.fields(cls)]
    env: dict[str, Any] = {
        "cls": cls, "new": object.__new__, "intern": intern, "UTC": UTC, "NO_EXTRA": NO_EXTRA,
        "fromiso": datetime.fromisoformat, "read_field": _read_field, "read_extras": _read_extras,
        "known": _KNOWN[cls], "settle": settle_currency, "MAX_ID": MAX_ID,
    }
    for i, name in enumerate(names):
        env[f"set_{i}"] = _slot_setter(cls, name)
    lines = [
        "def fast(data, event_id, ctx):",
        "    get = data.get",
        "    ts = get('ts')",
        "    if type(ts) is not str:",
        "        return None",
        "    ts = fromiso(ts)",
        f"    if ts.tzinfo is not UTC or not {_FIRST_YEAR} <= ts.year < {_LAST_YEAR}:",
        "        return None",
        "    visitor = get('visitor')",
        "    if visitor is None:",
        f"        {'return None' if cls.VISITOR_REQUIRED else 'pass'}",
        "    elif type(visitor) is str and 0 < len(visitor) <= MAX_ID and visitor.isprintable():",
        "        visitor = intern(visitor)",
        "    else:",
        "        return None",
        "    chars = len(event_id) + (0 if visitor is None else len(visitor))",
    ]
    for i, (name, meta, required, shortest, longest) in enumerate(plan):
        env[f"meta_{i}"] = meta
        env[f"choices_{i}"] = meta["choices"]
        kind = meta["kind"]
        lines += [f"    v{i} = get({name!r})", f"    if v{i} is not None:"]
        if kind is Kind.BOOL:
            lines += [f"        if v{i} is not True and v{i} is not False:", "            return None"]
        else:
            if kind in _PLAIN:
                plain = f"{shortest} <= len(v{i}) <= {longest}"
            else:
                plain = f"v{i} in choices_{i}" if kind is Kind.CHOICE else "False"
            lines += [
                f"        if type(v{i}) is str and {plain} and v{i}.isprintable():",
                f"            v{i} = intern(v{i})",
                "        else:",
                f"            v{i} = read_field({name!r}, v{i}, meta_{i}, ctx)",
                f"        if type(v{i}) is str:",
                f"            chars += len(v{i})",
            ]
        if required:
            lines += ["    else:", "        return None"]
    # The checked path's cheap upper bound on the size, with every field counted: when
    # it passes, the checked path skips the exact measure too; when not, it takes over.
    bound = 64 * (len(plan) + 4)
    lines += [
        "    if known.issuperset(data):",
        "        extra = NO_EXTRA",
        "        size = 0",
        "    else:",
        "        extra, size = read_extras(data, known)",
        f"    if size + {bound} + 6 * chars > {MAX_EVENT_BYTES}:",
        "        return None",
        "    event = new(cls)",
    ]
    values = {"id": "event_id", "ts": "ts", "visitor": "visitor", "extra": "extra"}
    values.update({name: f"v{i}" for i, (name, *_) in enumerate(plan)})
    lines += [f"    set_{i}(event, {values[name]})" for i, name in enumerate(names)]
    if cls._check is not Event._check or cls.AGENT_WHEN is not None:
        lines.append("    event._check()")
    if issubclass(cls, OrderEvent):
        lines.append("    event = settle(event, ctx)")
    lines.append("    return event")
    exec("\n".join(lines), env)  # source built above from the field plans only
    return cast(Callable[[dict[str, Any], str, ParseContext], "Event | None"], env["fast"])


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


_FAST: dict[str, Callable[[dict[str, Any], str, ParseContext], Event | None]] = {
    name: _compile_fast(cls) for name, cls in EVENT_TYPES.items()
}


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
        try:
            _read_rating("rating", event.rating, ctx.rating_scale)
        except InvalidEvent as err:
            err.event_id = event.id
            raise
    if isinstance(event, OrderEvent):
        return settle_currency(event, ctx)
    return event
