"""Deciding, per event of a batch, whether it is new, a duplicate or rejected.

Pure logic shared by every store: a store looks up what it already holds and
hands it here, inside the transaction that will write the accepted events.

>>> from whoson.core.parsing import parse_event
>>> e = parse_event({"id": "1", "type": "heartbeat", "ts": "2026-03-01T12:00:00Z", "visitor": "v"})
>>> result = classify([e, e], stored={}, owners={}).result
>>> [o.status.value for o in result.outcomes]
['accepted', 'duplicate']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum

import attrs

from whoson.core.errors import ConflictError, InvalidEvent
from whoson.core.events import Event, OrderEvent

__all__ = ["CURRENCY_RULE", "AppendOutcome", "BatchResult", "Status", "classify"]

CURRENCY_RULE = "must be the store's currency {currency!r}: one store holds one currency"


class Status(StrEnum):
    """What happened to one event of a batch."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@attrs.frozen
class AppendOutcome:
    """The fate of the event at ``index`` of a batch (``error`` set when rejected).

    ``fired`` (set by :meth:`whoson.Tracker.record`) holds the events the
    engagement rules fired because of this call, as stored.
    """

    index: int
    event_id: str | None
    status: Status
    error: InvalidEvent | None = None
    fired: tuple[Event, ...] = ()


class BatchResult:
    """Per-event outcomes of one append, in input order, plus the counts.

    Large batches are mostly accepted events, so the result keeps one status
    per event and builds :class:`AppendOutcome` objects only when asked for.

    ``positions`` are the store positions of the accepted events, in input
    order (``None`` when the store did not say); ``fired`` the events the
    engagement rules fired because of the call (set by
    :meth:`whoson.Tracker.record_many`). ``currency`` is the store's currency
    after the append (``None`` when it has none or did not say).

    >>> BatchResult(()).accepted
    0
    """

    __slots__ = ("_errors", "_ids", "_offset", "_outcomes", "_statuses", "currency", "fired", "positions")

    def __init__(self, outcomes: tuple[AppendOutcome, ...] = ()) -> None:
        self._outcomes: tuple[AppendOutcome, ...] | None = tuple(outcomes)
        self._statuses = [o.status for o in self._outcomes]
        self._ids: list[str | None] = []
        self._errors: dict[int, InvalidEvent] = {}
        self._offset = 0
        self.positions: tuple[int, ...] | None = None
        self.fired: tuple[Event, ...] = ()
        self.currency: str | None = None

    def evolve(
        self,
        *,
        positions: tuple[int, ...] | None = None,
        fired: tuple[Event, ...] | None = None,
        currency: str | None = None,
    ) -> BatchResult:
        """A copy with ``positions``, ``fired`` or ``currency`` set (the outcomes shared)."""
        copy = BatchResult.__new__(BatchResult)
        copy._outcomes, copy._statuses = self._outcomes, self._statuses
        copy._ids, copy._errors, copy._offset = self._ids, self._errors, self._offset
        copy.positions = self.positions if positions is None else positions
        copy.fired = self.fired if fired is None else fired
        copy.currency = self.currency if currency is None else currency
        return copy

    @classmethod
    def from_statuses(
        cls,
        ids: list[str | None],
        statuses: list[Status],
        errors: dict[int, InvalidEvent],
        offset: int = 0,
    ) -> BatchResult:
        """A result from parallel lists; ``errors`` maps list positions to errors."""
        result = cls.__new__(cls)
        result._outcomes = None
        result._ids = ids
        result._statuses = statuses
        result._errors = errors
        result._offset = offset
        result.positions = None
        result.fired = ()
        result.currency = None
        return result

    @property
    def outcomes(self) -> tuple[AppendOutcome, ...]:
        """One outcome per event, in input order."""
        if self._outcomes is None:
            offset, errors = self._offset, self._errors
            self._outcomes = tuple(
                AppendOutcome(i + offset, event_id, status, errors.get(i))
                for i, (event_id, status) in enumerate(zip(self._ids, self._statuses, strict=True))
            )
        return self._outcomes

    def statuses(self) -> list[Status]:
        """The status of each event, in input order (cheaper than :attr:`outcomes`)."""
        return self._statuses

    def _count(self, status: Status) -> int:
        return self._statuses.count(status)

    @property
    def accepted(self) -> int:
        """How many events were new and are now stored."""
        return self._count(Status.ACCEPTED)

    @property
    def duplicates(self) -> int:
        """How many events were already stored, identical (a harmless re-send)."""
        return self._count(Status.DUPLICATE)

    @property
    def rejected(self) -> int:
        """How many events were refused; see :attr:`errors`."""
        return self._count(Status.REJECTED)

    @property
    def errors(self) -> list[AppendOutcome]:
        """The rejected outcomes, each with its error."""
        if self._outcomes is None and not self._errors:
            return []
        return [o for o in self.outcomes if o.status is Status.REJECTED]

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return Status.REJECTED not in self._statuses

    def __iter__(self) -> Iterator[AppendOutcome]:
        return iter(self.outcomes)

    def __len__(self) -> int:
        return len(self._statuses)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BatchResult):
            return NotImplemented
        return self.outcomes == other.outcomes

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BatchResult(accepted={self.accepted}, duplicates={self.duplicates}, rejected={self.rejected})"

    def merged(self, other: BatchResult) -> BatchResult:
        """This result followed by ``other`` (indices kept as they are)."""
        return BatchResult(self.outcomes + other.outcomes)


