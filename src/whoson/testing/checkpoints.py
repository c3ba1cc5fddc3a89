"""The store contract's checks of checkpoints: named blobs that never touch the events.

A tracker saves its projection as a checkpoint (``save_checkpoint(name,
version, position, blob)``) so that it can start without replaying the
store. These checks run in every backend's suite; a store that keeps no
checkpoints (``NotImplementedError``, the default of
:class:`~whoson.stores.base.Store`) has them skipped.
"""

from __future__ import annotations

import threading
from typing import Any

from whoson.core.events import Event
from whoson.stores.base import Store
from whoson.testing._base import ContractBase, _at, _raises, _same, _skip
from whoson.testing.events import make_event, sample_events
from whoson.testing.sharing import _run_writers

__all__ = ["CheckpointContract"]

_LARGE = 50 * 1024 * 1024


def _keeps_checkpoints(store: Store) -> bool:
    try:
        store.load_checkpoint("contract-probe")
    except NotImplementedError:
        _skip("the store keeps no checkpoints (load_checkpoint raised NotImplementedError)")
        return False
    return True


class CheckpointContract(ContractBase):
    """``save_checkpoint`` / ``load_checkpoint``: round trip, overwrite, durability, isolation."""

    __test__ = False

    def test_checkpoint_round_trip(self) -> None:
        """A saved checkpoint loads back as (version, position, blob); an unknown name is None."""
        store = self.new_store()
        if not _keeps_checkpoints(store):
            return
        assert store.load_checkpoint("tracker") is None
        blob = bytes(range(256)) * 3 + b"\x00tail"
        store.save_checkpoint("tracker", "projection-1", 0, blob)
        _same(("projection-1", 0, blob), store.load_checkpoint("tracker"))
        store.save_checkpoint("empty", "", 7, b"")
        _same(("", 7, b""), store.load_checkpoint("empty"))
        assert store.load_checkpoint("other") is None

    def test_checkpoint_overwrite(self) -> None:
        """Saving under a name replaces that name's checkpoint only."""
        store = self.new_store()
        if not _keeps_checkpoints(store):
            return
        store.save_checkpoint("a", "v1", 1, b"first")
        store.save_checkpoint("b", "v1", 1, b"other")
        store.save_checkpoint("a", "v2", 5, b"second")
        _same(("v2", 5, b"second"), store.load_checkpoint("a"))
        _same(("v1", 1, b"other"), store.load_checkpoint("b"))

    def test_checkpoint_survives_reopen(self) -> None:
        """A durable store gives its checkpoints back after reopening."""
        store = self.new_store()
        if not _keeps_checkpoints(store):
            return
        store.append(sample_events()[:3])
        store.save_checkpoint("tracker", "v9", 3, b"state")
        again = self.reopen(store)
        if again is None:
            _skip("the store is not durable (reopen_store returned None)")
            return
        _same(("v9", 3, b"state"), again.load_checkpoint("tracker"))
        _same(3, again.position)

    def test_checkpoint_leaves_events_alone(self) -> None:
        """Saving a checkpoint changes no event, position, count or setting; appends go on."""
        store, before = self._filled(30)
        if not _keeps_checkpoints(store):
            return
        state = (before, store.position, len(store), store.settings)
        store.save_checkpoint("tracker", "v1", store.position, b"x" * 1000)
        store.save_checkpoint("tracker", "v2", 999, b"y")
        _same(state, (list(store.read()), store.position, len(store), store.settings))
        result = store.append([make_event("heartbeat", id="after-checkpoint")])
        _same((state[1] + 1,), result.positions)

    def test_checkpoint_large_blob(self) -> None:
        """A 50 MB blob is kept and given back whole."""
        store = self.new_store()
        if not _keeps_checkpoints(store):
            return
        blob = bytes(range(256)) * (_LARGE // 256)
        store.save_checkpoint("big", "v1", 0, blob)
        loaded = store.load_checkpoint("big")
        assert loaded is not None
        _same(("v1", 0, len(blob)), (loaded[0], loaded[1], len(loaded[2])))
        assert loaded[2] == blob, "the 50 MB blob came back changed"

    def test_checkpoint_refuses_bad_arguments(self) -> None:
        """An empty name, a negative position or a blob that is not bytes is refused."""
        store = self.new_store()
        if not _keeps_checkpoints(store):
            return
        _raises(ValueError, lambda: store.save_checkpoint("", "v1", 0, b""))
        _raises(ValueError, lambda: store.save_checkpoint("t", "v1", -1, b""))
        _raises(TypeError, lambda: store.save_checkpoint("t", "v1", 0, "text"))  # type: ignore[arg-type]
        _raises(TypeError, lambda: store.save_checkpoint("t", 1, 0, b""))  # type: ignore[arg-type]
        assert store.load_checkpoint("t") is None

    def test_checkpoint_while_another_process_appends(self) -> None:
        """Checkpoints saved while two other processes append lose no event and keep the last save."""
        store = self.new_store()
        if not _keeps_checkpoints(store):
            return
        opener = self.store_opener(store)
        if opener is None:
            _skip("the store cannot be opened from another process (store_opener returned None)")
            return
        events: list[Event] = [make_event("heartbeat", id=f"h{i:03d}", ts=_at(i))
                               for i in range(200)]
        work = [[events[b:b + 10] for b in range(0, 100, 10)],
                [events[b:b + 10] for b in range(100, 200, 10)]]
        done: list[Any] = []
        writers = threading.Thread(target=lambda: done.append(_run_writers(opener, work)))
        writers.start()
        saved = 0
        while writers.is_alive() or saved < 3:
            saved += 1
            store.save_checkpoint("tracker", f"v{saved}", store.position, b"s" * (saved * 1000))
        writers.join()
        _same(1, len(done))
        _same(sorted(e.id for e in events), sorted(item.event.id for item in store.read()))
        last = store.load_checkpoint("tracker")
        assert last is not None
        _same((f"v{saved}", saved * 1000), (last[0], len(last[2])))
