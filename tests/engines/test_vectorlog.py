"""The DuckDB log reader keeps exactly what the event-by-event reader keeps, line for line.

:func:`whoson.engines.vectorlog.read_log_table` settles most lines with a
SQL condition and hands the rest to the project's parser; these tests hold
it to :func:`whoson.engines.jsonl.read_log` (itself held to
``Tracker.load`` in test_jsonl.py) on lines at every edge of that condition,
on duplicated and conflicting events at batch sizes that put them inside and
across batches, and on hypothesis-generated logs.
"""

from __future__ import annotations

import io
import json
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whoson import Tracker
from whoson.codec import dumps
from whoson.core.settings import ParseContext, RatingScale
from whoson.engines.jsonl import read_log
from whoson.engines.vectorlog import FAST_LINE_BYTES, TableRead, read_log_table
from whoson.logfile import write_log
from whoson.sim import simulate

pytest.importorskip("duckdb")
pytest.importorskip("numpy")

TS = "2026-03-01T12:00:00Z"


def _same(data: bytes, ctx: ParseContext | None = None, *, store_text: bool = False,
          batch_size: int = 5000) -> TableRead:
    """Assert both readers agree on ``data``; give the vectorised reader's result."""
    ctx = ctx if ctx is not None else ParseContext()
    expected = TableRead.of(read_log(io.BytesIO(data), ctx, name="log.jsonl", store_text=store_text,
                                     batch_size=batch_size))
    actual = read_log_table(io.BytesIO(data), ctx, name="log.jsonl", store_text=store_text,
                            batch_size=batch_size)
    assert [str(e) for e in expected.result.errors] == [str(e) for e in actual.result.errors]
    assert expected.result == actual.result
    assert (expected.currency, expected.newest) == (actual.currency, actual.newest)
    assert expected.table.schema == actual.table.schema
    assert expected.table.sort_by("id").to_pylist() == actual.table.sort_by("id").to_pylist()
    return actual


def _line(**fields: Any) -> str:
    return json.dumps(fields)


def _hb(event_id: str = "h", **fields: Any) -> dict[str, Any]:
    return {"id": event_id, "type": "heartbeat", "ts": TS, "visitor": "v", **fields}


