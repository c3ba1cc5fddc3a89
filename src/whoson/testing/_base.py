"""The plumbing of the store contract: hooks, store bookkeeping, assertion helpers."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from whoson.core.batch import BatchResult
from whoson.stores.base import Store, StoredEvent
from whoson.testing.events import BASE_TS, make_event

__all__ = ["ContractBase"]


def _same(expected: Any, actual: Any) -> None:
    # The contract lives outside test modules, where pytest does not rewrite asserts.
    assert expected == actual, f"expected {expected!r}\n     got {actual!r}"


def _statuses(result: BatchResult) -> list[str]:
    return [outcome.status.value for outcome in result.outcomes]


def _raises(kind: type[BaseException], call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except kind as err:
        return err
    raise AssertionError(f"expected {kind.__name__}")


def _skip(reason: str) -> None:
    try:
        import pytest
    except ImportError:  # pragma: no cover - the contract is meant to run under pytest
        return
    pytest.skip(reason)


def _at(minutes: float) -> datetime:
    return BASE_TS + timedelta(minutes=minutes)


def _ids_of(stored: Iterator[StoredEvent]) -> list[str]:
    return [item.event.id for item in stored]


class ContractBase:
    """Hooks and helpers shared by the parts of :class:`~whoson.testing.StoreContract`."""

    __test__ = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each part of the contract says __test__ = False itself; a subclass that
        # says nothing is a concrete backend's test class, which pytest must collect.
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:
            cls.__test__ = True

    def create_store(self) -> Store:
        """A new, empty store of the backend under test."""
        raise NotImplementedError("subclass StoreContract and define create_store()")

    def reopen_store(self, store: Store) -> Store | None:
        """Close ``store`` and open its data again; ``None`` for a non-durable backend."""
        return None

    def store_opener(self, store: Store) -> Callable[[], Store] | None:
        """A picklable callable opening ``store``'s data again, or ``None`` if it cannot."""
        return None

    def new_store(self) -> Store:
        """:meth:`create_store`, remembered so that teardown closes it."""
        store = self.create_store()
        self._opened().append(store)
        return store

    def reopen(self, store: Store) -> Store | None:
        """:meth:`reopen_store`, remembered so that teardown closes the new object."""
        again = self.reopen_store(store)
        if again is not None:
            self._opened().append(again)
        return again

    def _opened(self) -> list[Store]:
        opened: list[Store] | None = self.__dict__.get("_contract_stores")
        if opened is None:
            opened = self.__dict__["_contract_stores"] = []
        return opened

    def teardown_method(self, method: object) -> None:
        """Close the stores this test opened."""
        for store in self.__dict__.pop("_contract_stores", []):
            store.close()

    def _filled(self, count: int = 60, seed: int = 7) -> tuple[Store, list[StoredEvent]]:
        """A store with ``count`` events in 3 batches, arrival order unlike time order."""
        rng = random.Random(seed)
        store = self.new_store()
        kinds = ["page_view", "heartbeat", "cart_update", "agent_status", "order"]
        events = []
        for i in range(count):
            type_ = rng.choice(kinds)
            fields: dict[str, Any] = {}
            if type_ != "agent_status":
                fields["visitor"] = f"v{rng.randint(1, 4)}"
            if type_ == "order":
                fields["order"] = f"A{i}"
            # Few distinct instants, so that equal timestamps are ordered by id.
            moment = _at(rng.randint(0, 15) * 7.5)
            events.append(make_event(type_, id=f"e{rng.randint(0, 10**6):07d}-{i}",
                                     ts=moment, **fields))
        for part in range(3):
            assert store.append(events[part::3]).ok
        return store, list(store.read())
