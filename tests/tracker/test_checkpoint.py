"""Checkpoints: a tracker restored from the store's checkpoint and the tail answers like one that replayed."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from whoson import FixedClock, Tracker
from whoson.metrics.report import to_plain
from whoson.rules import Invite, Rule
from whoson.rules.conditions import TimeOnPage, UrlMatches
from whoson.sim import simulate
from whoson.stores.base import Store
from whoson.stores.memory import MemoryStore
from whoson.stores.sqlite import SQLiteStore
from whoson.tracking import checkpoint

try:  # a throwaway PostgreSQL server (the store suite's fixture), when the server binaries are there
    from tests.stores.test_postgres import server  # noqa: F401
except (ImportError, pytest.skip.Exception):
    POSTGRES = []
else:
    POSTGRES = ["postgres"]

RULE = Rule("checkout-help", [UrlMatches("/checkout*"), TimeOnPage(60)], Invite("text", "Need a hand?"))


def _log() -> list[dict[str, Any]]:
    return list(simulate(visitors=120, days=2, seed=11))


LOG = _log()
NEWEST = max(datetime.fromisoformat(str(event["ts"]).replace("Z", "+00:00")) for event in LOG)


def _clock() -> FixedClock:
    return FixedClock(NEWEST + timedelta(seconds=1))


StoreMaker = Callable[[], Store]


@pytest.fixture(params=["memory", "sqlite", *POSTGRES])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreMaker]:
    """A store maker: one shared in-memory store, or an SQLite file (a PostgreSQL schema) opened anew."""
    if request.param == "memory":
        shared = MemoryStore()
        yield lambda: shared
    elif request.param == "sqlite":
        path = tmp_path / "store.db"
        yield lambda: SQLiteStore(path)
    else:
        from whoson.stores.postgres import PostgresStore

        dsn = request.getfixturevalue("server").schema_dsn()
        yield lambda: PostgresStore(dsn)


def answers(tracker: Tracker) -> str:
    """Everything a tracker answers about the log, as one text: reports, who's on, visitors, queue."""
    now = NEWEST - timedelta(minutes=3)
    online = tracker.online(NEWEST)
    visitors = sorted({str(event["visitor"]) for event in LOG if "visitor" in event})[:15]
    out = {
        "report": to_plain(tracker.report(as_of=NEWEST)),
        "berlin": to_plain(tracker.report("2026-03-02T10:07:00Z", "2026-03-03T17:00:00Z", as_of=NEWEST,
                                          tz="Europe/Berlin")),
        "by": to_plain(tracker.report(as_of=NEWEST, by="country")),
        "windows": to_plain(tracker.report(as_of=NEWEST, attribution_window="3d")),
        "past": to_plain(tracker.report(as_of=now)),
        "online": repr(online),
        "online_past": repr(tracker.online(now)),
        "waiting": repr(tracker.waiting(NEWEST)),
        "expected_wait": repr(tracker.expected_wait(NEWEST)),
        "visitors": [repr(tracker.visitor(visitor, NEWEST)) for visitor in visitors],
        "position": tracker.position,
        "currency": tracker.currency,
    }
    return json.dumps(out, sort_keys=True, default=str)


def fill(store: Store, events: list[dict[str, Any]]) -> None:
    """Record ``events`` through a tracker that neither restores nor saves checkpoints."""
    tracker = Tracker(store, clock=_clock(), checkpoints=False)
    result = tracker.record_many(events)
    assert result.rejected == 0


