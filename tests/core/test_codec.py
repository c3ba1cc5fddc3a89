"""whoson.codec: exact decimals in, exact digits out, NaN and Infinity refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whoson import codec
from whoson.codec import JSONError, dumps, dumps_pretty, loads
from whoson.core.parsing import parse_event


@pytest.fixture(params=["orjson", "stdlib"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with orjson as the accelerator, and with the standard library alone."""
    if request.param == "stdlib":
        monkeypatch.setattr(codec, "_fast_loads", None)
    return str(request.param)


class TestLoads:
    """loads reads JSON exactly: fractions are Decimal, integers int."""

    @pytest.mark.usefixtures("decoder")
    @pytest.mark.parametrize(("text", "expected"), [
        ("12.50", "12.50"), ("0.1", "0.1"), ("-3.000", "-3.000"), ("1e3", "1E+3"),
        ("2.5E-7", "2.5E-7"), ("123456789012345678901234567890.123456789", None),
        ("1e400", "1E+400"),
    ])
    def test_fractions_become_exact_decimals(self, text: str, expected: str | None) -> None:
        value = loads(f'{{"amount": {text}}}')["amount"]
        assert Decimal is type(value)
        assert (expected or text) == str(value)

    @pytest.mark.usefixtures("decoder")
    @pytest.mark.parametrize(("text", "expected"), [
        ("0", 0), ("-7", -7), ("9007199254740993", 9007199254740993),
        ("123456789012345678901234567890", 123456789012345678901234567890),
    ])
    def test_integers_stay_exact_ints(self, text: str, expected: int) -> None:
        value = loads(f"[{text}]")[0]
        assert int is type(value)
        assert expected == value

    @pytest.mark.usefixtures("decoder")
    def test_document_structure(self) -> None:
        text = '{"a": [true, false, null, "é\\n"], "b": {"c": 1.5}, "a2": {}}'
        assert {"a": [True, False, None, "é\n"], "b": {"c": Decimal("1.5")}, "a2": {}} \
            == loads(text)

    @pytest.mark.usefixtures("decoder")
    def test_bytes_are_utf8(self) -> None:
        assert {"name": "Zoë"} == loads('{"name": "Zoë"}'.encode())

    @pytest.mark.usefixtures("decoder")
    def test_key_order_is_kept(self) -> None:
        assert ["z", "a", "m"] == list(loads('{"z": 1, "a": 2.0, "m": 3}'))

    @pytest.mark.usefixtures("decoder")
    def test_last_duplicate_key_wins(self) -> None:
        assert {"a": Decimal("2.0")} == loads('{"a": 1, "a": 2.0}')

    @pytest.mark.usefixtures("decoder")
    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    def test_nan_and_infinity_are_rejected(self, constant: str) -> None:
        with pytest.raises(JSONError, match=constant):
            loads(f'{{"value": {constant}}}')

    @pytest.mark.usefixtures("decoder")
    @pytest.mark.parametrize(("text", "position"), [
        ('{"a": 1', 7), ('{"a" 1}', 5), ("[1, 2,]", 6), ("", 0), ('{"a": 1} x', 9), ("'x'", 0),
    ])
    def test_invalid_json_names_the_position(self, text: str, position: int) -> None:
        with pytest.raises(JSONError) as caught:
            loads(text)
        assert position == caught.value.pos
        assert f"at column {position + 1}" in str(caught.value)

    @pytest.mark.usefixtures("decoder")
    def test_invalid_utf8_names_the_byte(self) -> None:
        with pytest.raises(JSONError) as caught:
            loads(b'{"a": "caf\xe9"}')
        assert 10 == caught.value.pos
        assert "0xe9" in str(caught.value)

    def test_json_error_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="Expecting"):
            loads("[")


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False),
)
json_documents = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
plain_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)


def exact(value: Any) -> Any:
    """A form where Decimal('1.0') and Decimal('1.00') differ, for exact comparisons."""
    if isinstance(value, dict):
        return [("object", [(key, exact(item)) for key, item in value.items()])]
    if isinstance(value, list):
        return [("array", [exact(item) for item in value])]
    if isinstance(value, Decimal):
        return ("decimal", value.as_tuple())
    return (type(value).__name__, value)


