"""The SQLite store's batch encoder gives exactly the rows of the per-event encoder, or defers to it."""

from __future__ import annotations

import attrs

from whoson.core.events import EVENT_TYPES
from whoson.stores._compact import pre_row
from whoson.stores.sqlite import SQLiteStore
from whoson.testing import make_event


class TestBatchEncode:
    """_encode_batch agrees with pre_row, and returns None where an event may be unstorable."""

    def test_every_type(self) -> None:
        """Every event type, with and without extras, encodes to the same pre-rows."""
        events = [make_event(name, id=f"{name}-a") for name in EVENT_TYPES]
        events += [make_event(name, id=f"{name}-b", note={"k": [1, "x"]}) for name in EVENT_TYPES]
        with SQLiteStore(":memory:") as store:
            assert [pre_row(e) for e in events] == store._encode_batch(events)

    def test_defers(self) -> None:
        """A lone surrogate or a non-string key sends the batch to the per-event path."""
        for bad_fields in ({"id": "x\ud800"}, {"extra": {"n": {1: 2}}}):
            good = make_event("heartbeat", id="ok")
            bad = attrs.evolve(good, **bad_fields)
            with SQLiteStore(":memory:") as store:
                assert store._encode_batch([good, bad]) is None
                result = store.append([good, bad])
                assert ["accepted", "rejected"] == [o.status.value for o in result.outcomes]