class TestRestoredEqualsReplayed:
    """A tracker started from a checkpoint plus the tail answers exactly like one that replayed."""

    @pytest.mark.parametrize("split", [0.3, 0.95, 1.0])
    @pytest.mark.parametrize("live_built", [False, True])
    def test_same_answers(self, new_store: StoreMaker, split: float, live_built: bool) -> None:
        """Checkpoint at a split point, another tracker appends the rest: same answers either way."""
        head, tail = LOG[: int(len(LOG) * split)], LOG[int(len(LOG) * split):]
        saver = Tracker(new_store(), clock=_clock())
        saver.record_many(head)
        if live_built:
            saver.online(NEWEST)
        saved = saver.checkpoint()
        fill(new_store(), tail)
        restored = Tracker(new_store(), clock=_clock())
        replayed = Tracker(new_store(), clock=_clock(), checkpoints=False)
        assert saved.position == restored._follower.checkpointed
        assert (restored._follower.live.view is not None) == live_built
        assert answers(replayed) == answers(restored)

    def test_zone_is_not_part_of_the_version(self, new_store: StoreMaker) -> None:
        """The state keeps UTC slots: a tracker in another zone restores the checkpoint, same figures."""
        fill(new_store(), LOG)
        Tracker(new_store(), clock=_clock()).checkpoint()
        restored = Tracker(new_store(), clock=_clock(), tz="Asia/Kolkata")
        replayed = Tracker(new_store(), clock=_clock(), tz="Asia/Kolkata", checkpoints=False)
        assert 0 < restored._follower.checkpointed
        assert answers(replayed) == answers(restored)

    def test_restored_tracker_follows_later_appends(self, new_store: StoreMaker) -> None:
        """After the restore, events others record are applied as for any tracker."""
        fill(new_store(), LOG[:500])
        Tracker(new_store(), clock=_clock()).checkpoint()
        restored = Tracker(new_store(), clock=_clock())
        restored.online(NEWEST)
        fill(new_store(), LOG[500:])
        replayed = Tracker(new_store(), clock=_clock(), checkpoints=False)
        assert answers(replayed) == answers(restored)

    def test_rules_keep_their_limits(self, new_store: StoreMaker) -> None:
        """A restored tracker with rules counts the firings in the store, as a replayed one does."""
        fill(new_store(), LOG)
        saver = Tracker(new_store(), clock=_clock())
        saver.online(NEWEST)
        saver.checkpoint()
        restored = Tracker(new_store(), clock=_clock(), rules=[RULE])
        replayed = Tracker(new_store(), clock=_clock(), rules=[RULE], checkpoints=False)
        assert 0 < restored._follower.checkpointed
        mine, theirs = restored._follower.live.engine, replayed._follower.live.engine
        assert mine is not None
        assert theirs is not None
        assert theirs._last_fired == mine._last_fired
        assert {k: list(v) for k, v in theirs._fired_at.items()} == {k: list(v) for k, v in mine._fired_at.items()}
        later = NEWEST + timedelta(minutes=2)
        assert [e.id for e in replayed.tick(later)] == [e.id for e in restored.tick(later)]


