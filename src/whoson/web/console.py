"""The agents' console and the chat: pages, JSON endpoints and two event streams.

:func:`routes` returns the Starlette routes the whoson application mounts
(paths relative to its prefix):

=========================================  ======================================================
``GET /live``                              the console page (the login page without an agent)
``GET|POST /login``, ``POST /logout``      the login form of ``whoson serve --agent NAME:TOKEN``
``GET /api/online``                        ``{"total", "rows"}``, rows as ``whoson live --json``
``GET /api/visitors/{visitor}``            the visitor's snapshot plus history (live.md)
``GET /api/stream``                        server-sent ``snapshot``/``upsert``/``remove``/``queue``
``GET /api/poll?after=N``                  the same events for hosts without streaming (WSGI)
``POST /api/visitors/{visitor}/invite``    the agent invites (``409`` naming the holder)
``GET /api/chats/{request}``               a chat's state and transcript
``POST /api/chats/{request}/messages``     the agent writes; ``.../end`` closes the chat
``GET /chat/stream?visitor=``              the visitor's push channel: ``invite``, ``message``, ``end``
``POST /chat/start|message|end|decline|survey``  the visitor's side of the chat
``GET /chat.js``, ``/console.js``, ``/console.css``  the scripts and the style sheet
=========================================  ======================================================

Agent endpoints answer ``401`` without an agent (see :mod:`whoson.web.auth`);
their state-changing requests pass :func:`whoson.web.auth.csrf_problem` or get
``403``. Visitor endpoints need no agent but refuse posts from foreign
origins (``403``) unless the collector's ``allow_origins`` lets them in.

>>> sorted({route.path for route in routes()})[:4]
['/api/chats/{request}', '/api/chats/{request}/end', '/api/chats/{request}/messages', '/api/online']
"""

from __future__ import annotations

import asyncio
import html
import math
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from whoson.codec import JSONError, dumps, loads
from whoson.core.errors import InvalidEvent
from whoson.core.time import format_ts
from whoson.tracker import Tracker
from whoson.web import auth
from whoson.web.chat import ChatRefused, ChatService, NotFound, chat_service
from whoson.web.feed import SORTS, Filters, LiveFeed
from whoson.web.invites import pending_invite

__all__ = ["PING_SECONDS", "Console", "close", "console_of", "online_page", "routes"]

PING_SECONDS = 10.0
AWAY_GRACE_SECONDS = 5.0
# A polling console (WSGI, or streams blocked) asks every 2 s; this long without a poll is away.
POLL_AWAY_SECONDS = 15.0
_MAX_BODY = 32 * 1024
_LOGIN_PENALTY_SECONDS = 0.3
_STREAM_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


class Console:
    """What the console keeps per application: the live feed, the chats, who is watching."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.feed = LiveFeed(tracker)
        self.chats: ChatService = chat_service(tracker)
        self._watching: dict[str, int] = {}
        self._polled: dict[str, float] = {}
        self._lock = threading.Lock()

    def joined(self, agent: str) -> None:
        """An agent opened a console stream: record ``online`` on their first one."""
        with self._lock:
            self._watching[agent] = self._watching.get(agent, 0) + 1
            first = self._watching[agent] == 1
        if first and agent not in self.tracker.live.agents_online(self.tracker.clock.now()):
            self._status(agent, "online")

    def polled(self, agent: str) -> None:
        """An agent's console polled: record ``online`` unless they already are."""
        with self._lock:
            self._polled[agent] = time.monotonic()
        if agent not in self.tracker.live.agents_online(self.tracker.clock.now()):
            self._status(agent, "online")

    def left(self, agent: str) -> bool:
        """A console stream closed; True when it was the agent's last one here."""
        with self._lock:
            count = self._watching.get(agent, 0) - 1
            if count <= 0:
                self._watching.pop(agent, None)
                return True
            self._watching[agent] = count
            return False

    def watching(self, agent: str) -> int:
        """How many console streams ``agent`` has open on this process."""
        with self._lock:
            return self._watching.get(agent, 0)

    def maybe_away(self, agent: str) -> None:
        """After the grace period: record ``away`` unless the agent came back."""
        with self._lock:
            if self._watching.get(agent):
                return
            if time.monotonic() - self._polled.get(agent, -math.inf) < POLL_AWAY_SECONDS:
                return
        if agent in self.tracker.live.agents_online(self.tracker.clock.now()):
            self._status(agent, "away")

    def _status(self, agent: str, status: str) -> None:
        now = self.tracker.clock.now()
        self.tracker.record({"id": f"console:{agent}:{format_ts(now)}:{status}",
                             "type": "agent_status", "ts": format_ts(now),
                             "agent": agent, "status": status})
        self.feed.poke()

    def close(self) -> None:
        """Stop the feed thread."""
        self.feed.stop()


