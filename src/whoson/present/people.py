"""How a live row reads: who the visitor is, their chat, their signals (text, not yet escaped).

>>> from whoson.live import Signal
>>> class Row:
...     visitor, name, chat, agent = "v1", "Ann", "in_conversation", "bo"
...     signals = (Signal("lingering", "on /pricing for 3m05s"),)
>>> who(Row()), chat(Row()), signals(Row())
('v1 (Ann)', 'in_conversation (bo)', 'lingering: on /pricing for 3m05s')
"""

from __future__ import annotations

from typing import Any

__all__ = ["chat", "facts", "signals", "who"]


def who(row: Any) -> str:
    """The visitor id, with the name ``identify`` gave, if any."""
    return str(row.visitor) if row.name is None else f"{row.visitor} ({row.name})"


def chat(row: Any) -> str:
    """The chat state, with the agent, if any."""
    return str(row.chat) if row.agent is None else f"{row.chat} ({row.agent})"


def signals(row: Any) -> str:
    """Each signal with its reason, ``-`` for none."""
    return "; ".join(f"{s.name}: {s.reason}" for s in row.signals) or "-"


def facts(row: Any, currency: str | None = None) -> list[tuple[str, str]]:
    """A visitor snapshot as labelled facts: page, time, visits, trail, origin, cart, orders,
    chat, signals; money in ``currency``."""
    from whoson.live.signals import format_duration
    from whoson.present.values import show

    on_page = "-" if row.on_page_seconds is None else format_duration(row.on_page_seconds)
    return [
        ("page", row.url or "-"),
        ("on page / on site", f"{on_page} / {format_duration(row.on_site_seconds)}"),
        ("visits", str(row.visits)), ("pages this visit", str(row.pages_viewed)),
        ("trail", " > ".join(step.url for step in row.trail) or "-"),
        ("country / device", f"{row.country or '-'} / {row.device or '-'}"),
        ("referrer", row.referrer or "-"), ("customer", row.customer or "-"),
        ("cart", show(row.cart_value, "money", currency)),
        ("orders / lifetime value", f"{row.orders} / {show(row.lifetime_value, 'money', currency)}"),
        ("chat", chat(row)),
        ("signals", signals(row)),
    ]
