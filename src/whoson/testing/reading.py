"""The store contract's checks of reading and of settings."""

from __future__ import annotations

import functools
import random
from datetime import datetime, timedelta, timezone

from whoson.core.errors import ConfigError
from whoson.core.settings import RatingScale
from whoson.stores.base import StoreSettings
from whoson.testing._base import ContractBase, _at, _ids_of, _raises, _same, _skip
from whoson.testing.events import make_event

__all__ = ["ReadContract"]


class ReadContract(ContractBase):
    """Reading with every filter and order, and keeping settings."""

    __test__ = False

    def test_read_after(self) -> None:
        """``after`` skips events at or before a position, for tailing."""
        store, stored = self._filled()
        middle = stored[len(stored) // 2].position
        _same([s for s in stored if s.position > middle], list(store.read(after=middle)))
        _same([], list(store.read(after=store.position)))
        _same(stored, list(store.read(after=-5)))

    def test_read_time_range(self) -> None:
        """``start`` is inclusive, ``end`` exclusive, and any UTC offset names the same instant."""
        store = self.new_store()
        events = [make_event("heartbeat", id=f"h{i}", ts=_at(i)) for i in range(6)]
        store.append(events)
        paris = timezone(timedelta(hours=1))
        start = _at(1).astimezone(paris)
        end = _at(4).astimezone(paris)
        _same(["h1", "h2", "h3"], _ids_of(store.read(start=start, end=end)))
        _same(["h4", "h5"], _ids_of(store.read(start=_at(4))))
        _same(["h0"], _ids_of(store.read(end=_at(1))))
        _same([], _ids_of(store.read(start=_at(3), end=_at(3))))

    def test_read_visitor(self) -> None:
        """``visitor`` keeps that visitor's events, in arrival order."""
        store, stored = self._filled()
        for visitor in ("v1", "v2", "nobody"):
            expected = [s for s in stored if s.event.visitor == visitor]
            _same(expected, list(store.read(visitor=visitor)))

    def test_read_types(self) -> None:
        """``types`` keeps events of the named types; an empty set reads nothing."""
        store, stored = self._filled()
        for kinds in ({"order"}, {"heartbeat", "agent_status"}, {"widget_click"}):
            _same([s for s in stored if s.event.type in kinds], list(store.read(types=kinds)))
        _same([], list(store.read(types=())))

    def test_read_limit(self) -> None:
        """``limit`` keeps the first events of the requested order."""
        store, stored = self._filled()
        by_time = sorted(stored, key=lambda s: s.event.sort_key)
        _same(stored[:7], list(store.read(limit=7)))
        _same(by_time[:7], list(store.read(limit=7, order="time")))
        _same([], list(store.read(limit=0)))
        _same(stored, list(store.read(limit=10**6)))

    def test_read_time_order(self) -> None:
        """``order="time"`` is ``(ts, id)`` order whatever the arrival order."""
        store = self.new_store()
        store.append([make_event("heartbeat", id=i, ts=_at(m)) for i, m in
                      (("c", 5), ("b", 0), ("a", 5), ("d", 0), ("e", 2))])
        _same(["b", "d", "e", "a", "c"], _ids_of(store.read(order="time")))
        store, stored = self._filled()
        _same(sorted(stored, key=lambda s: s.event.sort_key), list(store.read(order="time")))

    def test_read_filters_combine(self) -> None:
        """All filters together select exactly what filtering a full read selects."""
        store, stored = self._filled()
        rng = random.Random(11)
        for _ in range(40):
            after = rng.choice([0, 0, stored[20].position, stored[45].position])
            start = rng.choice([None, _at(15), _at(52.5)])
            end = rng.choice([None, _at(60), _at(120)])
            visitor = rng.choice([None, "v1", "v3"])
            kinds = rng.choice([None, {"order"}, {"heartbeat", "page_view"}])
            limit = rng.choice([None, 3, 100])
            order = rng.choice(["position", "time"])
            expected = [
                s for s in stored
                if s.position > after
                and (start is None or s.event.ts >= start)
                and (end is None or s.event.ts < end)
                and (visitor is None or s.event.visitor == visitor)
                and (kinds is None or s.event.type in kinds)
            ]
            if order == "time":
                expected.sort(key=lambda s: s.event.sort_key)
            actual = list(store.read(after=after, start=start, end=end, visitor=visitor,
                                     types=kinds, limit=limit, order=order))  # type: ignore[arg-type]
            _same(expected[:limit], actual)

    def test_read_is_a_snapshot(self) -> None:
        """A read iterates the events stored when it was called, even if more arrive meanwhile."""
        store = self.new_store()
        store.append([make_event("heartbeat", id=f"h{i}", ts=_at(i)) for i in range(3)])
        for order in ("position", "time"):
            expected = list(store.read(order=order))
            reading = store.read(order=order)
            first = next(reading)
            store.append([make_event("heartbeat", id=f"{order}-late", ts=_at(-1))])
            store.append([make_event("heartbeat", id=f"{order}-later", ts=_at(10))])
            _same(expected, [first, *reading])

    def test_read_refuses_bad_arguments(self) -> None:
        """Naive datetimes, unknown types, a bare string of types and negative limits raise."""
        store = self.new_store()
        naive = datetime(2026, 3, 1, 12)
        for call in (
            lambda: store.read(start=naive), lambda: store.read(end=naive),
            lambda: store.read(types={"pageview"}), lambda: store.read(types="order"),
            lambda: store.read(limit=-1), lambda: store.read(order="arrival"),  # type: ignore[arg-type]
        ):
            _raises(ValueError, call)

    # -- settings ---------------------------------------------------------------

    def test_settings_round_trip(self) -> None:
        """Settings saved on an empty store are read back."""
        store = self.new_store()
        _same(StoreSettings(), store.settings)
        wanted = StoreSettings(currency="EUR", rating_scale=RatingScale(0, 10))
        store.save_settings(wanted)
        _same(wanted, store.settings)
        store.save_settings(StoreSettings(currency="USD"))
        _same(StoreSettings(currency="USD"), store.settings)

    def test_settings_locked_by_events(self) -> None:
        """Once events are stored, only the same settings may be saved again."""
        store = self.new_store()
        wanted = StoreSettings(currency="EUR", rating_scale=RatingScale(1, 10))
        store.save_settings(wanted)
        store.append([make_event("heartbeat", id="h1")])
        store.save_settings(wanted)
        others = [StoreSettings(currency="EUR"),
                  StoreSettings(currency=None, rating_scale=RatingScale(1, 10))]
        for other in others:
            error = _raises(ConfigError, functools.partial(store.save_settings, other))
            assert "1..10" in str(error)
        _same(wanted, store.settings)

    def test_currency_fixed_after_events(self) -> None:
        """A store without a currency may get one later, unless stored orders name another."""
        store = self.new_store()
        store.append([make_event("heartbeat", id="h1"), make_event("order", id="o1")])
        store.save_settings(StoreSettings(currency="EUR"))
        _same(StoreSettings(currency="EUR"), store.settings)

        store = self.new_store()
        store.append([make_event("order", id="o1", currency="USD")])
        error = _raises(ConfigError, lambda: store.save_settings(StoreSettings(currency="EUR")))
        assert "USD" in str(error)
        store.save_settings(StoreSettings(currency="USD"))
        _same(StoreSettings(currency="USD"), store.settings)
        _raises(ConfigError, lambda: store.save_settings(StoreSettings(currency=None)))

    def test_settings_survive_reopen(self) -> None:
        """A durable store keeps its settings."""
        store = self.new_store()
        wanted = StoreSettings(currency="GBP", rating_scale=RatingScale(0, 10))
        store.save_settings(wanted)
        again = self.reopen(store)
        if again is None:
            _skip("the store is not durable (reopen_store returned None)")
            return
        _same(wanted, again.settings)
