"""What invitations cause, and how waiting ends: ``experiments`` and ``support.wait``.

Both are per-visitor figures, so they ride on the same slot tallies as every
other figure (:mod:`whoson.metrics.contributions`), under the keys declared here: a visitor's contribution
puts one bag member per *exposure* (an auto request or a ``holdout`` event,
with its conversion outcome) and one per *visitor request* (its creation,
first agent response, first end and the visitor's last event) into the slot
of its anchor. Reading a range merges the bags; the figures are derived
here, at report time, because both depend on the range (earliest exposure in
range) or on ``as_of`` (censoring).

>>> lo, hi = newcombe_interval(56, 70, 48, 80)
>>> round(lo, 4), round(hi, 4)
(0.0524, 0.3339)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from statistics import NormalDist
from types import MappingProxyType

import attrs

from whoson.core.events import HoldoutEvent, RequestEndEvent, RequestEvent
from whoson.core.projection import Projection
from whoson.live.config import LiveConfig
from whoson.metrics.params import money_ratio, ratio
from whoson.metrics.tally import Kind, Tally, declare

__all__ = [
    "EXPOSURES",
    "PRESENCE_TIMEOUT",
    "WAITS",
    "WAIT_POINTS",
    "ExperimentRow",
    "WaitFigures",
    "experiment_contribution",
    "experiment_rows",
    "exposure_member",
    "newcombe_interval",
    "wait_figures",
    "wait_member",
    "wilson_interval",
]

# live.md: a visitor has left once their last event is this old (the live view's default).
PRESENCE_TIMEOUT = LiveConfig().presence_timeout
WAIT_POINTS = (15, 30, 60, 120, 300)
_Z95 = NormalDist().inv_cdf(0.975)
_MICROS = timedelta(microseconds=1)
EXPOSURES = declare("exposures", Kind.BAG, doc="one member per in-range exposure (see exposure_member)")
WAITS = declare("waits", Kind.BAG, doc="one member per in-range visitor request (see wait_member)")

At = Callable[[datetime], Tally | None]


# ---------------------------------------------------------------- intervals


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion, without continuity correction.

    >>> [round(x, 4) for x in wilson_interval(56, 70)]
    [0.6918, 0.877]
    """
    if n <= 0:
        raise ValueError("a proportion needs n >= 1")
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    scale = 1 + z2 / n
    return max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, z: float = _Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (1998, method 10) for ``x1/n1 - x2/n2``.

    Wilson intervals ``[l1, u1]`` and ``[l2, u2]`` for each proportion give
    ``d - sqrt((p1 - l1)**2 + (u2 - p2)**2)`` to ``d + sqrt((u1 - p1)**2 + (p2 - l2)**2)``.
    Checked against Newcombe (1998), Statistics in Medicine 17:873-890, Table II.

    >>> [round(x, 4) for x in newcombe_interval(9, 10, 3, 10)]
    [0.1705, 0.809]
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


# ---------------------------------------------------------------- contributions


def exposure_member(
    trigger: str, visitor: str, ts: datetime, event_id: str, arm: str, converted: bool, gmv: Decimal
) -> tuple[str, str, datetime, str, str, bool, Decimal]:
    """One exposure as the tally holds it under ``EXPOSURES`` (every engine puts this shape).

    >>> from datetime import UTC
    >>> exposure_member("t", "v1", datetime(2026, 3, 2, tzinfo=UTC), "e1", "held_out", False, Decimal(0))[4]
    'held_out'
    """
    return (trigger, visitor, ts, event_id, arm, converted, gmv)


def wait_member(
    request: str, created: datetime, answered: datetime | None, ended: datetime | None,
    last_event: datetime,
) -> tuple[str, datetime, datetime | None, datetime | None, datetime]:
    """One visitor request as the tally holds it under ``WAITS`` (see :func:`wait_outcome`).

    >>> from datetime import UTC
    >>> t = datetime(2026, 3, 2, tzinfo=UTC)
    >>> wait_member("r1", t, None, None, t)[0]
    'r1'
    """
    return (request, created, answered, ended, last_event)