# One line per edge of the SQL condition: each is accepted or rejected, by SQL or by the parser.
EDGES = [
    '{"id":"a","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v",}',  # trailing comma
    '{"id":"a","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v","url":NaN}',
    '{"id":"a","type":"message","ts":"2026-03-01T12:00:00Z","visitor":"v","request":"r","sender":"visitor",'
    '"chars":Infinity}',
    '{"id":"a","id":"b","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}',  # duplicate key
    '{"id":"a","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v","visitor":"w"}',
    _line(**_hb(colour="red")),  # an unknown field: kept in extra
    _line(**_hb(title="not a heartbeat field")),
    _line(**_hb(url=None)),
    _line(id="pv", type="page_view", ts=TS, visitor="v", url=None),  # required and null
    _line(id=5, type="heartbeat", ts=TS, visitor="v"),
    _line(**_hb(visitor=5)),
    _line(**_hb(url=5)),
    _line(**_hb("ctl\u0001")), _line(**_hb("del\u007f")), _line(**_hb("c1\u0085")), _line(**_hb("zw\u200b")),
    '{"id":"raw\u007fdel","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}',
    '{"id":"raw\u0085c1","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}',
    '{"id":"lone\\ud800","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}',
    '{"id":"pair\\ud83d\\ude00","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}',
    '{"id":"raw\U0001f600","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v","url":"/\u00e9t\u00e9"}',
    '{"id":"esc\\u00e9","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v","url":"/a\\/b\\"c\\\\"}',
    '{"id":"nul","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v","url":"/a\\u0000b"}',
    '{"id":"tab","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v","url":"/a\\tb"}',
    _line(**_hb("x" * 200)), _line(**_hb("y" * 201)), _line(**_hb("\u00e9" * 200)), _line(**_hb("\u00e8" * 201)),
    _line(**_hb("", url="/")), _line(**_hb("u1", url="/" + "u" * 8191)), _line(**_hb("u2", url="/" + "u" * 8192)),
    _line(**_hb("big", url="/" + "b" * (FAST_LINE_BYTES + 10))),
    _line(**_hb("t1", ts="2026-03-01T12:00:00.1Z")), _line(**_hb("t2", ts="2026-03-01T12:00:00.123456+02:00")),
    _line(**_hb("t3", ts="2026-03-01T12:00:00.1234567Z")), _line(**_hb("t4", ts="2026-03-01T24:00:00Z")),
    _line(**_hb("t5", ts="2026-03-01T23:59:60Z")), _line(**_hb("t6", ts="2026-03-01t12:00:00z")),
    _line(**_hb("t7", ts="2026-03-01 12:00:00Z")), _line(**_hb("t8", ts="2026-02-29T12:00:00Z")),
    _line(**_hb("t9", ts="1900-01-01T00:30:00+01:00")), _line(**_hb("t10", ts="8999-12-31T23:30:00-01:00")),
    _line(**_hb("t11", ts="2026-03-01T12:00:00")), _line(**_hb("t12", ts="2026-03-01T12:00:00+24:00")),
    _line(**_hb("t13", ts="2026-03-01T12:00:00-00:00")), _line(**_hb("t14", ts=1772366400)),
    _line(**_hb("t15", ts="2026-03-01T12:00Z")), _line(**_hb("t16", ts="2026-03-01T12:00:00+0100")),
    *(f'{{"id":"c{i}","type":"message","ts":"{TS}","visitor":"v","request":"r","sender":"visitor","chars":{raw}}}'
      for i, raw in enumerate(["4.0", "-0", "1e3", "1000000000", "1000000001", "true", '"4"', "-1", "0", "007"])),
    *(f'{{"id":"s{i}","type":"survey","ts":"{TS}","visitor":"v","rating":{raw}}}'
      for i, raw in enumerate(["0", "1", "5", "6", "3.0", '"3"', "null"])),
    *(f'{{"id":"m{i}","type":"cart_update","ts":"{TS}","visitor":"v","value":{raw}}}'
      for i, raw in enumerate(["19.90", '"19.90"', "1E+2", "0.1234567", "0.123456", "999999999999999.999999",
                               "1000000000000000", "-1", "-0", "1.5e3", "0", "00", "19.90 ", "null", "true"])),
    '{"id":"mx","type":"cart_update","ts":"2026-03-01T12:00:00Z","visitor":"v","value":5,"note":"\\"value\\":9,"}',
    _line(id="b1", type="request_end", ts=TS, visitor="v", request="r", resolved=1),
    _line(id="b2", type="request_end", ts=TS, visitor="v", request="r", resolved="true"),
    _line(id="b3", type="request_end", ts=TS, visitor="v", request="r", resolved=True, reason="bored"),
    _line(id="q1", type="request", ts=TS, visitor="v", request="r", channel="text", initiator="agent"),
    _line(id="q2", type="request", ts=TS, visitor="v", request="r2", channel="text", initiator="agent", agent="ann"),
    _line(id="q3", type="call_joined", ts=TS, visitor="v", request="r2", participant="agent"),
    _line(id="q4", type="message", ts=TS, visitor="v", request="r2", sender="agent", agent="ann", text="hi"),
    _line(id="q5", type="message", ts=TS, visitor="v", request="r2", sender="visitor", text=7),
    _line(id="q6", type="message", ts=TS, visitor="v", request="r2", sender="visitor", text={"a": [1]}),
    _line(id="g1", type="agent_status", ts=TS, agent="ann", status="online"),
    _line(id="g2", type="agent_status", ts=TS, agent="ann", status="online", visitor=None),
    _line(id="g3", type="heartbeat", ts=TS),
    _line(id="n1", type=["heartbeat"], ts=TS, visitor="v"),
    _line(id="n2", type="nap", ts=TS, visitor="v"),
    _line(id="n3", type="heartbeat", ts=TS, visitor="v", url={"nested": "object"}),
    '[{"id":"arr","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}]',
    '{"id":"two","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"} {}',
    '"just a string"', "nope", "   ", "\t\r", "\x0b",
    # Keys spelled with escapes, and the non-numbers DuckDB reads (found by a reviewer).
    '{"id":"k1","type":"heartbeat","ts":"2026-03-02T10:03:00Z","vis\\u0069tor":5}',
    '{"\\u0069d":7,"type":"heartbeat","ts":"2026-03-02T10:03:00Z","visitor":"v"}',
    '{"id":"k3","type":"heartbeat","ts":"2026-03-02T10:03:00Z","visitor":"v","\\u0075rl":["/a"]}',
    '{"id":"k4","type":"heartbeat","ts":"2026-03-02T10:03:00Z","visitor":"v","\\u0075rl":"/ok"}',
    '{"id":"n4","type":"heartbeat","ts":"2026-03-02T10:03:00Z","visitor":nan}',
    '{"id":"n5","type":"page_view","ts":"2026-03-02T10:03:00Z","visitor":"v","url":"/","title":nAn}',
    '{"id":"n6","type":"page_view","ts":"2026-03-02T10:03:00Z","visitor":"v","url":"/","title":null}',
    '{"id":"n7","type":"heartbeat","ts":"2026-03-02T10:03:00Z","visitor":"v","url":-nan}',
    '{"id":"nul","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}\x00',
    '\ufeff{"id":"bom","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v"}',
    '{"id":"deep","type":"heartbeat","ts":"2026-03-01T12:00:00Z","visitor":"v","x":' + "[" * 40 + "]" * 40 + "}",
    '  {"id":"spaced" , "type" : "heartbeat" , "ts" : "2026-03-01T12:00:00Z" , "visitor" : "v" }  \r',
    _line(id="o1", type="order", ts=TS, visitor="v", order="A", subtotal="10.00", currency="EUR"),
    _line(id="o2", type="order", ts=TS, visitor="v", order="B", subtotal="5.00", discount="6.00"),
]


