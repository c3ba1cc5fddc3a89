"""A seeded, deterministic simulator of a web shop with a live-chat team.

:func:`simulate` yields a realistic event log (the contract of
:mod:`whoson.core.events`) in time order: visitors browsing with heartbeats,
carts and orders, the chat widget, engagement rules, agents on shifts and the
conversations between them. It feeds the demo, the docs and the benchmarks.

>>> from whoson.sim import simulate
>>> log = list(simulate(visitors=10, days=1, seed=1))
>>> {"agent_status", "page_view", "heartbeat", "page_leave"} <= {e["type"] for e in log}
True
"""

from whoson.sim.config import SimConfig
from whoson.sim.engine import (
    estimate_events,
    events_for_target,
    simulate,
    visitors_for_events,
)

__all__ = [
    "SimConfig",
    "estimate_events",
    "events_for_target",
    "simulate",
    "visitors_for_events",
]