@attrs.frozen
class Classified:
    """What a store should write (``accepted``) and what to report (``result``).

    ``currency`` is the store's currency once ``accepted`` is written: the one
    it had, or the one the first accepted order naming a currency settles.
    """

    accepted: list[Event]
    result: BatchResult
    currency: str | None = None


def classify(
    events: Sequence[Event],
    *,
    stored: Mapping[str, Event],
    owners: Mapping[str, str],
    offset: int = 0,
    currency: str | None = None,
) -> Classified:
    """Classify ``events`` against what a store holds.

    ``stored`` maps the batch's event ids that are already stored to their
    events; ``owners`` maps the batch's request ids already stored to their
    visitor. Events earlier in the batch count as stored for later ones.

    ``currency`` is the store's currency (``None``: not settled yet). An order
    naming another currency is rejected; with none settled, the first order
    of the batch that is accepted and names one settles it for the rest.

    >>> from whoson.testing import make_event
    >>> eur, usd = (make_event("order", id=c, order=c, currency=c) for c in ("EUR", "USD"))
    >>> done = classify([eur, usd], stored={}, owners={})
    >>> done.currency, [o.status.value for o in done.result.outcomes]
    ('EUR', ['accepted', 'rejected'])
    >>> print(done.result.outcomes[1].error)
    event 'USD': field 'currency' = 'USD': must be the store's currency 'EUR': one store holds one currency
    """
    seen: dict[str, Event] = dict(stored)
    owner_of: dict[str, str] = dict(owners)
    accepted: list[Event] = []
    ids: list[str | None] = []
    statuses: list[Status] = []
    errors: dict[int, InvalidEvent] = {}
    for event in events:
        ids.append(event.id)
        previous = seen.get(event.id)
        if previous is not None:
            if previous == event:
                statuses.append(Status.DUPLICATE)
            else:
                errors[len(statuses)] = ConflictError(
                    "id", event.id, "already stored with different content; the stored event is kept",
                    event_id=event.id,
                )
                statuses.append(Status.REJECTED)
            continue
        request_id = event.request_id
        if request_id is not None and event.visitor is not None:
            owner = owner_of.get(request_id)
            if owner is not None and owner != event.visitor:
                errors[len(statuses)] = ConflictError(
                    "visitor", event.visitor,
                    f"request {request_id!r} belongs to visitor {owner!r}",
                    event_id=event.id,
                )
                statuses.append(Status.REJECTED)
                continue
            owner_of.setdefault(request_id, event.visitor)
        if isinstance(event, OrderEvent) and event.currency is not None:
            if currency is None:
                currency = event.currency
            elif event.currency != currency:
                errors[len(statuses)] = InvalidEvent(
                    "currency", event.currency, CURRENCY_RULE.format(currency=currency),
                    event_id=event.id,
                )
                statuses.append(Status.REJECTED)
                continue
        seen[event.id] = event
        accepted.append(event)
        statuses.append(Status.ACCEPTED)
    result = BatchResult.from_statuses(ids, statuses, errors, offset)
    result.currency = currency
    return Classified(accepted, result, currency)
