"""The ``pages`` family: page views, viewers, requests and chat rate per url.

The tally keys, what a page view and a request add, and how the table is
read are all here. Page views and their
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

import attrs

from whoson.core.events import PageViewEvent
from whoson.metrics.params import ratio
from whoson.metrics.requests import URLS
from whoson.metrics.tally import Kind, Tally, declare

__all__ = [
    "CONVERSATION_URLS", "PAGE_VIEWS", "REQUESTERS", "VIEWERS", "PageRow", "page_rows", "page_view_into",
    "request_into",
]

PAGE_VIEWS = declare("page_views", Kind.BAG, doc="url -> in-range page views of it")
VIEWERS = declare("viewers", Kind.SET, doc="(url, visitor) pairs of in-range page views")
REQUESTERS = declare("requesters", Kind.SET, doc="(url, visitor) pairs of in-range requests on the url")
CONVERSATION_URLS = declare("conv_urls", Kind.BAG, doc="url -> in-range requests on it that became conversations")

# ------------------------------------------------------------------ contributions


def page_view_into(tally: Tally, event: PageViewEvent, visitor: str) -> None:
    """An in-range page view."""
    tally.put(PAGE_VIEWS, event.url)
    tally.put(VIEWERS, (event.url, visitor))


def request_into(tally: Tally, url: str, visitor: str, conversation: bool) -> None:
    """A request created in range on ``url`` (requests per url are :data:`~whoson.metrics.requests.URLS`)."""
    tally.put(REQUESTERS, (url, visitor))
    if conversation:
        tally.put(CONVERSATION_URLS, url)


# ------------------------------------------------------------------ figures


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
    # Distinct (url, visitor) pairs: counting urls counts each url's viewers. Requesters
    # are few next to viewers: each is looked up among the viewers.
    visitors = tally.distinct_by_first(VIEWERS)
    chatted = tally.common_by_first(REQUESTERS, VIEWERS)
    requests = tally.multiset(URLS)
    conversations = tally.multiset(CONVERSATION_URLS)
    rows = [
        PageRow(
            url=str(url),
            page_views=views,
            visitors=visitors[url],
            requests=requests.get(url, 0),
            conversations=conversations.get(url, 0),
            chat_rate=ratio(chatted[url], visitors[url]),
        )
        for url, views in tally.multiset(PAGE_VIEWS).items()
        if views
    ]
    rows.sort(key=lambda row: (-row.page_views, row.url))
    return tuple(rows)
