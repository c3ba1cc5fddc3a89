"""The event contract (events.md), rule by rule, against parse_event and to_dict.

Expected values and the tables of required fields / enumerations below are
written from the spec, not read from the implementation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from whoson.codec import dumps, loads
from whoson.core.batch import BatchResult, classify
from whoson.core.errors import ConflictError, InvalidEvent, excerpt
from whoson.core.events import (
    EVENT_TYPES,
    AgentStatusEvent,
    AutoMessageClickEvent,
    AutoMessageEvent,
    CallJoinedEvent,
    CartUpdateEvent,
    Event,
    HeartbeatEvent,
    HoldoutEvent,
    IdentifyEvent,
    MessageEvent,
    OrderEvent,
    PageLeaveEvent,
    PageViewEvent,
    RequestEndEvent,
    RequestEvent,
    RequestScopedEvent,
    SurveyEvent,
    TransferEvent,
    WidgetClickEvent,
    WidgetImpressionEvent,
)
from whoson.core.parsing import admit, parse_event
from whoson.core.settings import ParseContext, RatingScale

TS = "2026-03-01T12:00:00Z"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# One complete example per type: every field of the spec filled in.
FULL: dict[str, dict[str, Any]] = {
    "page_view": {
        "url": "https://shop.example/shoes", "title": "Shoes", "referrer": "https://search.example/",
        "session": "s-1", "device": "mobile", "country": "FR", "user_agent": "Mozilla/5.0",
    },
    "heartbeat": {"url": "https://shop.example/shoes"},
    "page_leave": {"url": "https://shop.example/shoes"},
    "identify": {"customer": "c-42", "name": "Ada", "email": "ada@example.org"},
    "cart_update": {"value": "59.80"},
    "order": {
        "order": "A-1001", "subtotal": "120.00", "discount": "20.00", "shipping": "4.90",
        "tax": "19.00", "currency": "EUR",
    },
    "widget_impression": {"url": "https://shop.example/shoes"},
    "widget_click": {"url": "https://shop.example/shoes", "source": "notification"},
    "auto_message": {"trigger": "cart-help", "link": "https://shop.example/faq",
                     "url": "https://shop.example/cart"},
    "auto_message_click": {"trigger": "cart-help", "link": "https://shop.example/faq"},
    "holdout": {"trigger": "cart-help", "url": "https://shop.example/cart"},
    "request": {
        "request": "r-1", "channel": "video", "initiator": "agent", "agent": "ana",
        "trigger": "cart-help", "url": "https://shop.example/cart", "offline": False,
        "department": "sales",
    },
    "message": {"request": "r-1", "sender": "agent", "agent": "ana", "chars": 42},
    "call_joined": {"request": "r-1", "participant": "agent", "agent": "ana"},
    "transfer": {"request": "r-1", "from_agent": "ana", "to_agent": "bo", "escalation": True},
    "request_end": {"request": "r-1", "reason": "closed", "resolved": True},
    "survey": {"request": "r-1", "agent": "ana", "rating": 4, "submitted": True,
               "feedback": "Quick and kind."},
    "agent_status": {"agent": "ana", "status": "online", "name": "Ana", "capacity": 3},
}

CLASSES: dict[str, type[Event]] = {
    "page_view": PageViewEvent, "heartbeat": HeartbeatEvent, "page_leave": PageLeaveEvent,
    "identify": IdentifyEvent, "cart_update": CartUpdateEvent, "order": OrderEvent,
    "widget_impression": WidgetImpressionEvent, "widget_click": WidgetClickEvent,
    "auto_message": AutoMessageEvent, "auto_message_click": AutoMessageClickEvent,
    "holdout": HoldoutEvent,
    "request": RequestEvent, "message": MessageEvent, "call_joined": CallJoinedEvent,
    "transfer": TransferEvent, "request_end": RequestEndEvent, "survey": SurveyEvent,
    "agent_status": AgentStatusEvent,
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "page_view": ("url",),
    "identify": ("customer",),
    "cart_update": ("value",),
    "order": ("order", "subtotal"),
    "auto_message": ("trigger",),
    "auto_message_click": ("trigger",),
    "holdout": ("trigger",),
    "request": ("request", "channel", "initiator"),
    "message": ("request", "sender"),
    "call_joined": ("request", "participant"),
    "transfer": ("request",),
    "request_end": ("request",),
    "agent_status": ("agent", "status"),
}

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("widget_click", "source"): ("widget", "notification"),
    ("request", "channel"): ("text", "video"),
    ("request", "initiator"): ("visitor", "agent", "auto"),
    ("message", "sender"): ("visitor", "agent"),
    ("call_joined", "participant"): ("visitor", "agent"),
    ("request_end", "reason"): ("closed", "declined", "cancelled", "missed", "timeout"),
    ("agent_status", "status"): ("online", "away", "offline"),
}

BOOLS = [("request", "offline"), ("transfer", "escalation"), ("request_end", "resolved"),
         ("survey", "submitted")]
MONEY = [("cart_update", "value"), ("order", "subtotal"), ("order", "discount"),
         ("order", "shipping"), ("order", "tax")]
ID_FIELDS = [("page_view", "session"), ("identify", "customer"), ("order", "order"),
             ("request", "request"), ("request", "agent"), ("message", "request"),
             ("transfer", "to_agent"), ("agent_status", "agent"), ("auto_message", "trigger")]


def event_data(type_: str, **changes: Any) -> dict[str, Any]:
    """The full example of ``type_`` with ``changes`` applied (``None`` drops a key)."""
    data: dict[str, Any] = {"id": f"{type_}-1", "type": type_, "ts": TS}
    if type_ != "agent_status":
        data["visitor"] = "v-1"
    data.update(FULL[type_])
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def optional_fields(type_: str) -> list[str]:
    """The optional fields of the full example, except an agent some role may require."""
    return sorted(set(FULL[type_]) - set(REQUIRED.get(type_, ())) - {"agent"})


def rejection(data: Any, ctx: ParseContext | None = None) -> InvalidEvent:
    """The InvalidEvent that parsing ``data`` raises."""
    with pytest.raises(InvalidEvent) as caught:
        parse_event(data, ctx or ParseContext())
    return caught.value


class TestTypes:
    """Every type of the contract parses from a full example into its class."""

    def test_the_contract_has_exactly_these_types(self) -> None:
        assert set(FULL) == set(EVENT_TYPES)

    @pytest.mark.parametrize("type_", sorted(FULL))
    def test_full_example_parses_to_its_class(self, type_: str) -> None:
        event = parse_event(event_data(type_))
        assert CLASSES[type_] is type(event)
        assert type_ == event.type
        assert f"{type_}-1" == event.id
        assert T0 == event.ts
        assert {} == dict(event.extra)

    @pytest.mark.parametrize("type_", sorted(FULL))
    def test_full_example_fields_are_read(self, type_: str) -> None:
        event = parse_event(event_data(type_))
        for key, raw in FULL[type_].items():
            value = getattr(event, key)
            expected = Decimal(raw) if isinstance(value, Decimal) else raw
            assert expected == value, key

    @pytest.mark.parametrize("type_", sorted(FULL))
    def test_full_example_round_trips(self, type_: str) -> None:
        data = event_data(type_)
        assert data == {k: (str(v) if isinstance(v, Decimal) else v)
                        for k, v in parse_event(data).to_dict().items()}

    def test_order_value_is_subtotal_minus_discount(self) -> None:
        event = parse_event(event_data("order"))
        assert isinstance(event, OrderEvent)
        assert Decimal("100.00") == event.value

    def test_order_value_without_discount_is_subtotal(self) -> None:
        event = parse_event(event_data("order", discount=None))
        assert isinstance(event, OrderEvent)
        assert Decimal("120.00") == event.value

    def test_defaults_of_optional_flags(self) -> None:
        request = parse_event(event_data("request", initiator="visitor", agent=None, offline=None))
        transfer = parse_event(event_data("transfer", escalation=None))
        assert isinstance(request, RequestEvent)
        assert isinstance(transfer, TransferEvent)
        assert (False, False) == (request.is_offline, transfer.is_escalation)
        assert (None, None) == (request.offline, transfer.escalation)

    def test_request_id_names_the_request(self) -> None:
        assert "r-1" == parse_event(event_data("message")).request_id
        assert parse_event(event_data("page_view")).request_id is None

    def test_request_scoped_types_share_one_base(self) -> None:
        """Exactly the types that must name a request derive from RequestScopedEvent."""
        expected = {"request", "message", "call_joined", "transfer", "request_end"}
        actual = {name for name, cls in EVENT_TYPES.items() if issubclass(cls, RequestScopedEvent)}
        assert expected == actual
        for name in expected:
            assert "request" in REQUIRED[name]

    def test_survey_names_its_request_optionally(self) -> None:
        """A survey without a request has no request_id; with one, names it."""
        assert parse_event(event_data("survey", request=None)).request_id is None
        assert "r-1" == parse_event(event_data("survey", request="r-1")).request_id

    def test_sort_key_is_ts_then_id(self) -> None:
        event = parse_event(event_data("heartbeat"))
        assert (T0, "heartbeat-1") == event.sort_key

    def test_a_typed_event_passes_through(self) -> None:
        event = parse_event(event_data("survey"))
        assert event == parse_event(event)


class TestEnvelope:
    """id, type, ts and visitor are checked on every event."""

    @pytest.mark.parametrize("type_", sorted(FULL))
    @pytest.mark.parametrize("field", ["id", "type", "ts"])
    def test_envelope_field_is_required(self, type_: str, field: str) -> None:
        err = rejection(event_data(type_, **{field: None}))
        assert field == err.field
        assert err.value is None

    @pytest.mark.parametrize("type_", sorted(set(FULL) - {"agent_status"}))
    def test_visitor_is_required_except_on_agent_status(self, type_: str) -> None:
        err = rejection(event_data(type_, visitor=None))
        assert ("visitor", None) == (err.field, err.value)
        assert "required" in err.rule

    def test_agent_status_needs_no_visitor(self) -> None:
        event = parse_event(event_data("agent_status"))
        assert event.visitor is None
        assert "visitor" not in event.to_dict()

    @pytest.mark.parametrize("bad", ["pageview", "PAGE_VIEW", "", 3, ["page_view"]])
    def test_unknown_type_is_rejected(self, bad: Any) -> None:
        err = rejection(event_data("page_view", type=bad))
        assert ("type", bad) == (err.field, err.value)
        assert "page_view" in err.rule

    @pytest.mark.parametrize("bad", [["not", "an", "object"], "text", 7, None])
    def test_non_object_is_rejected(self, bad: Any) -> None:
        err = rejection(bad)
        assert "must be a JSON object" == err.rule

    @pytest.mark.parametrize("field", ["id", "visitor"])
    @pytest.mark.parametrize(("value", "ok"), [
        ("x", True), ("é" * 200, True), ("", False), ("x" * 201, False), (17, False),
    ])
    def test_id_and_visitor_are_strings_of_1_to_200(self, field: str, value: Any,
                                                     ok: bool) -> None:
        data = event_data("heartbeat", **{field: value})
        if ok:
            assert value == getattr(parse_event(data), field)
        else:
            # Errors keep a bounded excerpt of what they reject (the value itself when short).
            assert (field, excerpt(value)) == (rejection(data).field, rejection(data).value)

    @pytest.mark.parametrize(("type_", "field"), ID_FIELDS)
    def test_other_id_fields_are_limited_too(self, type_: str, field: str) -> None:
        assert "x" * 200 == getattr(parse_event(event_data(type_, **{field: "x" * 200})), field)
        assert field == rejection(event_data(type_, **{field: "x" * 201})).field
        assert field == rejection(event_data(type_, **{field: ""})).field

    def test_error_names_the_event_id(self) -> None:
        err = rejection(event_data("heartbeat", id="evt-9", ts="2026-03-01T12:00:00"))
        assert "evt-9" == err.event_id
        assert str(err).startswith("event 'evt-9': field 'ts'")


class TestRequiredFields:
    """Each type's required fields must be present and non-null."""

    @pytest.mark.parametrize(
        ("type_", "field"), [(t, f) for t, fields in sorted(REQUIRED.items()) for f in fields]
    )
    def test_missing_required_field_is_rejected(self, type_: str, field: str) -> None:
        err = rejection(event_data(type_, **{field: None}))
        assert (field, None) == (err.field, err.value)
        assert "required" in err.rule

    @pytest.mark.parametrize(
        ("type_", "field"), [(t, f) for t, fields in sorted(REQUIRED.items()) for f in fields]
    )
    def test_null_required_field_is_rejected(self, type_: str, field: str) -> None:
        data = event_data(type_)
        data[field] = None
        assert field == rejection(data).field

    @pytest.mark.parametrize("type_", sorted(FULL))
    def test_only_required_fields_is_enough(self, type_: str) -> None:
        optional = set(FULL[type_]) - set(REQUIRED.get(type_, ()))
        if type_ in ("request", "message", "call_joined"):
            optional.discard("agent")  # required here because the agent side acts
        event = parse_event(event_data(type_, **dict.fromkeys(optional)))
        for name in optional:
            assert getattr(event, name) is None, name

    @pytest.mark.parametrize(
        ("type_", "role_field", "role"),
        [("request", "initiator", "agent"), ("message", "sender", "agent"),
         ("call_joined", "participant", "agent")],
    )
    def test_agent_is_required_when_the_agent_side_acts(self, type_: str, role_field: str,
                                                         role: str) -> None:
        err = rejection(event_data(type_, **{role_field: role, "agent": None}))
        assert ("agent", None) == (err.field, err.value)
        assert role_field in err.rule

    @pytest.mark.parametrize(
        ("type_", "changes"),
        [("request", {"initiator": "visitor"}), ("request", {"initiator": "auto"}),
         ("message", {"sender": "visitor"}), ("call_joined", {"participant": "visitor"})],
    )
    def test_agent_is_optional_otherwise(self, type_: str, changes: dict[str, str]) -> None:
        event = parse_event(event_data(type_, agent=None, **changes))
        assert event.agent is None  # type: ignore[attr-defined]


