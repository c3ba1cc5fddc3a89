"""Hypothesis strategies for store tests: any valid event, and clashing batches.

:func:`any_events` covers every type with every optional field and random
extras (decimals, unicode, nesting), for codec round trips. :func:`clashing_events`
draws from tiny pools of ids, visitors and requests, so that batches are full
of duplicates, id conflicts and request-ownership clashes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from whoson.core.errors import InvalidEvent
from whoson.core.events import EVENT_TYPES, Event, Kind
from whoson.core.parsing import parse_event

__all__ = ["BASE", "any_events", "clashing_events", "json_values"]

BASE = datetime(2026, 3, 1, 12, tzinfo=UTC)
ENVELOPE = {"id", "type", "ts", "visitor"}

finite_decimals = st.decimals(allow_nan=False, allow_infinity=False)
# Amounts within the v2 bounds of events.md: below 10^15, at most 6 decimals.
money = st.one_of(
    st.builds(lambda digits, places: Decimal(digits).scaleb(-places),
              st.integers(0, 10**15 - 1), st.integers(0, 6)),
    st.sampled_from([Decimal("0"), Decimal("12.50"), Decimal("1E+2"), Decimal("0.000")]),
)
texts = st.text(max_size=12)
# Ids (and, here, every contract string) hold no control characters.
names = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite_decimals | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


def _field_strategy(meta: Any) -> st.SearchStrategy[Any]:
    kind: Kind = meta["kind"]
    if kind is Kind.MONEY:
        return money
    if kind is Kind.BOOL:
        return st.booleans()
    if kind is Kind.COUNT:
        return st.integers(min_value=0, max_value=10**6)
    if kind is Kind.RATING:
        return st.integers(min_value=1, max_value=5)
    if kind is Kind.CURRENCY:
        return st.sampled_from(["EUR", "USD"])
    if kind is Kind.CHOICE:
        return st.sampled_from(meta["choices"])
    return names


@st.composite
def any_events(draw: st.DrawFn) -> Event:
    """A valid event of any type, optional fields and extras drawn at random."""
    cls = draw(st.sampled_from(list(EVENT_TYPES.values())))
    ts = draw(st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ))
    data: dict[str, Any] = {"id": draw(names), "type": cls.TYPE, "ts": ts}
    if cls.VISITOR_REQUIRED or draw(st.booleans()):
        data["visitor"] = draw(names)
    for field in attrs.fields(cls):
        if field.name in ENVELOPE or field.name == "extra":
            continue
        if field.metadata["required"] or draw(st.booleans()):
            data[field.name] = draw(_field_strategy(field.metadata))
    if data.get("initiator") == "agent" or "agent" in (data.get("sender"),
                                                         data.get("participant")):
        data["agent"] = draw(names)
    if "discount" in data:
        data["discount"] = min(data["discount"], data["subtotal"])
    known = {f.name for f in attrs.fields(cls)} | ENVELOPE
    extras = draw(st.dictionaries(names.filter(lambda k: k not in known), json_values,
                                  max_size=3))
    data.update(extras)
    try:
        return parse_event(data)
    except InvalidEvent as err:  # pragma: no cover - the draws above respect the contract
        raise AssertionError(f"strategy drew an invalid event: {err}") from err


IDS = tuple(f"e{i}" for i in range(12))
VISITORS = ("v0", "v1", "v2")
REQUESTS = ("r0", "r1", "r2")


@st.composite
def clashing_events(draw: st.DrawFn) -> Event:
    """An event from tiny pools: ids, visitors and requests collide often."""
    event_id = draw(st.sampled_from(IDS))
    ts = BASE + timedelta(minutes=draw(st.integers(0, 5)))
    kind = draw(st.sampled_from(["heartbeat", "message", "request", "order", "agent_status"]))
    data: dict[str, Any] = {"id": event_id, "type": kind, "ts": ts}
    if kind != "agent_status":
        data["visitor"] = draw(st.sampled_from(VISITORS))
    if kind == "heartbeat":
        data["url"] = draw(st.sampled_from(["/a", "/b"]))
    elif kind == "message":
        data.update(request=draw(st.sampled_from(REQUESTS)), sender="visitor")
    elif kind == "request":
        data.update(request=draw(st.sampled_from(REQUESTS)), channel="text",
                    initiator="visitor")
    elif kind == "order":
        data.update(order="A1", subtotal=draw(st.sampled_from(["10.0", "10.00", "7"])))
    else:
        data.update(agent="a1", status=draw(st.sampled_from(["online", "away"])))
    if draw(st.booleans()):
        data["note"] = draw(st.sampled_from([Decimal("1.50"), "x", None]))
    return parse_event(data)
