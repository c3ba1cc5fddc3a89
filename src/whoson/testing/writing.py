"""The store contract's checks of appending: idempotency, conflicts, atomicity."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from whoson.core.batch import Status
from whoson.core.errors import ConflictError
from whoson.core.events import Event
from whoson.testing._base import ContractBase, _ids_of, _raises, _same, _skip, _statuses
from whoson.testing.events import make_event, sample_events

__all__ = ["WriteContract"]


class WriteContract(ContractBase):
    """Appending: what is stored, what is refused, and what positions it gets."""

    __test__ = False

    def test_empty_store(self) -> None:
        """A new store holds nothing and reads nothing."""
        store = self.new_store()
        _same(0, len(store))
        _same(0, store.position)
        _same([], list(store.read()))
        _same([], list(store.read(order="time")))
        assert store.get("missing") is None

    def test_round_trip_every_type(self) -> None:
        """Every event type comes back equal, extras and exact decimals included."""
        store = self.new_store()
        events = sample_events()
        result = store.append(events)
        _same([Status.ACCEPTED] * len(events), [o.status for o in result.outcomes])
        _same(events, [item.event for item in store.read()])
        _same([e.to_dict() for e in events], [item.event.to_dict() for item in store.read()])
        order = next(item.event for item in store.read(types={"order"}))
        names = ("subtotal", "discount", "shipping", "tax")
        amounts = [str(getattr(order, name)) for name in names]
        _same(["100.10", "0.10", "4.90", "1E+1"], amounts)
        _same("0.050", str(order.extra["coupon"]["rate"]))

    def test_round_trip_survives_reopen(self) -> None:
        """A durable store gives back every event and position after reopening."""
        store = self.new_store()
        events = sample_events()
        store.append(events[:5])
        store.append(events[5:])
        before = list(store.read())
        again = self.reopen(store)
        if again is None:
            _skip("the store is not durable (reopen_store returned None)")
            return
        _same(before, list(again.read()))
        _same(len(events), len(again))
        _same(before[-1].position, again.position)

    def test_empty_batch(self) -> None:
        """Appending nothing changes nothing."""
        store = self.new_store()
        result = store.append([])
        _same((0, True, 0), (len(result), result.ok, len(store)))

    def test_resend_is_duplicate(self) -> None:
        """Re-sending stored events is a no-op reported as duplicates."""
        store = self.new_store()
        events = sample_events()
        store.append(events)
        before = list(store.read())
        result = store.append(reversed(events))
        _same(["duplicate"] * len(events), _statuses(result))
        _same(before, list(store.read()))

    def test_conflict_keeps_stored_event(self) -> None:
        """The same id with other content is rejected and the stored event kept."""
        store = self.new_store()
        first = make_event("page_view", id="p1", url="/a")
        store.append([first])
        result = store.append([make_event("page_view", id="p1", url="/b")])
        _same(["rejected"], _statuses(result))
        error = result.outcomes[0].error
        assert isinstance(error, ConflictError)
        _same(("id", "p1"), (error.field, error.event_id))
        stored = store.get("p1")
        assert stored is not None
        _same(first, stored.event)
        _same(1, len(store))

    def test_extras_are_content(self) -> None:
        """Events that differ only in an extra field conflict."""
        store = self.new_store()
        store.append([make_event("heartbeat", id="h1", tag="x")])
        result = store.append([make_event("heartbeat", id="h1", tag="y")])
        _same(["rejected"], _statuses(result))

    def test_duplicates_within_batch(self) -> None:
        """Within one batch the first occurrence of an id is stored, later ones compared to it."""
        store = self.new_store()
        a = make_event("heartbeat", id="h1", url="/a")
        other = make_event("heartbeat", id="h1", url="/b")
        result = store.append([a, a, other])
        _same(["accepted", "duplicate", "rejected"], _statuses(result))
        _same([0, 1, 2], [o.index for o in result.outcomes])
        _same([a], [item.event for item in store.read()])

    def test_request_owned_by_other_visitor(self) -> None:
        """A request belongs to the visitor of the first stored event naming it."""
        store = self.new_store()
        store.append([make_event("message", id="m1", visitor="v1", request="r1")])
        result = store.append([
            make_event("request", id="q1", visitor="v2", request="r1"),
            make_event("request_end", id="x1", visitor="v1", request="r1"),
        ])
        _same(["rejected", "accepted"], _statuses(result))
        error = result.outcomes[0].error
        assert isinstance(error, ConflictError)
        _same(("visitor", "v2"), (error.field, error.value))
        _same(["m1", "x1"], _ids_of(store.read()))

    def test_request_owner_within_batch(self) -> None:
        """The first event of a batch naming a new request fixes its visitor for the rest."""
        store = self.new_store()
        result = store.append([
            make_event("request", id="q1", visitor="v1", request="r1"),
            make_event("message", id="m1", visitor="v2", request="r1"),
            make_event("message", id="m2", visitor="v2", request="r2"),
        ])
        _same(["accepted", "rejected", "accepted"], _statuses(result))

    def test_bad_event_keeps_good_ones(self) -> None:
        """Without strict, the accepted events of a batch are stored around a rejected one."""
        store = self.new_store()
        store.append([make_event("heartbeat", id="h1", url="/a")])
        result = store.append([
            make_event("heartbeat", id="h2"),
            make_event("heartbeat", id="h1", url="/changed"),
            make_event("heartbeat", id="h3"),
        ])
        _same(["accepted", "rejected", "accepted"], _statuses(result))
        _same(["h1", "h2", "h3"], _ids_of(store.read()))

    def test_strict_batch_writes_nothing(self) -> None:
        """A strict batch with a rejection stores none of its events and says why."""
        store = self.new_store()
        kept = make_event("heartbeat", id="h1", url="/a")
        store.append([kept])
        result = store.append(
            [make_event("heartbeat", id="h2"), kept,
             make_event("heartbeat", id="h1", url="/b"), make_event("heartbeat", id="h3")],
            strict=True,
        )
        _same(["rejected", "duplicate", "rejected", "rejected"], _statuses(result))
        _same((0, 1), (result.accepted, result.duplicates))
        assert isinstance(result.outcomes[2].error, ConflictError)
        assert result.outcomes[0].error is not None
        _same(["h1"], _ids_of(store.read()))
        assert store.get("h2") is None

    def test_strict_batch_without_rejections(self) -> None:
        """A strict batch without rejections is stored whole."""
        store = self.new_store()
        result = store.append([make_event("heartbeat", id=f"h{i}") for i in range(5)],
                              strict=True)
        _same((5, 5), (result.accepted, len(store)))

    def test_failing_input_writes_nothing(self) -> None:
        """If the input iterable fails half-way, the error propagates and nothing is stored."""
        store = self.new_store()

        def events() -> Iterator[Event]:
            yield make_event("heartbeat", id="h1")
            yield make_event("heartbeat", id="h2")
            raise RuntimeError("producer failed")

        error = _raises(RuntimeError, lambda: store.append(events()))
        _same("producer failed", str(error))
        _same((0, []), (len(store), list(store.read())))

    def test_append_refuses_mappings(self) -> None:
        """Raw mappings are refused with TypeError; parsing is the caller's job."""
        store = self.new_store()
        raw = {"id": "h1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"}
        _raises(TypeError, lambda: store.append([raw]))  # type: ignore[list-item]
        _same(0, len(store))

    def test_positions_strictly_increase(self) -> None:
        """Positions grow with every accepted event, across batches; ``position`` is the last."""
        store = self.new_store()
        seen: list[int] = []
        for batch in range(4):
            events = [make_event("heartbeat", id=f"b{batch}-{i}") for i in range(batch + 1)]
            store.append(events + events[:1])
            seen = [item.position for item in store.read()]
            _same(seen[-1], store.position)
        assert 10 == len(seen) == len(store)
        assert all(a < b for a, b in itertools.pairwise(seen))
        assert seen[0] >= 1

    def test_len_counts_stored_events(self) -> None:
        """``len`` counts stored events, not duplicates or rejections."""
        store = self.new_store()
        a = make_event("heartbeat", id="h1")
        store.append([a, a, make_event("heartbeat", id="h1", url="/x")])
        store.append([a, make_event("heartbeat", id="h2")])
        _same(2, len(store))

    def test_get(self) -> None:
        """``get`` finds a stored event by id, with its position."""
        store = self.new_store()
        events = sample_events()
        store.append(events)
        by_id = {item.event.id: item for item in store.read()}
        for event in events:
            _same(by_id[event.id], store.get(event.id))
        assert store.get("sample-nope") is None
