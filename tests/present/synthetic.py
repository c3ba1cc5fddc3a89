"""Report key trees shaped per analysis.md and experiments.md, for sections other
branches add (breakdown, pages, previous/change, experiments, support.wait).

These are test inputs, written out by hand from the spec's shapes, so the
renderers can be checked before those sections exist in the engine.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

BREAKDOWN = [
    {"value": "DE", "visitors": 4, "with_impression": 3, "with_click": 1, "widget_ctr": 1 / 3,
     "requests": 2, "conversations": 1, "visitor_request_rate": 0.5, "attributed_orders": 1,
     "attributed_gmv": Decimal("49.90"), "conversion_rate": 1.0},
    {"value": "(none)", "visitors": 1, "with_impression": 0, "with_click": 0, "widget_ctr": None,
     "requests": 0, "conversations": 0, "visitor_request_rate": None, "attributed_orders": 0,
     "attributed_gmv": Decimal("0"), "conversion_rate": None},
]
PAGES = [
    {"url": "/checkout", "page_views": 7, "visitors": 5, "requests": 2, "conversations": 1, "chat_rate": 0.4},
    {"url": "/<b>odd</b>", "page_views": 1, "visitors": 1, "requests": 0, "conversations": 0, "chat_rate": 0.0},
]
EXPERIMENTS = [
    {"trigger": "cart-rescue", "invited": 40, "held_out": 10, "invited_converted": 8, "held_out_converted": 1,
     "invited_conversion_rate": 0.2, "held_out_conversion_rate": 0.1, "lift": 0.1,
     "lift_ci95": [-0.12, 0.25], "invited_gmv_per_visitor": Decimal("12.50"),
     "held_out_gmv_per_visitor": Decimal("5.00"), "incremental_gmv": Decimal("300.00")},
]
# The key figures the HTML report puts on cards, in order.
KEY_FIGURES = ["visitors.total", "visitors.widget_ctr", "requests.total", "conversations.total",
               "sales.attributed_gmv", "sales.conversion_rate", "ratings.csat", "support.first_response.median"]
WAIT = {"requests": 10, "answered": 7, "abandoned": 2, "still_waiting": 1,
        "answered_within": {"15": 0.2, "30": 0.4, "60": 0.6, "120": 0.7, "300": 0.7},
        "abandoned_within": {"15": 0.0, "30": 0.1, "60": 0.1, "120": 0.2, "300": 0.2},
        "median_answer_seconds": 45.0}


def chart_count(tree: Mapping[str, Any]) -> int:
    """How many charts the report shows, counted from the spec: hourly, ratings and the funnel
    always; three daily trends when there are days; the leaderboard with agents; the wait
    curves when ``support.wait`` has visitor requests."""
    wait = tree["support"].get("wait")
    return (3 + (3 if tree["trends"]["daily"] else 0) + (1 if tree["agents"] else 0)
            + (1 if wait and wait["requests"] else 0))


def numeric_leaves(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every numeric (or null) leaf outside lists, dotted from the root, ``range`` excluded."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if not prefix and key in ("range", "previous", "change"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(numeric_leaves(value, f"{name}."))
        elif value is None or (isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)):
            out[name] = value
    return out


def compared(current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """``current`` with ``previous`` and ``change`` as analysis.md shapes them."""
    now, before = numeric_leaves(current), numeric_leaves(previous)
    change = {}
    for key, y in now.items():
        x = before.get(key)
        delta = None if x is None or y is None else y - x
        ratio = None if delta is None or x == 0 else y / x
        change[key] = {"previous": x, "current": y, "delta": delta, "ratio": ratio}
    return {**copy.deepcopy(dict(current)), "previous": copy.deepcopy(dict(previous)), "change": change}


def extended(tree: Mapping[str, Any]) -> dict[str, Any]:
    """``tree`` with a breakdown, pages, experiments and support.wait added."""
    out = copy.deepcopy(dict(tree))
    out["breakdown"] = copy.deepcopy(BREAKDOWN)
    out["pages"] = copy.deepcopy(PAGES)
    out["experiments"] = copy.deepcopy(EXPERIMENTS)
    out["support"]["wait"] = copy.deepcopy(WAIT)
    return out
