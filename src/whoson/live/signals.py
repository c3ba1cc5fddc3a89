"""Signals: why an agent might want to approach a visitor right now.

Each signal comes with a reason an agent can read at a glance, and each
time-based one with the instant it will turn on if nothing else happens (the
rules engine schedules its re-evaluation there).

>>> format_duration(185), format_duration(42.9), format_duration(3725)
('3m05s', '42s', '1h02m')
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from decimal import Decimal

from whoson.live.config import LiveConfig
from whoson.live.snapshot import Signal

__all__ = ["SIGNALS", "compute_signals", "format_duration"]

SIGNALS = ("lingering", "revisiting", "stuck_on_checkout", "cart_at_risk", "waiting")
"""Every signal name, in the order rows list them."""


@functools.lru_cache(maxsize=65536)
def _classify(config: LiveConfig, url: str) -> tuple[timedelta, bool]:
    return config.lingering_for(url), config.is_checkout(url)


def format_duration(seconds: float) -> str:
    """Whole seconds as ``45s``, ``3m05s`` or ``1h02m`` (rounded down)."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def compute_signals(
    config: LiveConfig,
    *,
    now: datetime,
    url: str | None,
    page_opened: datetime | None,
    page_end: datetime | None,
    page_visits: int,
    session_started: datetime,
    cart_value: Decimal,
    session_orders: int,
    waiting_since: datetime | None,
) -> tuple[tuple[Signal, ...], dict[str, datetime]]:
    """The signals on at ``now``, and when each off time-based one turns on.

    ``page_end`` is when the current page stopped counting (its leave), or
    ``None`` while it is open; ``waiting_since`` is the start of the oldest
    wait for an agent. O(1) per url already seen (its pattern matches are cached).

    >>> from datetime import UTC
    >>> t0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
    >>> signals, due = compute_signals(
    ...     LiveConfig(), now=t0 + timedelta(seconds=185), url="/pricing", page_opened=t0,
    ...     page_end=None, page_visits=1, session_started=t0, cart_value=Decimal(0),
    ...     session_orders=0, waiting_since=None)
    >>> [s.to_dict() for s in signals]
    [{'name': 'lingering', 'reason': 'on /pricing for 3m05s'}]
    >>> due
    {}
    """
    signals: list[Signal] = []
    due: dict[str, datetime] = {}
    on_page: timedelta | None = None
    if url is not None and page_opened is not None:
        end = now if page_end is None else min(now, page_end)
        on_page = max(timedelta(0), end - page_opened)
        threshold, checkout = _classify(config, url)
        if on_page >= threshold:
            seconds = format_duration(on_page.total_seconds())
            signals.append(Signal("lingering", f"on {url} for {seconds}"))
        elif page_end is None:
            due["lingering"] = page_opened + threshold
        revisits = page_visits >= config.revisit_threshold
        if revisits:
            reason = f"opened {url} {page_visits} times this visit"
            signals.append(Signal("revisiting", reason))
        if checkout:
            if on_page >= config.stuck_on_checkout:
                seconds = format_duration(on_page.total_seconds())
                signals.append(Signal("stuck_on_checkout", f"on checkout page {url} for {seconds}"))
            elif revisits:
                signals.append(Signal(
                    "stuck_on_checkout",
                    f"opened checkout page {url} {page_visits} times this visit",
                ))
            elif page_end is None:
                due["stuck_on_checkout"] = page_opened + config.stuck_on_checkout
    if cart_value > 0 and session_orders == 0:
        on_site = now - session_started
        if on_site >= config.cart_at_risk:
            signals.append(Signal(
                "cart_at_risk",
                f"{cart_value} in cart after {format_duration(on_site.total_seconds())}"
                " on site, no order",
            ))
        else:
            due["cart_at_risk"] = session_started + config.cart_at_risk
    if waiting_since is not None:
        wait = max(0.0, (now - waiting_since).total_seconds())
        signals.append(Signal("waiting", f"waiting {format_duration(wait)} for an agent", wait))
    return tuple(signals), due
