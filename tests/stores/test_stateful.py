"""Each store, driven by random batches, against a plain-Python model of the contract."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from whoson.core.events import Event
from whoson.stores.base import Store
from whoson.stores.memory import MemoryStore
from whoson.stores.sqlite import SQLiteStore

from .strategies import BASE, VISITORS, clashing_events


class Model:
    """The contract in its simplest form: a dict by id, a list in arrival order, owners."""

    def __init__(self) -> None:
        self.by_id: dict[str, Event] = {}
        self.events: list[Event] = []
        self.owners: dict[str, str] = {}

    def append(self, batch: list[Event], strict: bool) -> list[str]:
        """Apply a batch; return the expected status of each event."""
        by_id = dict(self.by_id)
        owners = dict(self.owners)
        new: list[Event] = []
        statuses = []
        for event in batch:
            if event.id in by_id:
                statuses.append("duplicate" if by_id[event.id] == event else "rejected")
                continue
            request = getattr(event, "request", None)
            if request is not None and owners.setdefault(request, event.visitor) != event.visitor:
                statuses.append("rejected")
                continue
            by_id[event.id] = event
            new.append(event)
            statuses.append("accepted")
        if strict and "rejected" in statuses:
            return ["rejected" if s == "accepted" else s for s in statuses]
        self.by_id, self.owners = by_id, owners
        self.events.extend(new)
        return statuses


class StoreMachine(RuleBasedStateMachine):
    """Random appends and reads; the store must agree with the model after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.store = self.open()

    def open(self) -> Store:
        raise NotImplementedError

    @rule(batch=st.lists(clashing_events(), max_size=8), strict=st.booleans())
    def append(self, batch: list[Event], strict: bool) -> None:
        expected = self.model.append(batch, strict)
        result = self.store.append(batch, strict=strict)
        assert expected == [outcome.status.value for outcome in result.outcomes]
        assert list(range(len(batch))) == [outcome.index for outcome in result.outcomes]

    @rule(
        after=st.integers(0, 40),
        start=st.none() | st.integers(0, 5),
        end=st.none() | st.integers(0, 6),
        visitor=st.none() | st.sampled_from(VISITORS),
        types=st.none() | st.sets(st.sampled_from(["heartbeat", "message", "order", "request"])),
        limit=st.none() | st.integers(0, 5),
        order=st.sampled_from(["position", "time"]),
    )
    def read(self, after: int, start: int | None, end: int | None, visitor: str | None,
             types: set[str] | None, limit: int | None, order: Any) -> None:
        stored = list(self.store.read())
        floor = stored[after - 1].position if 0 < after <= len(stored) else 0
        low = None if start is None else BASE + timedelta(minutes=start)
        high = None if end is None else BASE + timedelta(minutes=end)
        expected = [
            s for s in stored
            if s.position > floor
            and (low is None or s.event.ts >= low)
            and (high is None or s.event.ts < high)
            and (visitor is None or s.event.visitor == visitor)
            and (types is None or s.event.type in types)
        ]
        if order == "time":
            expected.sort(key=lambda s: s.event.sort_key)
        actual = list(self.store.read(after=floor, start=low, end=high, visitor=visitor,
                                      types=types, limit=limit, order=order))
        assert expected[:limit] == actual

    @invariant()
    def agrees_with_model(self) -> None:
        stored = list(self.store.read())
        assert self.model.events == [s.event for s in stored]
        assert len(self.model.events) == len(self.store)
        positions = [s.position for s in stored]
        assert positions == sorted(set(positions))
        assert (positions[-1] if positions else 0) == self.store.position
        for item in stored[-3:]:
            assert item == self.store.get(item.event.id)

    def teardown(self) -> None:
        self.store.close()


class MemoryMachine(StoreMachine):
    """MemoryStore under random batches."""

    def open(self) -> Store:
        return MemoryStore()


class SQLiteMachine(StoreMachine):
    """SQLiteStore under random batches, reopened now and then."""

    def open(self) -> Store:
        self.folder = Path(tempfile.mkdtemp(prefix="whoson-stateful-"))
        return SQLiteStore(self.folder / "s.db")

    @rule()
    def reopen(self) -> None:
        assert isinstance(self.store, SQLiteStore)
        self.store.close()
        self.store = SQLiteStore(self.folder / "s.db")

    def teardown(self) -> None:
        super().teardown()
        shutil.rmtree(self.folder, ignore_errors=True)


def _case(machine: type[StoreMachine], **limits: Any) -> Callable[..., Any]:
    case = machine.TestCase
    if limits:
        case.settings = settings(case.settings, **limits)
    return case


TestMemoryMachine = _case(MemoryMachine, max_examples=40, stateful_step_count=30)
TestSQLiteMachine = _case(SQLiteMachine, max_examples=25, stateful_step_count=20)
