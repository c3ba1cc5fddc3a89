"""The ``pages`` table: page views, viewers, requests and chat rate per url.

Read from the range's tally like every other section: page views and their
viewers are tallied per in-range ``page_view`` event, requests and
conversations per url as ``top_urls`` finds it (the request's ``url``, else
the visitor's latest page view at or before it).

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "page_view", "ts": "2026-03-02T09:00:00Z", "visitor": "v1", "url": "/a"},
...     {"id": "2", "type": "page_view", "ts": "2026-03-02T09:01:00Z", "visitor": "v2", "url": "/a"},
...     {"id": "3", "type": "request", "ts": "2026-03-02T09:02:00Z", "visitor": "v2",
...      "request": "r1", "channel": "text", "initiator": "visitor"},
... ])
>>> [(p.url, p.page_views, p.visitors, p.requests, p.chat_rate) for p in tracker.report().pages]
[('/a', 2, 2, 1, 0.5)]
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter

import attrs

from whoson.metrics.params import ratio
from whoson.metrics.tally import Tally

__all__ = ["PageRow", "page_rows"]


@attrs.frozen
class PageRow:
    """One url of ``pages``."""

    url: str
    page_views: int
    visitors: int
    requests: int
    conversations: int
    chat_rate: float | None


def page_rows(tally: Tally) -> tuple[PageRow, ...]:
    """Every url with a page view in range, most page views first, ties by url.

    ``chat_rate`` = viewers of the url with an in-range request on it / viewers.
    """
    viewers = tally.multiset("viewers")
    # Distinct (url, visitor) pairs: counting urls counts each url's viewers.
    visitors = Counter(map(itemgetter(0), viewers))  # type: ignore[arg-type]
    # Requesters are few next to viewers: look each one up among the viewers.
    chatted = Counter(pair[0] for pair in tally.multiset("requesters") if pair in viewers)  # type: ignore[index]
    requests = tally.multiset("urls")
    conversations = tally.multiset("conv_urls")
    rows = [
        PageRow(
            url=str(url),
            page_views=views,
            visitors=visitors[url],
            requests=requests.get(url, 0),
            conversations=conversations.get(url, 0),
            chat_rate=ratio(chatted[url], visitors[url]),
        )
        for url, views in tally.multiset("page_views").items()
        if views
    ]
    rows.sort(key=lambda row: (-row.page_views, row.url))
    return tuple(rows)
