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
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sortedcontainers import SortedDict

from whoson.core.events import AgentStatusEvent, Event, OrderEvent
from whoson.core.models import Outcome
from whoson.core.projection import Projection
from whoson.metrics.contributions import (
    Settings,
    SlotTallies,
    agent_status_contribution,
    slot_of,
    slot_start,
    visitor_contribution,
)
from whoson.metrics.params import ReportParams
from whoson.metrics.tally import Tally

__all__ = ["Ledger", "View", "from_scratch", "view"]

_ONE_MICROSECOND = timedelta(microseconds=1)


class Ledger:
    """Slot tallies of every visitor, kept incrementally (see the module doc).

    Costs: :meth:`before_apply` is O(1) for a visitor already dirty, else
    O(that visitor's events); :meth:`catch_up` is O(events of dirty visitors).
    """

    def __init__(self, projection: Projection, settings: Settings) -> None:
        self.projection = projection
        self.settings = settings
        self.slots: SortedDict = SortedDict()
        self._contributed: set[str] = set()
        self._dirty: set[str] = set()

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
            self._contributed.discard(visitor)
        self._dirty.add(visitor)

    def catch_up(self) -> None:
        """Add the fresh contribution of every visitor touched since the last call."""
        for visitor in self._dirty:
            self._add(visitor_contribution(self.projection, visitor, self.settings))
            self._contributed.add(visitor)
        self._dirty.clear()

    def _add(self, tallies: SlotTallies, sign: int = 1) -> None:
        slots = self.slots
        for slot, tally in tallies.items():
            target = slots.get(slot)
            if target is None:
                target = slots[slot] = Tally()
            target.add(tally, sign)

    def slots_between(self, start: datetime | None, end: datetime | None) -> Iterable[tuple[int, Tally]]:
        """Slots in ``[start, end)``; both bounds must fall on slot boundaries."""
        low = slot_of(start) if start is not None else None
        high = slot_of(end) if end is not None else None
        for slot in self.slots.irange(low, high, inclusive=(True, False)):
            yield slot, self.slots[slot]

    def serves(self, params: ReportParams) -> bool:
        """Whether a report with ``params`` can read these slots as they are."""
        projection = self.projection
        return (
            (projection.last_ts is None or projection.last_ts <= params.as_of)
            and Settings(params.session_timeout, params.attribution_window, params.fcr_window)
            == self.settings
            and all(_aligned(bound) for bound in (params.start, params.end))
        )


def _aligned(bound: datetime | None) -> bool:
    return bound is None or slot_start(slot_of(bound)) == bound


def from_scratch(projection: Projection, params: ReportParams) -> SlotTallies:
    """Every visitor's contribution with ``params``, entities outside the range dropped."""
    settings = Settings(params.session_timeout, params.attribution_window, params.fcr_window)
    slots: SlotTallies = {}

    def merge(tallies: SlotTallies) -> None:
        for slot, tally in tallies.items():
            target = slots.get(slot)
            if target is None:
                slots[slot] = tally
            else:
                target.add(tally)

    merge(agent_status_contribution(projection.status_mentions, params.in_range))
    for visitor in projection.timelines:
        merge(visitor_contribution(projection, visitor, settings, params.in_range))
    return slots


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


def view(projection: Projection, slots: Iterable[tuple[int, Tally]], params: ReportParams) -> View:
    """Group range slots by local date and hour, and set pending requests apart."""
    tz = params.tz
    grouped: dict[date, list[Tally]] = defaultdict(list)
    hourly: dict[int, list[Tally]] = defaultdict(list)
    for slot, tally in slots:
        local = slot_start(slot).astimezone(tz)
        grouped[local.date()].append(tally)
        hourly[local.hour].append(tally)
    for ts, adjustment in _pending(projection, params):
        local = ts.astimezone(tz)
        grouped[local.date()].append(adjustment)
        hourly[local.hour].append(adjustment)
    by_date = {day: Tally.merged(tallies) for day, tallies in grouped.items()}
    by_hour = {hour: Tally.merged(tallies) for hour, tallies in hourly.items()}
    return View(Tally.merged(by_date.values()), by_date, by_hour, _dates(projection, params, tz))


def _pending(projection: Projection, params: ReportParams) -> Iterable[tuple[datetime, Tally]]:
    """Requests still pending at ``as_of``: only those created within the timeout qualify."""
    low = params.as_of - params.response_timeout
    if params.start is not None and params.start > low:
        low = params.start
    for created, request_id in projection.creations.irange((low, ""), None):
        if created <= params.as_of - params.response_timeout or not params.in_range(created):
            continue
        request = projection.request(request_id)
        if request is None or request.created != created:
            continue
        if request.outcome(params.as_of, params.response_timeout) is not Outcome.PENDING:
            continue
        adjustment = Tally()
        adjustment.count(("pend", request.initiator))
        responded = request.other_side_responded
        if responded:
            adjustment.count(("pend_other", request.initiator))
        if request.initiator == "agent" and request.creator_agent is not None:
            adjustment.count(("a_pend", request.creator_agent))
            if responded:
                adjustment.count(("a_pend_other", request.creator_agent))
        yield created, adjustment


def _dates(projection: Projection, params: ReportParams, tz: ZoneInfo) -> list[date]:
    """The daily rows' dates: every local date of the range, empty days included."""
    first_ts = params.start if params.start is not None else projection.first_ts
    last_ts = params.end - _ONE_MICROSECOND if params.end is not None else projection.last_ts
    if first_ts is None or last_ts is None:
        return []
    first, last = first_ts.astimezone(tz).date(), last_ts.astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]

