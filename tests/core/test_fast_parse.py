"""The precompiled parse of the common event shapes agrees with the checked parse on every input."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from whoson.core import parsing
from whoson.core.errors import InvalidEvent
from whoson.core.events import EVENT_TYPES, Event
from whoson.core.parsing import parse_event
from whoson.core.settings import ParseContext, RatingScale
from whoson.testing import make_event


class _Checked(dict[str, Any]):
    """A dict that is not exactly ``dict``: parse_event takes the checked path for it."""


def _outcome(data: Mapping[str, Any], ctx: ParseContext) -> tuple[str, Any]:
    try:
        event = parse_event(data, ctx)
    except InvalidEvent as err:
        return "rejected", (str(err), err.field, err.rule, err.event_id, repr(err.value))
    return "accepted", (type(event), event, repr(event), event.to_dict())


def _valid(type_name: str) -> dict[str, Any]:
    return make_event(type_name, id=f"{type_name}-1").to_dict()


ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10**6), st.just(2**70), st.decimals(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["", " ", "a\x00b", "\ud800", "x" * 201, "x" * 8193,
                                           "video", "agent", "EUR", "eur", "12.5", "-1", "2"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
TIMESTAMPS = st.sampled_from([
    "2026-03-01T12:00:00Z", "2026-03-01T12:00:00.123456Z", "2026-03-01T13:00:00+01:00",
    "2026-03-01T12:00:00", "1899-12-31T23:59:59Z", "9000-01-01T00:00:00Z", "2026-03-01T12:00:60Z",
    "2026-03-01t12:00:00z", "20260301T120000Z", " 2026-03-01T12:00:00Z", "not a time", "",
])


class TestSameOutcome:
    """parse_event of a plain dict and of the same mapping through the checked path agree."""

    @settings(max_examples=400, deadline=None)
    @given(
        type_name=st.sampled_from(sorted(EVENT_TYPES)),
        changes=st.dictionaries(
            st.sampled_from(["id", "type", "ts", "visitor", "url", "title", "request", "channel",
                             "initiator", "agent", "sender", "chars", "value", "subtotal", "discount",
                             "currency", "rating", "offline", "escalation", "status", "customer",
                             "trigger", "source", "reason", "note", "participant", "capacity"]),
            st.one_of(ODD_VALUES, TIMESTAMPS), max_size=3),
        scale=st.sampled_from([RatingScale(), RatingScale(0, 10)]),
        currency=st.sampled_from([None, "EUR", "USD"]),
    )
    def test_mutated_events(self, type_name: str, changes: dict[str, Any], scale: RatingScale,
                            currency: str | None) -> None:
        """Valid events with a few fields replaced by odd values: same event or same rejection."""
        data = _valid(type_name)
        data.update(changes)
        ctx = ParseContext(rating_scale=scale, currency=currency)
        assert _outcome(_Checked(data), ctx) == _outcome(data, ctx)

    def test_every_type_valid(self) -> None:
        """Every type's valid event is built the same, and takes the precompiled path."""
        for type_name in EVENT_TYPES:
            data = _valid(type_name)
            assert _outcome(_Checked(data), ParseContext()) == _outcome(data, ParseContext())
            assert parsing._FAST[type_name](data, data["id"], ParseContext()) is not None

    def test_big_event(self) -> None:
        """An event near the size bound gets the checked path's measure and message."""
        data = _valid("page_view") | {"title": "é" * 10_000, "user_agent": "\u2028" * 10_000,
                                     "device": "x" * 10_000, "country": "y" * 10_000}
        expected = _outcome(_Checked(data), ParseContext())
        assert expected == _outcome(data, ParseContext())
        assert "rejected" == expected[0]

    def test_order_rules(self) -> None:
        """An order's value rule and currency settlement come out the same."""
        ctx = ParseContext(currency="EUR")
        for extra in ({"discount": Decimal("200")}, {"currency": "USD"}, {"currency": "EUR"}):
            data = _valid("order") | extra
            assert _outcome(_Checked(data), ctx) == _outcome(data, ctx)

    def test_event_objects(self) -> None:
        """A typed event passes through as before."""
        event: Event = make_event("heartbeat", id="h")
        assert event == parse_event(event)
