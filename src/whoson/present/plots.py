"""matplotlib plots of a report for notebooks (extra ``[plot]``).

Each plot draws into ``ax`` when given (else a new figure's axes) and returns
the Axes. The same figures as the SVG charts, drawn by matplotlib so an
analyst can restyle and combine them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whoson.present.figures import funnel_steps, partial_days
from whoson.present.svg import PALETTE

__all__ = ["PLOTS", "plot"]

PLOTS = ("daily", "hourly", "agents", "ratings", "funnel")


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("report plots need matplotlib: pip install 'whoson[plot]'") from None
    _, created = plt.subplots(figsize=(8, 3.6))
    return created


def plot(report: Mapping[str, Any], name: str, ax: Any = None, currency: str | None = None) -> Any:
    """Draw the plot ``name`` (one of :data:`PLOTS`) of ``report`` (:meth:`Report.to_dict`)."""
    if name not in PLOTS:
        raise ValueError(f"plot {name!r}: no such plot; one of {', '.join(PLOTS)}")
    axes = _axes(ax)
    drawer = {"daily": _daily, "hourly": _hourly, "agents": _agents, "ratings": _ratings,
              "funnel": _funnel}[name]
    drawer(axes, report, currency)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return axes


def _daily(ax: Any, r: Mapping[str, Any], currency: str | None) -> None:
    import numpy as np

    daily = r["trends"]["daily"]
    days = np.array([row["date"] for row in daily], dtype="datetime64[D]")
    partial = partial_days(r)
    for index, key in enumerate(("visitors", "requests", "conversations")):
        values = np.array([row[key] for row in daily], dtype=float)
        whole = np.where(partial, np.nan, values)
        ax.plot(days, whole, marker="o", color=PALETTE[index], label=key)
        if any(partial):
            ax.plot(days, values, linestyle=":", color=PALETTE[index])
            cut = [i for i, flag in enumerate(partial) if flag]
            ax.plot(days[cut], values[cut], linestyle="none", marker="o", markerfacecolor="white",
                    color=PALETTE[index])
    ax.set_title("Visitors, requests and conversations per day"
                 + (" (hollow: partial day)" if any(partial) else ""))
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    import matplotlib.dates

    formatter: Any = matplotlib.dates.DateFormatter
    ax.xaxis.set_major_formatter(formatter("%m-%d"))
    ax.tick_params(axis="x", labelrotation=30)


def _hourly(ax: Any, r: Mapping[str, Any], currency: str | None) -> None:
    hourly = r["trends"]["hourly"]
    hours = [row["hour"] for row in hourly]
    text = [row["text_requests"] for row in hourly]
    video = [row["video_requests"] for row in hourly]
    ax.bar(hours, text, color=PALETTE[0], label="text")
    ax.bar(hours, video, bottom=text, color=PALETTE[1], label="video")
    ax.set_xticks(range(0, 24, 3))
    ax.set_xlabel(f"hour of day ({r['range']['tz']})")
    ax.set_title("Requests by hour of day")
    ax.legend(frameon=False)


def _agents(ax: Any, r: Mapping[str, Any], currency: str | None) -> None:
    agents = list(r["agents"])[:15][::-1]
    ax.barh([a["agent"] for a in agents], [a["conversations"] for a in agents], color=PALETTE[2])
    ax.set_xlabel("conversations")
    ax.set_title("Agents by conversations")


def _ratings(ax: Any, r: Mapping[str, Any], currency: str | None) -> None:
    distribution = r["ratings"]["distribution"]
    ax.bar(list(distribution), list(distribution.values()), color=PALETTE[0])
    ax.set_xlabel("rating")
    ax.set_title(f"Rating distribution ({r['ratings']['count']} ratings)")


def _funnel(ax: Any, r: Mapping[str, Any], currency: str | None) -> None:
    steps = funnel_steps(r)[::-1]
    labels = [label for label, _ in steps]
    values = [value for _, value in steps]
    bars = ax.barh(labels, values, color=PALETTE[0])
    first = steps[-1][1]
    ax.bar_label(bars, labels=[f"{v:,}" + (f" ({v / first:.1%})" if first else "") for v in values],
                 padding=3)
    ax.set_title("Funnel")
    ax.set_xlim(right=max([*values, 1]) * 1.25)
