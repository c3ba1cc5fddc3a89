"""Hostile input against the event contract (issue 8, items 6-12).

Every case is a per-event rejection naming field, value and rule, decided in
milliseconds; the good events around it are kept. Each test carries a
timeout so that the old behaviour (hanging for ever on ``1e999999999``)
fails instead of blocking the suite.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whoson import Tracker
from whoson.codec import loads
from whoson.core.errors import InvalidEvent
from whoson.core.parsing import parse_event
from whoson.logfile import iter_log
from whoson.stores._codec import encode_event

from ..stores.strategies import any_events

T = TypeVar("T")
TS = "2026-03-01T12:00:00Z"
FAST = 1.0  # seconds: generous for a loaded CI machine; the real figures are milliseconds
pytestmark = pytest.mark.timeout(20)


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """The result of ``call`` and how long it took, in seconds."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def rejection(data: Any) -> InvalidEvent:
    """The InvalidEvent parse_event raises for ``data`` (fails the test if it accepts)."""
    with pytest.raises(InvalidEvent) as caught:
        parse_event(data)
    return caught.value


def message(**fields: Any) -> dict[str, Any]:
    """A valid message event mapping, with ``fields`` added or replaced."""
    return {"id": "m1", "type": "message", "ts": TS, "visitor": "v", "request": "r1",
            "sender": "visitor", **fields}


def order(**fields: Any) -> dict[str, Any]:
    """A valid order event mapping, with ``fields`` added or replaced."""
    return {"id": "o1", "type": "order", "ts": TS, "visitor": "v", "order": "A1",
            "subtotal": "10.00", **fields}


def nested(depth: int) -> list[Any]:
    """``depth`` arrays, each holding the next (built without recursion)."""
    inner: list[Any] = []
    for _ in range(depth - 1):
        inner = [inner]
    return inner


GOOD = b'{"id": "g%d", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"}\n'


def log_around(line: str) -> list[tuple[int, str | None, str | None]]:
    """Read a log of one good line, ``line``, and another good line: (line, event id, error field)."""
    data = GOOD % 1 + line.encode("utf-8", "surrogatepass") + b"\n" + GOOD % 2
    return [(item.line, item.event.id if item.event else None,
             item.error.field if item.error else None) for item in iter_log(io.BytesIO(data))]


class TestIntegerFields:
    """chars, capacity and rating are JSON integers within 0..10^9, refused fast when not."""

    CASES = (
        ("message", "chars", "must be a JSON integer from 0 to 10^9"),
        ("agent_status", "capacity", "must be a JSON integer from 0 to 10^9"),
        ("survey", "rating", "must be on the rating scale 1..5"),
    )

    @staticmethod
    def line(type_: str, field: str, literal: str) -> str:
        envelope = {
            "message": '"visitor": "v", "request": "r1", "sender": "visitor"',
            "agent_status": '"agent": "ann", "status": "online"',
            "survey": '"visitor": "v"',
        }[type_]
        return (f'{{"id": "x", "type": "{type_}", "ts": "{TS}", {envelope}, '
                f'"{field}": {literal}}}')

    @pytest.mark.parametrize(("type_", "field", "rule"), CASES)
    @pytest.mark.parametrize("literal", ["1e999999999", "1E+400", "-1e999999999", "1" * 1000,
                                         "10000000001", "-1"])
    def test_huge_literal_rejected_in_milliseconds(self, type_: str, field: str, rule: str,
                                                   literal: str) -> None:
        text = self.line(type_, field, literal)
        assert len(text) < 1200
        error, seconds = timed(lambda: rejection(loads(text)))
        assert (field, rule) == (error.field, error.rule)
        assert seconds < FAST

    @pytest.mark.parametrize(("type_", "field", "rule"), CASES[:2])
    def test_bounds_are_inclusive(self, type_: str, field: str, rule: str) -> None:
        top = parse_event(loads(self.line(type_, field, "1000000000")))
        assert 10**9 == getattr(top, field)
        assert 0 == getattr(parse_event(loads(self.line(type_, field, "0"))), field)
        assert rule == rejection(loads(self.line(type_, field, "1000000001"))).rule

    @pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan"),
                                     Decimal("NaN"), Decimal("1e999999999"),
                                     pytest.param(10**5000, id="10**5000"), 2.5])
    def test_python_values_never_raise_anything_else(self, bad: Any) -> None:
        error = rejection(message(chars=bad))
        assert "chars" == error.field

    def test_integral_number_written_with_fraction_or_exponent_is_accepted(self) -> None:
        assert 120 == parse_event(loads(self.line("message", "chars", "1.2e2"))).chars  # type: ignore[attr-defined]


