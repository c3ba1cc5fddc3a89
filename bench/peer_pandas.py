"""The core report figures with pandas DataFrame operations, from the log.

Same definitions as :mod:`bench.peer_duckdb` (see its docstring). The log is
read with ``pandas.read_json(lines=True)``; money is turned into exact
integer units of 1/10000 (the JSON reader gives floats), so sums are exact
and converted back to :class:`~decimal.Decimal` at the end.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bench.figures import DAILY_KEYS, Figures, daily_key, scale_values
from bench.measure import repeat

__all__ = ["figures", "load", "run"]

_UNITS = 10_000
_WIDGET = ("widget_impression", "widget_click")


def load(path: str) -> Any:
    """The log as a DataFrame with ``ts`` as UTC datetimes and money in 1/10000 units."""
    import pandas as pd

    df = pd.read_json(path, lines=True, dtype=False)
    df["ts"] = pd.to_datetime(df["ts"], utc=True, format="ISO8601")
    for column in ("subtotal", "discount"):
        if column not in df:
            df[column] = None
    df["value_units"] = ((pd.to_numeric(df["subtotal"]) - pd.to_numeric(df["discount"]).fillna(0)) * _UNITS).round()
    for column in (
        "visitor",
        "request",
        "channel",
        "initiator",
        "sender",
        "participant",
        "order",
        "rating",
    ):
        if column not in df:
            df[column] = None
    return df


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _money(units: float) -> Decimal:
    return Decimal(int(units)) / _UNITS


def _requests(df: Any, as_of: Any, response_timeout: timedelta) -> Any:
    import pandas as pd

    req = df[df["type"] == "request"].sort_values(["ts", "id"])
    req = req.drop_duplicates("request", keep="first")
    req = req[["request", "visitor", "channel", "initiator", "ts"]]
    req = req.rename(columns={"ts": "created"})
    resp = df[df["type"].isin(("message", "call_joined"))]
    side = resp["sender"].fillna(resp["participant"])
    fv = resp[side == "visitor"].groupby("request")["ts"].min().rename("fv")
    fa = resp[side == "agent"].groupby("request")["ts"].min().rename("fa")
    ended = set(df.loc[df["type"] == "request_end", "request"])
    r = req.join(fv, on="request").join(fa, on="request")
    r["fv"] = r["created"].where(r["initiator"] == "visitor", r["fv"])
    r["fa"] = r["created"].where(r["initiator"] == "agent", r["fa"])
    r["conv"] = r["fv"].notna() & r["fa"].notna()
    r["engaged"] = r[["fv", "fa"]].max(axis=1).where(r["conv"])
    r["other"] = r["fa"].notna().where(r["initiator"] == "visitor", r["fv"].notna())
    r["other"] = r["other"].astype(bool)
    young = (as_of - r["created"]) < pd.Timedelta(response_timeout)
    r["pending"] = ~r["conv"] & ~r["request"].isin(ended) & young
    return r


def _attributions(df: Any, r: Any, window: timedelta) -> Any:
    import pandas as pd

    orders = df[df["type"] == "order"].sort_values(["ts", "id"])
    orders = orders.drop_duplicates("order", keep="first")
    orders = orders[["order", "visitor", "ts", "value_units"]]
    conv = r.loc[r["conv"], ["visitor", "request", "engaged", "channel"]]
    pairs = orders.merge(conv, on="visitor")
    pairs = pairs[(pairs["engaged"] <= pairs["ts"]) & (pairs["engaged"] >= pairs["ts"] - pd.Timedelta(window))]
    pairs = pairs.sort_values(["order", "engaged", "request"])
    return pairs.drop_duplicates("order", keep="last")


def figures(
    df: Any,
    *,
    scale: tuple[int, int] = (1, 5),
    attribution_window: timedelta = timedelta(days=7),
    response_timeout: timedelta = timedelta(minutes=10),
) -> Figures:
    """The core figures of the whole log in ``df``, as of its newest event."""
    import pandas as pd

    as_of = df["ts"].max()
    out: Figures = {}
    widget = df[df["type"].isin(_WIDGET)]
    seen = int(widget["visitor"].nunique())
    clicked = int(widget.loc[widget["type"] == "widget_click", "visitor"].nunique())
    out["visitors.with_impression"] = seen
    out["visitors.with_click"] = clicked
    out["visitors.widget_ctr"] = _rate(clicked, seen)

    r = _requests(df, as_of, response_timeout)
    conv = r[r["conv"]]
    out.update(
        {
            "requests.total": len(r),
            "requests.text": int((r["channel"] == "text").sum()),
            "requests.video": int((r["channel"] == "video").sum()),
            "requests.by_initiator.visitor": int((r["initiator"] == "visitor").sum()),
            "requests.by_initiator.agent": int((r["initiator"] == "agent").sum()),
            "requests.by_initiator.auto": int((r["initiator"] == "auto").sum()),
            "requests.pending": int(r["pending"].sum()),
            "requests.unsuccessful": int((~r["pending"] & ~r["conv"]).sum()),
            "conversations.total": len(conv),
            "conversations.text": int((conv["channel"] == "text").sum()),
            "conversations.video": int((conv["channel"] == "video").sum()),
        }
    )
    decided = r[~r["pending"]]
    for initiator, key in (
        ("agent", "agent_initiated_rate"),
        ("visitor", "visitor_request_rate"),
        ("auto", "auto_invitation_rate"),
    ):
        group = decided[decided["initiator"] == initiator]
        out[f"acceptance.{key}"] = _rate(int(group["other"].sum()), len(group))

    att = _attributions(df, r, attribution_window)
    units = int(att["value_units"].sum())
    out["sales.attributed_orders"] = len(att)
    out["sales.attributed_gmv"] = _money(units)
    for channel in ("text", "video"):
        channel_units = att.loc[att["channel"] == channel, "value_units"].sum()
        out[f"sales.attributed_gmv_by_channel.{channel}"] = _money(channel_units)
    out["sales.aov"] = _money(units) / len(att) if len(att) else None

    surveys = df[(df["type"] == "survey") & df["rating"].notna()]
    ratings = surveys["rating"].astype("int64")
    counts = {int(k): int(v) for k, v in ratings.value_counts().items()}
    out["ratings.count"] = len(ratings)
    out["ratings.avg"] = float(ratings.mean()) if len(ratings) else None
    low, high = scale
    for value in scale_values(low, high):
        out[f"ratings.distribution.{value}"] = counts.get(value, 0)
    if (low, high) == (0, 10) and len(ratings):
        promoters = int((ratings >= 9).sum())
        detractors = int((ratings <= 6).sum())
        out["ratings.nps"] = (promoters - detractors) / len(ratings) * 100
    else:
        out["ratings.nps"] = None

    day = df["ts"].dt.date
    days = pd.date_range(day.min(), day.max(), freq="D").date
    with_visitor = df[df["visitor"].notna()]
    visitors = with_visitor.groupby(day[with_visitor.index])["visitor"].nunique()
    widget_day = day[widget.index]
    seen_daily = widget.groupby(widget_day)["visitor"].nunique()
    clicks = widget[widget["type"] == "widget_click"]
    clicked_daily = clicks.groupby(day[clicks.index])["visitor"].nunique()
    r_day = r["created"].dt.date
    vr = r[(r["initiator"] == "visitor") & ~r["pending"]]
    per_request = pd.DataFrame(
        {
            "requests": r.groupby(r_day).size(),
            "text_requests": r[r["channel"] == "text"].groupby(r_day).size(),
            "video_requests": r[r["channel"] == "video"].groupby(r_day).size(),
            "decided": vr.groupby(r_day[vr.index]).size(),
            "accepted": vr[vr["other"]].groupby(r_day[vr.index]).size(),
            "conversations": conv.groupby(r_day[conv.index]).size(),
            "video_conversations": conv[conv["channel"] == "video"].groupby(r_day[conv.index]).size(),
        }
    )
    avg_rating = surveys.assign(r=ratings).groupby(day[surveys.index])["r"].mean()
    gmv_daily = att.groupby(att["ts"].dt.date)["value_units"].sum()
    for d in days:

        def count(name: str, d: Any = d) -> int:
            if d not in per_request.index:
                return 0
            value = per_request.at[d, name]
            return 0 if pd.isna(value) else int(value)

        seen_d = int(seen_daily.get(d, 0))
        decided_d = count("decided")
        avg = avg_rating.get(d)
        row = {
            "visitors": int(visitors.get(d, 0)),
            "widget_ctr": _rate(int(clicked_daily.get(d, 0)), seen_d),
            "requests": count("requests"),
            "text_requests": count("text_requests"),
            "video_requests": count("video_requests"),
            "visitor_request_acceptance_rate": _rate(count("accepted"), decided_d),
            "conversations": count("conversations"),
            "video_conversations": count("video_conversations"),
            "avg_rating": None if avg is None or pd.isna(avg) else float(avg),
            "attributed_gmv": _money(gmv_daily.get(d, 0)),
        }
        for key in DAILY_KEYS:
            out[daily_key(d, key)] = row[key]
    return out


def run(path: str, *, warm_budget: float = 10.0) -> dict[str, Any]:
    """Cold (read the log + compute) and warm (compute again from the DataFrame) times; figures.

    Warm runs repeat up to 3 times within ``warm_budget`` seconds (at least once).
    """
    started = time.perf_counter()
    df = load(path)
    rows = len(df)
    loaded = time.perf_counter()
    result = figures(df)
    cold_done = time.perf_counter()
    warm = repeat(lambda: figures(df), times=3, budget=warm_budget)
    return {
        "rows": rows,
        "load_s": loaded - started,
        "cold_s": cold_done - started,
        "warm_s": warm["median"],
        "warm": warm,
        "figures": result,
    }
