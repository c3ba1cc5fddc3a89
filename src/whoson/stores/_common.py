"""Pieces every store backend shares: checking read arguments, strict batches.

>>> q = ReadQuery.check(after=0, start=None, end=None, visitor=None, types=["order"],
...                     limit=None, order="time")
>>> q.types, q.order
(frozenset({'order'}), 'time')
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

import attrs

from whoson.core.batch import AppendOutcome, BatchResult, Status
from whoson.core.errors import ConfigError, InvalidEvent
from whoson.core.events import EVENT_TYPES, Event
from whoson.stores.base import Order, StoreSettings

__all__ = ["STRICT_RULE", "ReadQuery", "check_checkpoint", "check_settings_change", "strict_result"]

STRICT_RULE = "not written: strict batch with a rejected event at index {index}"


@attrs.frozen
class ReadQuery:
    """Validated arguments of :meth:`~whoson.stores.base.Store.read`."""

    after: int
    start: datetime | None
    end: datetime | None
    visitor: str | None
    types: frozenset[str] | None
    limit: int | None
    order: Order

    @classmethod
    def check(
        cls,
        *,
        after: int,
        start: datetime | None,
        end: datetime | None,
        visitor: str | None,
        types: Collection[str] | None,
        limit: int | None,
        order: Order,
    ) -> ReadQuery:
        """Refuse, with ``ValueError``, arguments that would silently read the wrong thing."""
        for name, moment in (("start", start), ("end", end)):
            if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
                raise ValueError(f"{name}={moment.isoformat()} must be timezone-aware")
        if isinstance(types, str):
            raise ValueError(f"types must be a collection of type names, not the string {types!r}")
        kinds = None if types is None else frozenset(types)
        if kinds is not None and not kinds <= EVENT_TYPES.keys():
            unknown = ", ".join(sorted(map(repr, kinds - EVENT_TYPES.keys())))
            raise ValueError(f"unknown event type(s) {unknown}; known: {', '.join(EVENT_TYPES)}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit={limit} must be >= 0")
        if order not in ("position", "time"):
            raise ValueError(f"order={order!r} must be 'position' or 'time'")
        return cls(max(after, 0), start, end, visitor, kinds, limit, order)

    @property
    def empty(self) -> bool:
        """True when no event can match (an empty type set, a zero limit, end <= start)."""
        if self.limit == 0 or self.types == frozenset():
            return True
        return self.start is not None and self.end is not None and self.end <= self.start

    def matches(self, event: Event) -> bool:
        """Whether ``event`` passes the time, visitor and type filters (not ``after``)."""
        if self.start is not None and event.ts < self.start:
            return False
        if self.end is not None and event.ts >= self.end:
            return False
        if self.visitor is not None and event.visitor != self.visitor:
            return False
        return self.types is None or event.TYPE in self.types


def strict_result(result: BatchResult) -> BatchResult:
    """The result of a strict batch that was not written because something was rejected.

    Events that would have been accepted are reported as rejected too, naming
    the first rejected index, so ``accepted`` always counts what was stored.
    Duplicates stay duplicates: they were, and remain, stored.
    """
    first = next(o.index for o in result.outcomes if o.status is Status.REJECTED)
    rule = STRICT_RULE.format(index=first)
    return BatchResult(
        tuple(
            AppendOutcome(o.index, o.event_id, Status.REJECTED,
                    InvalidEvent("batch", first, rule, event_id=o.event_id))
            if o.status is Status.ACCEPTED else o
            for o in result.outcomes
        )
    )


def check_settings_change(
    current: StoreSettings,
    new: StoreSettings,
    stored: int,
    order_currencies: Callable[[], Collection[str]],
) -> None:
    """Raise ConfigError when ``stored`` events were validated with other settings.

    One change is allowed with events stored: fixing the currency of a store
    that had none, as long as no stored order names another currency
    (``order_currencies()`` gives those the stored orders name).
    """
    if not stored or new == current:
        return
    if new.rating_scale == current.rating_scale and current.currency is None:
        others = set(order_currencies()) - {new.currency}
        if not others:
            return
        raise ConfigError(
            f"cannot fix the store's currency to {new.currency!r}: stored orders are in "
            + ", ".join(sorted(others))
        )
    raise ConfigError(
        f"the store holds {stored} events validated with currency={current.currency!r}, "
        f"rating scale {current.rating_scale}; cannot switch to currency={new.currency!r}, "
        f"rating scale {new.rating_scale}"
    )


def check_checkpoint(name: str, version: str, position: int, blob: bytes) -> None:
    """Refuse, with ``TypeError``/``ValueError``, checkpoint arguments a store would misfile.

    >>> check_checkpoint("tracker", "v1", -1, b"")
    Traceback (most recent call last):
    ...
    ValueError: checkpoint position -1 must be >= 0
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"checkpoint name {name!r} must be a non-empty string")
    if not isinstance(version, str):
        raise TypeError(f"checkpoint version must be a string, not {type(version).__name__}")
    if isinstance(position, bool) or not isinstance(position, int):
        raise TypeError(f"checkpoint position must be an int, not {type(position).__name__}")
    if position < 0:
        raise ValueError(f"checkpoint position {position} must be >= 0")
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise TypeError(f"checkpoint blob must be bytes, not {type(blob).__name__}")
    if "\x00" in name or "\x00" in version:
        raise ValueError("NUL characters are not allowed in a checkpoint's name or version")
    (name + version).encode("utf-8")