class TestDeepNesting:
    """An extra nested deeper than 32 arrays/objects is one rejected event, never a RecursionError."""

    def test_500_levels_in_a_log_line(self) -> None:
        line = (f'{{"id": "deep", "type": "heartbeat", "ts": "{TS}", "visitor": "v", '
                f'"extra": {"[" * 500}{"]" * 500}}}')
        assert len(line) < 1100
        items, seconds = timed(lambda: log_around(line))
        assert [(1, "g1", None), (2, None, "extra"), (3, "g2", None)] == items
        assert seconds < FAST

    def test_the_bound_is_32_levels(self) -> None:
        accepted = parse_event(message(tree=nested(32)))
        assert nested(32) == accepted.extra["tree"]
        error = rejection(message(tree=nested(33)))
        assert ("tree", "must not nest arrays/objects more than 32 levels deep") == (
            error.field, error.rule)

    def test_objects_count_like_arrays(self) -> None:
        tree: dict[str, Any] = {}
        for _ in range(40):
            tree = {"k": tree}
        assert "tree" == rejection(message(tree=tree)).field

    def test_a_python_object_nested_beyond_the_recursion_limit(self) -> None:
        data = message(tree=nested(100_000))
        error, seconds = timed(lambda: rejection(data))
        assert "tree" == error.field
        assert seconds < FAST

    def test_json_nested_beyond_the_parser_is_one_bad_line(self) -> None:
        line = '{"id": "deep", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
        items = log_around(line)
        assert [(1, "g1", None), (2, None, None), (3, "g2", None)] == items


class TestMoney:
    """Money is below 10^15 with at most 6 decimals, in JSON number syntax; nothing overflows."""

    @pytest.mark.parametrize(("raw", "rule"), [
        ("1e999999999", "must be below 10^15"),
        (Decimal("1e999999999"), "must be below 10^15"),
        (Decimal("9e999999"), "must be below 10^15"),
        (Decimal("1e400"), "must be below 10^15"),
        ("9" * 1000, "must be below 10^15"),
        (10**1000, "must be below 10^15"),
        ("1000000000000000", "must be below 10^15"),
        ("0.0000001", "must have at most 6 decimals (has 7)"),
        ("1e-999999999", "must have at most 6 decimals (has 999999999)"),
        ("\u0661\u0660\u0660", "JSON number syntax"),  # 100 in Arabic-Indic digits
        ("1_000", "JSON number syntax"),
        ("1,000", "JSON number syntax"),
        (" 12.50", "JSON number syntax"),
        ("+12.50", "JSON number syntax"),
        ("0x10", "JSON number syntax"),
        ("NaN", "JSON number syntax"),
        ("Infinity", "JSON number syntax"),
        (float("nan"), "must be a finite number"),
        (float("inf"), "must be a finite number"),
        (Decimal("-Infinity"), "must be a finite number"),
    ])
    @pytest.mark.parametrize("field", ["subtotal", "discount", "shipping", "tax"])
    def test_rejected_with_field_and_bound(self, raw: Any, rule: str, field: str) -> None:
        data = order(**{field: raw})
        if field == "discount":
            data["subtotal"] = "999999999999999.999999"
        error, seconds = timed(lambda: rejection(data))
        assert field == error.field
        assert rule in error.rule
        assert seconds < FAST

    def test_json_literals_from_a_log(self) -> None:
        for literal in ("1e999999999", "9e999999", "1e400", "9" * 1000, '"1e999999999"'):
            line = (f'{{"id": "o", "type": "order", "ts": "{TS}", "visitor": "v", '
                    f'"order": "A", "subtotal": {literal}}}')
            assert [(1, "g1", None), (2, None, "subtotal"), (3, "g2", None)] == log_around(line)

    def test_the_largest_amounts_are_kept_exactly(self) -> None:
        top = parse_event(order(subtotal="999999999999999.999999", discount="0.000001"))
        assert Decimal("999999999999999.999998") == top.value  # type: ignore[attr-defined]

    def test_a_store_of_maximal_orders_is_reportable(self) -> None:
        tracker = Tracker()
        top = "999999999999999.999999"
        result = tracker.record_many([order(id="o1", order="A1", subtotal=top),
                                      order(id="o2", order="A2", subtotal=top),
                                      message(id="m", chars=10**9)])
        assert (3, 0) == (result.accepted, result.rejected)
        sales = tracker.report(as_of="2026-03-02T00:00:00Z").sales
        assert (2, Decimal("1999999999999999.999998")) == (sales.all_orders, sales.all_gmv)
        assert Decimal("999999999999999.999999") == sales.all_aov


