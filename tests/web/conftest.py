"""Fixtures for the web tests: a real uvicorn server in a thread, and a real Chromium.

- ``make_server(**options)`` starts ``whoson.cli.serve.build_site`` (whoson at
  ``/whoson``, the demo shop at ``/`` unless ``demo_site=False``) on
  127.0.0.1 with a free port over a temporary SQLite store, and returns a
  :class:`LiveServer`; every server stops at the end of the test.
  Options go to :class:`whoson.web.WebConfig` (``agents={"ann": "t0k"}``,
  ``visitor_rate=...``), plus ``tracker=`` to bring your own.
- ``live_server``: ``make_server()`` with the defaults.
- ``page`` (a fresh context per test) in the ``browser`` of tests/conftest.py.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

pytest.importorskip("starlette", reason="the [web] extra (starlette, uvicorn) is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the [web] extra (starlette, uvicorn) is not installed")

from whoson import Tracker  # noqa: E402
from whoson.cli.serve import build_site  # noqa: E402
from whoson.web.app import WebState, close  # noqa: E402


@attrs.define
class LiveServer:
    """A running server: ``url`` (``http://127.0.0.1:PORT``), ``prefix``, the tracker and app state."""

    url: str
    prefix: str
    tracker: Tracker
    app: Any
    state: WebState
    db: Path | None
    server: Any = None
    thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        """``url + prefix``: where t.js and /collect live."""
        return self.url + self.prefix

    def stop(self) -> None:
        """Stop uvicorn, then the app's threads and the store."""
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(10)
        close(self.app.state.whoson_app)
        self.tracker.close()


def free_port() -> int:
    """A port nobody listens on right now (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(tracker: Tracker, *, db: Path | None = None, prefix: str = "/whoson",
                 demo_site: bool = True, **settings: Any) -> LiveServer:
    """Serve ``build_site(tracker, ...)`` with uvicorn in a thread; return once it accepts connections."""
    app = build_site(tracker, prefix=prefix, demo_site=demo_site, **settings)
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only for such sockets;
    # without it every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1,
                            proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", prefix, tracker, app, app.state.whoson, db, server, thread)


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers over temporary SQLite stores; all stop at the end of the test."""
    started: list[LiveServer] = []

    def make(tracker: Tracker | None = None, **options: Any) -> LiveServer:
        db = None
        if tracker is None:
            db = tmp_path / f"web{len(started)}.db"
            tracker = Tracker.open(f"sqlite:///{db}")
        live = start_server(tracker, db=db, **options)
        started.append(live)
        return live

    yield make
    for live in reversed(started):
        live.stop()


@pytest.fixture
def live_server(make_server: Callable[..., LiveServer]) -> LiveServer:
    """A server with the defaults: whoson at /whoson, the demo shop at /, a temporary SQLite store."""
    return make_server()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (own storage and cookies) and one page in it."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    # Route handlers still running when the test ends must not fail the next test.
    if not page.is_closed():
        page.unroute_all(behavior="ignoreErrors")
    context.close()
