"""Loading a log straight into a store (``whoson ingest``) decides every line as a tracker's load does."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from whoson.core.settings import ParseContext, RatingScale
from whoson.logfile import LogFormatError
from whoson.stores.memory import MemoryStore
from whoson.stores.sqlite import SQLiteStore
from whoson.tracker import Tracker
from whoson.tracking.loading import store_log

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _line(**fields: object) -> bytes:
    base: dict[str, object] = {"ts": "2026-03-01T12:00:00Z", "visitor": "v1"}
    base.update(fields)
    return json.dumps(base).encode() + b"\n"


def _mixed_log() -> bytes:
    """Orders in two currencies across batches, duplicates, conflicts, bad lines, message text."""
    lines = [
        _line(id="o1", type="order", order="A1", subtotal="10.00", currency="EUR"),
        _line(id="o2", type="order", order="A2", subtotal="12.00", currency="USD"),
        b"not json\n",
        _line(id="h1", type="heartbeat"),
        _line(id="h1", type="heartbeat"),
        _line(id="h1", type="heartbeat", url="/other"),
        _line(id="r1", type="request", request="q1", channel="text", initiator="visitor"),
        _line(id="m1", type="message", request="q1", sender="visitor", text="hello", visitor="v2"),
        _line(id="m2", type="message", request="q1", sender="visitor", text="hello"),
        _line(id="s1", type="survey", rating=9),
        _line(id="o3", type="order", order="A3", subtotal="5.00", currency="USD"),
        _line(id="o4", type="order", order="A4", subtotal="5.00", currency="EUR"),
        b"\n",
        _line(id="x", type="nap"),
    ]
    return b"".join(lines)


class TestSameAsTrackerLoad:
    """store_log reports and stores exactly what Tracker.load does."""

    @pytest.mark.parametrize("batch_size", [1, 2, 3, 5000])
    def test_mixed_log(self, batch_size: int) -> None:
        """Every line gets the same outcome, message and line number, at any batch size."""
        tracker = Tracker()
        expected = tracker.load(io.BytesIO(_mixed_log()), batch_size=batch_size, name="x.jsonl")
        store = MemoryStore()
        actual = store_log(store, io.BytesIO(_mixed_log()), ParseContext(), batch_size=batch_size,
                           name="x.jsonl")
        assert expected == actual
        assert [s.event for s in tracker.store.read()] == [s.event for s in store.read()]

    def test_strict(self) -> None:
        """Strict loading stops at the same line with the same error, the lines before stored."""
        tracker = Tracker()
        with pytest.raises(LogFormatError) as expected:
            tracker.load(io.BytesIO(_mixed_log()), strict=True, batch_size=1)
        store = MemoryStore()
        with pytest.raises(LogFormatError) as actual:
            store_log(store, io.BytesIO(_mixed_log()), ParseContext(), strict=True, batch_size=1)
        assert str(expected.value) == str(actual.value)
        assert len(tracker.store) == len(store)

    def test_settings_and_text(self, tmp_path: Path) -> None:
        """A store's currency and rating scale, and keeping message text, are honoured alike."""
        ctx = ParseContext(rating_scale=RatingScale(0, 10), currency="USD")
        tracker = Tracker(SQLiteStore(tmp_path / "a.db"), currency="USD", rating_scale="0..10",
                          store_text=True)
        expected = tracker.load(io.BytesIO(_mixed_log()))
        with SQLiteStore(tmp_path / "b.db") as store:
            actual = store_log(store, io.BytesIO(_mixed_log()), ctx, store_text=True)
            assert [s.event for s in tracker.store.read()] == [s.event for s in store.read()]
        tracker.close()
        assert expected == actual

    def test_example_log(self) -> None:
        """The bad-lines example gives the same result."""
        path = EXAMPLES / "bad_lines.jsonl"
        expected = Tracker().load(path)
        actual = store_log(MemoryStore(), path, ParseContext())
        assert expected == actual