class TestRecordMany:
    """record_many never raises for a bad event: it is rejected and the good ones kept."""

    @pytest.mark.parametrize(("bad", "field"), [
        (message(id="b", deep=nested(600)), "deep"),
        (order(id="b", subtotal="1e999999999"), "subtotal"),
        (order(id="b", subtotal="5", discount=Decimal("9e999999")), "discount"),
        (message(id="b", chars=float("inf")), "chars"),
        (message(id="b", chars=float("nan")), "chars"),
        (message(id="b", chars=Decimal("1e999999999")), "chars"),
        (message(id="b", score=float("nan")), "score"),
        (message(id="b", meta={1: "x"}), "meta"),
        ({**message(id="b"), 7: "x"}, "7"),
        (message(id="b", blob=object()), "blob"),
        (message(id="b", visitor="v\x00"), "visitor"),
        (message(id="b", request="r\ud800"), "request"),
    ])
    def test_good_bad_good(self, bad: dict[str, Any], field: str) -> None:
        tracker = Tracker()
        result, seconds = timed(lambda: tracker.record_many(
            [message(id="g1"), bad, message(id="g2")]))
        assert ["accepted", "rejected", "accepted"] == [o.status.value for o in result]
        error = result.outcomes[1].error
        assert error is not None
        assert (field, "b") == (error.field, error.event_id)
        assert ["g1", "g2"] == [s.event.id for s in tracker.store.read()]
        assert seconds < FAST


