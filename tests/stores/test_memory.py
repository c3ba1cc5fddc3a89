"""The in-memory store against the store contract, plus its own details."""

from __future__ import annotations

import gc
import threading
import tracemalloc
from datetime import timedelta

from whoson.core.events import HeartbeatEvent
from whoson.stores.base import StoreSettings
from whoson.stores.memory import MemoryStore
from whoson.testing import BASE_TS, StoreContract, make_event


class TestMemoryStore(StoreContract):
    """MemoryStore keeps the store contract."""

    def create_store(self) -> MemoryStore:
        return MemoryStore()


class TestMemoryStoreDetails:
    """Behaviour specific to MemoryStore."""

    def test_initial_settings(self) -> None:
        """Settings given to the constructor are the store's settings."""
        settings = StoreSettings(currency="EUR")
        assert settings == MemoryStore(settings).settings

    def test_positions_are_dense(self) -> None:
        """Positions are 1, 2, 3, ... in arrival order."""
        store = MemoryStore()
        store.append([make_event("heartbeat", id=f"h{i}") for i in range(4)])
        expected = [1, 2, 3, 4]
        assert expected == [item.position for item in store.read()]

    def test_concurrent_appends_lose_nothing(self) -> None:
        """Threads appending overlapping batches store each id exactly once."""
        store = MemoryStore()
        events = [make_event("heartbeat", id=f"h{i}", visitor=f"v{i % 7}") for i in range(400)]

        def work(offset: int) -> None:
            for start in range(0, 400, 20):
                store.append(events[(start + offset) % 400:][:20])

        threads = [threading.Thread(target=work, args=(k * 13,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ids = [item.event.id for item in store.read()]
        assert sorted(e.id for e in events) == sorted(ids)
        assert list(range(1, 401)) == [item.position for item in store.read()]

    def test_memory_per_event(self) -> None:
        """Indexes cost at most 300 bytes per stored event beyond the events themselves."""
        count = 20_000
        events = [HeartbeatEvent(id=f"event-{i:08d}", ts=BASE_TS + timedelta(seconds=i // 3),
                                 visitor=f"visitor-{i % 1000}", url="/") for i in range(count)]
        gc.collect()
        tracemalloc.start()
        try:
            store = MemoryStore()
            for begin in range(0, count, 1000):
                store.append(events[begin:begin + 1000])
            gc.collect()
            used, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert count == len(store)
        assert used / count <= 300
