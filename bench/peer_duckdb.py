"""The core report figures in DuckDB SQL, from DuckDB's own table of the log.

:func:`load` reads the JSON Lines log into a table (``read_ndjson``, only the
columns the figures need, money as exact ``DECIMAL``); :func:`figures`
computes the figures from that table with SQL, recomputing everything from
the raw events each time. The definitions are the metrics contract's (see
docs/performance.md, "the peers"):

- a request id created twice: the earliest ``(ts, id)`` creation wins;
- a response is a ``message`` (side = ``sender``) or ``call_joined`` (side =
  ``participant``); the initiator of a visitor or agent request has responded
  by creating it; a conversation has both sides' responses, engaged at the
  later of the two first responses;
- pending = no conversation, no ``request_end``, created less than the
  response timeout before ``as_of`` (the newest event); acceptance rates
  leave pending requests out;
- an order (earliest ``(ts, id)`` per order id, value = subtotal - discount)
  is attributed to its visitor's latest conversation engaged in
  ``[order.ts - 7 days, order.ts]`` (tie: greater request id);
- daily rows per UTC date, from the first to the last event's date.

Event ids are assumed unique (the simulator's logs have no duplicates).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bench.figures import DAILY_KEYS, Figures, daily_key, scale_values
from bench.measure import repeat

__all__ = ["COLUMNS", "connect", "figures", "load", "run"]

# Money as DECIMAL with 4 decimals: exact for every amount the contract allows
# in practice (cents, and 4-decimal prices), summed without floats.
COLUMNS = {
    "id": "VARCHAR",
    "type": "VARCHAR",
    "ts": "TIMESTAMPTZ",
    "visitor": "VARCHAR",
    "request": "VARCHAR",
    "channel": "VARCHAR",
    "initiator": "VARCHAR",
    "sender": "VARCHAR",
    "participant": "VARCHAR",
    "order": "VARCHAR",
    "subtotal": "DECIMAL(18,4)",
    "discount": "DECIMAL(18,4)",
    "rating": "INTEGER",
}

_REQUESTS = """
CREATE OR REPLACE TEMP TABLE ro AS
WITH as_of AS (SELECT max(ts) AS as_of FROM ev),
req AS (
    SELECT request, visitor, channel, initiator, ts AS created
    FROM ev WHERE type = 'request'
    QUALIFY row_number() OVER (PARTITION BY request ORDER BY ts, id) = 1
),
resp AS (
    SELECT request,
           min(ts) FILTER (WHERE coalesce(sender, participant) = 'visitor') AS fv,
           min(ts) FILTER (WHERE coalesce(sender, participant) = 'agent') AS fa
    FROM ev WHERE type IN ('message', 'call_joined')
    GROUP BY request
),
ended AS (SELECT DISTINCT request FROM ev WHERE type = 'request_end'),
r AS (
    SELECT req.*,
           CASE WHEN initiator = 'visitor' THEN created ELSE resp.fv END AS fv,
           CASE WHEN initiator = 'agent' THEN created ELSE resp.fa END AS fa,
           ended.request IS NOT NULL AS is_ended
    FROM req
    LEFT JOIN resp USING (request)
    LEFT JOIN ended USING (request)
)
SELECT r.request, r.visitor, r.channel, r.initiator, r.created,
       (fv IS NOT NULL AND fa IS NOT NULL) AS conv,
       CASE WHEN fv IS NOT NULL AND fa IS NOT NULL THEN greatest(fv, fa) END AS engaged,
       CASE WHEN initiator = 'visitor' THEN fa IS NOT NULL ELSE fv IS NOT NULL END AS other,
       (NOT (fv IS NOT NULL AND fa IS NOT NULL) AND NOT is_ended
        AND as_of.as_of - created < to_microseconds({timeout_us})) AS pending
FROM r, as_of
"""

_ATTRIBUTION = """
CREATE OR REPLACE TEMP TABLE att AS
WITH o AS (
    SELECT "order", visitor, ts, subtotal - coalesce(discount, 0) AS value
    FROM ev WHERE type = 'order'
    QUALIFY row_number() OVER (PARTITION BY "order" ORDER BY ts, id) = 1
)
SELECT o."order", o.ts, o.value, c.channel
FROM o JOIN ro AS c
  ON c.conv AND c.visitor = o.visitor
 AND c.engaged <= o.ts AND c.engaged >= o.ts - to_microseconds({window_us})