def experiment_contribution(
    projection: Projection, visitor: str, attribution_window: timedelta, at: At
) -> None:
    """Put ``visitor``'s exposures and visitor requests into the slots ``at`` hands out.

    Exposure members: ``(trigger, visitor, ts, event id, arm, converted, gmv)``
    where ``arm`` is ``"invited"`` for an auto request (its winning creation)
    and ``"held_out"`` for a ``holdout`` event, and ``converted``/``gmv``
    cover the visitor's orders in ``[ts, ts + attribution_window]``. Wait
    members: ``(request id, created, first agent response, first end, last
    event)`` per visitor request. O(k log k), k = the visitor's events.
    """
    timeline = projection.timelines.get(visitor)
    if not timeline:
        return
    creations: dict[str, RequestEvent] = {}
    first_end: dict[str, datetime] = {}
    holdouts: list[HoldoutEvent] = []
    for event in timeline:  # sorted by (ts, id): the first seen is the earliest
        kind = type(event)
        if kind is RequestEvent:
            assert isinstance(event, RequestEvent)
            creations.setdefault(event.request, event)
        elif kind is RequestEndEvent:
            assert isinstance(event, RequestEndEvent)
            first_end.setdefault(event.request, event.ts)
        elif kind is HoldoutEvent:
            assert isinstance(event, HoldoutEvent)
            holdouts.append(event)
    exposures = [
        (e.trigger, e.ts, e.id, "invited") for e in creations.values()
        if e.initiator == "auto" and e.trigger is not None
    ]
    exposures.extend((e.trigger, e.ts, e.id, "held_out") for e in holdouts)
    if exposures:
        orders = sorted((o.ts, o.value) for o in projection.orders_of(visitor))
        for trigger, ts, event_id, arm in exposures:
            tally = at(ts)
            if tally is None:
                continue
            bought = [value for when, value in orders if ts <= when <= ts + attribution_window]
            gmv = sum(bought, Decimal(0))
            tally.put(EXPOSURES, exposure_member(trigger, visitor, ts, event_id, arm, bool(bought), gmv))
    last = timeline[-1].ts
    for request in projection.requests_of(visitor):
        if request.initiator != "visitor":
            continue
        tally = at(request.created)
        if tally is not None:
            tally.put(WAITS, wait_member(request.id, request.created, request.first_agent_response,
                                         first_end.get(request.id), last))


# ---------------------------------------------------------------- experiments


@attrs.frozen
class ExperimentRow:
    """One trigger's invited arm against its held-out arm (experiments.md)."""

    trigger: str
    invited: int
    held_out: int
    invited_converted: int
    held_out_converted: int
    invited_conversion_rate: float | None
    held_out_conversion_rate: float | None
    lift: float | None
    lift_ci95: tuple[float, float] | None
    invited_gmv_per_visitor: Decimal | None
    held_out_gmv_per_visitor: Decimal | None
    incremental_gmv: Decimal | None


def experiment_rows(tally: Tally) -> tuple[ExperimentRow, ...]:
    """The ``experiments`` section from a range's tally, sorted by trigger.

    Each visitor counts once per trigger, in the arm of its earliest
    exposure in range (by ts, then event id), converted or not by that
    exposure's orders. O(e log e), e = exposures in range.
    """
    first: dict[tuple[str, str], tuple[datetime, str, str, bool, Decimal]] = {}
    for member in tally.multiset(EXPOSURES):
        trigger, visitor, ts, event_id, arm, converted, gmv = _exposure(member)
        key = (trigger, visitor)
        current = first.get(key)
        if current is None or (ts, event_id) < current[:2]:
            first[key] = (ts, event_id, arm, converted, gmv)
    arms: dict[str, dict[str, list[tuple[bool, Decimal]]]] = {}
    for (trigger, _visitor), (_ts, _id, arm, converted, gmv) in first.items():
        arms.setdefault(trigger, {"invited": [], "held_out": []})[arm].append((converted, gmv))
    return tuple(_row(trigger, arms[trigger]) for trigger in sorted(arms))


def _exposure(member: Hashable) -> tuple[str, str, datetime, str, str, bool, Decimal]:
    assert isinstance(member, tuple)
    assert len(member) == 7
    return member


def _row(trigger: str, arms: Mapping[str, list[tuple[bool, Decimal]]]) -> ExperimentRow:
    invited, held = arms["invited"], arms["held_out"]
    n1, n2 = len(invited), len(held)
    x1 = sum(1 for converted, _ in invited if converted)
    x2 = sum(1 for converted, _ in held if converted)
    r1, r2 = ratio(x1, n1), ratio(x2, n2)
    gmv1, gmv2 = sum((g for _, g in invited), Decimal(0)), sum((g for _, g in held), Decimal(0))
    gpv1, gpv2 = money_ratio(gmv1, n1), money_ratio(gmv2, n2)
    both = n1 >= 1 and n2 >= 1
    return ExperimentRow(
        trigger=trigger,
        invited=n1,
        held_out=n2,
        invited_converted=x1,
        held_out_converted=x2,
        invited_conversion_rate=r1,
        held_out_conversion_rate=r2,
        lift=r1 - r2 if r1 is not None and r2 is not None else None,
        lift_ci95=newcombe_interval(x1, n1, x2, n2) if both else None,
        invited_gmv_per_visitor=gpv1,
        held_out_gmv_per_visitor=gpv2,
        incremental_gmv=incremental_gmv(gmv1, n1, gmv2, n2),
    )


def incremental_gmv(invited: Decimal, n1: int, held_out: Decimal, n2: int) -> Decimal | None:
    """``(invited gmv per visitor - held-out gmv per visitor) * invited visitors``.

    ``invited``/``held_out`` are the arms' GMV sums over ``n1``/``n2``
    visitors. Computed as ``invited - held_out * n1 / n2``, one division, so
    that no rounded per-visitor average is multiplied back up: exact whenever
    the held-out share divides evenly (``None`` when an arm is empty).

    >>> incremental_gmv(Decimal("10.00"), 3, Decimal(0), 3)
    Decimal('10.00')
    >>> incremental_gmv(Decimal("500"), 40, Decimal("300"), 30)
    Decimal('100')
    """
    if n1 < 1 or n2 < 1:
        return None
    share = money_ratio(held_out * n1, n2)
    assert share is not None
    return invited - share


