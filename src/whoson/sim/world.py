"""Shared state of one simulation run: the random source, the team, the event buffer.

Events are plain dicts built in contract field order, with ``id`` and ``ts``
left ``None``: the engine fills them in when it releases events in time order,
so ids count up in the order of the log.
"""

from __future__ import annotations

import itertools
import random
from heapq import heappush
from typing import Any

import attrs

from whoson.sim.agents import Roster
from whoson.sim.catalogue import FIRST_NAMES, LAST_NAMES, Product
from whoson.sim.config import SimConfig

__all__ = ["Visitor", "World"]


@attrs.define
class Visitor:
    """One browser and what the shop remembers about it between sessions."""

    id: str
    device: str
    country: str
    user_agent: str
    sends_session: bool
    sessions: int = 0
    customer: str | None = None
    name: str | None = None
    email: str | None = None
    cart: list[Product] = attrs.field(factory=list)
    engaged_at: int | None = None
    coupon: bool = False
    orders: int = 0
    # Causal model only: exposed to an experiment once; no walk orders before this time.
    exposed: bool = False
    no_orders_until: int | None = None


class World:
    """The run's random source, config, team, counters and pending-event heap."""

    def __init__(self, seed: int, config: SimConfig, roster: Roster) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.config = config
        self.roster = roster
        self.heap: list[tuple[int, int, dict[str, Any]]] = []
        # The tie-breaker for events at the same ms: the order they were made in.
        self.next_seq = itertools.count().__next__
        self._requests = 0
        self._orders = 0
        self._customers = 0

    def emit(self, t: int, event: dict[str, Any]) -> None:
        """Queue ``event`` (with ``id``/``ts`` still ``None``) at ``t`` ms after the start."""
        heappush(self.heap, (t, self.next_seq(), event))

    def visitor_event(self, t: int, kind: str, visitor: Visitor, **fields: Any) -> None:
        """Queue a visitor event of type ``kind`` with ``fields`` (none of them ``None``)."""
        event = {"id": None, "type": kind, "ts": None, "visitor": visitor.id, **fields}
        heappush(self.heap, (t, self.next_seq(), event))

    def new_request_id(self) -> str:
        """A fresh request id, unique in the run (and across seeds)."""
        self._requests += 1
        return f"r{self.seed}-{self._requests}"

    def new_order_id(self) -> str:
        """A fresh order number."""
        self._orders += 1
        return f"ORD-{self.seed}-{self._orders:06d}"

    def make_customer(self, visitor: Visitor) -> None:
        """Give ``visitor`` a customer id, name and e-mail if it has none yet."""
        if visitor.customer is not None:
            return
        self._customers += 1
        first = self.rng.choice(FIRST_NAMES)
        last = self.rng.choice(LAST_NAMES)
        visitor.customer = f"c{self.seed}-{self._customers}"
        visitor.name = f"{first} {last}"
        handle = f"{first}.{last}{self._customers}".lower().replace("ü", "ue")
        visitor.email = f"{handle}@example.com"