class TestEdges:
    """Every edge of the SQL condition reads as the parser reads it."""

    def test_each_edge_alone(self) -> None:
        """Each edge line on its own, after a valid line, gives the same outcome."""
        for edge in EDGES:
            data = (_line(**_hb("first")) + "\n" + edge + "\n").encode("utf-8", "surrogatepass")
            _same(data)

    def test_all_edges_together(self) -> None:
        """All the edges in one log, with scale and text settings that change the outcome."""
        data = ("\n".join(EDGES) + "\n").encode("utf-8", "surrogatepass")
        read = _same(data)
        assert 40 < read.result.accepted < len(EDGES)
        _same(data, ParseContext(RatingScale(0, 10)))
        _same(data, store_text=True)
        _same(data, ParseContext(currency="USD"))

    def test_bytes_and_framing(self) -> None:
        """A byte-order mark, CRLF endings, bad UTF-8, blank lines and no final newline."""
        good = _line(**_hb("ok")).encode()
        _same(b"\xef\xbb\xbf" + good + b"\r\n" + _line(**_hb("crlf")).encode() + b"\r\n")
        _same(good + b"\n" + b'{"id":"\xff","type":"heartbeat"}\n' + _line(**_hb("after")).encode() + b"\n")
        _same(b"\n\n" + good + b"\n \n" + _line(**_hb("last")).encode())
        _same(good + b"\n" + b'{"id":"cut","type":"heartb')
        _same(b"")
        _same(b"\n\n")