class TestRoundTrip:
    """Whatever dumps writes, loads reads back with the same digits."""

    @given(json_documents)
    def test_dumps_then_loads_keeps_every_digit(self, value: Any) -> None:
        text = dumps(value)
        assert text == dumps(loads(text))

    @given(plain_json)
    def test_matches_the_standard_library_on_plain_json(self, value: Any) -> None:
        assert json.dumps(value, separators=(",", ":"), ensure_ascii=False) == dumps(value)
        assert json.dumps(value, indent=2, ensure_ascii=False) == dumps_pretty(value)

    @given(json_documents)
    def test_accelerated_and_standard_decoders_agree(self, value: Any) -> None:
        text = dumps(value)
        # The standard library decoder is the reference the accelerator must match.
        assert exact(codec._loads_stdlib(text)) == exact(loads(text))
        assert exact(codec._loads_stdlib(text.encode())) == exact(loads(text.encode()))

    @given(st.floats(allow_nan=False, allow_infinity=False))
    def test_a_float_is_written_as_its_repr_and_read_exactly(self, value: float) -> None:
        back = loads(dumps([value]))[0]
        assert Decimal(repr(value)) == back
        assert Decimal is type(back)

    @given(st.decimals(allow_nan=False, allow_infinity=False))
    def test_a_decimal_survives_exactly(self, value: Decimal) -> None:
        back = loads(dumps([value]))[0]
        assert value == back
        if isinstance(back, Decimal):
            assert value.as_tuple() == back.as_tuple()
        else:
            assert int is type(back)
            assert value.as_tuple().exponent == 0


class TestDumps:
    """dumps writes compact JSON with exact decimals and UTC timestamps."""

    @pytest.mark.parametrize(("value", "text"), [
        (Decimal("12.50"), "12.50"), (Decimal("0.10"), "0.10"), (Decimal("100"), "100"),
        (Decimal("1E+2"), "1E+2"), (Decimal("-0.001"), "-0.001"), (Decimal("1E-7"), "1E-7"),
        (Decimal("123456789012345678901234567890.01"), "123456789012345678901234567890.01"),
    ])
    def test_decimal_keeps_its_digits(self, value: Decimal, text: str) -> None:
        assert text == dumps(value)
        assert f'{{"v":{text}}}' == dumps({"v": value})

    @pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"),
                                     Decimal("-Infinity"), float("nan"), float("inf"),
                                     float("-inf")])
    def test_non_finite_numbers_are_refused(self, bad: Any) -> None:
        with pytest.raises(JSONError, match="finite"):
            dumps({"total": [bad]})

    def test_aware_datetime_becomes_utc_z(self) -> None:
        moment = datetime(2026, 3, 1, 13, 0, 0, 500, tzinfo=timezone(timedelta(hours=1)))
        assert '"2026-03-01T12:00:00.000500Z"' == dumps(moment)
        assert '"2026-03-01T12:00:00Z"' == dumps(datetime(2026, 3, 1, 12, tzinfo=UTC))

    def test_naive_datetime_is_refused(self) -> None:
        with pytest.raises(JSONError, match="naive"):
            dumps(datetime(2026, 3, 1, 12))

    def test_date_is_iso(self) -> None:
        assert '["2026-03-01"]' == dumps([date(2026, 3, 1)])

    def test_compact_and_ordered(self) -> None:
        assert '{"z":1,"a":[true,null],"m":{"k":"v"}}' == dumps(
            {"z": 1, "a": (True, None), "m": {"k": "v"}})

    def test_text_is_escaped_but_not_ascii_only(self) -> None:
        assert '"Zoë \\"Z\\"\\n\\u0001"' == dumps('Zoë "Z"\n\x01')

    def test_an_event_is_written_as_its_mapping(self) -> None:
        event = parse_event({"id": "c1", "type": "cart_update", "ts": "2026-03-01T13:00:00+01:00",
                             "visitor": "v", "value": "19.90", "utm": "x"})
        assert ('{"id":"c1","type":"cart_update","ts":"2026-03-01T12:00:00Z","visitor":"v",'
                '"value":19.90,"utm":"x"}') == dumps(event)

    def test_non_string_keys_are_refused(self) -> None:
        with pytest.raises(TypeError, match="keys"):
            dumps({1: "one"})

    def test_unknown_types_are_refused(self) -> None:
        with pytest.raises(TypeError, match="set"):
            dumps({"tags": {"a"}})

    def test_pretty_layout(self) -> None:
        expected = '{\n  "order": "A1",\n  "lines": [\n    9.90,\n    []\n  ],\n  "meta": {}\n}'
        assert expected == dumps_pretty({"order": "A1", "lines": [Decimal("9.90"), []],
                                         "meta": {}})

    def test_pretty_indent_width(self) -> None:
        assert '[\n    1\n]' == dumps_pretty([1], indent=4)