class TestInvalidation:
    """A checkpoint that does not fit is ignored: the tracker replays, never answers wrong, never fails."""

    def test_other_settings_replay(self, new_store: StoreMaker) -> None:
        """Another session timeout (or rating scale) is another version: replayed, same as no checkpoint."""
        fill(new_store(), LOG)
        Tracker(new_store(), clock=_clock()).checkpoint()
        other = Tracker(new_store(), clock=_clock(), session_timeout="10m")
        replayed = Tracker(new_store(), clock=_clock(), session_timeout="10m", checkpoints=False)
        assert 0 == other._follower.checkpointed
        assert answers(replayed) == answers(other)
        assert Tracker().checkpoint_version != Tracker(rating_scale="0..10").checkpoint_version

    def test_other_live_config_rebuilds_the_view(self, new_store: StoreMaker) -> None:
        """A live view saved with another configuration is not used; the report state still is."""
        from whoson.live import LiveConfig

        fill(new_store(), LOG)
        saver = Tracker(new_store(), clock=_clock())
        saver.online(NEWEST)
        saver.checkpoint()
        config = LiveConfig(presence_timeout=timedelta(minutes=5))
        restored = Tracker(new_store(), clock=_clock(), live_config=config)
        replayed = Tracker(new_store(), clock=_clock(), live_config=config, checkpoints=False)
        assert 0 < restored._follower.checkpointed
        assert restored._follower.live.view is None
        assert answers(replayed) == answers(restored)

    @pytest.mark.parametrize("blob", [b"", b"garbage", b"WHOSONCK\x01not zlib", b"WHOSONCK\x07", b"WHOSONCK\x00\x80"])
    def test_corrupt_blob_replays(self, new_store: StoreMaker, blob: bytes) -> None:
        """A blob that does not decode is ignored."""
        fill(new_store(), LOG)
        store = new_store()
        store.save_checkpoint(checkpoint.NAME, Tracker(store).checkpoint_version, store.position, blob)
        tracker = Tracker(new_store(), clock=_clock())
        assert 0 == tracker._follower.checkpointed
        assert answers(Tracker(new_store(), clock=_clock(), checkpoints=False)) == answers(tracker)

    def test_foreign_code_is_never_run(self, new_store: StoreMaker, tmp_path: Path) -> None:
        """A blob naming anything but whoson's and a few standard names is refused before it runs."""
        marker = tmp_path / "ran"

        class Payload:
            def __reduce__(self) -> tuple[Any, ...]:
                return (os.mkdir, (str(marker),))

        fill(new_store(), LOG[:50])
        store = new_store()
        blob = b"WHOSONCK\x00" + pickle.dumps({"projection": Payload()}, protocol=5)
        store.save_checkpoint(checkpoint.NAME, Tracker(store).checkpoint_version, store.position, blob)
        tracker = Tracker(new_store(), clock=_clock())
        assert (0, False) == (tracker._follower.checkpointed, marker.exists())

    def test_checkpoint_past_the_store_replays(self, tmp_path: Path) -> None:
        """A checkpoint beyond the store's position (the store was replaced by a shorter one) is ignored."""
        full, short = MemoryStore(), MemoryStore()
        fill(full, LOG)
        fill(short, LOG[:100])
        Tracker(full, clock=_clock()).checkpoint()
        saved = full.load_checkpoint(checkpoint.NAME)
        assert saved is not None
        short.save_checkpoint(checkpoint.NAME, *saved)
        tracker = Tracker(short, clock=_clock())
        assert (0, 100) == (tracker._follower.checkpointed, tracker.position)
        assert answers(Tracker(short, clock=_clock(), checkpoints=False)) == answers(tracker)

    def test_checkpoint_of_another_store_replays(self) -> None:
        """A store as long as the checkpoint's but holding other events is recognised and replayed."""
        ours, theirs = MemoryStore(), MemoryStore()
        fill(ours, LOG[:300])
        fill(theirs, LOG[300:600])
        Tracker(ours, clock=_clock()).checkpoint()
        saved = ours.load_checkpoint(checkpoint.NAME)
        assert saved is not None
        theirs.save_checkpoint(checkpoint.NAME, *saved)
        tracker = Tracker(theirs, clock=_clock())
        assert (0, 300) == (tracker._follower.checkpointed, tracker.position)
        assert answers(Tracker(theirs, clock=_clock(), checkpoints=False)) == answers(tracker)

    def test_store_without_checkpoints(self) -> None:
        """A store that keeps none: the tracker replays, closes quietly, and ``checkpoint`` says why."""

        class Plain(MemoryStore):
            def save_checkpoint(self, name: str, version: str, position: int, blob: bytes) -> None:
                raise NotImplementedError("no checkpoints here")

            def load_checkpoint(self, name: str) -> tuple[str, int, bytes] | None:
                raise NotImplementedError("no checkpoints here")

        store = Plain()
        fill(store, LOG[:100])
        tracker = Tracker(store, clock=_clock())
        assert 100 == tracker.position
        with pytest.raises(NotImplementedError):
            tracker.checkpoint()
        tracker.close()