_CONSOLES_LOCK = threading.Lock()


def console_of(app: Starlette) -> Console:
    """The app's :class:`Console`, made on first use (its feed thread starts then too)."""
    console: Console | None = getattr(app.state, "whoson_console", None)
    if console is None:
        with _CONSOLES_LOCK:
            console = getattr(app.state, "whoson_console", None)
            if console is None:
                console = Console(app.state.whoson.tracker)
                app.state.whoson_console = console
                console.feed.start()
    return console


def close(app: Starlette) -> None:
    """Stop the console's background thread, if it was started."""
    console: Console | None = getattr(app.state, "whoson_console", None)
    if console is not None:
        console.close()


# -- plumbing -----------------------------------------------------------------------

def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json",
                    headers={"cache-control": "no-store", **(headers or {})})


def _error(status: int, message: str, **extra: Any) -> Response:
    headers = {"www-authenticate": 'Bearer realm="whoson"'} if status == 401 else None
    return _json({"error": message, **extra}, status, headers)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise ValueError(f"body: at most {_MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        data = loads(raw)
    except JSONError as error:
        raise ValueError(f"body: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise ValueError("body: must be a JSON object")
    return data


def _string(data: dict[str, Any], name: str, *, required: bool = True,
            limit: int = 200) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ValueError(f"{name}: is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{name}: must be a string of at most {limit} characters")
    return value


def _prefix(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


Handler = Callable[[Request], Awaitable[Response]]
AgentHandler = Callable[[Request, str], Awaitable[Response]]


def _guarded(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Turn the exceptions of the chat layer into their HTTP answers."""
    async def run(request: Request, *args: Any) -> Response:
        try:
            return await handler(request, *args)
        except ValueError as error:
            return _error(400, str(error))
        except InvalidEvent as error:
            return _error(400, str(error), field=error.field, rule=error.rule)
        except NotFound as error:
            return _error(404, str(error))
        except ChatRefused as error:
            return _error(409, str(error))
    return run


def _agent(*, write: bool = False) -> Callable[[AgentHandler], Handler]:
    """An endpoint for authenticated agents (401 without; 403 on a failed CSRF check)."""
    def wrap(handler: AgentHandler) -> Handler:
        guarded = _guarded(handler)

        async def endpoint(request: Request) -> Response:
            agent = await auth.authorize(request)
            if agent is None:
                return _error(401, "an authenticated agent is required")
            if write:
                problem = auth.csrf_problem(request, agent)
                if problem is not None:
                    return _error(403, problem)
            return await guarded(request, agent)
        return endpoint
    return wrap


def _visitor_write(handler: Handler) -> Handler:
    """A visitor's post: refused from a foreign origin the collector does not allow."""
    guarded = _guarded(handler)

    async def endpoint(request: Request) -> Response:
        origin = request.headers.get("origin")
        if (origin is not None and urlsplit(origin).netloc != request.headers.get("host")
                and not request.app.state.whoson.config.origin_allowed(origin)):
            return _error(403, f"origin {origin!r} is not allowed")
        return await guarded(request)
    return endpoint


def _static(name: str, media_type: str) -> Handler:
    body = resources.files("whoson.web").joinpath("static", name).read_bytes()

    async def serve(request: Request) -> Response:
        return Response(body, media_type=media_type,
                        headers={"cache-control": "no-cache"})
    return serve


# -- pages --------------------------------------------------------------------------

def _page(title: str, body: str, prefix: str, head: str = "") -> HTMLResponse:
    css = html.escape(prefix + "/console.css")
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="stylesheet" href="{css}">{head}</head>{body}</html>',
        headers={"cache-control": "no-store", "x-frame-options": "DENY",
                 "referrer-policy": "same-origin"},
    )


async def live_page(request: Request) -> Response:
    """``GET /live``: the console, or a redirect to the login form."""
    prefix = _prefix(request)
    agent = await auth.authorize(request)
    if agent is None:
        return RedirectResponse(f"{prefix}/login", status_code=303)
    meta = "".join(
        f'<meta name="whoson-{name}" content="{html.escape(value)}">'
        for name, value in (("agent", agent), ("prefix", prefix),
                            ("csrf", auth.csrf_token(request, agent)))
    )
    script = html.escape(prefix + "/console.js")
    body = (f'<body class="console"><noscript>The console needs JavaScript; '
            f'<a href="{html.escape(prefix)}/api/online">/api/online</a> has the rows as JSON.'
            f'</noscript><div id="app"></div><script src="{script}"></script></body>')
    return _page("whoson · live", body, prefix, meta)


def _login_form(prefix: str, error: str | None, can_login: bool) -> str:
    message = f'<p class="login-error" role="alert">{html.escape(error)}</p>' if error else ""
    if not can_login:
        form = "<p>This site signs agents in through its own login. Sign in there, then reopen this page.</p>"
    else:
        form = (f'<form method="post" action="{html.escape(prefix)}/login">'
                '<label>Agent<input name="agent" autocomplete="username" required autofocus></label>'
                '<label>Token<input name="token" type="password" autocomplete="current-password" '
                'required></label><button type="submit">Sign in</button></form>')
    return (f'<body class="login"><main class="login-box"><h1><span class="logo">whoson</span> '
            f'agents</h1>{message}{form}</main></body>')


async def login_page(request: Request) -> Response:
    """``GET /login``: the login form (or a pointer to the host's own login)."""
    prefix = _prefix(request)
    state = request.app.state.whoson
    can_login = state.authorize is None and bool(state.config.agents)
    return _page("whoson · sign in", _login_form(prefix, None, can_login), prefix)


async def login_submit(request: Request) -> Response:
    """``POST /login``: check the agent's token, set the signed session cookie."""
    prefix = _prefix(request)
    state = request.app.state.whoson
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        return _error(403, f"origin {origin!r} is not this site")
    # A urlencoded form, read here (Starlette's form parser needs python-multipart).
    raw = await request.body()
    form = parse_qs(raw[:_MAX_BODY].decode("utf-8", "replace"), max_num_fields=10)
    name = form.get("agent", [""])[0].strip()
    token = form.get("token", [""])[0]
    if state.authorize is not None or not auth.check_login(state.config.agents, name, token):
        await asyncio.sleep(_LOGIN_PENALTY_SECONDS)  # slows down guessing tokens
        page = _page("whoson · sign in", _login_form(prefix, "Unknown agent or wrong token.",
                                                     state.authorize is None), prefix)
        page.status_code = 401
        return page
    response = RedirectResponse(f"{prefix}/live", status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE, auth.sign_session(name, auth.cookie_secret(state.config)),
        max_age=auth.SESSION_SECONDS, httponly=True, samesite="lax",
        secure=request.url.scheme == "https", path=prefix or "/",
    )
    return response


@_agent(write=True)
async def logout(request: Request, agent: str) -> Response:
    """``POST /logout``: forget the session cookie."""
    prefix = _prefix(request)
    response = _json({"agent": agent, "signed_out": True})
    response.delete_cookie(auth.SESSION_COOKIE, path=prefix or "/")
    return response


# -- agents' JSON -------------------------------------------------------------------

def _paging(request: Request) -> tuple[int, int, str]:
    params = request.query_params
    try:
        limit = int(params.get("limit", "50"))
        offset = int(params.get("offset", "0"))
    except ValueError:
        raise ValueError("limit and offset must be integers") from None
    if not 0 <= limit <= 1000 or offset < 0:
        raise ValueError("limit must be in 0..1000 and offset >= 0")
    sort = params.get("sort", "last_activity")
    if sort not in SORTS:
        raise ValueError(f"sort={sort!r}: must be one of {', '.join(SORTS)}")
    return limit, offset, sort


def online_page(tracker: Tracker, filters: Filters, limit: int, offset: int,
                sort: str = "last_activity") -> dict[str, Any]:
    """``{"total", "rows"}`` of the visitors online now that match ``filters``.

    Newest activity first (the tracker's order) unless ``sort`` names a
    figure, then largest first. O(m) over the visitors online when filtering
    or sorting, O(limit) otherwise.

    >>> from datetime import UTC, datetime
    >>> from whoson import FixedClock
    >>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 1, 12, 1, tzinfo=UTC)))
    >>> _ = tracker.record_many([
    ...     {"id": "a", "type": "page_view", "ts": "2026-03-01T12:00:00Z", "visitor": "v1", "url": "/cart"},
    ...     {"id": "b", "type": "page_view", "ts": "2026-03-01T12:00:30Z", "visitor": "v2", "url": "/help"}])
    >>> page = online_page(tracker, Filters(), limit=10, offset=0, sort="on_page")
    >>> page["total"], [(row["visitor"], row["on_page_seconds"]) for row in page["rows"]]
    (2, [('v1', 60.0), ('v2', 30.0)])
    """
    key = SORTS[sort]
    if filters.empty and key is None:
        page = tracker.online(limit=limit, offset=offset)
        return {"total": page.total, "rows": [row.to_dict() for row in page.rows]}
    rows = [row for row in tracker.online(limit=1_000_000).rows if filters.matches(row)]
    if key is not None:
        rows.sort(key=lambda row: getattr(row, key) or 0, reverse=True)
    return {"total": len(rows), "rows": [row.to_dict() for row in rows[offset:offset + limit]]}


@_agent()
async def api_online(request: Request, agent: str) -> Response:
    """``GET /api/online``: one page of rows, filtered and sorted on the server."""
    filters = Filters.from_query(request.query_params)
    limit, offset, sort = _paging(request)
    tracker = request.app.state.whoson.tracker
    return _json(await run_in_threadpool(online_page, tracker, filters, limit, offset, sort))


@_agent()
async def api_visitor(request: Request, agent: str) -> Response:
    """``GET /api/visitors/{visitor}``: snapshot plus history, and the open chat if any."""
    visitor = request.path_params["visitor"]
    console = console_of(request.app)
    detail = await run_in_threadpool(console.tracker.visitor, visitor)
    if detail is None:
        return _error(404, f"no visitor {visitor!r}")
    data = detail.to_dict()
    open_chats = [c.request for c in detail.conversations
                  if c.ended is None and c.started >= detail.snapshot.session_started]
    data["chat"] = (console.chats.state(visitor, open_chats[-1]) if open_chats else None)
    return _json(data)


@_agent(write=True)
async def api_invite(request: Request, agent: str) -> Response:
    """``POST /api/visitors/{visitor}/invite``: request + message by the agent, or 409."""
    visitor = request.path_params["visitor"]
    body = await _body(request)
    message = _string(body, "message", limit=10_000)
    channel = _string(body, "channel", required=False) or "text"
    console = console_of(request.app)
    request_id = await _act(console, console.chats.invite, agent, visitor, message, channel)
    return _json({"request": request_id, "visitor": visitor, "agent": agent}, 201)


@_agent()
async def api_chat(request: Request, agent: str) -> Response:
    """``GET /api/chats/{request}?visitor=``: the chat's state and transcript."""
    console = console_of(request.app)
    request_id = request.path_params["request"]
    visitor = await run_in_threadpool(console.chats.visitor_of, request_id,
                                      request.query_params.get("visitor"))
    return _json(console.chats.state(visitor, request_id))


@_agent(write=True)
async def api_chat_message(request: Request, agent: str) -> Response:
    """``POST /api/chats/{request}/messages`` ``{"text", "visitor"}``: the agent writes."""
    body = await _body(request)
    text = _string(body, "text", limit=10_000)
    assert text is not None
    console = console_of(request.app)
    event_id = await _act(console, console.chats.agent_message, agent,
                                       request.path_params["request"], text,
                                       _string(body, "visitor", required=False))
    return _json({"id": event_id}, 201)


@_agent(write=True)
async def api_chat_end(request: Request, agent: str) -> Response:
    """``POST /api/chats/{request}/end`` ``{"visitor", "resolved"}``: the agent closes the chat."""
    body = await _body(request)
    resolved = body.get("resolved")
    if resolved is not None and not isinstance(resolved, bool):
        raise ValueError("resolved: must be true, false or absent")
    console = console_of(request.app)
    await _act(console, console.chats.agent_end, agent, request.path_params["request"],
                            _string(body, "visitor", required=False), resolved)
    return _json({"request": request.path_params["request"], "ended": True})


def _last_id(request: Request, name: str) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get(name)
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw.strip())


@_agent()
async def api_stream(request: Request, agent: str) -> Response:
    """``GET /api/stream``: a snapshot (or the events after ``Last-Event-ID``), then diffs."""
    filters = Filters.from_query(request.query_params)
    console = console_of(request.app)
    feed = console.feed
    last = _last_id(request, "last_event_id")
    loop = asyncio.get_running_loop()

    async def events() -> AsyncIterator[bytes]:
        await run_in_threadpool(console.joined, agent)
        try:
            yield b"retry: 2000\n\n"
            sent = -1 if last is None else last
            quiet_since = time.monotonic()
            while True:
                seen = feed.notifier.generation
                pending = feed.events_after(sent, filters) if sent >= 0 else None
                if pending is None:
                    snapshot = feed.snapshot(filters)
                    pending = [snapshot]
                if pending:
                    yield b"".join(event.encode() for event in pending)
                    sent = pending[-1].id
                    quiet_since = time.monotonic()
                    continue
                if time.monotonic() - quiet_since >= PING_SECONDS:
                    yield b": ping\n\n"
                    quiet_since = time.monotonic()
                if await request.is_disconnected():
                    break
                await feed.notifier.wait(seen, min(PING_SECONDS, 2.0))
        finally:
            if console.left(agent):
                loop.call_later(AWAY_GRACE_SECONDS,
                                lambda: loop.run_in_executor(None, console.maybe_away, agent))

    return StreamingResponse(events(), media_type="text/event-stream", headers=_STREAM_HEADERS)


@_agent()
async def api_poll(request: Request, agent: str) -> Response:
    """``GET /api/poll?after=N``: ``{"id", "events"}`` after event N, or ``{"id", "snapshot"}``.

    The polling fallback for hosts that cannot stream (WSGI): call it every
    couple of seconds with the last ``id`` received.
    """
    filters = Filters.from_query(request.query_params)
    console = console_of(request.app)
    await run_in_threadpool(console.feed.refresh)
    await run_in_threadpool(console.polled, agent)
    loop = asyncio.get_running_loop()
    loop.call_later(POLL_AWAY_SECONDS + 0.5, lambda: loop.run_in_executor(None, console.maybe_away, agent))
    after = _last_id(request, "after")
    events = console.feed.events_after(after, filters) if after is not None else None
    if events is None:
        snapshot = console.feed.snapshot(filters)
        return _json({"id": snapshot.id, "snapshot": loads(snapshot.data)})
    return _json({
        "id": events[-1].id if events else after,
        "events": [{"id": e.id, "event": e.name, "data": loads(e.data)} for e in events],
    })


# -- visitors -----------------------------------------------------------------------

async def _act(console: Console, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a chat action off the event loop, then refresh the feed so streams see it at once."""
    def run() -> Any:
        result = action(*args, **kwargs)
        console.feed.poke()
        return result
    return await run_in_threadpool(run)


def _visitor_ids(data: dict[str, Any]) -> tuple[str, str]:
    visitor = _string(data, "visitor")
    request = _string(data, "request")
    assert visitor is not None
    assert request is not None
    return visitor, request


@_visitor_write
async def chat_start(request: Request) -> Response:
    """``POST /chat/start`` ``{"visitor", "url"}``: the visitor asks to chat."""
    body = await _body(request)
    visitor = _string(body, "visitor")
    assert visitor is not None
    console = console_of(request.app)
    request_id = await _act(console, console.chats.start, visitor,
                                         _string(body, "url", required=False, limit=8192))
    tracker = console.tracker
    return _json({"request": request_id, "expected_wait": tracker.expected_wait(),
                  "agents": len(tracker.live.agents_online(tracker.clock.now()))}, 201)


@_visitor_write
async def chat_message(request: Request) -> Response:
    """``POST /chat/message`` ``{"visitor", "request", "text"}``: the visitor writes."""
    body = await _body(request)
    visitor, request_id = _visitor_ids(body)
    text = _string(body, "text", limit=10_000)
    assert text is not None
    console = console_of(request.app)
    event_id = await _act(console, console.chats.visitor_message, visitor, request_id, text)
    return _json({"id": event_id}, 201)


def _visitor_end(decline: bool) -> Handler:
    @_visitor_write
    async def end(request: Request) -> Response:
        body = await _body(request)
        visitor, request_id = _visitor_ids(body)
        console = console_of(request.app)
        reason = await _act(console, console.chats.visitor_end, visitor, request_id,
                            decline=decline)
        scale = console.tracker.rating_scale
        return _json({"request": request_id, "reason": reason,
                      "survey": {"low": scale.low, "high": scale.high}})
    return end


@_visitor_write
async def chat_survey(request: Request) -> Response:
    """``POST /chat/survey`` ``{"visitor", "request", "rating", "feedback"}``."""
    body = await _body(request)
    visitor, request_id = _visitor_ids(body)
    rating = body.get("rating")
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int)):
        raise ValueError(f"rating: {rating!r} must be an integer")
    feedback = _string(body, "feedback", required=False, limit=10_000)
    console = console_of(request.app)
    await _act(console, console.chats.survey, visitor, request_id, rating, feedback)
    return _json({"request": request_id, "recorded": True}, 201)


async def chat_messages(request: Request) -> Response:
    """``GET /chat/messages?visitor=&request=``: the visitor's transcript and the rating
    scale (to resume a chat, and the polling fallback where streams are refused)."""
    visitor = request.query_params.get("visitor", "")
    request_id = request.query_params.get("request", "")
    console = console_of(request.app)
    try:
        state = console.chats.state(visitor, request_id)
    except NotFound as error:
        return _error(404, str(error))
    scale = console.tracker.rating_scale
    return _json({**_visitor_view(state), "survey": {"low": scale.low, "high": scale.high}})


def _visitor_view(state: dict[str, Any]) -> dict[str, Any]:
    """What a visitor may see of their chat: no triggers, no feedback of others."""
    keys = ("request", "agent", "conversation", "ended", "end_reason", "rating", "messages")
    return {key: state[key] for key in keys}


async def visitor_stream(request: Request) -> Response:
    """``GET /chat/stream?visitor=V[&request=R]``: ``invite`` events for V, and the
    ``message``/``state``/``end`` events of R, pushed as they are recorded.

    A reconnect with ``Last-Event-ID: n`` skips the first n messages of R.
    """
    visitor = request.query_params.get("visitor", "")
    request_id = request.query_params.get("request") or None
    if not visitor or len(visitor) > 200 or (request_id is not None and len(request_id) > 200):
        return _error(400, "visitor: required, at most 200 characters (request too)")
    console = console_of(request.app)
    feed = console.feed
    skip = _last_id(request, "last_event_id") or 0

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        shown_invite: str | None = None
        sent_messages = skip
        state_key: Any = None
        version = -1
        quiet_since = time.monotonic()
        while True:
            seen = feed.notifier.generation
            current = feed.version(visitor)
            out: list[bytes] = []
            if current != version:
                version = current
                invite = await run_in_threadpool(pending_invite, console.tracker, visitor)
                if invite is not None and invite["request"] != shown_invite:
                    shown_invite = invite["request"]
                    out.append(_sse("invite", invite))
                if request_id is not None:
                    try:
                        state = await run_in_threadpool(console.chats.state, visitor, request_id)
                    except NotFound:
                        state = None
                    if state is not None:
                        for message in state["messages"][sent_messages:]:
                            sent_messages += 1
                            out.append(_sse("message", message, sent_messages))
                        key = (state["agent"], state["conversation"], state["ended"])
                        if key != state_key:
                            state_key = key
                            view = _visitor_view(state)
                            view.pop("messages")
                            scale = console.tracker.rating_scale
                            view["survey"] = {"low": scale.low, "high": scale.high}
                            out.append(_sse("end" if state["ended"] else "state", view))
            if out:
                yield b"".join(out)
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= PING_SECONDS:
                yield b": ping\n\n"
                quiet_since = time.monotonic()
            if await request.is_disconnected():
                break
            await feed.notifier.wait(seen, 2.0)

    return StreamingResponse(events(), media_type="text/event-stream", headers=_STREAM_HEADERS)


def _sse(name: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {dumps(data)}\n\n".encode()


def routes() -> list[BaseRoute]:
    """The console's and the chat's routes, relative to the app's prefix."""
    return [
        Route("/live", live_page, methods=["GET"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/console.js", _static("console.js", "text/javascript; charset=utf-8")),
        Route("/console.css", _static("console.css", "text/css; charset=utf-8")),
        Route("/chat.js", _static("chat.js", "text/javascript; charset=utf-8")),
        Route("/api/online", api_online, methods=["GET"]),
        Route("/api/stream", api_stream, methods=["GET"]),
        Route("/api/poll", api_poll, methods=["GET"]),
        Route("/api/visitors/{visitor}", api_visitor, methods=["GET"]),
        Route("/api/visitors/{visitor}/invite", api_invite, methods=["POST"]),
        Route("/api/chats/{request}", api_chat, methods=["GET"]),
        Route("/api/chats/{request}/messages", api_chat_message, methods=["POST"]),
        Route("/api/chats/{request}/end", api_chat_end, methods=["POST"]),
        Route("/chat/stream", visitor_stream, methods=["GET"]),
        Route("/chat/messages", chat_messages, methods=["GET"]),
        Route("/chat/start", chat_start, methods=["POST"]),
        Route("/chat/message", chat_message, methods=["POST"]),
        Route("/chat/end", _visitor_end(decline=False), methods=["POST"]),
        Route("/chat/decline", _visitor_end(decline=True), methods=["POST"]),
        Route("/chat/survey", chat_survey, methods=["POST"]),
    ]