class TestEnums:
    """Enumerated fields accept exactly their listed values."""

    @pytest.mark.parametrize(
        ("type_", "field", "value"),
        [(t, f, v) for (t, f), values in sorted(ENUMS.items()) for v in values],
    )
    def test_every_listed_value_is_accepted(self, type_: str, field: str, value: str) -> None:
        changes: dict[str, Any] = {field: value}
        assert value == getattr(parse_event(event_data(type_, **changes)), field)

    @pytest.mark.parametrize(("type_", "field"), sorted(ENUMS))
    @pytest.mark.parametrize("bad", ["other", "", 1, True])
    def test_other_values_are_rejected(self, type_: str, field: str, bad: Any) -> None:
        err = rejection(event_data(type_, **{field: bad}))
        assert (field, bad) == (err.field, err.value)
        for allowed in ENUMS[(type_, field)]:
            assert repr(allowed) in err.rule

    def test_enum_is_case_sensitive(self) -> None:
        assert "channel" == rejection(event_data("request", channel="Text")).field

    def test_widget_click_source_is_optional(self) -> None:
        assert parse_event(event_data("widget_click", source=None)).source is None  # type: ignore[attr-defined]


class TestBooleans:
    """Boolean fields take JSON true/false only."""

    @pytest.mark.parametrize(("type_", "field"), BOOLS)
    @pytest.mark.parametrize("value", [True, False])
    def test_true_and_false(self, type_: str, field: str, value: bool) -> None:
        changes: dict[str, Any] = {field: value}
        assert value is getattr(parse_event(event_data(type_, **changes)), field)

    @pytest.mark.parametrize(("type_", "field"), BOOLS)
    @pytest.mark.parametrize("bad", ["true", 1, 0, "yes"])
    def test_lookalikes_are_rejected(self, type_: str, field: str, bad: Any) -> None:
        err = rejection(event_data(type_, **{field: bad}))
        assert (field, bad) == (err.field, err.value)


