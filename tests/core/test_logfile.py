"""whoson.logfile: reading JSON Lines logs line by line, bad lines reported and skipped."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whoson.codec import dumps
from whoson.core.batch import classify
from whoson.core.errors import ConflictError, WhosonError
from whoson.core.parsing import parse_event
from whoson.core.settings import ParseContext, RatingScale
from whoson.logfile import (
    RULE_JSON,
    RULE_UTF8,
    LogError,
    LogFormatError,
    LogItem,
    iter_log,
    read_events,
    write_log,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def line(id_: str, **fields: Any) -> bytes:
    """One valid heartbeat line (fields override), newline included."""
    data: dict[str, Any] = {"id": id_, "type": "heartbeat", "ts": "2026-03-01T12:00:00Z",
                            "visitor": "v", "url": "/"}
    data.update(fields)
    return dumps(data).encode() + b"\n"


def items(data: bytes, ctx: ParseContext | None = None) -> list[LogItem]:
    """Every item iter_log yields for ``data``."""
    return list(iter_log(io.BytesIO(data), ctx or ParseContext()))


def error_lines(data: bytes) -> list[tuple[int, str | None, str | None]]:
    """(line, field, rule) of every bad line."""
    return [(i.line, i.error.field, i.error.rule) for i in items(data) if i.error is not None]


class TestLines:
    """Line numbers count physical lines; blank lines are skipped."""

    def test_good_lines_give_events_in_file_order(self) -> None:
        result = items(line("a") + line("b") + line("c"))
        assert [(1, "a"), (2, "b"), (3, "c")] == [(i.line, i.event.id) for i in result if i.event]
        assert all(i.ok and i.error is None for i in result)

    def test_blank_lines_are_skipped_but_counted(self) -> None:
        result = items(b"\n" + line("a") + b"   \n\t\n" + line("b") + b"\n")
        assert [2, 5] == [i.line for i in result]

    def test_crlf_line_endings(self) -> None:
        result = items(line("a").replace(b"\n", b"\r\n") + b"\r\n" + line("b").replace(b"\n", b"\r\n"))
        assert [(1, "a"), (3, "b")] == [(i.line, i.event.id) for i in result if i.event]

    def test_last_line_without_newline_is_fine_when_complete(self) -> None:
        result = items(line("a") + line("b").rstrip(b"\n"))
        assert ["a", "b"] == [i.event.id for i in result if i.event]

    def test_byte_order_mark_is_ignored(self) -> None:
        result = items(b"\xef\xbb\xbf" + line("a"))
        assert ["a"] == [i.event.id for i in result if i.event]

    def test_empty_input(self) -> None:
        assert [] == items(b"")

    def test_unicode_text_is_read(self) -> None:
        data = dumps({"id": "p", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
                      "visitor": "v", "url": "/café", "title": "Crème brûlée 🍮"}).encode()
        assert "Crème brûlée 🍮" == items(data)[0].event.title  # type: ignore[union-attr]

    def test_money_is_exact(self) -> None:
        data = b'{"id":"c","type":"cart_update","ts":"2026-03-01T12:00:00Z","visitor":"v","value":19.90}'
        assert "19.90" == str(items(data)[0].event.value)  # type: ignore[union-attr]


class TestBadLines:
    """Each kind of bad line is reported with its number and reason; reading goes on."""

    def test_malformed_json(self) -> None:
        result = items(line("a") + b'{"id": "b", "type": }\n' + line("c"))
        error = result[1].error
        assert error is not None
        assert (2, None, RULE_JSON) == (error.line, error.field, error.rule)
        assert error.reason.startswith("invalid JSON: Expecting value")
        assert error.reason.endswith("at column 21")
        assert ["a", "c"] == [i.event.id for i in result if i.event]

    @pytest.mark.parametrize("value", [b"[1, 2]", b'"heartbeat"', b"42", b"null", b"true"])
    def test_json_that_is_not_an_object(self, value: bytes) -> None:
        assert [(1, "event", "must be a JSON object")] == error_lines(value + b"\n")

    def test_non_utf8_byte_names_line_and_offset(self) -> None:
        first = line("a")
        bad = b'{"id": "b", "type": "heartbeat", "visitor": "Jos\xe9"}\n'
        result = items(first + bad + line("c"))
        error = result[1].error
        assert error is not None
        expected_offset = len(first) + bad.index(b"\xe9")
        assert (2, None, RULE_UTF8, expected_offset) == (error.line, error.field, error.rule,
                                                         error.offset)
        assert f"byte offset {expected_offset}" in error.reason
        assert "0xe9" in error.reason
        assert 3 == result[2].line

    def test_offset_counts_a_byte_order_mark(self) -> None:
        data = b"\xef\xbb\xbf" + b'{"id": "\xff"}\n'
        error = items(data)[0].error
        assert error is not None
        assert data.index(b"\xff") == error.offset

    def test_truncated_last_line(self) -> None:
        result = items(line("a") + b'{"id": "b", "type": "heartbeat", "ts": "2026-03-0')
        error = result[1].error
        assert error is not None
        assert (2, RULE_JSON) == (error.line, error.rule)
        assert "truncated" in error.reason

    def test_malformed_line_with_newline_is_not_called_truncated(self) -> None:
        error = items(b'{"id": \n')[0].error
        assert error is not None
        assert "truncated" not in error.reason

    def test_invalid_event_carries_field_value_rule_and_line(self) -> None:
        data = line("a") + line("b", ts="2026-03-01T12:00:00")
        error = items(data)[1].error
        assert error is not None
        assert (2, "ts", "2026-03-01T12:00:00", "b") == (error.line, error.field, error.value,
                                                         error.event_id)
        assert "offset" in (error.rule or "")
        assert error.reason.startswith("field 'ts' = '2026-03-01T12:00:00': ")

    def test_nan_in_a_money_field_is_bad_json(self) -> None:
        data = b'{"id":"c","type":"cart_update","ts":"2026-03-01T12:00:00Z","visitor":"v","value":NaN}\n'
        assert [(1, None, RULE_JSON)] == error_lines(data)

    def test_context_applies(self) -> None:
        data = line("s", type="survey", rating=9)
        assert [(1, "rating")] == [(i.line, i.error.field) for i in items(data) if i.error]
        assert items(data, ParseContext(rating_scale=RatingScale(0, 10)))[0].ok


class TestErrorText:
    """A LogError reads `file:line: reason`."""

    def test_str_with_and_without_source(self) -> None:
        error = LogError(7, "field 'ts' = 'x': must carry a UTC offset", field="ts",
                         source="events.jsonl")
        assert "events.jsonl:7: field 'ts' = 'x': must carry a UTC offset" == str(error)
        assert "line 7: field 'ts' = 'x': must carry a UTC offset" == str(
            LogError(7, "field 'ts' = 'x': must carry a UTC offset"))

    def test_path_names_the_source(self, tmp_path: Path) -> None:
        path = tmp_path / "events.jsonl"
        path.write_bytes(line("a", ts="2026-03-01T12:00:00"))
        error = next(iter_log(path)).error
        assert error is not None
        assert str(error).startswith(f"{path}:1: field 'ts'")

    def test_name_overrides_the_label(self) -> None:
        error = next(iter_log(io.BytesIO(b"[\n"), name="<stdin>")).error
        assert error is not None
        assert str(error).startswith("<stdin>:1: invalid JSON")

    def test_nameless_stream(self) -> None:
        error = next(iter_log(io.BytesIO(b"[\n"))).error
        assert error is not None
        assert error.source is None

    def test_from_invalid_keeps_the_rejection(self) -> None:
        conflict = ConflictError("id", "e5", "already stored with different content",
                                 event_id="e5")
        error = LogError.from_invalid(12, conflict, "shop.jsonl")
        assert ("id", "e5", "already stored with different content", "e5") == (
            error.field, error.value, error.rule, error.event_id)
        assert "shop.jsonl:12: field 'id' = 'e5': already stored with different content" \
            == str(error)


class TestSources:
    """A log can be a path, a binary file or a text file."""

    def test_path_string_and_pathlib(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        path.write_bytes(line("a") + line("b"))
        assert ["a", "b"] == [e.id for e in read_events(str(path))[0]]
        assert ["a", "b"] == [e.id for e in read_events(path)[0]]

    def test_open_binary_file_is_read_from_its_position_and_left_open(self,
                                                                       tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        path.write_bytes(line("a") + line("b"))
        with path.open("rb") as stream:
            stream.readline()
            events, _ = read_events(stream)
            assert not stream.closed
        assert ["b"] == [e.id for e in events]

    def test_text_file_is_read_through_its_buffer(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        path.write_bytes(line("a") + b'{"id": "b\xe9"}\n')
        with path.open("r", encoding="utf-8") as stream:
            events, errors = read_events(stream)
        assert (["a"], [(2, RULE_UTF8)]) == ([e.id for e in events],
                                            [(e.line, e.rule) for e in errors])

    def test_string_io(self) -> None:
        events, errors = read_events(io.StringIO(line("a").decode() + "\n"))
        assert (["a"], []) == ([e.id for e in events], errors)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            read_events(tmp_path / "nope.jsonl")

    def test_path_is_closed_after_reading(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        path.write_bytes(line("a") + line("b"))
        iterator = iter_log(path)
        next(iterator)
        iterator.close()
        path.unlink()  # would fail on some platforms if still open; at least must not raise here
        assert not path.exists()


class TestReadEvents:
    """read_events collects events and errors, or stops at the first bad line when strict."""

    def test_events_and_errors(self) -> None:
        data = line("a") + b"{\n" + line("b", visitor="") + line("c")
        events, errors = read_events(io.BytesIO(data), name="x.jsonl")
        assert ["a", "c"] == [e.id for e in events]
        assert [(2, None), (3, "visitor")] == [(e.line, e.field) for e in errors]
        assert all(e.source == "x.jsonl" for e in errors)

    def test_strict_raises_at_the_first_bad_line(self) -> None:
        data = line("a") + line("b", visitor="") + b"{\n"
        with pytest.raises(LogFormatError) as caught:
            read_events(io.BytesIO(data), strict=True, name="x.jsonl")
        assert 2 == caught.value.line
        assert ("visitor", 2) == (caught.value.error.field, caught.value.error.line)
        assert str(caught.value).startswith("x.jsonl:2: field 'visitor'")

    def test_strict_error_is_a_whoson_value_error(self) -> None:
        with pytest.raises(WhosonError):
            read_events(io.BytesIO(b"[\n"), strict=True)
        with pytest.raises(ValueError, match="line 1"):
            read_events(io.BytesIO(b"[\n"), strict=True)

    def test_strict_on_a_clean_log(self) -> None:
        events, errors = read_events(io.BytesIO(line("a") + line("b")), strict=True)
        assert (["a", "b"], []) == ([e.id for e in events], errors)

    def test_agrees_with_iter_log(self) -> None:
        data = line("a") + b"x\n" + line("b", ts="nope") + b"\n" + line("c")
        events, errors = read_events(io.BytesIO(data))
        result = items(data)
        assert [i.event for i in result if i.event] == events
        assert [i.error for i in result if i.error] == errors


class TestWriteLog:
    """write_log writes what read_events reads back unchanged."""

    def test_round_trip(self, tmp_path: Path) -> None:
        events = [
            parse_event({"id": "o", "type": "order", "ts": "2026-03-01T13:00:00.25+01:00",
                         "visitor": "v", "order": "A1", "subtotal": "100.10", "tax": "0.00",
                         "gift": {"wrap": True, "note": "für dich"}}),
            parse_event({"id": "s", "type": "agent_status", "ts": "2026-03-01T12:00:00Z",
                         "agent": "ana", "status": "away"}),
        ]
        path = tmp_path / "out.jsonl"
        assert 2 == write_log(path, events)
        back, errors = read_events(path)
        assert (events, []) == (back, errors)
        assert Decimal("0.00").as_tuple() == back[0].tax.as_tuple()  # type: ignore[attr-defined]
        assert path.read_bytes().endswith(b"\n")

    def test_mappings_are_written_as_given(self) -> None:
        out = io.BytesIO()
        write_log(out, [{"id": "x", "type": "nap"}])
        assert b'{"id":"x","type":"nap"}\n' == out.getvalue()


good_line = st.builds(lambda n: line(f"e{n}"), st.integers(0, 10**6))
bad_line = st.sampled_from([
    b"{\n", b"[]\n", b'{"id": "x"}\n', b'{"id": "\xff"}\n', b"nope\n",
    line("x", ts="2026-03-01T12:00:00"),
])
blank_line = st.sampled_from([b"\n", b"  \n", b"\r\n"])


class TestMixedLogs:
    """In any mix of lines, exactly the bad ones are reported, at their numbers."""

    @given(st.lists(st.tuples(st.sampled_from(["good", "bad", "blank"]), st.data()), max_size=30))
    def test_bad_lines_are_exactly_reported(self, plan: list[tuple[str, st.DataObject]]) -> None:
        chunks: list[bytes] = []
        expected_good: list[int] = []
        expected_bad: list[int] = []
        for number, (kind, data) in enumerate(plan, start=1):
            strategy = {"good": good_line, "bad": bad_line, "blank": blank_line}[kind]
            chunks.append(data.draw(strategy))
            if kind == "good":
                expected_good.append(number)
            elif kind == "bad":
                expected_bad.append(number)
        result = items(b"".join(chunks))
        assert expected_good == [i.line for i in result if i.ok]
        assert expected_bad == [i.line for i in result if not i.ok]


class TestExamples:
    """The shipped example logs read as documented."""

    def test_small_shop_is_entirely_valid(self) -> None:
        events, errors = read_events(EXAMPLES / "small_shop.jsonl", ParseContext(currency="EUR"))
        assert [] == errors
        assert 60 <= len(events) <= 120
        classified = classify(events, stored={}, owners={})
        assert (len(events), 0) == (classified.result.accepted, classified.result.rejected)
        types = {event.type for event in events}
        assert {"page_view", "heartbeat", "page_leave", "identify", "cart_update", "order",
                "widget_impression", "widget_click", "auto_message", "auto_message_click",
                "request", "message", "call_joined", "transfer", "request_end", "survey",
                "agent_status"} == types

    def test_bad_lines_are_each_reported(self) -> None:
        path = EXAMPLES / "bad_lines.jsonl"
        result = list(iter_log(path, ParseContext(currency="EUR")))
        errors = {i.line: i.error for i in result if i.error is not None}
        expected = {
            3: (None, RULE_JSON),
            6: ("type", None),
            7: ("url", "is required on page_view events"),
            8: ("ts", "must carry a UTC offset (Z or +hh:mm); no guessing"),
            9: ("value", "must be >= 0"),
            12: ("currency", "must be the tracker's currency 'EUR' (no converter configured)"),
            14: ("visitor", "must be at most 200 characters (has 300)"),
            15: ("event", "must be a JSON object"),
            18: (None, RULE_UTF8),
            20: (None, RULE_JSON),
        }
        assert sorted(expected) == sorted(errors)
        for number, (field, rule) in expected.items():
            assert field == errors[number].field, number
            if rule is not None:
                assert rule == errors[number].rule, number
        assert (errors[6].rule or "").startswith("must be one of")
        assert "truncated" in errors[20].reason
        raw = path.read_bytes()
        assert raw.index(b"\xe9") == errors[18].offset
        assert all(str(e).startswith(f"{path}:{n}: ") for n, e in errors.items())

    def test_bad_lines_good_ones_parse_and_clashes_are_caught_on_append(self) -> None:
        result = [i for i in iter_log(EXAMPLES / "bad_lines.jsonl", ParseContext(currency="EUR"))
                  if i.event is not None]
        assert [1, 2, 4, 10, 11, 13, 16, 17, 19] == [i.line for i in result]
        classified = classify([i.event for i in result if i.event], stored={}, owners={})
        rejected = {result[o.index].line: o.error for o in classified.result.errors}
        assert [16, 17] == sorted(rejected)
        assert ("visitor", "v-2") == (rejected[16].field, rejected[16].value)  # type: ignore[union-attr]
        assert ("id", "ok-03") == (rejected[17].field, rejected[17].value)  # type: ignore[union-attr]
        assert "req-1" in rejected[16].rule  # type: ignore[union-attr]
