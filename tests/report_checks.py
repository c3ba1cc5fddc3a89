"""Checks on report dicts shared by the reference self-checks and the property tests.

Each ``check_*`` function asserts one invariant of metrics.md ("Invariants") on a
report in ``to_dict()`` form, whoever computed it; :func:`assert_reports_equal`
compares two reports and names the first differing key path.

>>> assert_reports_equal({"a": [1, 0.1 + 0.2]}, {"a": [1, 0.3]})
>>> assert_reports_equal({"a": {"b": 1}}, {"a": {"b": 2}})
Traceback (most recent call last):
...
AssertionError: a.b: 1 != 2...
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal
from typing import Any

__all__ = [
    "additive_counts",
    "assert_reports_equal",
    "check_agent_orders_add_up",
    "check_click_within_impression",
    "check_conversations_bounded",
    "check_daily_sums",
    "check_distribution_sum",
    "check_rates_in_unit_interval",
    "rate_values",
]

# (daily column, range total path) pairs of additive counts with a daily column.
DAILY_TOTALS = (
    ("requests", ("requests", "total")),
    ("text_requests", ("requests", "text")),
    ("video_requests", ("requests", "video")),
    ("conversations", ("conversations", "total")),
    ("video_conversations", ("conversations", "video")),
    ("attributed_gmv", ("sales", "attributed_gmv")),
)
RATE_KEYS = {
    "visitors": ("widget_ctr",),
    "acceptance": ("agent_initiated_rate", "visitor_request_rate", "auto_invitation_rate"),
    "sales": ("conversion_rate",),
    "ratings": ("csat",),
    "support": ("escalation_rate", "first_contact_resolution_rate", "cart_abandonment_rate"),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def assert_reports_equal(actual: Any, expected: Any, path: str = "") -> None:
    """Equal reports: exact for ints, Decimals, strings and None; floats to 1e-9."""
    where = path or "<root>"
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not a mapping"
        missing, extra = expected.keys() - actual.keys(), actual.keys() - expected.keys()
        assert not missing, f"{where}: missing keys {sorted(missing)}"
        assert not extra, f"{where}: extra keys {sorted(extra)}"
        for key in expected:
            assert_reports_equal(actual[key], expected[key], f"{path}.{key}" if path else str(key))
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not a list"
        assert len(actual) == len(expected), (
            f"{where}: {len(actual)} items != {len(expected)}: {actual!r} != {expected!r}"
        )
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_reports_equal(a, e, f"{path}[{index}]")
    elif isinstance(expected, Decimal) or isinstance(actual, Decimal):
        assert isinstance(actual, Decimal), f"{where}: {actual!r} is not a Decimal"
        assert isinstance(expected, Decimal), f"{where}: {expected!r} is not a Decimal"
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, float) or isinstance(actual, float):
        assert _is_number(actual), f"{where}: {actual!r} != {expected!r}"
        assert _is_number(expected), f"{where}: {actual!r} != {expected!r}"
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9), (
            f"{where}: {actual!r} != {expected!r}"
        )
    else:
        assert type(actual) is type(expected), f"{where}: {actual!r} != {expected!r}"
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def rate_values(report: dict[str, Any]) -> dict[str, float | None]:
    """Every rate of a report, by key path."""
    found = {
        f"{section}.{key}": report[section][key]
        for section, keys in RATE_KEYS.items() for key in keys
    }
    for i, row in enumerate(report["trends"]["daily"]):
        found[f"trends.daily[{i}].widget_ctr"] = row["widget_ctr"]
        found[f"trends.daily[{i}].visitor_request_acceptance_rate"] = (
            row["visitor_request_acceptance_rate"]
        )
    for agent in report["agents"]:
        found[f"agents[{agent['agent']}].initiated_acceptance_rate"] = (
            agent["initiated_acceptance_rate"]
        )
        for row in agent["daily"]:
            found[f"agents[{agent['agent']}].daily[{row['date']}].initiated_acceptance_rate"] = (
                row["initiated_acceptance_rate"]
            )
    return found


def check_rates_in_unit_interval(report: dict[str, Any]) -> None:
    """Every rate is None or a fraction in [0, 1]."""
    for path, value in rate_values(report).items():
        assert value is None or 0 <= value <= 1, f"{path} = {value!r}"


def check_conversations_bounded(report: dict[str, Any]) -> None:
    """conversations.total <= requests.total - pending."""
    requests = report["requests"]
    assert report["conversations"]["total"] <= requests["total"] - requests["pending"]


def check_click_within_impression(report: dict[str, Any]) -> None:
    """with_click <= with_impression."""
    assert report["visitors"]["with_click"] <= report["visitors"]["with_impression"]


def check_distribution_sum(report: dict[str, Any]) -> None:
    """The rating distribution adds up to ratings.count."""
    ratings = report["ratings"]
    assert ratings["count"] == sum(ratings["distribution"].values())


def check_daily_sums(report: dict[str, Any]) -> None:
    """Daily rows add up to the range totals (also hourly, and per agent)."""
    daily = report["trends"]["daily"]
    for column, (section, key) in DAILY_TOTALS:
        zero: Any = Decimal(0) if column == "attributed_gmv" else 0
        assert report[section][key] == sum((row[column] for row in daily), zero), column
    hourly = report["trends"]["hourly"]
    assert list(range(24)) == [row["hour"] for row in hourly]
    assert report["requests"]["text"] == sum(row["text_requests"] for row in hourly)
    assert report["requests"]["video"] == sum(row["video_requests"] for row in hourly)
    dates = [row["date"] for row in daily]
    for agent in report["agents"]:
        assert dates == [row["date"] for row in agent["daily"]], agent["agent"]
        for column in ("initiated_requests", "conversations"):
            assert agent[column] == sum(row[column] for row in agent["daily"]), column


def check_agent_orders_add_up(report: dict[str, Any]) -> None:
    """Agents' attributed orders (and sales) add up to the report's."""
    agents = report["agents"]
    assert report["sales"]["attributed_orders"] == sum(a["attributed_orders"] for a in agents)
    assert report["sales"]["attributed_gmv"] == sum(
        (a["attributed_sales"] for a in agents), Decimal(0)
    )


def additive_counts(report: dict[str, Any]) -> dict[str, Any]:
    """The counts metrics.md calls additive, by key path (nested ones flattened).

    Ranked lists become counters (their pools are small enough never to be cut at 10).
    """
    out: dict[str, Any] = {}

    def flat(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                flat(f"{prefix}.{key}", inner)
        else:
            out[prefix] = value

    requests = dict(report["requests"])
    out["requests.top_urls"] = Counter({r["url"]: r["requests"] for r in requests.pop("top_urls")})
    flat("requests", requests)
    conversations = dict(report["conversations"])
    del conversations["avg_duration_minutes"]
    flat("conversations", conversations)
    for key in ("attributed_orders", "attributed_gmv", "attributed_gmv_by_channel",
                "all_orders", "all_gmv"):
        flat(f"sales.{key}", report["sales"][key])
    flat("ratings.count", report["ratings"]["count"])
    flat("ratings.distribution", report["ratings"]["distribution"])
    auto = report["auto_messages"]
    flat("auto_messages.shown", auto["shown"])
    flat("auto_messages.clicks", auto["clicks"])
    out["auto_messages.top_triggers"] = Counter(
        {r["trigger"]: r["clicks"] for r in auto["top_triggers"]}
    )
    out["auto_messages.top_links"] = Counter(
        {(r["trigger"], r["link"]): r["clicks"] for r in auto["top_links"]}
    )
    flat("support.transfers", report["support"]["transfers"])
    flat("support.escalations", report["support"]["escalations"])
    return out