class TestMoney:
    """Amounts are exact non-negative decimals, from JSON numbers or numeric strings."""

    @pytest.mark.parametrize(("type_", "field"), MONEY)
    @pytest.mark.parametrize(("raw", "text"), [
        ("12.50", "12.50"), (Decimal("12.50"), "12.50"), (12, "12"), ("0", "0"),
        ("0.10", "0.10"), ("1E+2", "1E+2"), ("999999999999999.999999", "999999999999999.999999"),
    ])
    def test_exact_value_kept(self, type_: str, field: str, raw: Any, text: str) -> None:
        changes: dict[str, Any] = {field: raw}
        if field == "subtotal":
            changes["discount"] = "0"
        if field == "discount":
            changes["subtotal"] = "999999999999999.999999"
        value = getattr(parse_event(event_data(type_, **changes)), field)
        assert Decimal is type(value)
        assert text == str(value)

    def test_json_number_and_string_give_the_same_amount(self) -> None:
        from_number = parse_event(loads(f'{{"id": "c", "type": "cart_update", "ts": "{TS}",'
                                        ' "visitor": "v", "value": 19.90}'))
        from_string = parse_event(event_data("cart_update", value="19.90"))
        assert isinstance(from_number, CartUpdateEvent)
        assert isinstance(from_string, CartUpdateEvent)
        assert "19.90" == str(from_number.value) == str(from_string.value)

    def test_a_float_from_another_decoder_reads_as_written(self) -> None:
        event = parse_event(event_data("cart_update", value=0.1))
        assert "0.1" == str(event.value)  # type: ignore[attr-defined]

    @pytest.mark.parametrize(("type_", "field"), MONEY)
    @pytest.mark.parametrize("bad", [
        "-0.01", -1, Decimal("-5"), "NaN", "nan", "Infinity", "-Infinity", "inf",
        Decimal("NaN"), Decimal("Infinity"), float("nan"), float("inf"), True, False,
        "12,50", "", "ten", [1], {"amount": 1},
    ])
    def test_bad_amounts_are_rejected(self, type_: str, field: str, bad: Any) -> None:
        err = rejection(event_data(type_, **{field: bad}))
        assert field == err.field
        assert err.value is bad

    def test_negative_rule_is_stated(self) -> None:
        err = rejection(event_data("order", shipping="-4.90"))
        assert ("shipping", "-4.90", "must be >= 0") == (err.field, err.value, err.rule)

    def test_discount_above_subtotal_is_rejected(self) -> None:
        err = rejection(event_data("order", subtotal="10.00", discount="10.01"))
        assert "discount" == err.field
        assert "subtotal" in err.rule

    def test_discount_equal_to_subtotal_gives_zero_value(self) -> None:
        event = parse_event(event_data("order", subtotal="10.00", discount="10.00"))
        assert Decimal(0) == event.value  # type: ignore[attr-defined]

    def test_cart_can_be_emptied(self) -> None:
        assert Decimal(0) == parse_event(event_data("cart_update", value=0)).value  # type: ignore[attr-defined]