QUALIFY row_number() OVER (PARTITION BY o."order" ORDER BY c.engaged DESC, c.request DESC) = 1
"""

_WIDGET = """
SELECT count(DISTINCT visitor) FILTER (WHERE type IN ('widget_impression', 'widget_click')),
       count(DISTINCT visitor) FILTER (WHERE type = 'widget_click')
FROM ev WHERE type IN ('widget_impression', 'widget_click')
"""

_REQUEST_COUNTS = """
SELECT count(*),
       count(*) FILTER (WHERE channel = 'text'),
       count(*) FILTER (WHERE channel = 'video'),
       count(*) FILTER (WHERE initiator = 'visitor'),
       count(*) FILTER (WHERE initiator = 'agent'),
       count(*) FILTER (WHERE initiator = 'auto'),
       count(*) FILTER (WHERE pending),
       count(*) FILTER (WHERE NOT pending AND NOT conv),
       count(*) FILTER (WHERE conv),
       count(*) FILTER (WHERE conv AND channel = 'text'),
       count(*) FILTER (WHERE conv AND channel = 'video')
FROM ro
"""

_ACCEPTANCE = """
SELECT initiator, count(*) FILTER (WHERE other), count(*)
FROM ro WHERE NOT pending GROUP BY initiator
"""

_SALES = """
SELECT count(*), coalesce(sum(value), 0),
       coalesce(sum(value) FILTER (WHERE channel = 'text'), 0),
       coalesce(sum(value) FILTER (WHERE channel = 'video'), 0),
       sum(value) / nullif(count(*), 0)
FROM att
"""

_RATINGS = """
SELECT rating, count(*) FROM ev
WHERE type = 'survey' AND rating IS NOT NULL GROUP BY rating
"""

_DAILY = """
WITH bounds AS (SELECT min(ts)::DATE AS first, max(ts)::DATE AS last FROM ev),
days AS (
    SELECT unnest(generate_series(first::TIMESTAMP, last::TIMESTAMP, INTERVAL 1 DAY))::DATE AS d
    FROM bounds
),
v AS (
    SELECT ts::DATE AS d,
           count(DISTINCT visitor) AS visitors,
           count(DISTINCT visitor) FILTER (WHERE type IN ('widget_impression', 'widget_click'))
               AS seen,
           count(DISTINCT visitor) FILTER (WHERE type = 'widget_click') AS clicked
    FROM ev WHERE visitor IS NOT NULL GROUP BY d
),
rq AS (
    SELECT created::DATE AS d,
           count(*) AS requests,
           count(*) FILTER (WHERE channel = 'text') AS text_requests,
           count(*) FILTER (WHERE channel = 'video') AS video_requests,
           count(*) FILTER (WHERE initiator = 'visitor' AND NOT pending) AS decided,
           count(*) FILTER (WHERE initiator = 'visitor' AND NOT pending AND other) AS accepted,
           count(*) FILTER (WHERE conv) AS conversations,
           count(*) FILTER (WHERE conv AND channel = 'video') AS video_conversations
    FROM ro GROUP BY d
),
sv AS (
    SELECT ts::DATE AS d, avg(rating) AS avg_rating
    FROM ev WHERE type = 'survey' AND rating IS NOT NULL GROUP BY d
),
g AS (SELECT ts::DATE AS d, sum(value) AS gmv FROM att GROUP BY d)
SELECT days.d,
       coalesce(v.visitors, 0),
       CASE WHEN coalesce(v.seen, 0) > 0 THEN v.clicked / v.seen END,
       coalesce(rq.requests, 0),
       coalesce(rq.text_requests, 0),
       coalesce(rq.video_requests, 0),
       CASE WHEN coalesce(rq.decided, 0) > 0 THEN rq.accepted / rq.decided END,
       coalesce(rq.conversations, 0),
       coalesce(rq.video_conversations, 0),
       sv.avg_rating,
       coalesce(g.gmv, 0)
FROM days
LEFT JOIN v USING (d) LEFT JOIN rq USING (d) LEFT JOIN sv USING (d) LEFT JOIN g USING (d)
ORDER BY days.d
"""


def connect(threads: int | None = None) -> Any:
    """A fresh in-memory DuckDB connection reporting in UTC."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con


