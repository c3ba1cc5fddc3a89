"""The collector: what ``POST {prefix}/collect`` does, independent of any web framework.

A request goes through :meth:`Collector.screen` (origin, content type, size,
address rate: answered before the body is read), then :meth:`Collector.prepare`
(JSON, batch shape, visitor rate, bots, the browser's allowlist, server time),
then the :class:`Writer` thread stores the batch, and :meth:`Collector.finish`
builds the 202 reply. The ASGI app and the WSGI recipe both drive these steps.

>>> from datetime import datetime, UTC
>>> from whoson import Tracker
>>> from whoson.web.config import WebConfig
>>> collector = Collector(Tracker(), WebConfig())
>>> now = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
>>> step = collector.prepare(
...     b'{"visitor": "v1", "events": [{"id": "a", "type": "page_view", "url": "/", "age_ms": 10000},'
...     b' {"id": "b", "type": "order", "order": "o1", "subtotal": 9, "age_ms": 0}]}',
...     {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"}, "127.0.0.1", now)
>>> step.events[0]["ts"], step.rejected
('2026-03-01T12:00:00Z', [{'index': 1, 'field': 'type', 'rule': 'not accepted from a browser'}])
"""

from __future__ import annotations

import math
import queue
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from whoson.codec import JSONError, dumps, loads
from whoson.core.batch import BatchResult, Status
from whoson.core.errors import WhosonError
from whoson.core.time import format_ts
from whoson.tracker import Tracker
from whoson.web.config import MAX_AGE_MS, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, WebConfig
from whoson.web.enrich import Enricher, bot_reason, client_address, device

__all__ = [
    "BROWSER_TYPES",
    "Collector",
    "Counters",
    "Prepared",
    "RateLimiter",
    "Reply",
    "Writer",
    "scrub_url",
]

# What a browser may send, and for the chat types the one role it may claim.
BROWSER_TYPES = frozenset({
    "page_view", "heartbeat", "page_leave", "widget_impression", "widget_click",
    "auto_message_click", "request", "message", "call_joined", "survey", "request_end",
})
_ROLES = {
    "request": ("initiator", "visitor"),
    "message": ("sender", "visitor"),
    "call_joined": ("participant", "visitor"),
    "request_end": ("reason", "cancelled"),
}
NOT_FROM_BROWSER = "not accepted from a browser"
# Fields the server sets (or drops): a browser's value never reaches the store.
_SERVER_FIELDS = ("ts", "age_ms", "device", "country", "user_agent", "automation")
# Fields the tag adds besides the contract's; anything else unknown is dropped.
_TAG_FIELDS = frozenset({"tab", "pageview"})
_CONTRACT_FIELDS = frozenset({
    "id", "type", "visitor", "url", "title", "referrer", "session", "source", "trigger", "link",
    "request", "channel", "initiator", "agent", "offline", "department", "sender", "chars", "text",
    "participant", "reason", "resolved", "rating", "submitted", "feedback",
})
_CONTENT_TYPES = ("text/plain", "application/json")
VISITOR_COOKIE = "whoson_vid"
# Marks an event the tag sent before (a retry); the writer gives it the stored event's time.
RETRY = "_retry"


@attrs.frozen
class Reply:
    """An HTTP answer: status, JSON body (or one text line) and extra headers."""

    status: int
    body: Mapping[str, Any] | str
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def encode(self) -> tuple[bytes, str]:
        """The body's bytes and content type."""
        if isinstance(self.body, str):
            return (self.body.rstrip("\n") + "\n").encode(), "text/plain; charset=utf-8"
        return dumps(self.body).encode(), "application/json"