class TestTimestamps:
    """ts needs a UTC offset and is stored as UTC with microseconds."""

    @pytest.mark.parametrize("naive", ["2026-03-01T12:00:00", "2026-03-01 12:00:00",
                                       "2026-03-01T12:00:00.5", "2026-03-01"])
    def test_naive_timestamp_is_rejected(self, naive: str) -> None:
        err = rejection(event_data("heartbeat", ts=naive))
        assert ("ts", naive) == (err.field, err.value)
        assert "offset" in err.rule

    @pytest.mark.parametrize(("raw", "expected"), [
        ("2026-03-01T13:00:00+01:00", T0),
        ("2026-03-01T07:30:00-04:30", T0),
        ("2026-03-01T12:00:00+00:00", T0),
        ("2026-03-01T12:00:00Z", T0),
        ("2026-03-02T01:00:00+13:00", T0),
    ])
    def test_offset_is_converted_to_utc(self, raw: str, expected: datetime) -> None:
        ts = parse_event(event_data("heartbeat", ts=raw)).ts
        assert expected == ts
        assert timedelta(0) == ts.utcoffset()

    def test_microseconds_are_kept(self) -> None:
        event = parse_event(event_data("heartbeat", ts="2026-03-01T12:00:00.000123+02:00"))
        assert datetime(2026, 3, 1, 10, 0, 0, 123, tzinfo=UTC) == event.ts
        assert "2026-03-01T10:00:00.000123Z" == event.to_dict()["ts"]

    def test_whole_seconds_are_written_without_fraction(self) -> None:
        assert "2026-03-01T12:00:00Z" == parse_event(event_data("heartbeat")).to_dict()["ts"]

    @pytest.mark.parametrize("bad", ["yesterday", "2026-02-30T12:00:00Z", "2026-13-01T00:00:00Z",
                                     1767225600, ""])
    def test_unreadable_timestamp_is_rejected(self, bad: Any) -> None:
        assert ("ts", bad) == (rejection(event_data("heartbeat", ts=bad)).field,
                               rejection(event_data("heartbeat", ts=bad)).value)

    def test_aware_datetime_object_is_accepted(self) -> None:
        local = datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
        assert T0 == parse_event(event_data("heartbeat", ts=local)).ts

    def test_naive_datetime_object_is_rejected(self) -> None:
        assert "ts" == rejection(event_data("heartbeat", ts=datetime(2026, 3, 1, 12))).field


