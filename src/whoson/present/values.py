"""What a figure is (a rate, money, a duration, a count...) and how it reads.

One place decides, from a figure's dotted key, what kind of value it holds;
frames use it for dtypes, the text, Markdown and HTML renderers to format it.

>>> kind_of("visitors.widget_ctr"), kind_of("sales.attributed_gmv"), kind_of("daily.date")
('rate', 'money', 'date')
>>> show(0.0788, "rate"), show(1808.42, "money", "EUR"), show(61.5, "seconds"), show(None, "rate")
('7.9%', '1,808.42 EUR', '1m02s', '-')
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["KINDS", "kind_of", "show", "show_change"]

KINDS = ("rate", "money", "seconds", "minutes", "float", "count", "date", "instant", "text", "flag")

_MONEY = frozenset({
    "attributed_gmv", "attributed_sales", "all_gmv", "aov", "all_aov", "sales_per_conversation",
    "cost_per_contact", "incremental_gmv", "invited_gmv_per_visitor", "held_out_gmv_per_visitor",
    "cart_value", "lifetime_value", "order_value",
})
_RATE = frozenset({"widget_ctr", "csat", "lift", "share"})
_RATE_PARENTS = frozenset({"answered_within", "abandoned_within", "lift_ci95"})
_SECONDS_PARENTS = frozenset({"first_response"})
_FLOAT = frozenset({"avg", "avg_rating", "nps", "ratio", "delta", "previous", "current", "rating_avg"})
_DATE = frozenset({"date"})
_INSTANT = frozenset({"ts", "as_of", "start", "end", "since", "started", "ended", "last_seen",
                      "session_started", "at"})
_COUNT_HINTS = frozenset({"hour", "rating", "visits", "pages_viewed", "page_visits", "orders"})


def kind_of(key: str) -> str:
    """The kind of the figure at dotted ``key`` (the last part decides, its parent may).

    >>> kind_of("support.first_response.p90"), kind_of("agents.avg_handle_minutes")
    ('seconds', 'minutes')
    >>> kind_of("sales.attributed_gmv_by_channel.video"), kind_of("breakdown.value")
    ('money', 'text')
    """
    parts = key.split(".")
    last = parts[-1]
    parents = set(parts[:-1])
    if last in _MONEY or last.endswith("_gmv") or "attributed_gmv_by_channel" in parents:
        return "money"
    if last in _RATE or last.endswith("_rate") or parents & _RATE_PARENTS:
        return "rate"
    if last.endswith("_seconds") or last == "first_response_avg" or parents & _SECONDS_PARENTS:
        return "seconds"
    if last.endswith("_minutes"):
        return "minutes"
    if last in _FLOAT:
        return "float"
    if last in _DATE:
        return "date"
    if last in _INSTANT:
        return "instant"
    if last in _COUNT_HINTS:
        return "count"
    return "text" if last in ("value", "url", "agent", "visitor", "trigger", "link", "feedback",
                              "key", "tz") else "count"


def show(value: Any, kind: str, currency: str | None = None) -> str:
    """``value`` as a person reads it: rates in percent, money with 2 decimals and
    its currency, durations as ``1m02s`` or minutes, ``-`` for null.

    >>> show(Decimal("3.5"), "money"), show(7.25, "minutes"), show(3, "count"), show(True, "flag")
    ('3.50', '7.2 min', '3', 'yes')
    >>> show(datetime(2026, 3, 1, 12, 5, 9), "instant"), show(1234567, "count")
    ('2026-03-01 12:05', '1,234,567')
    """
    if value is None:
        return "-"
    if kind == "rate":
        return f"{float(value) * 100:.1f}%"
    if kind == "money":
        amount = f"{Decimal(str(value)):,.2f}"
        return f"{amount} {currency}" if currency else amount
    if kind == "seconds":
        seconds = round(float(value))
        if seconds >= 3600:
            return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
        return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
    if kind == "minutes":
        return f"{float(value):.1f} min"
    if kind == "flag" or isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (float, Decimal)):
        return f"{float(value):,.2f}"
    return str(value)


def show_change(change: dict[str, Any] | None, kind: str) -> str:
    """A ``change`` entry as a short note: ``+12 (+8.1%)``, ``+2.5 pts`` for rates.

    >>> show_change({"previous": 10, "current": 12, "delta": 2, "ratio": 1.2}, "count")
    '+2 (+20.0%)'
    >>> show_change({"previous": 0.5, "current": 0.55, "delta": 0.05, "ratio": 1.1}, "rate")
    '+5.0 pts'
    >>> show_change({"previous": 0, "current": 3, "delta": 3, "ratio": None}, "count")
    '+3 (new)'
    >>> show_change({"previous": None, "current": 3, "delta": None, "ratio": None}, "count")
    'no previous figure'
    >>> show_change({"previous": None, "current": None, "delta": None, "ratio": None}, "rate")
    ''
    """
    if not change or change.get("current") is None:
        return ""
    delta = change.get("delta")
    if delta is None:
        return "no previous figure"
    number = float(delta)
    sign = "+" if number > 0 else ("-" if number < 0 else "\u00b1")
    if kind == "rate":
        return f"{sign}{abs(number) * 100:.1f} pts"
    if not number:
        return "\u00b10"
    whole = kind in ("count", "text") or (isinstance(delta, int) and kind not in ("seconds", "minutes"))
    magnitude = show(abs(int(number)), "count") if whole else show(abs(number), kind)
    ratio = change.get("ratio")
    if ratio is None:
        return f"{sign}{magnitude} (new)" if number else f"{sign}{magnitude}"
    return f"{sign}{magnitude} ({(float(ratio) - 1) * 100:+.1f}%)"
