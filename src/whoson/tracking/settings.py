"""A tracker's settings: checked when configured, reconciled with the store's, written back.

The settings events are validated with (:class:`~whoson.core.settings.ParseContext`)
are the tracker's currency, converter and rating scale. A store remembers the
currency and the rating scale it was filled with; a tracker over it adopts
them, and refuses settings that contradict events already stored.

>>> from whoson.stores.memory import MemoryStore
>>> store = MemoryStore()
>>> settle(store, configure(currency="EUR", converter=None, rating_scale="0..10")).currency
'EUR'
>>> str(store.settings.rating_scale)
'0..10'
"""

from __future__ import annotations

import re

import attrs

from whoson.core.errors import ConfigError
from whoson.core.events import Event, OrderEvent
from whoson.core.settings import CurrencyConverter, ParseContext, RatingScale
from whoson.stores.base import Store, StoreSettings

__all__ = ["adopt_currency", "configure", "settle"]

_ISO_4217 = re.compile(r"[A-Z]{3}")


def configure(
    *, currency: str | None, converter: CurrencyConverter | None, rating_scale: RatingScale | str
) -> ParseContext:
    """The settings as configured, checked (an ISO 4217 code, a valid scale)."""
    scale = RatingScale.parse(rating_scale) if isinstance(rating_scale, str) else rating_scale
    if currency is not None and not _ISO_4217.fullmatch(currency):
        raise ConfigError(f"currency {currency!r} must be an ISO 4217 code such as 'EUR'")
    return ParseContext(rating_scale=scale, currency=currency, converter=converter)


def settle(store: Store, ctx: ParseContext) -> ParseContext:
    """Reconcile ``ctx`` with the settings saved with ``store``, and save the result.

    A store that holds events keeps its rating scale (a configured default
    scale gives way; another one is an error) and its currency; an empty
    store takes the configured ones. O(1) reads, one write when they change.
    """
    saved = store.settings
    has_events = len(store) > 0
    if has_events and saved.rating_scale != ctx.rating_scale:
        if ctx.rating_scale != RatingScale():
            raise ConfigError(
                f"the store was filled with rating scale {saved.rating_scale}, "
                f"not {ctx.rating_scale}"
            )
        ctx = attrs.evolve(ctx, rating_scale=saved.rating_scale)
    if saved.currency is not None and ctx.currency is None:
        ctx = attrs.evolve(ctx, currency=saved.currency)
    elif has_events and saved.currency not in (None, ctx.currency):
        raise ConfigError(f"the store's currency is {saved.currency}, not {ctx.currency}")
    wanted = StoreSettings(currency=ctx.currency, rating_scale=ctx.rating_scale)
    if wanted != saved:
        store.save_settings(wanted)
    return ctx


def adopt_currency(ctx: ParseContext, event: Event) -> ParseContext:
    """An order the store accepted names the store's currency: the tracker's from now on."""
    if isinstance(event, OrderEvent) and event.currency is not None and ctx.currency is None:
        return attrs.evolve(ctx, currency=event.currency)
    return ctx