class TestRatings:
    """Survey ratings are integers on the tracker's scale."""

    @pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
    def test_default_scale_is_1_to_5(self, rating: int) -> None:
        assert rating == parse_event(event_data("survey", rating=rating)).rating  # type: ignore[attr-defined]

    @pytest.mark.parametrize("rating", [0, 6, -1, 10])
    def test_off_default_scale_is_rejected(self, rating: int) -> None:
        err = rejection(event_data("survey", rating=rating))
        assert ("rating", rating) == (err.field, err.value)
        assert "1..5" in err.rule

    @pytest.mark.parametrize("rating", [0, 7, 10])
    def test_nps_scale_from_context(self, rating: int) -> None:
        ctx = ParseContext(rating_scale=RatingScale(0, 10))
        assert rating == parse_event(event_data("survey", rating=rating), ctx).rating  # type: ignore[attr-defined]

    @pytest.mark.parametrize("rating", [-1, 11])
    def test_off_nps_scale_is_rejected(self, rating: int) -> None:
        ctx = ParseContext(rating_scale=RatingScale(0, 10))
        err = rejection(event_data("survey", rating=rating), ctx)
        assert "0..10" in err.rule

    @pytest.mark.parametrize("bad", [True, False, "4", 4.5, Decimal("3.5"), [4]])
    def test_non_integers_are_rejected(self, bad: Any) -> None:
        err = rejection(event_data("survey", rating=bad))
        assert ("rating", bad) == (err.field, err.value)

    def test_rating_may_be_absent(self) -> None:
        event = parse_event(event_data("survey", rating=None, submitted=False))
        assert event.rating is None  # type: ignore[attr-defined]

    def test_rating_written_as_json_number_with_zero_fraction(self) -> None:
        event = parse_event(loads(f'{{"id": "s", "type": "survey", "ts": "{TS}", "visitor": "v",'
                                  ' "rating": 4.0}'))
        assert 4 == event.rating  # type: ignore[attr-defined]

    @pytest.mark.parametrize("rating", [0, 11])
    def test_admit_applies_the_parsers_rule(self, rating: int) -> None:
        """A typed event re-checked under another scale fails as a fresh parse would."""
        event = parse_event(event_data("survey", rating=5), ParseContext(rating_scale=RatingScale(0, 10)))
        event = attrs.evolve(event, rating=rating)
        ctx = ParseContext(rating_scale=RatingScale(1, 10))
        with pytest.raises(InvalidEvent) as caught:
            admit(event, ctx)
        parsed = rejection(event.to_dict(), ctx)
        assert (parsed.field, parsed.value, parsed.rule, parsed.event_id) == (
            caught.value.field, caught.value.value, caught.value.rule, caught.value.event_id)


