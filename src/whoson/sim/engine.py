"""The simulation driver: arrivals, returning visitors, and time-ordered release.

Sessions are walked in order of their start. Each writes its events into one
heap; before a session starting at ``t`` is walked, every buffered event
before ``t`` is released, since no later session can produce anything earlier.
So the output is in ``(ts, id)`` order while memory holds only the sessions in
flight, whatever the size of the run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date, timedelta
from heapq import heappop, heappush
from itertools import accumulate, islice
from typing import Any

from whoson.sim.agents import DAY, HOUR, MINUTE, Roster
from whoson.sim.catalogue import COUNTRIES, DEVICES, USER_AGENTS
from whoson.sim.config import SimConfig
from whoson.sim.session import visit
from whoson.sim.world import Visitor, World

__all__ = ["estimate_events", "events_for_target", "simulate", "visitors_for_events"]

DEFAULT_START = date(2026, 3, 2)
# Measured with the default SimConfig (docs/simulator.md): visitor events per
# visitor approach 24 on long runs (returns past the last day are cut off on
# short ones), and the team's status changes add about 42 events a day.
_EVENTS_PER_VISITOR = 24.0
_SHORT_RUN_LOSS = 8.0
_AGENT_EVENTS_PER_DAY = 42.0
_RETURN_GAP_MEDIAN = 20 * HOUR


def simulate(
    visitors: int = 500,
    days: int = 7,
    seed: int = 0,
    start: date = DEFAULT_START,
    config: SimConfig | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield a shop's event log as JSON-ready dicts, in ``(ts, id)`` order.

    ``visitors`` is the number of distinct visitors over the whole run (new
    arrivals are spread over the ``days`` by weekday and hour; some come back
    for more sessions). Day 0 begins at midnight UTC of ``start``. The same
    arguments always give the same events; money is :class:`~decimal.Decimal`.

    >>> events = list(simulate(visitors=20, days=2, seed=7))
    >>> events[0]["id"], events[1]["id"]
    ('7-000000001', '7-000000002')
    >>> len({e["visitor"] for e in events if "visitor" in e})
    20
    >>> events == list(simulate(visitors=20, days=2, seed=7))
    True
    """
    if isinstance(visitors, bool) or not isinstance(visitors, int) or visitors < 0:
        raise ValueError(f"visitors must be an integer >= 0, got {visitors!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be an integer >= 1, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return _run(visitors, days, seed, start, config or SimConfig())


def estimate_events(visitors: int, days: int = 7) -> int:
    """About how many events ``simulate(visitors, days)`` yields with the default config.

    A central estimate: single seeds land within about 10% of it.

    >>> estimate_events(500, 7)
    11270
    """
    per_visitor = _EVENTS_PER_VISITOR - _SHORT_RUN_LOSS / math.pow(days, 0.7)
    return round(visitors * per_visitor + _AGENT_EVENTS_PER_DAY * days)


def visitors_for_events(n_events: int, days: int = 7) -> int:
    """A visitor count whose ``days``-day run has a bit more than ``n_events`` events.

    The inverse of :func:`estimate_events` with a margin (20% plus 500 events)
    that covers the spread between seeds; other configs shift the ratio.

    >>> visitors_for_events(1_000_000)
    54677
    """
    if n_events < 0 or days < 1:
        raise ValueError(f"need n_events >= 0 and days >= 1, got {n_events}, {days}")
    if n_events == 0:
        return 0
    per_visitor = _EVENTS_PER_VISITOR - _SHORT_RUN_LOSS / math.pow(days, 0.7)
    wanted = n_events * 1.2 + 500 - _AGENT_EVENTS_PER_DAY * days
    return max(1, math.ceil(wanted / per_visitor))


def events_for_target(
    n_events: int,
    seed: int = 0,
    days: int = 7,
    start: date = DEFAULT_START,
    config: SimConfig | None = None,
) -> Iterator[dict[str, Any]]:
    """The first ``n_events`` events of a run sized to produce a few more than that.

    Meant for benchmarks that need logs of a given length: the visitor count
    comes from :func:`visitors_for_events`, and the log is cut at ``n_events``
    (so the last conversations may still be open). A config far from the
    default could fall short; the iterator then simply ends early.

    >>> sum(1 for _ in events_for_target(2_000, seed=3))
    2000
    """
    visitors = visitors_for_events(n_events, days)
    return islice(simulate(visitors, days, seed, start, config), n_events)


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integer shares proportional to ``weights`` (largest remainder)."""
    scale = sum(weights)
    exact = [total * weight / scale for weight in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _minute_prefix(start: date, minute: int) -> str:
    """``YYYY-MM-DDTHH:MM:`` of the minute ``minute`` minutes after ``start`` midnight UTC."""
    day, rest = divmod(minute, 24 * 60)
    hour, mins = divmod(rest, 60)
    return f"{(start + timedelta(days=day)).isoformat()}T{hour:02d}:{mins:02d}:"


class _Arrivals:
    """Creates each day's new visitors with their start times."""

    def __init__(self, w: World, visitors: int, days: int, start: date) -> None:
        self.w = w
        config = w.config
        weekday = start.weekday()
        self.per_day = _allocate(visitors, [config.weekday_weights[(weekday + d) % 7] for d in range(days)])
        self.hour_cum = list(accumulate(config.hourly_weights))
        self.count = 0
        self.device_names = [name for name, _ in DEVICES]
        self.device_cum = list(accumulate(weight for _, weight in DEVICES))
        self.country_names = [name for name, _ in COUNTRIES]
        self.country_cum = list(accumulate(weight for _, weight in COUNTRIES))

    def add_day(self, day: int, sessions: list[tuple[int, int, Visitor]]) -> None:
        rng = self.w.rng
        n = self.per_day[day]
        hours = rng.choices(range(24), cum_weights=self.hour_cum, k=n)
        devices = rng.choices(self.device_names, cum_weights=self.device_cum, k=n)
        countries = rng.choices(self.country_names, cum_weights=self.country_cum, k=n)
        share = self.w.config.session_id_share
        for hour, device, country in zip(hours, devices, countries, strict=True):
            self.count += 1
            visitor = Visitor(
                id=f"v{self.w.seed}-{self.count}",
                device=device,
                country=country,
                user_agent=rng.choice(USER_AGENTS[device]),
                sends_session=rng.random() < share,
            )
            t0 = day * DAY + hour * HOUR + rng.randrange(HOUR)
            heappush(sessions, (t0, self.count, visitor))


def _comes_back(w: World, v: Visitor, end: int, ordered: bool) -> int | None:
    """When ``v`` starts their next session, if they return at all."""
    rng = w.rng
    chance = w.config.return_rate * 0.75 ** (v.sessions - 1)
    if v.cart:
        chance *= 1.8
    if v.engaged_at is not None and end - v.engaged_at < DAY:
        chance *= 1.4
    if ordered:
        chance *= 0.6
    if rng.random() >= chance:
        return None
    gap = rng.lognormvariate(math.log(_RETURN_GAP_MEDIAN), 1.0)
    return end + max(35 * MINUTE, int(gap))


def _run(visitors: int, days: int, seed: int, start: date, config: SimConfig) -> Iterator[dict[str, Any]]:
    roster_rng = random.Random(f"whoson-sim-roster:{seed}")
    roster = Roster.build(config, days, roster_rng, first_weekday=start.weekday())
    w = World(seed, config, roster)
    for t, event in roster.events:
        w.emit(t, event)
    arrivals = _Arrivals(w, visitors, days, start)
    sessions: list[tuple[int, int, Visitor]] = []
    horizon = days * DAY
    next_day = 0
    released = 0
    prefix = f"{seed}-"
    heap = w.heap
    # Released events come in time order, so one cached minute prefix serves most of them
    # (a hand-rolled format_ts: it is the hottest line of the run).
    minute, minute_text = -1, ""
    while True:
        while next_day < days and (not sessions or sessions[0][0] >= next_day * DAY):
            arrivals.add_day(next_day, sessions)
            next_day += 1
        limit = sessions[0][0] if sessions else math.inf
        while heap and heap[0][0] < limit:
            t, _, event = heappop(heap)
            released += 1
            event["id"] = f"{prefix}{released:09d}"
            if t // MINUTE != minute:
                minute = t // MINUTE
                minute_text = _minute_prefix(start, minute)
            second, milli = divmod(t - minute * MINUTE, 1000)
            event["ts"] = f"{minute_text}{second:02d}.{milli:03d}000Z" if milli else f"{minute_text}{second:02d}Z"
            yield event
        if not sessions:
            return
        t0, key, visitor = heappop(sessions)
        orders_before = visitor.orders
        end = visit(w, visitor, t0)
        again = _comes_back(w, visitor, end, visitor.orders > orders_before)
        if again is not None and again < horizon:
            heappush(sessions, (again, key, visitor))
