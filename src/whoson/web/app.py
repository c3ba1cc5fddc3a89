"""The ASGI application: tag, collector and counters, plus the console's routes.

Routes are relative; the host mounts the app under a prefix (``/whoson``) and
every URL the app writes is built from ``request.scope["root_path"]``.

>>> from whoson import Tracker
>>> app = asgi_app(Tracker())
>>> sorted({r.path for r in app.routes} & {"/t.js", "/collect", "/stats"})
['/collect', '/stats', '/t.js']
>>> close(app)
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from whoson.codec import dumps
from whoson.core.errors import StoreError
from whoson.tracker import Tracker
from whoson.web.collector import Collector, Counters, QueueFull, Reply, Writer
from whoson.web.config import MAX_BATCH_BYTES, WebConfig

__all__ = ["WebState", "asgi_app", "close", "start_ticker", "static_script"]

Authorize = Callable[[Request], Any]


@attrs.define
class WebState:
    """What every route of the app shares (``request.app.state.whoson``).

    ``authorize`` is the host's ``authorize(request) -> agent id or None``
    (``None``: the console's own bearer tokens and cookie login).
    """

    tracker: Tracker
    config: WebConfig
    counters: Counters
    collector: Collector
    writer: Writer
    authorize: Authorize | None = None
    ticker: threading.Event | None = None

    def stats(self) -> dict[str, Any]:
        """The counters plus the writer queue's depth and capacity."""
        return {**self.counters.snapshot(),
                "queue": {"depth": self.writer.depth, "capacity": self.writer.capacity}}

    def close(self) -> None:
        """Stop the ticker, store what is queued and stop the writer thread."""
        if self.ticker is not None:
            self.ticker.set()
        self.writer.stop()
        self.collector.enricher.close()


_LINE_COMMENT = re.compile(r"^[ \t]*// .*\n|[ \t]+// .*$", re.MULTILINE)


def static_script(name: str, config: WebConfig | None = None) -> bytes:
    """A script shipped in ``whoson/web/static``, as served.

    ``t.js`` gets the server's settings inlined, and its ``// `` comments
    (there for readers of the source) are left out of what browsers download.

    >>> tag = static_script("t.js")
    >>> b"sendBeacon" in tag, b"// " in tag
    (True, False)
    """
    text = resources.files("whoson.web").joinpath("static", name).read_text(encoding="utf-8")
    if name == "t.js":
        text = _LINE_COMMENT.sub("", text)
        settings = config if config is not None else WebConfig()
        inline = dumps({"hb": settings.heartbeat_seconds, "allow": list(settings.query_allowlist)})
        text = text.replace("/*SETTINGS*/{}", inline)
    return text.encode()


class _Script:
    """A static script with an ETag, answered 304 when the browser has it."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'

    async def respond(self, request: Request) -> Response:
        headers = {"etag": self.etag, "cache-control": "public, max-age=300"}
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type="text/javascript; charset=utf-8", headers=headers)


def _reply(reply: Reply, extra: Mapping[str, str]) -> Response:
    body, media_type = reply.encode()
    return Response(body, status_code=reply.status, media_type=media_type,
                    headers={**reply.headers, **extra, "cache-control": "no-store"})


async def _read_body(request: Request) -> bytes | None:
    """The body, or ``None`` once it passes the size limit (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BATCH_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def collect(request: Request) -> Response:
    """``POST /collect``: see :mod:`whoson.web.collector` and docs/web.md for every answer."""
    state: WebState = request.app.state.whoson
    collector = state.collector
    received = state.tracker.clock.now()
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.scope["headers"]}
    peer = request.client.host if request.client else None
    cors = collector.cors_headers(headers)
    early = collector.screen(headers, peer)
    if early is not None:
        return _reply(early, cors)
    try:
        body = await _read_body(request)
    except ClientDisconnect:
        return Response(status_code=400)
    if body is None:
        return _reply(collector.too_large(), cors)
    prepared = collector.prepare(body, headers, peer, received)
    if prepared.reply is not None:
        return _reply(prepared.reply, cors)
    try:
        future = state.writer.submit(prepared.events, prepared.visitor)
        result, invite = await asyncio.wrap_future(future)
    except QueueFull as error:
        return _reply(collector.unavailable(str(error)), cors)
    except (StoreError, OSError) as error:
        return _reply(collector.unavailable(str(error)), cors)
    return _reply(collector.finish(prepared, result, invite), cors)


async def preflight(request: Request) -> Response:
    """``OPTIONS /collect``: CORS preflight for an allowed origin posting JSON."""
    state: WebState = request.app.state.whoson
    headers = state.collector.cors_headers({"origin": request.headers.get("origin", "")})
    if not headers:
        return Response(status_code=403)
    headers.update({"access-control-allow-methods": "POST", "access-control-allow-headers": "content-type",
                    "access-control-max-age": "600"})
    return Response(status_code=204, headers=headers)


async def stats(request: Request) -> Response:
    """``GET /stats``: the collector's counters as JSON."""
    state: WebState = request.app.state.whoson
    return JSONResponse(state.stats(), headers={"cache-control": "no-store"})


def asgi_app(
    tracker: Tracker,
    *,
    config: WebConfig | None = None,
    authorize: Authorize | None = None,
    **settings: Any,
) -> Starlette:
    """The whoson ASGI application over ``tracker``, to mount under a prefix.

    ``config`` (or keyword ``settings`` of :class:`WebConfig`) tunes the
    collector; ``authorize(request) -> agent id or None`` guards the agents'
    endpoints. One writer thread starts with the app: call :func:`close` (or
    ``app.state.whoson.close()``) on shutdown so queued batches are stored.
    """
    if config is None:
        config = WebConfig(**settings)
    elif settings:
        config = attrs.evolve(config, **settings)
    counters = Counters()
    collector = Collector(tracker, config, counters=counters)
    from whoson.web.invites import pending_invite

    writer = Writer(tracker, config.queue_batches, invite=pending_invite)
    state = WebState(tracker, config, counters, collector, writer, authorize)
    routes: list[BaseRoute] = [
        Route("/t.js", _Script(static_script("t.js", config)).respond, methods=["GET", "HEAD"]),
        Route("/collect", collect, methods=["POST"]),
        Route("/collect", preflight, methods=["OPTIONS"]),
        Route("/stats", stats, methods=["GET"]),
    ]
    routes.extend(_console_routes())
    app = Starlette(routes=routes)
    app.state.whoson = state
    return app


def _console_routes() -> list[BaseRoute]:
    from whoson.web import console, dashboard

    return [*console.routes(), *dashboard.routes()]


def close(app: Starlette) -> None:
    """Stop the app's background work (writer thread, ticker, console feed)."""
    from whoson.web import console

    state: WebState = app.state.whoson
    console.close(app)
    state.close()


def start_ticker(state: WebState, interval: float = 1.0) -> threading.Event:
    """Background work of a served app; set the returned event to stop it.

    One thread ticks the tracker's rules every ``interval`` seconds; another
    follows the store (:meth:`Tracker.changes`), so what other processes
    append shows here within a fraction of a second.
    """
    stop = threading.Event()
    tracker = state.tracker

    def tick() -> None:
        while not stop.wait(interval):
            try:
                tracker.tick()
            except Exception:  # a failing store must not end the ticker; the next tick retries
                continue

    def follow() -> None:
        position = 0
        while not stop.is_set():
            try:
                position = tracker.changes(position, timeout=0.25)
            except Exception:  # the store is away: try again shortly
                stop.wait(1.0)

    threading.Thread(target=tick, name="whoson-ticker", daemon=True).start()
    threading.Thread(target=follow, name="whoson-follower", daemon=True).start()
    state.ticker = stop
    return stop