class TestSetRules:
    """Duplicates, conflicts, request owners and currencies are decided as Tracker.load decides them."""

    LOG: ClassVar[list[str]] = [
        _line(id="e1", type="request", ts=TS, visitor="v1", request="R", channel="text", initiator="visitor"),
        _line(id="e1", type="request", ts=TS, visitor="v1", request="R", channel="text", initiator="visitor"),
        _line(id="e1", type="request", ts=TS, visitor="v1", request="R", channel="video", initiator="visitor"),
        _line(id="e2", type="message", ts=TS, visitor="v2", request="R", sender="visitor"),
        _line(id="e3", type="message", ts=TS, visitor="v1", request="R", sender="visitor"),
        _line(id="e4", type="survey", ts=TS, visitor="v3", request="R", rating=4),
        _line(id="e5", type="heartbeat", ts=TS, visitor="v1"),
        _line(id="o1", type="order", ts=TS, visitor="v1", order="A", subtotal="1.00", currency="EUR"),
        _line(id="o2", type="order", ts=TS, visitor="v1", order="B", subtotal="2.00", currency="USD"),
        _line(id="e6", type="heartbeat", ts=TS, visitor="v4"),
        _line(id="o3", type="order", ts=TS, visitor="v4", order="C", subtotal="3.00", currency="USD"),
        _line(id="o4", type="order", ts=TS, visitor="v4", order="D", subtotal="4.00"),
        _line(id="e5", type="heartbeat", ts=TS, visitor="v9"),
        _line(id="o1", type="order", ts=TS, visitor="v1", order="A", subtotal="1.00", currency="EUR"),
        _line(id="e7", type="request_end", ts=TS, visitor="v2", request="R"),
        _line(id="e8", type="heartbeat", ts=TS, visitor="v5"),
    ]

    @pytest.mark.parametrize("batch_size", [1, 2, 3, 4, 5, 7, 5000])
    def test_batches(self, batch_size: int) -> None:
        """Each batch size puts the conflicts and the currencies inside or across batches."""
        data = ("\n".join(self.LOG) + "\n").encode()
        read = _same(data, batch_size=batch_size)
        assert read.result.duplicates >= 2

    def test_settings(self) -> None:
        """A configured currency and a converter."""
        data = ("\n".join(self.LOG) + "\n").encode()
        _same(data, ParseContext(currency="USD"))
        _same(data, ParseContext(currency="USD", converter=lambda amount, currency, ts: amount * 2))


class TestSimulated:
    """A simulated shop's log: every line is settled in SQL but the orders, and the table is the same."""

    def test_simulated_log(self, tmp_path: Path) -> None:
        """Two thousand events, with every duplicated a second time at the end."""
        log = tmp_path / "shop.jsonl"
        events = list(simulate(visitors=40, days=3, seed=11))
        write_log(log, events + events[:300])
        read = _same(log.read_bytes(), batch_size=250)
        assert (len(events), 300) == (read.result.accepted, read.result.duplicates)
        # The parser reads both lines of each duplicate, and every order; SQL settles the rest.
        assert 2 * 300 + sum(e["type"] == "order" for e in events[300:]) == read.python_lines

    def test_path_and_text_file(self, tmp_path: Path) -> None:
        """A path, a binary file and a text file are read alike."""
        log = tmp_path / "shop.jsonl"
        write_log(log, simulate(visitors=5, days=1, seed=2))
        ctx = Tracker().parse_context
        by_path = read_log_table(log, ctx)
        with open(log, encoding="utf-8") as text:
            by_text = read_log_table(text, ctx)
        assert by_path.table.sort_by("id").equals(by_text.table.sort_by("id"))
        assert str(log) == by_path.result.errors[0].source if by_path.result.errors else True


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 12), st.sampled_from([0.5, 4.0, 1e3, 19.9]),
    st.sampled_from(["", "v", "r", "agent", "visitor", "text", "closed", "/p", "2026-03-01T12:00:00Z",
                     "19.90", "EUR", "a\u0001", "\u00e9", "x" * 201]),
    st.lists(st.integers(0, 3), max_size=2),
)
_FIELDS = ["id", "type", "ts", "visitor", "url", "request", "channel", "initiator", "agent", "sender", "chars",
           "rating", "value", "resolved", "reason", "status", "text", "extra_field", "subtotal", "currency"]


@st.composite
def _logs(draw: st.DrawFn) -> bytes:
    base = list(simulate(visitors=3, days=1, seed=draw(st.integers(0, 3))))[:40]
    lines = [dumps(e) for e in base]
    for _ in range(draw(st.integers(0, 12))):
        source = draw(st.integers(0, len(base) - 1))
        data = json.loads(dumps(base[source]))
        action = draw(st.sampled_from(["set", "drop", "dup", "steal", "garbage", "same_id"]))
        if action == "set":
            data[draw(st.sampled_from(_FIELDS))] = draw(_VALUES)
        elif action == "drop":
            data.pop(draw(st.sampled_from(sorted(data))), None)
        elif action == "steal":
            data["visitor"] = draw(st.sampled_from(["v-other", "v-third"]))
        elif action == "same_id":
            data["id"] = base[draw(st.integers(0, len(base) - 1))]["id"]
        where = draw(st.integers(0, len(lines)))
        if action == "garbage":
            lines.insert(where, draw(st.sampled_from(["", "{", "null", "[]", '{"id":"g"}'])))
        elif action == "dup":
            lines.insert(where, lines[draw(st.integers(0, len(lines) - 1))])
        else:
            lines.insert(where, json.dumps(data))
    return ("\n".join(lines) + "\n").encode("utf-8")


