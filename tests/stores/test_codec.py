"""The text form durable stores keep events in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import attrs
from hypothesis import given

from whoson.core.events import Event
from whoson.core.parsing import parse_event
from whoson.stores._codec import decode_event, encode_event, from_micros, to_micros
from whoson.testing import make_event, sample_events

from .strategies import any_events


class TestEventText:
    """encode_event / decode_event give back the very event."""

    @given(any_events())
    def test_round_trip(self, event: Event) -> None:
        """Any valid event survives encoding and decoding unchanged."""
        decoded = decode_event(encode_event(event))
        assert event == decoded
        assert event.to_dict() == decoded.to_dict()

    @given(any_events())
    def test_trusted_decoding_matches_parsing(self, event: Event) -> None:
        """The trusted decoder builds what parse_event builds from the same text."""
        text = encode_event(event)
        assert parse_event(json.loads(text, parse_float=Decimal)) == decode_event(text)

    def test_decimals_keep_their_digits(self) -> None:
        """Money is written with exactly its digits and read back as the same Decimal."""
        order = next(e for e in sample_events() if e.type == "order")
        text = encode_event(order)
        assert '"subtotal":100.10' in text
        assert '"tax":1E+1' in text
        decoded = decode_event(text)
        assert isinstance(decoded, type(order))
        expected = ["100.10", "0.10", "1E+1"]
        assert expected == [str(decoded.subtotal), str(decoded.discount), str(decoded.tax)]

    def test_text_is_compact_json_in_contract_order(self) -> None:
        """The text is compact JSON whose keys follow to_dict."""
        event = make_event("heartbeat", id="h1", url="/", zz="é")
        expected = '{"id":"h1","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v1",' \
                   '"url":"/","zz":"é"}'
        assert expected == encode_event(event)

    def test_unstorable_extras_raise(self) -> None:
        """NaN and non-JSON objects cannot be written (even in an event built past the contract)."""
        for value in (float("nan"), Decimal("NaN"), object(), {1: "x"}):
            event = attrs.evolve(make_event("heartbeat", id="h1"), extra={"bad": {"v": [value]}})
            try:
                encode_event(event)
            except (TypeError, ValueError):
                continue
            raise AssertionError(f"{value!r} was written")


class TestMicros:
    """Timestamps as integer microseconds keep microsecond precision and order."""

    @given(any_events(), any_events())
    def test_order_preserved(self, a: Event, b: Event) -> None:
        """Comparing microseconds compares the instants."""
        assert (a.ts < b.ts) == (to_micros(a.ts) < to_micros(b.ts))
        assert a.ts == from_micros(to_micros(a.ts))

    def test_before_epoch(self) -> None:
        """Instants before 1970 are negative and come back exactly."""
        moment = datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
        micros = -1
        assert micros == to_micros(moment)
        assert moment == from_micros(micros)
