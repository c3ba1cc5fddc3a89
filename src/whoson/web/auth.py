"""Who is the agent behind a request, and may this request change anything.

Three ways in, tried in order by :func:`authorize`:

1. the host's own hook, ``asgi_app(tracker, authorize=fn)``: ``fn(request)``
   returns an agent id or ``None`` (it may be a coroutine function);
2. ``Authorization: Bearer TOKEN`` matching an agent of ``WebConfig.agents``
   (``whoson serve --agent NAME:TOKEN``);
3. the signed session cookie the login form sets (``whoson_agent``).

State-changing requests are checked by :func:`csrf_problem`: one carrying an
``Authorization`` header needs nothing more (a page on another site cannot
make a browser send that header); any other (cookie or host session) needs a
same-origin ``Origin`` and the CSRF token of the console page in the
``X-Whoson-CSRF`` header.

>>> secret = b"k" * 32
>>> value = sign_session("ann", secret, issued=1_000, nonce="n1")
>>> read_session(value, secret, now=1_060)
('ann', 'n1')
>>> read_session(value + "x", secret, now=1_060) is None
True
>>> read_session(value, secret, now=1_000 + SESSION_SECONDS + 1) is None
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "authorize",
    "check_login",
    "cookie_secret",
    "csrf_problem",
    "csrf_token",
    "read_session",
    "sign_session",
]

SESSION_COOKIE = "whoson_agent"
CSRF_HEADER = "x-whoson-csrf"
SESSION_SECONDS = 12 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, message: str) -> str:
    return _b64(hmac.new(secret, message.encode(), hashlib.sha256).digest())


def cookie_secret(config: Any) -> bytes:
    """The key that signs session cookies and CSRF tokens.

    ``config.cookie_secret`` when set; otherwise derived from the agent tokens,
    so that several ``whoson serve`` workers given the same ``--agent`` options
    agree without more configuration (and a token change logs everyone out).
    Without either, a random key for this process.

    >>> class C: cookie_secret = None; agents = {"ann": "t0ken"}
    >>> cookie_secret(C()) == cookie_secret(C())
    True
    """
    explicit = getattr(config, "cookie_secret", None)
    if explicit:
        return hashlib.sha256(b"whoson-cookie|" + str(explicit).encode()).digest()
    agents: Mapping[str, str] = getattr(config, "agents", {}) or {}
    if agents:
        material = "|".join(f"{name}={token}" for name, token in sorted(agents.items()))
        return hashlib.sha256(b"whoson-agents|" + material.encode()).digest()
    global _PROCESS_SECRET
    if _PROCESS_SECRET is None:
        _PROCESS_SECRET = secrets.token_bytes(32)
    return _PROCESS_SECRET


_PROCESS_SECRET: bytes | None = None


def sign_session(agent: str, secret: bytes, *, issued: int | None = None,
                 nonce: str | None = None) -> str:
    """A cookie value naming ``agent``, valid for :data:`SESSION_SECONDS` from ``issued``."""
    issued = int(time.time()) if issued is None else issued
    nonce = secrets.token_urlsafe(12) if nonce is None else nonce
    body = f"{_b64(agent.encode())}.{issued}.{nonce}"
    return f"{body}.{_mac(secret, 'session|' + body)}"


def read_session(value: str, secret: bytes, *, now: int | None = None) -> tuple[str, str] | None:
    """``(agent, nonce)`` from a valid, unexpired cookie value, else ``None``."""
    parts = value.split(".")
    if len(parts) != 4:
        return None
    body = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], _mac(secret, "session|" + body)):
        return None
    now = int(time.time()) if now is None else now
    try:
        agent = _unb64(parts[0]).decode()
        issued = int(parts[1])
    except (ValueError, UnicodeDecodeError):
        return None
    if not 0 <= now - issued <= SESSION_SECONDS:
        return None
    return agent, parts[2]


def check_login(agents: Mapping[str, str], name: str, token: str) -> bool:
    """Whether ``name`` is an agent whose token is ``token`` (constant-time compare).

    >>> check_login({"ann": "s3cret"}, "ann", "s3cret"), check_login({"ann": "s3cret"}, "ann", "x")
    (True, False)
    """
    expected = agents.get(name)
    return expected is not None and hmac.compare_digest(expected.encode(), token.encode())


def _state(conn: HTTPConnection) -> Any:
    return conn.app.state.whoson


def _bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _session(conn: HTTPConnection) -> tuple[str, str] | None:
    value = conn.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    return read_session(value, cookie_secret(_state(conn).config))


async def authorize(conn: HTTPConnection) -> str | None:
    """The agent id behind ``conn``, or ``None`` (see the module docs for the order)."""
    state = _state(conn)
    hook = getattr(state, "authorize", None)
    if hook is not None:
        agent = hook(conn)
        if inspect.isawaitable(agent):
            agent = await agent
        return agent if isinstance(agent, str) and agent else None
    token = _bearer(conn)
    if token is not None:
        agents: Mapping[str, str] = state.config.agents
        for name, expected in agents.items():
            if hmac.compare_digest(expected.encode(), token.encode()):
                return name
        return None
    session = _session(conn)
    if session is not None and session[0] in state.config.agents:
        return session[0]
    return None


def csrf_token(conn: HTTPConnection, agent: str) -> str:
    """The CSRF token of ``agent``'s console session (bound to the cookie's nonce)."""
    session = _session(conn)
    nonce = session[1] if session is not None else ""
    return _mac(cookie_secret(_state(conn).config), f"csrf|{agent}|{nonce}")


def csrf_problem(conn: HTTPConnection, agent: str) -> str | None:
    """Why a state-changing request of ``agent`` must be refused, or ``None`` if it may go on.

    >>> from starlette.requests import Request
    >>> bearer = Request({"type": "http", "headers": [(b"authorization", b"Bearer t0k")]})
    >>> csrf_problem(bearer, "ann") is None
    True
    >>> foreign = Request({"type": "http", "headers": [(b"host", b"shop.example"),
    ...                                                (b"origin", b"https://evil.example")]})
    >>> csrf_problem(foreign, "ann")
    "origin 'https://evil.example' is not this site"
    """
    if "authorization" in conn.headers:
        return None
    origin = conn.headers.get("origin")
    if origin is None:
        return "a cookie-authenticated request needs an Origin header"
    # Host only: behind a TLS proxy the scheme seen here is not the browser's.
    if urlsplit(origin).netloc != (conn.headers.get("host") or conn.url.netloc):
        return f"origin {origin!r} is not this site"
    sent = conn.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, csrf_token(conn, agent)):
        return "missing or wrong CSRF token"
    return None