class TestCurrency:
    """Orders are in the tracker's currency, or converted by its converter."""

    @pytest.mark.parametrize("bad", ["eur", "EURO", "EU", "€", 978, ""])
    def test_currency_must_be_an_iso_code(self, bad: Any) -> None:
        err = rejection(event_data("order", currency=bad))
        assert ("currency", bad) == (err.field, err.value)

    def test_any_code_is_accepted_without_tracker_currency(self) -> None:
        assert "JPY" == parse_event(event_data("order", currency="JPY")).currency  # type: ignore[attr-defined]

    def test_tracker_currency_is_accepted(self) -> None:
        event = parse_event(event_data("order"), ParseContext(currency="EUR"))
        assert ("EUR", Decimal("120.00")) == (event.currency, event.subtotal)  # type: ignore[attr-defined]

    def test_order_without_currency_is_in_tracker_currency(self) -> None:
        event = parse_event(event_data("order", currency=None), ParseContext(currency="EUR"))
        assert event.currency is None  # type: ignore[attr-defined]

    def test_other_currency_without_converter_is_rejected(self) -> None:
        err = rejection(event_data("order", currency="USD"), ParseContext(currency="EUR"))
        assert ("currency", "USD") == (err.field, err.value)
        assert "EUR" in err.rule

    def test_other_currency_is_converted_with_a_converter(self) -> None:
        calls: list[tuple[Decimal, str, datetime]] = []

        def usd_to_eur(amount: Decimal, currency: str, at: datetime) -> Decimal:
            calls.append((amount, currency, at))
            return amount / 2

        ctx = ParseContext(currency="EUR", converter=usd_to_eur)
        event = parse_event(event_data("order", currency="USD", tax=None), ctx)
        assert isinstance(event, OrderEvent)
        assert "EUR" == event.currency
        assert (Decimal("60"), Decimal("10"), Decimal("2.45")) == (
            event.subtotal, event.discount, event.shipping)
        assert event.tax is None
        assert Decimal("50") == event.value
        assert {(a, "USD", T0) for a in (Decimal("120.00"), Decimal("20.00"), Decimal("4.90"))} \
            == set(calls)
        original = event.extra["original"]
        assert "USD" == original["currency"]
        assert Decimal("120.00") == original["subtotal"]
        assert Decimal("20.00") == original["discount"]


class TestExtrasAndNulls:
    """Unknown fields are kept; JSON null in an optional field means absent."""

    def test_unknown_fields_round_trip(self) -> None:
        extra = {"utm_source": "news", "ab": {"variant": "B", "weights": [1, Decimal("0.5")]},
                 "flag": None}
        data = dict(event_data("page_view"), **extra)
        event = parse_event(data)
        assert extra == dict(event.extra)
        assert data["ab"] == event.to_dict()["ab"]
        assert list(data)[-3:] == list(event.to_dict())[-3:]

    def test_extras_do_not_change_known_fields(self) -> None:
        plain = parse_event(event_data("heartbeat"))
        decorated = parse_event(event_data("heartbeat", tab=3))
        assert (plain.url, plain.ts) == (decorated.url, decorated.ts)  # type: ignore[attr-defined]
        assert plain != decorated

    @pytest.mark.parametrize("type_", sorted(t for t in FULL if optional_fields(t)))
    def test_null_optional_field_equals_absent(self, type_: str) -> None:
        optional = optional_fields(type_)
        with_nulls = event_data(type_)
        without = event_data(type_)
        for name in optional:
            with_nulls[name] = None
            del without[name]
        assert parse_event(without) == parse_event(with_nulls)
        for name in optional:
            assert name not in parse_event(with_nulls).to_dict()


# ---------------------------------------------------------------------------
# Round trip over generated valid events of every type.

# Ids hold no control characters (events.md v2); other text may.
ids = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)
urls = st.text(min_size=1, max_size=60)
texts = st.text(max_size=30)
# Amounts within the v2 bounds: below 10^15, at most 6 decimals.
amounts = st.one_of(
    st.builds(lambda digits, places: Decimal(digits).scaleb(-places),
              st.integers(0, 10**15 - 1), st.integers(0, 6)),
    st.sampled_from(["0", "12.50", "0.000", "1E+2", "19.99"]).map(Decimal),
)
as_strings = amounts.map(str)
money_values = st.one_of(amounts, as_strings, st.integers(0, 10**6))
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30),
                       timezones=offsets)
json_leaves = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), texts, amounts)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
extras = st.dictionaries(st.sampled_from(["utm", "x_note", "ab_test", "tab", "ÿ"]), json_values,
                         max_size=3)


