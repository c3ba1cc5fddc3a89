"""The ledger: per-slot tallies kept up to date as events arrive, and range views.

Incremental upkeep works per visitor. The first event a visitor sends after
a report takes that visitor's contribution back out of the slots (computed
from the projection as it still is), and marks the visitor dirty; the next
report adds the fresh contribution of every dirty visitor back in. A report
then reads slots, not events: O(dirty visitors' events + slots in range).

The from-scratch path computes every visitor's contribution into fresh slots;
both paths read through :func:`view`, so they agree by construction wherever
the upkeep is right, and the test suite checks that it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sortedcontainers import SortedDict

from whoson.core.events import AgentStatusEvent, Event, OrderEvent
from whoson.core.models import Request, RequestOutcome
from whoson.core.projection import Projection
from whoson.metrics.contributions import (
    agent_status_contribution,
    pending_into,
    visitor_contribution,
)
from whoson.metrics.params import ReportParams
from whoson.metrics.slots import Settings, SlotTallies, slot_of, slot_start
from whoson.metrics.tally import Kind, Tally, declared_keys
from whoson.metrics.visitors import VISITORS

__all__ = [
    "DISTINCT", "FRESH_SHARE", "Known", "Ledger", "Past", "View", "from_scratch", "keyed_parts", "pending_adjustments",
    "report_dates", "settings_of", "view",
]

_ONE_MICROSECOND = timedelta(microseconds=1)

FRESH_SHARE = 0.5
"""A :class:`Past` view builds its slots afresh when the visitors active after ``as_of`` hold
more than this share of the events (taking back and re-adding them would cost more)."""

# A per-visitor contribution under (slot, key) keys: projection, visitor, settings[, keep].
Contribute = Callable[..., dict[tuple[int, str], Tally]]


class Ledger:
    """Slot tallies of every visitor, kept incrementally (see the module doc).

    Costs: :meth:`before_apply` is O(1) for a visitor already dirty, else
    O(that visitor's events); :meth:`catch_up` is O(events of dirty visitors).
    """

    def __init__(self, projection: Projection, settings: Settings) -> None:
        """An empty ledger over ``projection``: call before the projection applies its first event,
        or use :meth:`over` for a projection that already holds events."""
        self.projection = projection
        self.settings = settings
        self.slots: SortedDict = SortedDict()
        self._contributed: set[str] = set()
        self._dirty: set[str] = set()
        # Per reporting zone: summaries of whole local days, dropped when a slot of the day changes.
        self._days: dict[str, tuple[ZoneInfo, dict[date, DaySummary]]] = {}
        # Other per-visitor contributions kept up to date alongside (breakdowns), by name.
        self._followers: dict[str, _Follower] = {}

    @classmethod
    def over(cls, projection: Projection, settings: Settings) -> Ledger:
        """A ledger over a projection that already holds events: every visitor starts dirty.

        O(agent_status events) now; the first :meth:`catch_up` (the next report) computes every
        visitor's contribution once, O(events), the cost of one from-scratch report.
        """
        ledger = cls(projection, settings)
        ledger._add(agent_status_contribution(projection.status_mentions))
        ledger._dirty.update(projection.timelines)
        return ledger

    @classmethod
    def derived(cls, base: Ledger, settings: Settings) -> Ledger:
        """A ledger with other windows, derived from ``base`` (same session timeout), else :meth:`over`.

        Only an order's attribution (and an experiment's conversions) depend on the
        attribution window, and only conversations on the FCR window: the ledger
        starts from a copy of ``base``'s slots and recomputes just the visitors with
        orders, or with requests. O(slots + those visitors' events).
        """
        projection = base.projection
        if settings.session_timeout != base.settings.session_timeout:
            return cls.over(projection, settings)
        base.catch_up()
        ledger = cls(projection, settings)
        for slot, tally in base.slots.items():
            copy = ledger.slots[slot] = Tally()
            copy.add(tally)
        ledger._contributed = set(base._contributed)
        attribution = settings.attribution_window != base.settings.attribution_window
        fcr = settings.fcr_window != base.settings.fcr_window
        changed: set[int] = set()
        for visitor in projection.timelines:
            if (attribution and next(iter(projection.orders_of(visitor)), None) is not None) or (
                fcr and next(iter(projection.requests_of(visitor)), None) is not None
            ):
                old = visitor_contribution(projection, visitor, base.settings)
                new = visitor_contribution(projection, visitor, settings)
                _merge_into(ledger.slots, old, -1)
                _merge_into(ledger.slots, new)
                changed.update(old)
                changed.update(new)

        def contribution(visitor: str) -> SlotTallies:
            return visitor_contribution(projection, visitor, settings)

        _settle(ledger.slots, changed, contribution, projection.status_mentions)
        return ledger

    def before_apply(self, event: Event) -> None:
        """Call before the projection applies ``event``: retract what it will change."""
        visitor = event.visitor
        if visitor is None:
            if isinstance(event, AgentStatusEvent):
                self._add(agent_status_contribution([(event.ts, event.agent)]))
            return
        self._touch(visitor)
        if isinstance(event, OrderEvent):
            # An earlier duplicate of an order id moves the order to its visitor.
            owner = self.projection.order_owner(event.order)
            if owner is not None and owner != visitor:
                self._touch(owner)

    def _touch(self, visitor: str) -> None:
        if visitor in self._dirty:
            return
        if visitor in self._contributed:
            self._add(visitor_contribution(self.projection, visitor, self.settings), sign=-1)
            for follower in self._followers.values():
                follower.add(follower.contribute(self.projection, visitor, self.settings), -1)
            self._contributed.discard(visitor)
        self._dirty.add(visitor)

    def catch_up(self) -> None:
        """Add the fresh contribution of every visitor touched since the last call."""
        for visitor in self._dirty:
            self._add(visitor_contribution(self.projection, visitor, self.settings))
            for follower in self._followers.values():
                follower.add(follower.contribute(self.projection, visitor, self.settings))
            self._contributed.add(visitor)
        self._dirty.clear()

    def followed(
        self, name: str, contribute: Contribute, params: ReportParams
    ) -> dict[str, list[Tally]]:
        """Another per-visitor contribution under ``(slot, key)`` keys, read over the range.

        The first call for ``name`` computes every visitor's ``contribute``
        (O(events)); from then on it is kept up to date like the report's own
        slots, so later calls cost O(dirty visitors' events + days in range):
        whole local days are summarised once per zone, as for the report, and
        slots a bound cuts are recomputed for the visitors present in them.
        """
        self.catch_up()
        follower = self._followers.get(name)
        if follower is None:
            follower = self._followers[name] = _Follower(contribute)
            for visitor in self._contributed:
                follower.add(contribute(self.projection, visitor, self.settings))
        slots = follower.slots
        edges = {slot_of(b) for b in (params.start, params.end) if b is not None and not _aligned(b)}
        if edges:
            slots = SortedDict(slots)
            for slot in edges:
                for key in list(slots.irange((slot,), (slot + 1,), inclusive=(True, False))):
                    del slots[key]
                present = self.slots.get(slot)
                for visitor in list(present.multiset(VISITORS)) if present is not None else ():
                    part = contribute(self.projection, str(visitor), self.settings, params.in_range)
                    _merge_into(slots, {key: tally for key, tally in part.items() if key[0] == slot})
        return keyed_parts(slots, params, follower.days(params))

    def _add(self, tallies: SlotTallies, sign: int = 1) -> None:
        _merge_into(self.slots, tallies, sign)
        # Cached day summaries that held one of these slots are stale now.
        for tz, days in self._days.values():
            for slot in tallies:
                days.pop(slot_start(slot).astimezone(tz).date(), None)

    def view(self, params: ReportParams) -> View:
        """The range view from the slots, whole days read from the day cache of the zone."""
        self.catch_up()
        cache = self._days.get(params.tz_name)
        if cache is None:
            cache = self._days[params.tz_name] = (params.tz, {})
        edges = {slot_of(b) for b in (params.start, params.end) if b is not None and not _aligned(b)}
        slots = self._with_edges(params, edges) if edges else self.slots
        return view(self.projection, slots, params, cache[1])

    def _with_edges(self, params: ReportParams, edges: set[int]) -> SortedDict:
        """The slots with each slot that a bound cuts in two recomputed for the exact range.

        Every entity anchored in a slot comes with an event of its visitor in
        that slot, so only the visitors present in the cut slot are recomputed.
        """
        slots = SortedDict(self.slots)
        mentions = self.projection.status_mentions
        for slot in edges:
            exact = Tally()
            present = self.slots.get(slot)
            for visitor in list(present.multiset(VISITORS)) if present is not None else ():
                part = visitor_contribution(self.projection, str(visitor), self.settings, params.in_range)
                if slot in part:
                    exact.add(part[slot])
            named = [(ts, agent) for ts, agent in mentions if slot_of(ts) == slot]
            for status_part in agent_status_contribution(named, params.in_range).values():
                exact.add(status_part)
            slots[slot] = exact
        return slots

    def serves(self, params: ReportParams) -> bool:
        """Whether a report with ``params`` can read these slots as they are."""
        projection = self.projection
        return (projection.last_ts is None or projection.last_ts <= params.as_of) and self.serves_settings(params)

    def serves_settings(self, params: ReportParams) -> bool:
        """Whether ``params`` ask for this ledger's session timeout and windows."""
        return settings_of(params) == self.settings


class Known(Protocol):
    """What a range view reads besides the slots: the data's first and newest instants, the
    request creations and the request models (a :class:`Projection`, or a :class:`Past` state)."""

    @property
    def first_ts(self) -> datetime | None: ...

    @property
    def last_ts(self) -> datetime | None: ...

    @property
    def creations(self) -> Any: ...

    def request(self, request_id: str) -> Request | None: ...


class Past:
    """A ledger's slots turned back to an earlier ``as_of``: the report of the events up to it.

    A visitor's contribution depends only on that visitor's events (the
    assumption the ledger itself rests on), so the slots at ``as_of`` are the
    ledger's slots, minus the contributions of the visitors with an event
    after ``as_of`` (and the ``agent_status`` events after it), plus those
    visitors' contributions computed from a small projection of just their
    events up to ``as_of``. An order id that such a visitor shares with an
    earlier visitor stays with the earlier one: that winning order event goes
    into the small projection too. Visitors without a later event keep their
    contribution unchanged (an order they lost to a later event was lost to
    an even earlier one).

    Cost: O(visitors) to find the later ones, O(their events) for the small
    projection and the two contributions each, O(slots) to copy the slots;
    a view then reads the ledger's day summaries of the days left untouched.
    When the later visitors hold more than :data:`FRESH_SHARE` of the events
    (``as_of`` far back), every visitor's contribution is computed afresh from
    its events up to ``as_of`` instead: O(events up to as_of), like a replay,
    without reading the store.
    """

    def __init__(self, ledger: Ledger, as_of: datetime) -> None:
        ledger.catch_up()
        projection, settings = ledger.projection, ledger.settings
        self.ledger, self.as_of, self.settings = ledger, as_of, settings
        timelines = projection.timelines
        later: set[str] = set()
        newest: datetime | None = None
        moved = 0
        for visitor, timeline in timelines.items():
            ts = timeline[-1].ts
            if ts > as_of:
                later.add(visitor)
                moved += len(timeline)
            elif newest is None or ts > newest:
                newest = ts
        # Most events belong to later visitors (an as_of far back): build afresh from the timelines
        # rather than take back and add again nearly everything.
        self.fresh = moved > projection.count * FRESH_SHARE
        if self.fresh:
            later = set(timelines)
        self.later = later
        partial = self.partial = Projection()
        self._owned: set[str] = set()
        for visitor in later:
            for event in timelines[visitor]:
                if event.ts > as_of:
                    break  # a timeline is sorted by (ts, id)
                partial.apply(event)
                if isinstance(event, OrderEvent):
                    self._keep_order_owner(event, later)
        for ts, _ in projection.status_mentions:
            if ts <= as_of and (newest is None or ts > newest):
                newest = ts
        if partial.last_ts is not None and (newest is None or partial.last_ts > newest):
            newest = partial.last_ts
        self.first_ts = projection.first_ts if newest is not None else None
        self.last_ts = newest
        self.creations = projection.creations
        self._changed: set[int] = set()
        if self.fresh:
            self.slots: SortedDict = SortedDict()
            kept = [(ts, agent) for ts, agent in projection.status_mentions if ts <= as_of]
            _merge_into(self.slots, agent_status_contribution(kept))
            for visitor in later:
                _merge_into(self.slots, visitor_contribution(partial, visitor, settings))
        else:
            self.slots = SortedDict(ledger.slots)
            gone = [(ts, agent) for ts, agent in projection.status_mentions if ts > as_of]
            self._merge(agent_status_contribution(gone), -1)
            for visitor in later:
                self._merge(visitor_contribution(projection, visitor, settings), -1)
                self._merge(visitor_contribution(partial, visitor, settings))
            self._settle()
        self._stale: dict[str, set[date]] = {}

    def _settle(self) -> None:
        """Recompute the changed slots that subtraction left with a zero or an empty bag (see :func:`_settle`)."""
        projection, partial, settings = self.ledger.projection, self.partial, self.settings

        def contribution(visitor: str) -> SlotTallies:
            return visitor_contribution(partial if visitor in self.later else projection, visitor, settings)

        kept = [(ts, agent) for ts, agent in projection.status_mentions if ts <= self.as_of]
        _settle(self.slots, self._changed, contribution, kept)

    def _keep_order_owner(self, event: OrderEvent, later: set[str]) -> None:
        """Put the order event that wins ``event``'s order id up to as_of into the small projection."""
        projection = self.ledger.projection
        owner = projection.order_owner(event.order)
        if owner is None or owner == event.visitor or owner in later:
            # The winner is in the small projection already (or is this event).
            return
        if event.order in self._owned:
            return
        self._owned.add(event.order)
        # The owner's earliest event of the id wins it (timelines are sorted by sort key).
        for candidate in projection.timelines.get(owner, ()):
            if isinstance(candidate, OrderEvent) and candidate.order == event.order:
                self.partial.apply(candidate)
                return

    def _merge(self, tallies: SlotTallies, sign: int = 1) -> None:
        """Add tallies into private copies of the slots they touch (the ledger's stay as they are)."""
        slots, changed = self.slots, self._changed
        for slot, tally in tallies.items():
            if slot not in changed:
                changed.add(slot)
                copy = Tally()
                present = slots.get(slot)
                if present is not None:
                    copy.add(present)
                slots[slot] = copy
            slots[slot].add(tally, sign)

    def request(self, request_id: str) -> Request | None:
        """The request as the events up to as_of make it (None if not created by then)."""
        model = self.ledger.projection.request(request_id)
        if model is not None and model.visitor in self.later:
            return self.partial.request(request_id)
        return model

    def serves(self, params: ReportParams) -> bool:
        """Whether ``params`` ask for this as_of and the ledger's settings."""
        return params.as_of == self.as_of and self.ledger.serves_settings(params)

    def view(self, params: ReportParams) -> View:
        """The range view at as_of: the ledger's whole-day summaries of untouched days reused."""
        stale = self._stale.get(params.tz_name)
        if stale is None:
            tz = params.tz
            stale = self._stale[params.tz_name] = {
                slot_start(slot).astimezone(tz).date() for slot in self._changed
            }
        cache = None if self.fresh else self.ledger._days.get(params.tz_name)
        days = {day: summary for day, summary in cache[1].items() if day not in stale} if cache else {}
        edges = {slot_of(b) for b in (params.start, params.end) if b is not None and not _aligned(b)}
        slots = self._with_edges(params, edges) if edges else self.slots
        return view(self, slots, params, days)

    def _with_edges(self, params: ReportParams, edges: set[int]) -> SortedDict:
        """The slots with each slot a bound cuts recomputed for the exact range (see the ledger's)."""
        slots = SortedDict(self.slots)
        projection = self.ledger.projection
        for slot in edges:
            exact = Tally()
            present = self.slots.get(slot)
            for visitor in list(present.multiset(VISITORS)) if present is not None else ():
                name = str(visitor)
                source = self.partial if name in self.later else projection
                part = visitor_contribution(source, name, self.settings, params.in_range)
                if slot in part:
                    exact.add(part[slot])
            named = [(ts, agent) for ts, agent in projection.status_mentions
                     if slot_of(ts) == slot and ts <= self.as_of]
            for status_part in agent_status_contribution(named, params.in_range).values():
                exact.add(status_part)
            slots[slot] = exact
        return slots


def _settle(slots: SortedDict, changed: Iterable[int], contribution: Callable[[str], SlotTallies],
            mentions: list[tuple[datetime, str]]) -> None:
    """Sum afresh each of the ``changed`` slots that subtraction left with a zero or an empty bag.

    Taking a contribution back out leaves ``0`` (or ``Decimal("0.00")``) where a
    from-scratch tally has no key at all, which a figure may print differently; such
    a slot is summed from the contributions (``contribution(visitor)``, asked once per
    visitor) of the visitors present in it and the ``agent_status`` ``mentions`` in it.
    """
    contributions: dict[str, SlotTallies] = {}
    by_slot: dict[int, list[tuple[datetime, str]]] | None = None
    for slot in sorted(changed):
        tally = slots.get(slot)
        if tally is None or (all(tally.numbers.values()) and all(tally.bags.values())):
            continue
        exact = Tally()
        for visitor in tally.multiset(VISITORS):
            name = str(visitor)
            part = contributions.get(name)
            if part is None:
                part = contributions[name] = contribution(name)
            if slot in part:
                exact.add(part[slot])
        if by_slot is None:
            by_slot = defaultdict(list)
            for ts, agent in mentions:
                by_slot[slot_of(ts)].append((ts, agent))
        for status_part in agent_status_contribution(by_slot.get(slot, [])).values():
            exact.add(status_part)
        if exact.numbers or exact.bags:
            slots[slot] = exact
        else:
            del slots[slot]


def _aligned(bound: datetime | None) -> bool:
    return bound is None or slot_start(slot_of(bound)) == bound


def settings_of(params: ReportParams) -> Settings:
    """The settings a contribution depends on, as ``params`` ask for them."""
    return Settings(params.session_timeout, params.attribution_window, params.fcr_window)


def from_scratch(projection: Projection, params: ReportParams) -> SortedDict:
    """Every visitor's contribution with ``params``, entities outside the range dropped."""
    settings = settings_of(params)
    slots: SortedDict = SortedDict()
    _merge_into(slots, agent_status_contribution(projection.status_mentions, params.in_range))
    for visitor in projection.timelines:
        _merge_into(slots, visitor_contribution(projection, visitor, settings, params.in_range))
    return slots


def _merge_into(slots: SortedDict, tallies: Mapping[Any, Tally], sign: int = 1) -> None:
    """Add (or with ``sign=-1`` take back) per-slot tallies into ``slots``."""
    for slot, tally in tallies.items():
        target = slots.get(slot)
        if target is None:
            target = slots[slot] = Tally()
        target.add(tally, sign)


class _Follower:
    """A followed contribution's ``(slot, key)`` tallies and its day summaries per zone."""

    def __init__(self, contribute: Contribute) -> None:
        self.contribute = contribute
        self.slots: SortedDict = SortedDict()
        self._days: dict[str, tuple[ZoneInfo, dict[date, dict[str, Tally]]]] = {}

    def add(self, tallies: Mapping[tuple[int, str], Tally], sign: int = 1) -> None:
        """Add (or take back) tallies; the day summaries they touch are stale now."""
        _merge_into(self.slots, tallies, sign)
        for tz, days in self._days.values():
            for slot, _ in tallies:
                days.pop(slot_start(slot).astimezone(tz).date(), None)

    def days(self, params: ReportParams) -> dict[date, dict[str, Tally]]:
        """The day summaries of the report's zone."""
        cache = self._days.get(params.tz_name)
        if cache is None:
            cache = self._days[params.tz_name] = (params.tz, {})
        return cache[1]


def keyed_parts(
    slots: SortedDict,
    params: ReportParams,
    day_cache: dict[date, dict[str, Tally]] | None = None,
) -> dict[str, list[Tally]]:
    """The tallies of each key of ``(slot, key)`` slots over the range, a few per local day.

    Whole local days are merged once per key and kept in ``day_cache`` when given.
    """
    first = slots.keys()[0][0] if slots else 0
    last = slots.keys()[-1][0] if slots else 0
    parts: dict[str, list[Tally]] = defaultdict(list)
    for day, low, high, whole in _local_days(params, first, last):
        summary = day_cache.get(day) if whole and day_cache is not None else None
        if summary is None:
            grouped: dict[str, list[Tally]] = defaultdict(list)
            for key in slots.irange((low,), (high,), inclusive=(True, False)):
                grouped[key[1]].append(slots[key])
            summary = {key: Tally.merged(tallies) for key, tallies in grouped.items()}
            if whole and day_cache is not None:
                day_cache[day] = summary
        for key, tally in summary.items():
            parts[key].append(tally)
    return parts


def _local_days(
    params: ReportParams, first: int, last: int
) -> Iterator[tuple[date, int, int, bool]]:
    """Each local date of the range's slots: (date, first slot, end slot, covered whole).

    Unbounded sides run from slot ``first`` to slot ``last`` (the data's).
    """
    tz = params.tz
    low = slot_of(params.start) if params.start is not None else first
    # The slot holding an unaligned end still holds in-range entities (scratch path).
    high = slot_of(params.end - _ONE_MICROSECOND) + 1 if params.end is not None else last + 1
    if low >= high:
        return
    day = slot_start(low).astimezone(tz).date()
    last_day = slot_start(high - 1).astimezone(tz).date()
    while day <= last_day:
        day_start, day_end = _local_midnight(day, tz), _local_midnight(day + timedelta(days=1), tz)
        # Only a day the range covers entirely may be cached: bounds cut the others.
        whole = (params.start is None or params.start <= day_start) and (
            params.end is None or day_end <= params.end
        )
        yield day, max(low, slot_of(day_start)), min(high, slot_of(day_end)), whole
        day += timedelta(days=1)


class View:
    """The tallies a report reads: the whole range, each local date, each local hour."""

    def __init__(
        self, total: Tally, by_date: dict[date, Tally], by_hour: dict[int, Tally], dates: list[date]
    ) -> None:
        self.total = total
        self.by_date = by_date
        self.by_hour = by_hour
        self.dates = dates
        self._empty = Tally()

    def on(self, day: date) -> Tally:
        """The tally of one local date (empty for a day without data)."""
        return self.by_date.get(day, self._empty)

    def at_hour(self, hour: int) -> Tally:
        """The tally of one local hour of day, over the whole range."""
        return self.by_hour.get(hour, self._empty)


# The bags figures only count by distinct member (merged as set unions when read),
# derived from the declarations: every family module is imported by now (contributions).
DISTINCT = frozenset(name for name, key in declared_keys().items() if key.kind is Kind.SET)


class DaySummary:
    """The merged tally of some slots of one local date, and its requests per local hour."""

    __slots__ = ("hours", "tally")

    def __init__(self, tally: Tally, hours: dict[int, Tally]) -> None:
        self.tally = tally
        self.hours = hours

    @classmethod
    def of(cls, slots: Iterable[tuple[int, Tally]], tz: ZoneInfo) -> DaySummary:
        """Merge slot tallies; keep the request counts per local hour apart for the hourly trend."""
        parts: list[Tally] = []
        hours: dict[int, Tally] = {}
        # Only the numbers declared ``hourly`` (the requests of the hourly trend).
        hourly = frozenset(name for name, key in declared_keys().items() if key.hourly)
        for slot, tally in slots:
            parts.append(tally)
            requests = [(k, v) for k, v in tally.numbers.items() if k[0] in hourly and v]
            if requests:
                hour = slot_start(slot).astimezone(tz).hour
                bucket = hours.get(hour)
                if bucket is None:
                    bucket = hours[hour] = Tally()
                for key, value in requests:
                    bucket.count(key, value)
        return cls(Tally.merged(parts), hours)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def view(
    projection: Known,
    slots: SortedDict,
    params: ReportParams,
    day_cache: dict[date, DaySummary] | None = None,
) -> View:
    """Group range slots by local date and hour, and set pending requests apart.

    Whole local days inside the range are summarised once and kept in
    ``day_cache`` (when given), so a report over a long history merges
    O(days) summaries, not O(slots) slots.
    """
    tz = params.tz
    by_date: dict[date, Tally] = {}
    hourly: dict[int, list[Tally]] = defaultdict(list)
    first = slots.keys()[0] if slots else 0
    last = slots.keys()[-1] if slots else 0
    for day, low, high, whole in _local_days(params, first, last):
        summary = day_cache.get(day) if whole and day_cache is not None else None
        if summary is None:
            inside = slots.irange(low, high, inclusive=(True, False))
            summary = DaySummary.of(((slot, slots[slot]) for slot in inside), tz)
            if whole and day_cache is not None:
                day_cache[day] = summary
        if summary.tally.numbers or summary.tally.bags:
            by_date[day] = summary.tally
        for hour, tally in summary.hours.items():
            hourly[hour].append(tally)
    adjustments: dict[date, list[Tally]] = defaultdict(list)
    for request, adjustment in pending_adjustments(projection, params):
        adjustments[request.created.astimezone(tz).date()].append(adjustment)
    for day, extra in adjustments.items():
        # Cached summaries are shared: adjust a merged copy, never the cache.
        by_date[day] = Tally.merged([by_date.get(day, Tally()), *extra])
    by_hour = {hour: Tally.merged(tallies) for hour, tallies in hourly.items()}
    total = Tally.merged(by_date.values())
    return View(total, by_date, by_hour, report_dates(projection.first_ts, projection.last_ts, params))


def pending_adjustments(
    projection: Known, params: ReportParams
) -> Iterable[tuple[Request, Tally]]:
    """In-range requests still pending at ``as_of``, each with what pending takes off.

    Only requests created within the response timeout before ``as_of`` qualify.
    """
    low = params.as_of - params.response_timeout
    if params.start is not None and params.start > low:
        low = params.start
    for created, request_id in projection.creations.irange((low, ""), None):
        if created <= params.as_of - params.response_timeout or not params.in_range(created):
            continue
        request = projection.request(request_id)
        if request is None or request.created != created:
            continue
        if request.outcome(params.as_of, params.response_timeout) is not RequestOutcome.PENDING:
            continue
        adjustment = Tally()
        pending_into(adjustment, request)
        yield request, adjustment


def report_dates(earliest: datetime | None, newest: datetime | None, params: ReportParams) -> list[date]:
    """The daily rows' dates, given the earliest and newest event at or before as_of.

    Without a ``start`` the rows begin on the earliest event's local date;
    without an ``end`` they stop on the newest event's.
    """
    tz = params.tz
    first_ts = params.start if params.start is not None else earliest
    last_ts = params.end - _ONE_MICROSECOND if params.end is not None else newest
    if first_ts is None or last_ts is None:
        return []
    first, last = first_ts.astimezone(tz).date(), last_ts.astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]