class Counters:
    """Thread-safe tallies of what the collector did, served as JSON at ``{prefix}/stats``.

    >>> counters = Counters()
    >>> counters.add(accepted=2)
    >>> counters.drop("bot", 3)
    >>> counters.snapshot()["accepted"], counters.snapshot()["dropped"]
    (2, {'bot': 3})
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = {"batches": 0, "accepted": 0, "duplicate": 0, "rejected": 0}
        self._dropped: dict[str, int] = {}
        self._refused: dict[str, int] = {}

    def add(self, **amounts: int) -> None:
        """Add to the event/batch totals (``accepted``, ``duplicate``, ``rejected``, ``batches``)."""
        with self._lock:
            for key, amount in amounts.items():
                self._totals[key] += amount

    def drop(self, reason: str, events: int) -> None:
        """Count events dropped without an error to the sender (bots)."""
        with self._lock:
            self._dropped[reason] = self._dropped.get(reason, 0) + events

    def refuse(self, status: int) -> None:
        """Count a request answered with an error status."""
        with self._lock:
            key = str(status)
            self._refused[key] = self._refused.get(key, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        """``{"batches", "accepted", "duplicate", "rejected", "dropped": {reason: n},
        "refused": {status: requests}}``."""
        with self._lock:
            return {**self._totals, "dropped": dict(self._dropped), "refused": dict(self._refused)}


class RateLimiter:
    """Token buckets per key (client address or visitor), least recently used evicted.

    >>> limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: 100.0)
    >>> [limiter.take("a") for _ in range(3)]
    [0.0, 0.0, 1.0]
    """

    def __init__(
        self, rate: float, burst: int, *, keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._keys = keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self._keys:
                self._buckets.popitem(last=False)
            return wait


def scrub_url(url: str, allowlist: Sequence[str]) -> str:
    """Drop query parameters not in ``allowlist`` (globs) and a fragment that is not a route.

    >>> scrub_url("/shoes?utm_source=mail&email=a@b.c#/cart", ("utm_*",))
    '/shoes?utm_source=mail#/cart'
    >>> scrub_url("https://other.example/p?q=1#access_token=x", ("utm_*",))
    'https://other.example/p'
    """
    if "?" not in url and "#" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if any(fnmatchcase(k, pattern) for pattern in allowlist)]
    fragment = parts.fragment if parts.fragment.startswith(("/", "!")) else ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), fragment))


@attrs.define
class Prepared:
    """A batch checked and stamped, ready for the writer (or an early reply).

    ``events`` are the mappings to store, ``positions`` their indexes in the
    posted batch, ``rejected`` the rejections found before storing.
    """

    visitor: str | None
    events: list[dict[str, Any]] = attrs.field(factory=list)
    positions: list[int] = attrs.field(factory=list)
    rejected: list[dict[str, Any]] = attrs.field(factory=list)
    reply: Reply | None = None


class QueueFull(WhosonError):
    """The writer's queue is full: the store is not keeping up."""


class Writer:
    """One thread that stores batches for the collector, so requests never block on the store.

    :meth:`submit` puts a batch on a bounded queue and returns a future of
    ``(BatchResult, invite)``; a full queue raises :class:`QueueFull` at once
    (the collector answers 503). The thread takes every batch waiting (up to
    ``merge`` events) and stores them in one :meth:`Tracker.record_many` call:
    one transaction for many requests is what makes a busy collector fast.
    """

    def __init__(
        self,
        tracker: Tracker,
        capacity: int,
        *,
        invite: Callable[[Tracker, str], Mapping[str, Any] | None] | None = None,
        merge: int = 2000,
    ) -> None:
        self.tracker = tracker
        self.capacity = capacity
        self._invite = invite
        self._merge = merge
        Item = tuple[list[dict[str, Any]], str | None, Future[tuple[BatchResult, Any]]]
        self._queue: queue.Queue[Item | None] = queue.Queue(maxsize=capacity)
        self._thread = threading.Thread(target=self._run, name="whoson-writer", daemon=True)
        self._stopped = False
        self._thread.start()

    @property
    def depth(self) -> int:
        """Batches waiting to be stored."""
        return self._queue.qsize()

    def submit(self, events: list[dict[str, Any]], visitor: str | None) -> Future[tuple[BatchResult, Any]]:
        """Queue a batch; raise :class:`QueueFull` when ``capacity`` batches already wait."""
        future: Future[tuple[BatchResult, Any]] = Future()
        if self._stopped:
            raise QueueFull("the writer has stopped")
        try:
            self._queue.put_nowait((events, visitor, future))
        except queue.Full:
            raise QueueFull(f"{self.capacity} batches are waiting for the store") from None
        return future

    def stop(self, timeout: float = 5.0) -> None:
        """Store what is queued, then end the thread."""
        if self._stopped:
            return
        self._stopped = True
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            items = [item]
            size = len(item[0])
            while size < self._merge:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._store(items)
                    return
                items.append(more)
                size += len(more[0])
            self._store(items)

    def _restamp(self, event: dict[str, Any]) -> None:
        """A retried event keeps the time it was first stored with, so the retry is a duplicate.

        Its server time is computed again on each attempt and differs by the
        network's jitter; without this, the same id with another ``ts`` would
        be a conflict.
        """
        event_id = event.get("id")
        found = self.tracker.store.get(event_id) if isinstance(event_id, str) and event_id else None
        if found is not None and found.event.type == event.get("type") and found.event.visitor == event.get("visitor"):
            event["ts"] = format_ts(found.event.ts)

    def _store(self, items: list[tuple[list[dict[str, Any]], str | None, Future[tuple[BatchResult, Any]]]]) -> None:
        merged = [event for events, _, _ in items for event in events]
        try:
            for event in merged:
                if event.pop(RETRY, False):
                    self._restamp(event)
            result = self.tracker.record_many(merged)
            outcomes = result.outcomes
        except Exception as error:  # the store failed: every waiting request answers 503
            for _, _, future in items:
                future.set_exception(error)
            return
        start = 0
        for events, visitor, future in items:
            part = BatchResult(tuple(
                attrs.evolve(o, index=o.index - start) for o in outcomes[start:start + len(events)]
            ))
            start += len(events)
            invite = None
            if self._invite is not None and visitor is not None:
                try:
                    invite = self._invite(self.tracker, visitor)
                except Exception:  # an invitation lookup never loses the stored batch
                    invite = None
            future.set_result((part, invite))