def load(con: Any, path: str) -> int:
    """Read the log at ``path`` into table ``ev``; return its row count."""
    columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items()) + "}"
    quoted = path.replace("'", "''")
    con.execute(f"CREATE OR REPLACE TABLE ev AS SELECT * FROM read_ndjson('{quoted}', columns = {columns})")
    count: int = con.execute("SELECT count(*) FROM ev").fetchone()[0]
    return count


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def figures(
    con: Any,
    *,
    scale: tuple[int, int] = (1, 5),
    attribution_window: timedelta = timedelta(days=7),
    response_timeout: timedelta = timedelta(minutes=10),
) -> Figures:
    """The core figures of the whole log in table ``ev``, as of its newest event."""
    timeout_us = int(response_timeout / timedelta(microseconds=1))
    window_us = int(attribution_window / timedelta(microseconds=1))
    con.execute(_REQUESTS.format(timeout_us=timeout_us))
    con.execute(_ATTRIBUTION.format(window_us=window_us))
    out: Figures = {}
    seen, clicked = con.execute(_WIDGET).fetchone()
    out["visitors.with_impression"] = seen
    out["visitors.with_click"] = clicked
    out["visitors.widget_ctr"] = _rate(clicked, seen)
    (
        total,
        text,
        video,
        by_visitor,
        by_agent,
        by_auto,
        pending,
        unsuccessful,
        conversations,
        conv_text,
        conv_video,
    ) = con.execute(_REQUEST_COUNTS).fetchone()
    out.update(
        {
            "requests.total": total,
            "requests.text": text,
            "requests.video": video,
            "requests.by_initiator.visitor": by_visitor,
            "requests.by_initiator.agent": by_agent,
            "requests.by_initiator.auto": by_auto,
            "requests.pending": pending,
            "requests.unsuccessful": unsuccessful,
            "conversations.total": conversations,
            "conversations.text": conv_text,
            "conversations.video": conv_video,
        }
    )
    accepted = {row[0]: _rate(row[1], row[2]) for row in con.execute(_ACCEPTANCE).fetchall()}
    out["acceptance.agent_initiated_rate"] = accepted.get("agent")
    out["acceptance.visitor_request_rate"] = accepted.get("visitor")
    out["acceptance.auto_invitation_rate"] = accepted.get("auto")
    orders, gmv, gmv_text, gmv_video, aov = con.execute(_SALES).fetchone()
    out["sales.attributed_orders"] = orders
    out["sales.attributed_gmv"] = Decimal(gmv)
    out["sales.attributed_gmv_by_channel.text"] = Decimal(gmv_text)
    out["sales.attributed_gmv_by_channel.video"] = Decimal(gmv_video)
    out["sales.aov"] = Decimal(str(aov)) if aov is not None else None
    counts = dict(con.execute(_RATINGS).fetchall())
    low, high = scale
    ratings = sum(counts.values())
    out["ratings.count"] = ratings
    out["ratings.avg"] = sum(value * n for value, n in counts.items()) / ratings if ratings else None
    for value in scale_values(low, high):
        out[f"ratings.distribution.{value}"] = counts.get(value, 0)
    if (low, high) == (0, 10) and ratings:
        promoters = sum(n for value, n in counts.items() if value >= 9)
        detractors = sum(n for value, n in counts.items() if value <= 6)
        out["ratings.nps"] = (promoters - detractors) / ratings * 100
    else:
        out["ratings.nps"] = None
    for row in con.execute(_DAILY).fetchall():
        day: date = row[0]
        values = list(row[1:])
        values[-1] = Decimal(values[-1])
        for key, value in zip(DAILY_KEYS, values, strict=True):
            out[daily_key(day, key)] = value
    con.execute("DROP TABLE IF EXISTS ro; DROP TABLE IF EXISTS att")
    return out


def run(path: str, *, warm_budget: float = 10.0) -> dict[str, Any]:
    """Cold (read the log + compute) and warm (compute again from the table) times; figures.

    Warm runs repeat up to 3 times within ``warm_budget`` seconds (at least once).
    """
    con = connect()
    started = time.perf_counter()
    rows = load(con, path)
    loaded = time.perf_counter()
    result = figures(con)
    cold_done = time.perf_counter()
    warm = repeat(lambda: figures(con), times=3, budget=warm_budget)
    con.close()
    return {
        "rows": rows,
        "load_s": loaded - started,
        "cold_s": cold_done - started,
        "warm_s": warm["median"],
        "warm": warm,
        "figures": result,
    }