def optional(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Absent (a marker), JSON null or a value."""
    return st.one_of(st.just(ABSENT), st.none(), value)


ABSENT = object()
sides = st.sampled_from(["visitor", "agent"])

FIELD_STRATEGIES: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "page_view": {"url": urls, "title": optional(texts), "referrer": optional(urls),
                  "session": optional(ids), "device": optional(texts),
                  "country": optional(texts), "user_agent": optional(texts)},
    "heartbeat": {"url": optional(urls)},
    "page_leave": {"url": optional(urls)},
    "identify": {"customer": ids, "name": optional(texts), "email": optional(texts)},
    "cart_update": {"value": money_values},
    "order": {"order": ids, "subtotal": money_values, "shipping": optional(money_values),
              "tax": optional(money_values), "currency": optional(st.sampled_from(["EUR", "USD"]))},
    "widget_impression": {"url": optional(urls)},
    "widget_click": {"url": optional(urls),
                     "source": optional(st.sampled_from(["widget", "notification"]))},
    "auto_message": {"trigger": ids, "link": optional(urls), "url": optional(urls)},
    "auto_message_click": {"trigger": ids, "link": optional(urls)},
    "request": {"request": ids, "channel": st.sampled_from(["text", "video"]),
                "initiator": st.sampled_from(["visitor", "agent", "auto"]),
                "agent": optional(ids), "trigger": optional(ids), "url": optional(urls),
                "offline": optional(st.booleans()), "department": optional(texts)},
    "message": {"request": ids, "sender": sides, "agent": optional(ids),
                "chars": optional(st.integers(0, 10**6))},
    "call_joined": {"request": ids, "participant": sides, "agent": optional(ids)},
    "transfer": {"request": ids, "from_agent": optional(ids), "to_agent": optional(ids),
                 "escalation": optional(st.booleans())},
    "request_end": {"request": ids, "reason": optional(st.sampled_from(
        ["closed", "declined", "cancelled", "missed", "timeout"])),
        "resolved": optional(st.booleans())},
    "survey": {"request": optional(ids), "agent": optional(ids),
               "rating": optional(st.integers(1, 5)), "submitted": optional(st.booleans()),
               "feedback": optional(texts)},
    "agent_status": {"agent": ids, "status": st.sampled_from(["online", "away", "offline"]),
                     "name": optional(texts), "capacity": optional(st.integers(0, 50))},
}


@st.composite
def valid_mappings(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event mapping of any type, every optional field maybe set or null."""
    type_ = draw(st.sampled_from(sorted(FIELD_STRATEGIES)))
    data: dict[str, Any] = {"id": draw(ids), "type": type_,
                            "ts": draw(st.one_of(moments.map(datetime.isoformat), moments))}
    if type_ != "agent_status" or draw(st.booleans()):
        data["visitor"] = draw(ids)
    for name, strategy in FIELD_STRATEGIES[type_].items():
        value = draw(strategy)
        if value is not ABSENT:
            data[name] = value
    for role in ("initiator", "sender", "participant"):
        if data.get(role) == "agent" and data.get("agent") is None:
            data["agent"] = draw(ids)
    if type_ == "order":
        share = Decimal(draw(st.integers(0, 100))) / 100
        discount = (Decimal(str(data["subtotal"])) * share).quantize(Decimal("1e-6"), ROUND_DOWN)
        if draw(st.booleans()):
            data["discount"] = discount
    data.update(draw(extras))
    return data


class TestRoundTrip:
    """to_dict followed by parse_event gives back the same event."""

    @given(valid_mappings())
    def test_parse_to_dict_parse_is_identity(self, data: dict[str, Any]) -> None:
        event = parse_event(data)
        again = parse_event(event.to_dict())
        assert event == again
        assert event.to_dict() == again.to_dict()

    @given(valid_mappings())
    def test_round_trip_through_json_text_is_exact(self, data: dict[str, Any]) -> None:
        event = parse_event(data)
        text = dumps(event.to_dict())
        again = parse_event(loads(text))
        assert event == again
        assert text == dumps(again.to_dict())

    @given(valid_mappings())
    def test_parsed_event_is_utc_and_typed(self, data: dict[str, Any]) -> None:
        event = parse_event(data)
        assert data["type"] == event.type
        assert timedelta(0) == event.ts.utcoffset()
        for name, raw in data.items():
            if name in FIELD_STRATEGIES[data["type"]] and raw is not None and name != "discount":
                value = getattr(event, name)
                if isinstance(value, Decimal):
                    assert Decimal(str(raw)) == value
                else:
                    assert raw == value


# ---------------------------------------------------------------------------
# Duplicates, conflicts and request ownership (core.batch.classify).


def ev(type_: str, id_: str, visitor: str = "v-1", **changes: Any) -> Event:
    """A valid event of ``type_`` with the given id and visitor."""
    return parse_event(event_data(type_, id=id_, visitor=visitor, **changes))


def statuses(result: BatchResult) -> list[str]:
    """The status names of a batch result, in input order."""
    return [outcome.status.value for outcome in result.outcomes]


class TestDuplicatesAndConflicts:
    """Re-sending an event is harmless; reusing its id for other content is rejected."""

    def test_identical_event_twice_in_a_batch(self) -> None:
        event = ev("heartbeat", "e1")
        classified = classify([event, event], stored={}, owners={})
        assert ["accepted", "duplicate"] == statuses(classified.result)
        assert [event] == classified.accepted

    def test_identical_to_stored_event_is_a_duplicate(self) -> None:
        event = ev("heartbeat", "e1")
        classified = classify([event], stored={"e1": event}, owners={})
        assert ["duplicate"] == statuses(classified.result)
        assert [] == classified.accepted

    def test_same_instant_written_with_another_offset_is_a_duplicate(self) -> None:
        utc = ev("heartbeat", "e1", ts="2026-03-01T12:00:00Z")
        paris = ev("heartbeat", "e1", ts="2026-03-01T13:00:00+01:00")
        assert ["duplicate"] == statuses(classify([paris], stored={"e1": utc}, owners={}).result)

    def test_same_id_other_content_in_a_batch_keeps_the_first(self) -> None:
        first = ev("heartbeat", "e1", url="/a")
        second = ev("heartbeat", "e1", url="/b")
        classified = classify([first, second], stored={}, owners={})
        assert ["accepted", "rejected"] == statuses(classified.result)
        assert [first] == classified.accepted
        error = classified.result.outcomes[1].error
        assert isinstance(error, ConflictError)
        assert ("id", "e1", "e1") == (error.field, error.value, error.event_id)

    def test_same_id_other_content_than_stored_is_rejected(self) -> None:
        stored = ev("cart_update", "e1", value="10")
        newcomer = ev("cart_update", "e1", value="12")
        classified = classify([newcomer], stored={"e1": stored}, owners={})
        assert ["rejected"] == statuses(classified.result)
        assert [] == classified.accepted

    def test_a_different_extra_field_is_other_content(self) -> None:
        plain = ev("heartbeat", "e1")
        tagged = ev("heartbeat", "e1", tab=2)
        assert ["rejected"] == statuses(classify([tagged], stored={"e1": plain}, owners={}).result)

    def test_same_id_other_type_is_a_conflict(self) -> None:
        classified = classify([ev("heartbeat", "e1"), ev("page_leave", "e1")], stored={},
                              owners={})
        assert ["accepted", "rejected"] == statuses(classified.result)

    def test_counts_and_indices(self) -> None:
        a, b = ev("heartbeat", "a"), ev("heartbeat", "b")
        result = classify([a, b, a, ev("heartbeat", "b", url="/x")], stored={}, owners={},
                          offset=10).result
        assert (2, 1, 1, False) == (result.accepted, result.duplicates, result.rejected, result.ok)
        assert [10, 11, 12, 13] == [o.index for o in result]
        assert [13] == [o.index for o in result.errors]
        assert ["a", "b", "a", "b"] == [o.event_id for o in result]


class TestRequestOwnership:
    """A request belongs to the visitor of the first stored event naming it."""

    def test_other_visitor_in_the_same_batch_is_rejected(self) -> None:
        created = ev("request", "e1", visitor="v-1", request="r-1")
        intruder = ev("message", "e2", visitor="v-2", request="r-1")
        classified = classify([created, intruder], stored={}, owners={})
        assert ["accepted", "rejected"] == statuses(classified.result)
        error = classified.result.outcomes[1].error
        assert isinstance(error, ConflictError)
        assert ("visitor", "v-2") == (error.field, error.value)
        assert "'r-1'" in error.rule
        assert "'v-1'" in error.rule

    def test_other_visitor_than_stored_owner_is_rejected(self) -> None:
        message = ev("message", "e2", visitor="v-2", request="r-1")
        classified = classify([message], stored={}, owners={"r-1": "v-1"})
        assert ["rejected"] == statuses(classified.result)

    def test_owner_may_keep_naming_the_request(self) -> None:
        events = [ev("message", "e1", request="r-1"), ev("request_end", "e2", request="r-1"),
                  ev("survey", "e3", request="r-1")]
        assert ["accepted"] * 3 == statuses(classify(events, stored={},
                                                     owners={"r-1": "v-1"}).result)

    def test_the_first_event_naming_the_request_fixes_the_owner(self) -> None:
        events = [ev("message", "e1", visitor="v-2", request="r-1"),
                  ev("request", "e2", visitor="v-1", request="r-1")]
        assert ["accepted", "rejected"] == statuses(classify(events, stored={}, owners={}).result)

    def test_a_rejected_event_does_not_claim_the_request(self) -> None:
        stored = ev("heartbeat", "e1")
        conflicting = ev("message", "e1", visitor="v-2", request="r-1")
        owner = ev("request", "e2", visitor="v-1", request="r-1")
        result = classify([conflicting, owner], stored={"e1": stored}, owners={}).result
        assert ["rejected", "accepted"] == statuses(result)

    def test_events_without_a_request_are_unaffected(self) -> None:
        events = [ev("request", "e1", visitor="v-1", request="r-1"),
                  ev("page_view", "e2", visitor="v-2"),
                  ev("agent_status", "e3", visitor=None)]
        assert ["accepted"] * 3 == statuses(classify(events, stored={}, owners={}).result)

    def test_survey_without_request_names_none(self) -> None:
        events = [ev("survey", "e1", visitor="v-1", request=None),
                  ev("survey", "e2", visitor="v-2", request=None)]
        assert ["accepted", "accepted"] == statuses(classify(events, stored={}, owners={}).result)

    def test_duplicate_of_an_event_by_another_visitor_stays_a_duplicate(self) -> None:
        message = ev("message", "e1", visitor="v-2", request="r-1")
        result = classify([message], stored={"e1": message}, owners={"r-1": "v-2"}).result
        assert ["duplicate"] == statuses(result)


class TestDocumentedExamples:
    """Every JSON line shown in docs/events.md is a valid event."""

    def test_json_blocks_of_the_docs_parse(self) -> None:
        text = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text("utf-8")
        blocks = re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)
        lines = [line for block in blocks for line in block.splitlines() if line.strip()]
        events = [parse_event(loads(line)) for line in lines]
        assert set(EVENT_TYPES) == {event.type for event in events}
