"""One chart renderer: small, self-contained inline SVG (no script, no fonts to fetch).

The HTML report file and the web dashboard both draw with these functions,
so a chart looks the same wherever it is shown. Every label is escaped.

>>> svg = bars(["1", "2"], [("ratings", [3, 5])], title="Ratings")
>>> svg.startswith("<svg") and "Ratings" in svg and "<script" not in svg
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from whoson.textsafe import terminal

__all__ = ["PALETTE", "bars", "hbars", "report_charts", "trend"]

PALETTE = ("#2f6fb0", "#e08a2c", "#3a9a6b", "#b04a6f", "#7a62b8", "#8c8c8c")
_FONT = "font-family='system-ui, -apple-system, Segoe UI, Roboto, sans-serif'"
_INK = "#222"
_MUTED = "#6b7280"
_GRID = "#e5e7eb"


def _text(value: str) -> str:
    return escape(terminal(value), quote=True)


def _nice_max(value: float, whole: bool = False) -> float:
    """A round axis top at or above ``value`` (1, 2, 2.5, 5 x 10^n); for counts
    (``whole``) at least 5 and never 2.5 x 10^n, so every tick is a whole number."""
    if whole:
        value = max(value, 5.0)
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in ((1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)):
        top = step * 10**exponent
        if top >= value:
            return float(top)
    return float(10 ** (exponent + 1))  # pragma: no cover - the loop always returns


def _whole(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int) for v in values)


def _tick(value: float) -> str:
    # k, M, B, T: a shop's millions read "2.5M", never "2500k" or "2e+06k".
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _open(width: int, height: int, title: str) -> list[str]:
    label = _text(title)
    return [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
        f"width='100%' role='img' aria-label='{label}' {_FONT} font-size='11'>",
        f"<title>{label}</title>",
        f"<text x='0' y='13' font-size='13' font-weight='600' fill='{_INK}'>{label}</text>",
    ]


def _legend(parts: list[str], names: Sequence[str], x: float, y: float) -> None:
    for index, name in enumerate(names):
        color = PALETTE[index % len(PALETTE)]
        parts.append(f"<rect x='{x:.1f}' y='{y - 8:.1f}' width='10' height='10' rx='2' fill='{color}'/>")
        parts.append(f"<text x='{x + 14:.1f}' y='{y + 1:.1f}' fill='{_INK}'>{_text(name)}</text>")
        x += 24 + 6.5 * len(name)


def _intervals(top: float) -> int:
    """5 or 4 grid intervals, whichever makes a round step (1, 2 or 5 x 10^n):
    500 -> 100s, 200 -> 50s, 10 -> 2s.

    >>> _intervals(500), _intervals(200), _intervals(10), _intervals(2.5)
    (5, 4, 5, 5)
    """
    for count in (5, 4):
        step = top / count
        mantissa = step / 10 ** math.floor(math.log10(step))
        if any(math.isclose(mantissa, nice) for nice in (1, 2, 5)):
            return count
    return 4


def _y_axis(parts: list[str], top: float, left: float, right: float, y0: float, y1: float,
            fmt: str) -> None:
    steps = _intervals(top) if fmt != "rate" else 4
    for i in range(steps + 1):
        value = top * i / steps
        y = y1 - (y1 - y0) * i / steps
        parts.append(f"<line x1='{left}' x2='{right}' y1='{y:.1f}' y2='{y:.1f}' stroke='{_GRID}'/>")
        label = f"{value * 100:g}%" if fmt == "rate" else _tick(value)
        parts.append(f"<text x='{left - 4}' y='{y + 3.5:.1f}' text-anchor='end' fill='{_MUTED}'>{label}</text>")


def trend(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    partial: Sequence[bool] = (),
    fmt: str = "",
    width: int = 480,
    height: int = 200,
) -> str:
    """Lines over days, one per series, on a shared axis starting at 0.

    A partial day (``partial[i]``) is drawn with a dashed segment and a hollow
    point, so an incomplete last day does not read as a collapse. ``None``
    breaks the line. ``fmt="rate"`` labels the axis in percent.

    >>> "stroke-dasharray" in trend(["a", "b"], [("n", [3, 1])], title="t", partial=[False, True])
    True
    """
    left, right, top_y, bottom = 40, width - 8, 38, height - 22
    parts = _open(width, height, title)
    _legend(parts, [name for name, _ in series], left, 30)
    values = [v for _, vs in series for v in vs if v is not None]
    top = _nice_max(max(values, default=0.0), whole=_whole(values) and fmt != "rate")
    _y_axis(parts, top, left, right, top_y, bottom, fmt)
    n = len(categories)
    step = (right - left) / max(n - 1, 1)

    def x_at(i: int) -> float:
        return left + step * i if n > 1 else (left + right) / 2

    def y_at(v: float) -> float:
        return bottom - (bottom - top_y) * (v / top)

    label_every = max(1, math.ceil(n / 8))
    for i, category in enumerate(categories):
        if i % label_every == 0 or i == n - 1:
            anchor = "end" if i == n - 1 and n > 1 else ("start" if i == 0 and n > 1 else "middle")
            parts.append(f"<text x='{x_at(i):.1f}' y='{height - 6}' text-anchor='{anchor}' "
                         f"fill='{_MUTED}'>{_text(category)}</text>")
    flags = list(partial) + [False] * (n - len(partial))
    for index, (name, vs) in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        for i in range(1, n):
            a, b = vs[i - 1], vs[i]
            if a is None or b is None:
                continue
            dash = " stroke-dasharray='4 3'" if flags[i] or flags[i - 1] else ""
            parts.append(f"<line x1='{x_at(i - 1):.1f}' y1='{y_at(a):.1f}' x2='{x_at(i):.1f}' "
                         f"y2='{y_at(b):.1f}' stroke='{color}' stroke-width='2'{dash}/>")
        for i, v in enumerate(vs):
            if v is None:
                continue
            fill = "#fff" if flags[i] else color
            shown = f"{v * 100:.1f}%" if fmt == "rate" else f"{v:g}"
            note = " (partial day)" if flags[i] else ""
            parts.append(f"<circle cx='{x_at(i):.1f}' cy='{y_at(v):.1f}' r='3' fill='{fill}' "
                         f"stroke='{color}' stroke-width='1.5'><title>{_text(name)} "
                         f"{_text(categories[i])}: {shown}{note}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


def bars(
    categories: Sequence[str],
    stacks: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    width: int = 480,
    height: int = 200,
    label_every: int = 1,
) -> str:
    """Vertical bars, stacked when several series are given (hourly requests, ratings).

    >>> svg = bars(["00", "01"], [("text", [2, 0]), ("video", [1, 0])], title="By hour")
    >>> svg.count("<rect") - 2  # two legend swatches, one bar per non-zero value
    2
    """
    left, right, top_y, bottom = 40, width - 8, 38, height - 22
    parts = _open(width, height, title)
    if len(stacks) > 1:
        _legend(parts, [name for name, _ in stacks], left, 30)
    n = len(categories)
    totals = [sum(float(vs[i]) for _, vs in stacks) for i in range(n)]
    top = _nice_max(max(totals, default=0.0), whole=_whole([v for _, vs in stacks for v in vs]))
    _y_axis(parts, top, left, right, top_y, bottom, "")
    slot = (right - left) / max(n, 1)
    bar = max(slot * 0.72, 1.0)
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar) / 2
        base = float(bottom)
        for index, (name, vs) in enumerate(stacks):
            value = float(vs[i])
            if value <= 0:
                continue
            h = (bottom - top_y) * value / top
            base -= h
            color = PALETTE[index % len(PALETTE)]
            parts.append(f"<rect x='{x:.1f}' y='{base:.1f}' width='{bar:.1f}' height='{h:.1f}' "
                         f"fill='{color}'><title>{_text(category)} {_text(name)}: {value:g}"
                         f"</title></rect>")
        if i % label_every == 0:
            parts.append(f"<text x='{x + bar / 2:.1f}' y='{height - 6}' text-anchor='middle' "
                         f"fill='{_MUTED}'>{_text(category)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def hbars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    notes: Sequence[str] = (),
    width: int = 480,
    label_width: int = 120,
    color: str = PALETTE[0],
) -> str:
    """Horizontal bars, one per label, longest = largest (the funnel, the leaderboard).

    ``notes`` (e.g. ``"412 (100%)"``) print after each bar.

    >>> svg = hbars(["seen", "clicked"], [10, 4], title="Funnel", notes=["10", "4 (40%)"])
    >>> "4 (40%)" in svg
    True
    """
    row = 24
    height = 28 + row * len(labels) + 6
    parts = _open(width, height, title)
    top = max((float(v) for v in values), default=0.0) or 1.0
    span = width - label_width - 150
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 26 + row * i
        w = span * float(value) / top
        parts.append(f"<text x='{label_width - 6}' y='{y + 15}' text-anchor='end' "
                     f"fill='{_INK}'>{_text(label)}</text>")
        parts.append(f"<rect x='{label_width}' y='{y + 4}' width='{max(w, 1.0):.1f}' height='{row - 8}' "
                     f"rx='2' fill='{color}'/>")
        note = notes[i] if i < len(notes) else f"{float(value):g}"
        parts.append(f"<text x='{label_width + w + 6:.1f}' y='{y + 15}' fill='{_MUTED}'>"
                     f"{_text(note)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def report_charts(report: dict[str, Any], partial: Sequence[bool] = (),
                  currency: str | None = None) -> dict[str, str]:
    """The report's standard charts, by name: ``daily``, ``conversion``, ``gmv``,
    ``hourly``, ``ratings``, ``funnel``, ``agents``, and ``wait`` where the report has
    ``support.wait`` (missing when they have no data).

    ``report`` is :meth:`Report.to_dict`; ``partial`` marks partly covered days.
    """
    from whoson.present.figures import funnel_steps

    r = report
    charts: dict[str, str] = {}
    daily = r["trends"]["daily"]
    days = [row["date"][5:] for row in daily]
    if daily:
        charts["daily"] = trend(days, [
            ("visitors", [row["visitors"] for row in daily]),
            ("requests", [row["requests"] for row in daily]),
            ("conversations", [row["conversations"] for row in daily]),
        ], title="Visitors, requests and conversations per day", partial=partial)
        charts["gmv"] = trend(days, [
            ("attributed GMV", [float(row["attributed_gmv"]) for row in daily]),
        ], title=f"Attributed GMV per day{f' ({currency})' if currency else ''}", partial=partial)
        charts["conversion"] = trend(days, [
            ("widget CTR", [row["widget_ctr"] for row in daily]),
            ("visitor request acceptance", [row["visitor_request_acceptance_rate"] for row in daily]),
        ], title="Widget CTR and acceptance per day", partial=partial, fmt="rate")
    hourly = r["trends"]["hourly"]
    charts["hourly"] = bars([f"{row['hour']:02d}" for row in hourly], [
        ("text", [row["text_requests"] for row in hourly]),
        ("video", [row["video_requests"] for row in hourly]),
    ], title="Requests by hour of day", label_every=3)
    distribution = r["ratings"]["distribution"]
    charts["ratings"] = bars(list(distribution), [("ratings", list(distribution.values()))],
                             title=f"Rating distribution ({r['ratings']['count']} ratings)")
    steps = funnel_steps(r)
    first = steps[0][1] or 0
    charts["funnel"] = hbars(
        [label for label, _ in steps], [value for _, value in steps], title="Funnel",
        notes=[f"{value:,}" + (f" ({value / first:.1%})" if first else "") for _, value in steps],
        label_width=130,
    )
    wait = r["support"].get("wait")
    if wait and wait.get("requests"):
        seconds = list(wait["answered_within"])
        charts["wait"] = trend([f"{t} s" for t in seconds], [
            ("answered", [wait["answered_within"][t] for t in seconds]),
            ("abandoned", [wait["abandoned_within"].get(t) for t in seconds]),
        ], title="How waiting for an agent ends (share of visitor requests)", fmt="rate")
    agents = r.get("agents", [])[:10]
    if agents:
        charts["agents"] = hbars(
            [a["agent"] for a in agents], [a["conversations"] for a in agents],
            title="Agents by conversations",
            notes=[f"{a['conversations']} conv., {float(a['attributed_sales']):,.0f}"
                   f"{f' {currency}' if currency else ''} sales" for a in agents],
            color=PALETTE[2], label_width=110,
        )
    return charts