class TestProperty:
    """On mutated logs the two readers always agree."""

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_logs(), st.sampled_from([1, 3, 8, 5000]), st.booleans())
    def test_mutated_logs(self, data: bytes, batch_size: int, store_text: bool) -> None:
        """Random values, dropped fields, duplicates, stolen requests and garbage lines."""
        _same(data, batch_size=batch_size, store_text=store_text)


_KEYS = sorted({"id", "type", "ts", "visitor", "text", "colour", *__import__("whoson.engines.parquet",
                                                                            fromlist=["COLUMNS"]).COLUMNS})
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(
    ["\x00", "\x1f", "\x7f", "\x85", "\u200b", "\\", '"', "\U0001f600", "\ufeff"]), max_size=12)
_RAW = st.one_of(
    _TEXT.map(json.dumps), _TEXT.map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.sampled_from(['"2026-03-01T12:00:00Z"', '"2026-03-01T12:00:00.5+01:00"', '"2026-02-30T00:00:00Z"',
                     '"visitor"', '"agent"', '"text"', '"heartbeat"', '"page_view"', '"cart_update"',
                     '"survey"', '"message"', '"request"', '"agent_status"', '"online"', '"x\\ud800"',
                     "NaN", "nan", "nAn", "-Infinity", "inf", "1e400", "0.1234567", "12.5", "3", "-0", "4.0",
                     "true", "null",
                     "[]", "{}", '{"a":1}']),
    st.integers(-2, 10**10).map(str),
)


@st.composite
def _raw_lines(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        fields = {"id": json.dumps(draw(st.sampled_from(["a", "b", "c"]))),
                  "type": json.dumps(draw(st.sampled_from(["heartbeat", "page_view", "cart_update", "survey",
                                                          "message", "request", "agent_status", "order"]))),
                  "ts": '"2026-03-01T12:00:00Z"', "visitor": '"v"'}
        for _ in range(draw(st.integers(0, 5))):
            fields[draw(st.sampled_from(_KEYS))] = draw(_RAW)
        for key in draw(st.lists(st.sampled_from(["id", "type", "ts", "visitor"]), max_size=2)):
            fields.pop(key, None)
        escape = draw(st.booleans())  # a key spelled with an escape reads as the same key
        body = ",".join(
            (f'"\\u{ord(key[0]):04x}{key[1:]}"' if escape and i % 2 else json.dumps(key)) + f":{value}"
            for i, (key, value) in enumerate(fields.items())
        )
        lines.append("{" + body + draw(st.sampled_from(["", ",", " "])) + "}")
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


class TestRawLines:
    """Random keys with random JSON values, including the forms DuckDB reads more leniently."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_raw_lines(), st.booleans())
    def test_random_lines(self, data: bytes, store_text: bool) -> None:
        """Strings with control characters and escapes, numbers of every form, wrong types."""
        _same(data, batch_size=2, store_text=store_text)


class TestChoice:
    """read_for_engine takes DuckDB for a big log and the parser for a small one, with one outcome."""

    def test_big_and_small(self, tmp_path: Path) -> None:
        """A log over SMALL_LOG_BYTES is read by SQL (only its orders by the parser); a small one event by event."""
        from whoson.engines.vectorlog import SMALL_LOG_BYTES, read_for_engine

        big, small = tmp_path / "big.jsonl", tmp_path / "small.jsonl"
        events = list(islice(simulate(visitors=400, days=3, seed=5), 9000))
        write_log(big, events)
        write_log(small, events[:200])
        assert big.stat().st_size >= SMALL_LOG_BYTES > small.stat().st_size
        ctx = Tracker().parse_context
        by_sql, by_parser = read_for_engine(big, ctx), read_for_engine(small, ctx)
        assert sum(e["type"] == "order" for e in events) == by_sql.python_lines
        assert 200 == by_parser.python_lines
        with open(big, "rb") as stream:
            assert by_sql.table.sort_by("id").equals(read_for_engine(stream, ctx).table.sort_by("id"))
        assert TableRead.of(read_log(big, ctx)).table.sort_by("id").equals(by_sql.table.sort_by("id"))