class TestBoundedErrors:
    """Errors keep an excerpt of what they reject; an event is at most 64 KiB of JSON."""

    def test_long_rejected_value_is_an_excerpt(self) -> None:
        url = "https://x/" + "u" * (1 << 20)
        error = rejection({"id": "h", "type": "heartbeat", "ts": TS, "visitor": "v", "url": url})
        assert "url" == error.field
        assert url[:80] + f"... ({len(url)} characters)" == error.value
        assert len(str(error)) < 250

    def test_400_rejected_lines_keep_little(self) -> None:
        line = (b'{"id": "h%d", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", '
                b'"visitor": "v", "url": "' + b"u" * 100_000 + b'"}\n')
        data = b"".join(line % i for i in range(400))
        errors = [item.error for item in iter_log(io.BytesIO(data))]
        assert 400 == len(errors)
        assert all(e is not None and len(str(e.value)) < 120 for e in errors)

    def test_an_event_of_exactly_64_kib_is_accepted(self) -> None:
        base = parse_event(message(id="big", pad=""))
        room = 65536 - len(encode_event(base).encode("utf-8"))
        event = parse_event(message(id="big", pad="é" * (room // 2)))
        assert 65536 == len(encode_event(event).encode("utf-8"))
        error = rejection(message(id="big", pad="é" * (room // 2) + "x"))
        assert "pad" == error.field
        assert "at least 65537 bytes" in error.rule
        assert "at most 65536 bytes (64 KiB)" in error.rule

    def test_a_50_mb_extra_is_refused_naming_the_size(self) -> None:
        error, seconds = timed(lambda: rejection(message(blob="x" * (50 << 20))))
        assert "blob" == error.field
        # {"id":"m1","type":"message","ts":"...Z","visitor":"v","request":"r1","sender":"visitor",
        #  "blob":"..."}: 114 bytes around the 50 MiB of the blob.
        assert f"makes the event at least {50 * 2**20 + 114} bytes" in error.rule
        assert seconds < 2

    def test_a_huge_log_line_is_not_parsed(self) -> None:
        line = ('{"id": "h", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v", '
                '"blob": "' + "x" * (2 << 20) + '"}')
        items = list(iter_log(io.BytesIO(line.encode() + b"\n")))
        assert items[0].error is not None
        assert items[0].error.rule is not None
        assert "1 MiB" in items[0].error.rule

    @settings(max_examples=60, deadline=None)
    @given(any_events())
    def test_measured_size_is_the_stored_size(self, event: Any) -> None:
        from whoson.core.bounds import json_size

        assert len(encode_event(event).encode("utf-8")) == json_size(event.to_dict())[0]


class TestOneContract:
    """Strings the stores could not all hold are refused by parse_event itself."""

    @pytest.mark.parametrize("field", ["id", "visitor", "request", "agent"])
    @pytest.mark.parametrize("char", ["\x00", "\x1b", "\n", "\x7f", "\x85"])
    def test_control_characters_in_ids(self, field: str, char: str) -> None:
        error = rejection({**message(sender="agent", agent="ann"), field: f"a{char}b"})
        assert field == error.field
        assert f"U+{ord(char):04X} at position 1" in error.rule

    @pytest.mark.parametrize("data", [
        message(visitor="v\ud800"), message(note="\udfff"), message(**{"k\ud800": 1}),
        {"id": "p", "type": "page_view", "ts": TS, "visitor": "v", "url": "/\ud83d"},
        {"id": "s", "type": "survey", "ts": TS, "visitor": "v", "feedback": "ok\udc80"},
        message(tags=["a", {"b": "\ud800"}]),
    ])
    def test_lone_surrogates_anywhere(self, data: dict[str, Any]) -> None:
        assert "lone surrogates" in rejection(data).rule

    def test_control_characters_stay_allowed_in_free_text(self) -> None:
        survey = parse_event({"id": "s", "type": "survey", "ts": TS, "visitor": "v",
                              "feedback": "line one\nline\ttwo"})
        assert "line one\nline\ttwo" == survey.feedback  # type: ignore[attr-defined]


class TestTimestamps:
    """Leap seconds and lower-case t/z are read as documented; other errors say what is wrong."""

    def test_leap_second_is_the_last_microsecond_of_its_minute(self) -> None:
        event = parse_event({"id": "h", "type": "heartbeat", "visitor": "v",
                             "ts": "2016-12-31T23:59:60Z"})
        assert "2016-12-31T23:59:59.999999Z" == event.to_dict()["ts"]

    def test_leap_second_with_offset_and_fraction(self) -> None:
        event = parse_event({"id": "h", "type": "heartbeat", "visitor": "v",
                             "ts": "2017-01-01T00:59:60.5+01:00"})
        assert "2016-12-31T23:59:59.999999Z" == event.to_dict()["ts"]

    @pytest.mark.parametrize("raw", ["2026-03-01t12:00:00z", "2026-03-01T12:00:00z",
                                     "2026-03-01t13:00:00+01:00"])
    def test_lower_case_t_and_z(self, raw: str) -> None:
        event = parse_event({"id": "h", "type": "heartbeat", "visitor": "v", "ts": raw})
        assert TS == event.to_dict()["ts"]

    @pytest.mark.parametrize(("raw", "why"), [
        ("2026-02-30T12:00:00Z", "day is out of range for month"),
        ("2026-03-01T12:61:00Z", "minute must be in 0..59"),
        ("2026-03-01T12:00:61Z", "second must be in 0..59"),
    ])
    def test_message_names_the_real_rule(self, raw: str, why: str) -> None:
        error = rejection({"id": "h", "type": "heartbeat", "visitor": "v", "ts": raw})
        assert ("ts", f"must be an RFC 3339 timestamp such as 2026-03-01T12:00:00Z ({why})") == (
            error.field, error.rule)


class TestTextSize:
    """The size counted for a string is the size the stores' JSON encoder writes."""

    @settings(max_examples=200, deadline=None)
    @given(st.text(st.characters(blacklist_categories=("Cs",))))
    def test_counted_equals_written(self, text: str) -> None:
        from whoson.core.bounds import clean_extra

        for value in (text, [text * 300, "\x00\b", {text: text}], "\x1f\n" * 10_000):
            written = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            assert len(written.encode("utf-8")) == clean_extra("x", value)[1]


class TestHugeNames:
    """An extra field whose name is megabytes long is refused fast, and named by an excerpt."""

    def test_a_20_mb_field_name(self) -> None:
        name = "é" * (20 << 20)
        error, seconds = timed(lambda: rejection(message(**{name: 1})))
        assert "é" * 80 + f"... ({20 << 20} characters)" == error.field
        assert seconds < FAST
