"""Writing through a tracker: one atomic append per batch, then the accepted events applied.

The store settles the currency inside its write; when it rejected orders
because another currency was settled first and a converter is configured,
those orders are converted and appended once more. What the rules fire is
recorded the same way, and the engine then sees it (which counts it for the
limits).

>>> from datetime import UTC, datetime
>>> from whoson.clock import FixedClock
>>> from whoson.core.parsing import parse_event
>>> from whoson.core.settings import ParseContext
>>> from whoson.live import LiveConfig
>>> from whoson.metrics.reporter import Reporter
>>> from whoson.stores.memory import MemoryStore
>>> clock = FixedClock(datetime(2026, 3, 2, tzinfo=UTC))
>>> follower = Follower(MemoryStore(), ParseContext(), Reporter(now=clock.now), LiveConfig(), (), clock)
>>> event = parse_event({"id": "e1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z",
...                      "visitor": "v1"}, ParseContext())
>>> append(follower, [event]).accepted, follower.position
(1, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from whoson.core.batch import CURRENCY_RULE, AppendOutcome, BatchResult
from whoson.core.events import Event
from whoson.core.parsing import admit
from whoson.tracking.follower import Follower
from whoson.tracking.intake import accepted

__all__ = ["append", "evaluate_rules", "record_fired"]


def append(follower: Follower, events: Sequence[Event], *, strict: bool = False) -> BatchResult:
    """Append ``events`` and apply the accepted ones (and any others' before them).

    One store write, plus one more when orders are converted: O(batch).
    """
    result = _store_append(follower, events, strict=strict)
    ctx = follower.ctx
    if ctx.converter is None or ctx.currency is not None or result.currency is None:
        return result
    follower.ctx = ctx = attrs.evolve(ctx, currency=result.currency)
    foreign = [o.index for o in result.errors if _is_currency_rejection(o)]
    if not foreign:
        return result
    if strict:
        return _store_append(follower, [admit(e, ctx) for e in events], strict=True)
    again = _store_append(follower, [admit(events[i], ctx) for i in foreign])
    outcomes = list(result.outcomes)
    for index, outcome in zip(foreign, again.outcomes, strict=True):
        outcomes[index] = attrs.evolve(outcome, index=index)
    return BatchResult(tuple(outcomes)).evolve(currency=result.currency)


def _store_append(follower: Follower, events: Sequence[Event], *, strict: bool = False) -> BatchResult:
    result = follower.store.append(events, strict=strict)
    stored = accepted(events, result)
    positions = result.positions
    if positions is None or len(positions) != len(stored):
        # The store did not say where it put them: read everything new, ours included.
        follower.catch_up()
        return result
    if stored and positions[0] > follower.position + 1:
        follower.catch_up(until=positions[0])  # what others appended just before
    follower.adopt(stored, positions)
    return result


def evaluate_rules(follower: Follower, events: list[Event]) -> list[Event]:
    """Evaluate the rules on ``events``, record what fires; return the fired events as stored.

    Time-based rules due by now fire first, exactly as a replay with ``tick()`` would.
    """
    now = follower.clock.now()
    engine = follower.live.build()[1]
    fired = engine.tick(now)
    fired.extend(f for event in events for f in engine.on_event(event, now))
    return record_fired(follower, fired, now)


def record_fired(follower: Follower, fired: list[Event], now: datetime) -> list[Event]:
    """Store what rules fired; the engine then sees it, which counts it for the limits."""
    if not fired:
        return []
    stored = accepted(fired, append(follower, fired))
    engine = follower.live.build()[1]
    for event in stored:
        engine.on_event(event, now)
    return stored


def _is_currency_rejection(outcome: AppendOutcome) -> bool:
    """Whether the store rejected the event for naming another currency than its own."""
    error = outcome.error
    prefix = CURRENCY_RULE.split("{", 1)[0]
    return error is not None and error.field == "currency" and error.rule.startswith(prefix)
