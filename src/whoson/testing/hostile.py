"""The store contract's checks of hostile values: every backend accepts exactly the same events.

Validation belongs to the event contract (:func:`~whoson.core.parsing.parse_event`),
so a store never sees a value it could not hold: these checks feed a store
the extreme values the contract *accepts* (and expects back exactly), and,
through a :class:`~whoson.Tracker`, the values it *refuses* (and expects
rejected one by one, the good events around them stored).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from whoson.core.batch import Status
from whoson.core.bounds import MAX_DEPTH, MAX_EVENT_BYTES
from whoson.core.events import Event
from whoson.stores._codec import encode_event
from whoson.testing._base import ContractBase, _ids_of, _same
from whoson.testing.events import BASE_TS, make_event

__all__ = ["HostileContract", "boundary_events", "hostile_mappings"]

TOP = Decimal("999999999999999.999999")
"""The largest amount the contract accepts: below 10^15, 6 decimals."""

_TS = "2026-03-01T12:00:00Z"


def _nested(depth: int) -> Any:
    inner: Any = "bottom"
    for _ in range(depth):
        inner = [inner]
    return inner


def _sized(total: int) -> Event:
    """A heartbeat whose stored JSON is exactly ``total`` bytes."""
    bare = make_event("heartbeat", id="edge-size", pad="")
    room = total - len(encode_event(bare).encode("utf-8"))
    return make_event("heartbeat", id="edge-size", pad="€" * (room // 3) + "x" * (room % 3))


def boundary_events() -> list[Event]:
    """Events at every bound the contract accepts; a store must keep each one exactly.

    >>> len(boundary_events()) > 5
    True
    """
    return [
        make_event("order", id="edge-order-1", order="E1", subtotal=TOP, discount=TOP,
                   shipping=TOP, tax=TOP),
        make_event("order", id="edge-order-2", order="E2", subtotal=TOP),
        make_event("cart_update", id="edge-cart", value=Decimal("0.000001")),
        make_event("message", id="edge-chars", request="edge-r", chars=10**9),
        make_event("agent_status", id="edge-capacity", agent="edge-a", capacity=10**9),
        make_event("heartbeat", id="edge-deep", tree=_nested(MAX_DEPTH)),
        make_event("page_view", id="edge-text", visitor="v-\U0001f600-\u202e",
                   url="/\u2028?q=\x00\n", title="NUL \x00 ESC \x1b[31m BEL \x07"),
        make_event("survey", id="edge-feedback", feedback="[/][link=https://x]x[/link]\r\n"),
        make_event("heartbeat", id="edge-numbers", big=10**100, tiny=Decimal("1E-999999"),
                   huge=Decimal("9E+999999"), neg=-(10**30)),
        make_event("heartbeat", id="edge-id-" + "x" * 192, visitor="v" * 200),
        _sized(MAX_EVENT_BYTES),
    ]


def hostile_mappings() -> list[tuple[dict[str, Any], str]]:
    """Event mappings the contract refuses, each with the field its rejection names.

    >>> all(isinstance(field, str) for _, field in hostile_mappings())
    True
    """
    def beat(**fields: Any) -> dict[str, Any]:
        return {"id": "bad", "type": "heartbeat", "ts": _TS, "visitor": "v", **fields}

    def order(**fields: Any) -> dict[str, Any]:
        return {"id": "bad", "type": "order", "ts": _TS, "visitor": "v", "order": "B",
                "subtotal": "1", **fields}

    return [
        (beat(visitor="v\x00"), "visitor"),
        ({**beat(), "id": "bad\x00"}, "id"),
        (beat(visitor="v\ud800"), "visitor"),
        (beat(url="/\udfff"), "url"),
        (beat(note="\ud800"), "note"),
        (beat(score=float("nan")), "score"),
        (beat(score=Decimal("Infinity")), "score"),
        (beat(meta={1: "one"}), "meta"),
        (beat(tree=_nested(MAX_DEPTH + 1)), "tree"),
        (beat(tree=_nested(600)), "tree"),
        (beat(pad="x" * MAX_EVENT_BYTES), "pad"),
        (order(subtotal="1e999999999"), "subtotal"),
        (order(subtotal=Decimal("9e999999")), "subtotal"),
        (order(tax="1_000"), "tax"),
        (order(shipping="0.0000001"), "shipping"),
        ({"id": "bad", "type": "message", "ts": _TS, "visitor": "v", "request": "r",
          "sender": "visitor", "chars": Decimal("1e999999999")}, "chars"),
        ({"id": "bad", "type": "agent_status", "ts": _TS, "agent": "a", "status": "online",
          "capacity": float("inf")}, "capacity"),
    ]


class HostileContract(ContractBase):
    """Extreme and hostile values: the same answer from every backend."""

    __test__ = False

    def test_boundary_values_round_trip(self) -> None:
        """Every value at a bound of the contract is stored and read back exactly."""
        store = self.new_store()
        events = boundary_events()
        result = store.append(events)
        _same([Status.ACCEPTED] * len(events), result.statuses())
        by_id = {item.event.id: item.event for item in store.read()}
        _same([e.to_dict() for e in events], [by_id[e.id].to_dict() for e in events])
        _same(events, [by_id[e.id] for e in events])
        again = self.reopen(store)  # durable backends: the same after reopening
        if again is not None:
            _same(events, [item.event for item in again.read()])

    def test_boundary_values_are_reportable(self) -> None:
        """A store holding the largest amounts still gives an exact report."""
        from whoson.tracker import Tracker

        store = self.new_store()
        store.append(boundary_events())
        report = Tracker(store).report(as_of=BASE_TS.replace(hour=23))
        # Two orders: TOP - TOP (discount) and TOP.
        _same((2, TOP), (report.sales.all_orders, report.sales.all_gmv))

    def test_hostile_values_are_rejected_alike(self) -> None:
        """Each hostile value is one rejected event; the good events around it are stored."""
        from whoson.tracker import Tracker

        store = self.new_store()
        tracker = Tracker(store)
        cases = hostile_mappings()
        batch: list[dict[str, Any]] = []
        for index, (bad, _) in enumerate(cases):
            batch.append({"id": f"good-{index}", "type": "heartbeat", "ts": _TS, "visitor": "v"})
            batch.append(bad)
        result = tracker.record_many(batch)
        _same([Status.ACCEPTED, Status.REJECTED] * len(cases), result.statuses())
        fields = [o.error.field for o in result.outcomes if o.error is not None]
        _same([field for _, field in cases], fields)
        _same([f"good-{index}" for index in range(len(cases))], sorted(
            _ids_of(store.read()), key=lambda i: int(i.split("-")[1])))