class TestPolicy:
    """When checkpoints are saved: on demand, and at close after enough new events over a durable store."""

    def test_close_saves_after_enough_events(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A tracker that applied at least AUTO_SAVE_AFTER events saves one when it closes; else not."""
        monkeypatch.setattr(checkpoint, "AUTO_SAVE_AFTER", 200)
        path = tmp_path / "store.db"
        with Tracker(SQLiteStore(path), clock=_clock()) as tracker:
            tracker.record_many(LOG[:150])
        assert SQLiteStore(path).load_checkpoint(checkpoint.NAME) is None
        with Tracker(SQLiteStore(path), clock=_clock()) as tracker:
            tracker.record_many(LOG[150:400])
        saved = SQLiteStore(path).load_checkpoint(checkpoint.NAME)
        assert saved is not None
        assert 400 == saved[1]
        with Tracker(SQLiteStore(path), clock=_clock()) as tracker:  # restored: nothing new to save
            assert 400 == tracker._follower.checkpointed
            tracker.record_many(LOG[400:500])
        again = SQLiteStore(path).load_checkpoint(checkpoint.NAME)
        assert again is not None
        assert 400 == again[1]

    def test_close_saves_a_live_view_the_checkpoint_lacks(self, tmp_path: Path) -> None:
        """A tracker that restored a checkpoint without a live view and built one saves it at close."""
        path = tmp_path / "store.db"
        fill(SQLiteStore(path), LOG[:300])
        with Tracker(SQLiteStore(path), clock=_clock()) as tracker:
            tracker.checkpoint()
        with Tracker(SQLiteStore(path), clock=_clock()) as tracker:
            assert tracker._follower.live.view is None
            first = tracker.online(NEWEST)
        restored = Tracker(SQLiteStore(path), clock=_clock())
        assert restored._follower.checkpoint_live
        assert restored._follower.live.view is not None
        assert first == restored.online(NEWEST)

    def test_memory_store_and_opt_out_save_nothing_at_close(self, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
        """An in-memory store ends with its tracker; ``checkpoints=False`` never saves."""
        monkeypatch.setattr(checkpoint, "AUTO_SAVE_AFTER", 10)
        memory = MemoryStore()
        with Tracker(memory, clock=_clock()) as tracker:
            tracker.record_many(LOG[:100])
        path = tmp_path / "store.db"
        with Tracker(SQLiteStore(path), clock=_clock(), checkpoints=False) as tracker:
            tracker.record_many(LOG[:100])
        assert (None, None) == (memory.load_checkpoint(checkpoint.NAME),
                                SQLiteStore(path).load_checkpoint(checkpoint.NAME))

    def test_report_saves_and_the_next_report_restores(self, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
        """``whoson ingest`` saves none (a bulk load); the first ``whoson report STORE`` replays and
        saves one at close; the next restores it and prints the same bytes."""
        from whoson.cli.main import main

        monkeypatch.setattr(checkpoint, "AUTO_SAVE_AFTER", 100)
        log = tmp_path / "log.jsonl"
        log.write_text("".join(json.dumps(event, default=str) + "\n" for event in LOG))
        path = tmp_path / "store.db"
        url = f"sqlite:///{path}"
        assert 0 == main(["ingest", str(log), "--into", url])
        assert SQLiteStore(path).load_checkpoint(checkpoint.NAME) is None
        first, second = tmp_path / "first.json", tmp_path / "second.json"
        assert 0 == main(["report", url, "--json", "--tz", "Europe/Berlin", "-o", str(first)])
        saved = SQLiteStore(path).load_checkpoint(checkpoint.NAME)
        assert saved is not None
        assert len(LOG) == saved[1]
        assert 0 == main(["report", url, "--json", "--tz", "Europe/Berlin", "-o", str(second)])
        assert first.read_bytes() == second.read_bytes()


def test_blob_size_shrinks_with_shared_events() -> None:
    """The live view's events are pickled once with the projection's: one copy restored, shared."""
    store = MemoryStore()
    fill(store, LOG)
    tracker = Tracker(store, clock=_clock())
    tracker.online(NEWEST)  # builds the live view from the store: other objects, same events
    tracker.checkpoint()
    restored = Tracker(store, clock=_clock())
    view = restored._follower.live.view
    assert view is not None
    visitor = next(iter(restored.projection.timelines))
    assert restored.projection.timelines[visitor][0] is view._visitors[visitor].events[0]


def test_version_key_names_its_parts() -> None:
    """The version starts with the format; the code digest is a sha256."""
    assert Tracker().checkpoint_version.startswith(f"{checkpoint.FORMAT}:")
    assert 64 == len(checkpoint.code_digest())
    assert datetime.now(UTC) > NEWEST  # the log is in the past: the clock never hides events