class Collector:
    """The collector's rules over a tracker and a :class:`WebConfig` (see the module)."""

    def __init__(
        self,
        tracker: Tracker,
        config: WebConfig,
        *,
        counters: Counters | None = None,
        enricher: Enricher | None = None,
    ) -> None:
        self.tracker = tracker
        self.config = config
        self.counters = counters if counters is not None else Counters()
        self.enricher = enricher if enricher is not None else Enricher(config)
        self.by_address = RateLimiter(config.address_rate, config.address_burst)
        self.by_visitor = RateLimiter(config.visitor_rate, config.visitor_burst)

    # -- before the body ----------------------------------------------------------

    def client(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The client address (through trusted proxies only)."""
        return client_address(peer, headers, self.config)

    def cors_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """``Access-Control-Allow-Origin`` for an allowed cross-origin request, else nothing."""
        origin = headers.get("origin")
        if origin and origin != "null" and self.config.origin_allowed(origin):
            return {"access-control-allow-origin": origin, "vary": "Origin"}
        return {}

    def same_origin(self, origin: str, headers: Mapping[str, str], peer: str | None) -> bool:
        """Whether ``origin`` names the host the request was sent to."""
        host = headers.get("host", "")
        if self.config.trusts(peer) and headers.get("x-forwarded-host"):
            host = headers["x-forwarded-host"].split(",")[0].strip()
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:
            return False
        return bool(host) and netloc.lower() == host.lower()

    def screen(self, headers: Mapping[str, str], peer: str | None) -> Reply | None:
        """403 (origin), 415 (content type), 413 (declared size) or 429 (address rate); else ``None``.

        ``headers`` have lower-case names.
        """
        origin = headers.get("origin")
        cross = origin is not None and not self.same_origin(origin, headers, peer)
        if origin is not None and cross and not self.config.origin_allowed(origin):
            return self._refuse(403, f"origin {origin!r} is not allowed to post here (see --allow-origin)")
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in _CONTENT_TYPES:
            return self._refuse(415, f"content type {content_type or 'none'!r} must be text/plain or application/json")
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BATCH_BYTES:
            return self.too_large()
        address = self.client(peer, headers)
        wait = self.by_address.take(address or "?")
        if wait > 0:
            return self._refuse(429, f"too many requests from {address}; retry in {math.ceil(wait)} s",
                                {"retry-after": str(math.ceil(wait))})
        return None

    def too_large(self) -> Reply:
        """The 413 reply."""
        return self._refuse(413, f"body over {MAX_BATCH_BYTES} bytes")

    def unavailable(self, why: str) -> Reply:
        """The 503 reply (the tag retries)."""
        return self._refuse(503, f"store unavailable: {why}", {"retry-after": "2"})

    def _refuse(self, status: int, line: str, headers: Mapping[str, str] | None = None) -> Reply:
        self.counters.refuse(status)
        return Reply(status, line, dict(headers or {}))

    # -- the body ---------------------------------------------------------------------

    def prepare(self, body: bytes, headers: Mapping[str, str], peer: str | None, received: datetime) -> Prepared:
        """Parse and check a batch; stamp server time; reject per event what a browser may not send."""
        if len(body) > MAX_BATCH_BYTES:
            return Prepared(None, reply=self.too_large())
        try:
            data = loads(body)
        except (JSONError, UnicodeDecodeError) as error:
            return Prepared(None, reply=self._refuse(400, f"body is not JSON: {error}"))
        batch_visitor: Any = None
        if isinstance(data, dict):
            batch_visitor = data.get("visitor")
            events = data.get("events")
            if not isinstance(events, list):
                return Prepared(None, reply=self._refuse(400, 'field "events" must be an array of events'))
        elif isinstance(data, list):
            events = data
        else:
            return Prepared(None, reply=self._refuse(400, "body must be an object with \"events\" or an array"))
        if len(events) > MAX_BATCH_EVENTS:
            return Prepared(None, reply=self._refuse(
                400, f"{len(events)} events in one batch; at most {MAX_BATCH_EVENTS}"))
        if not isinstance(batch_visitor, str) or not batch_visitor:
            batch_visitor = _cookie(headers.get("cookie", ""), VISITOR_COOKIE)
        if batch_visitor is None:
            first = events[0] if events and isinstance(events[0], dict) else {}
            batch_visitor = first.get("visitor") if isinstance(first.get("visitor"), str) else None
        prepared = Prepared(batch_visitor)
        if batch_visitor is not None and events:
            wait = self.by_visitor.take(batch_visitor)
            if wait > 0:
                prepared.reply = self._refuse(
                    429, f"too many requests for this visitor; retry in {math.ceil(wait)} s",
                    {"retry-after": str(math.ceil(wait))})
                return prepared
        user_agent = headers.get("user-agent")
        reason = bot_reason(user_agent)
        if reason is not None:
            self.counters.drop(reason, len(events))
            prepared.reply = Reply(202, self._body(0, 0, [], None), {"x-whoson-dropped": reason})
            return prepared
        automated = bool(isinstance(data, dict) and data.get("automation")) or "Headless" in (user_agent or "")
        address = self.client(peer, headers)
        for index, raw in enumerate(events):
            checked = self._event(index, raw, batch_visitor, received)
            if isinstance(checked, dict) and checked.get("type") == "page_view":
                assert user_agent is not None
                checked["user_agent"] = user_agent[:1000]
                checked["device"] = device(user_agent)
                country = self.enricher.country(headers, address)
                if country is not None:
                    checked["country"] = country
                if automated:
                    checked["automation"] = True
            if isinstance(checked, dict):
                prepared.events.append(checked)
                prepared.positions.append(index)
            else:
                prepared.rejected.append(checked.as_dict())
        return prepared

    def _event(self, index: int, raw: Any, visitor: str | None, received: datetime) -> dict[str, Any] | _Rejection:
        if not isinstance(raw, dict):
            return _Rejection(index, "event", "must be a JSON object")
        kind = raw.get("type")
        if kind not in BROWSER_TYPES:
            return _Rejection(index, "type", NOT_FROM_BROWSER)
        role = _ROLES.get(kind)
        if role is not None and raw.get(role[0]) != role[1]:
            return _Rejection(index, role[0], NOT_FROM_BROWSER)
        if raw.get("agent") is not None:  # who gets credited (a survey's agent) is the server's to say
            return _Rejection(index, "agent", NOT_FROM_BROWSER)
        own = raw.get("visitor")
        if own is None:  # absent or JSON null: the batch's visitor
            own = visitor
        if visitor is not None and own != visitor:
            return _Rejection(index, "visitor", "must equal the batch's visitor")
        age = raw.get("age_ms")
        if isinstance(age, Decimal) and age == age.to_integral_value():
            age = int(age)
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= MAX_AGE_MS:
            return _Rejection(index, "age_ms", f"must be an integer between 0 and {MAX_AGE_MS} (milliseconds)")
        event = {k: v for k, v in raw.items() if (k in _CONTRACT_FIELDS or k in _TAG_FIELDS)}
        if own is not None:
            event["visitor"] = own
        event["ts"] = format_ts(received - timedelta(milliseconds=age))
        if raw.get("retry"):
            event[RETRY] = True
        allow = self.config.query_allowlist
        for field in ("url", "referrer", "link"):
            value = event.get(field)
            if isinstance(value, str):
                event[field] = scrub_url(value, allow)
        return event

    # -- the reply --------------------------------------------------------------------

    def finish(self, prepared: Prepared, result: BatchResult, invite: Mapping[str, Any] | None) -> Reply:
        """The 202 reply for a stored batch: counts, every rejection by batch index, heartbeat, invite."""
        rejected = list(prepared.rejected)
        for outcome in result.outcomes:
            if outcome.status is Status.REJECTED and outcome.error is not None:
                rejected.append({"index": prepared.positions[outcome.index], "field": outcome.error.field,
                                 "rule": outcome.error.rule})
        rejected.sort(key=lambda r: int(r["index"]))
        self.counters.add(batches=1, accepted=result.accepted, duplicate=result.duplicates, rejected=len(rejected))
        return Reply(202, self._body(result.accepted, result.duplicates, rejected, invite))

    def _body(self, accepted: int, duplicate: int, rejected: list[dict[str, Any]],
              invite: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"accepted": accepted, "duplicate": duplicate, "rejected": rejected,
                "heartbeat": self.config.heartbeat_seconds, "invite": None if invite is None else dict(invite)}


@attrs.frozen
class _Rejection:
    index: int
    field: str
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "rule": self.rule}


_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_.-]{1,200}")


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and _COOKIE_VALUE.fullmatch(value):
            return value
    return None