# ---------------------------------------------------------------- waiting


@attrs.frozen
class WaitFigures:
    """``support.wait``: how visitor requests created in range end over time."""

    requests: int
    answered: int
    abandoned: int
    still_waiting: int
    answered_within: Mapping[str, float | None]
    abandoned_within: Mapping[str, float | None]
    median_answer_seconds: float | None


def wait_outcome(
    created: datetime,
    answered: datetime | None,
    ended: datetime | None,
    last_event: datetime,
    as_of: datetime,
) -> tuple[str, timedelta]:
    """How one visitor request ended by ``as_of``, and after how long.

    ``"answered"`` at the first agent response; ``"abandoned"`` at a first end
    before it, or when the visitor left (last event + presence timeout, if
    that is at or before ``as_of``); else ``"waiting"``, censored at its age.

    >>> from datetime import UTC
    >>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
    >>> wait_outcome(t, None, None, t, t + timedelta(minutes=5))
    ('abandoned', datetime.timedelta(seconds=120))
    """
    if answered is not None and (ended is None or answered <= ended):
        return "answered", answered - created
    if ended is not None:
        return "abandoned", ended - created
    gone = last_event + PRESENCE_TIMEOUT
    if gone <= as_of:
        return "abandoned", gone - created
    return "waiting", as_of - created


def cumulative_incidence(
    outcomes: list[tuple[str, int]],
) -> list[tuple[int, Fraction, Fraction]]:
    """Aalen-Johansen cumulative incidence of answered and abandoned, exactly.

    ``outcomes`` are ``(kind, microseconds)`` with kind ``answered``,
    ``abandoned`` or ``waiting`` (censored). Returns, per distinct event
    time, ``(time, F_answered, F_abandoned)``. At a tie, events come before
    censoring (a request censored at t is still at risk at t). Answered and
    abandoned at the same instant may be taken in either order: the
    increments ``S(t-) d_k / n`` do not depend on it. O(n log n).

    >>> cumulative_incidence([("answered", 10), ("waiting", 20), ("abandoned", 30)])
    [(10, Fraction(1, 3), Fraction(0, 1)), (30, Fraction(1, 3), Fraction(2, 3))]
    """
    ordered = sorted(outcomes, key=lambda item: item[1])
    at_risk = len(ordered)
    survival = Fraction(1)
    answered = abandoned = Fraction(0)
    out: list[tuple[int, Fraction, Fraction]] = []
    index = 0
    while index < len(ordered):
        moment = ordered[index][1]
        counts = {"answered": 0, "abandoned": 0, "waiting": 0}
        while index < len(ordered) and ordered[index][1] == moment:
            counts[ordered[index][0]] += 1
            index += 1
        events = counts["answered"] + counts["abandoned"]
        if events:
            answered += survival * counts["answered"] / at_risk
            abandoned += survival * counts["abandoned"] / at_risk
            survival *= Fraction(at_risk - events, at_risk)
            out.append((moment, answered, abandoned))
        at_risk -= events + counts["waiting"]
    return out


def wait_figures(tally: Tally, as_of: datetime) -> WaitFigures:
    """``support.wait`` from a range's tally, decided at ``as_of``. O(r log r)."""
    outcomes: list[tuple[str, int]] = []
    for member in tally.multiset(WAITS):
        assert isinstance(member, tuple)
        _id, created, answered, ended, last = member
        kind, waited = wait_outcome(created, answered, ended, last, as_of)
        outcomes.append((kind, waited // _MICROS))
    counts = {kind: sum(1 for k, _ in outcomes if k == kind)
              for kind in ("answered", "abandoned", "waiting")}
    curve = cumulative_incidence(outcomes)
    answered_within: dict[str, float | None] = {}
    abandoned_within: dict[str, float | None] = {}
    for point in WAIT_POINTS:
        a, b = _value_at(curve, point * 1_000_000) if outcomes else (None, None)
        answered_within[str(point)] = a
        abandoned_within[str(point)] = b
    median = next((t for t, a, _ in curve if a >= Fraction(1, 2)), None)
    return WaitFigures(
        requests=len(outcomes),
        answered=counts["answered"],
        abandoned=counts["abandoned"],
        still_waiting=counts["waiting"],
        answered_within=MappingProxyType(answered_within),
        abandoned_within=MappingProxyType(abandoned_within),
        median_answer_seconds=median / 1_000_000 if median is not None else None,
    )


def _value_at(curve: list[tuple[int, Fraction, Fraction]], micros: int) -> tuple[float, float]:
    """Both incidences at ``micros`` ("within t" includes t): the last step at or before it."""
    a = b = Fraction(0)
    for moment, answered, abandoned in curve:
        if moment > micros:
            break
        a, b = answered, abandoned
    return float(a), float(b)
