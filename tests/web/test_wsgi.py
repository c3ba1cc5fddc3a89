"""The WSGI recipe: a Flask-style host mounts whoson under /whoson on a WSGI server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

httpx = pytest.importorskip("httpx")

from whoson import Tracker  # noqa: E402
from whoson.web import wsgi_app  # noqa: E402

from .conftest import BROWSER_UA  # noqa: E402
from .test_tag import wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(60)

PAGE = b"""<!doctype html><title>WSGI shop</title>
<script defer src="/whoson/t.js"></script><h1>A WSGI shop</h1>"""


def mount(prefix: str, inner: Callable[..., Iterable[bytes]], host: Callable[..., Iterable[bytes]]) -> Any:
    """What werkzeug's DispatcherMiddleware does: paths under ``prefix`` go to ``inner``."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == prefix or path.startswith(prefix + "/"):
            environ = {**environ, "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + prefix,
                       "PATH_INFO": path[len(prefix):]}
            return inner(environ, start_response)
        return host(environ, start_response)

    return app


def shop(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The host's own pages."""
    start_response("200 OK", [("content-type", "text/html")])
    return [PAGE]


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def wsgi_server() -> Iterator[tuple[str, Tracker]]:
    """The host on wsgiref (threads) with whoson at /whoson, over an in-memory tracker."""
    tracker = Tracker()
    whoson = wsgi_app(tracker, agents={"ann": "tok"})
    server = make_server("127.0.0.1", 0, mount("/whoson", whoson, shop), server_class=_Threading,
                         handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", tracker
    server.shutdown()
    whoson.close()


class TestWSGI:
    """Collector, counters and the tag work under WSGI; streams answer 501."""

    def test_collector_and_stats(self, wsgi_server: tuple[str, Tracker]) -> None:
        """A batch is accepted with the same reply as under ASGI, and counted."""
        url, tracker = wsgi_server
        with httpx.Client(timeout=10) as client:
            headers = {"content-type": "text/plain", "user-agent": BROWSER_UA}
            reply = client.post(url + "/whoson/collect", headers=headers,
                                content=b'{"visitor": "v1", "events": [{"id": "a", "type": "page_view", "url": "/",'
                                        b' "age_ms": 0}, {"id": "b", "type": "order", "age_ms": 0}]}')
            stats = client.get(url + "/whoson/stats").json()
            online = client.get(url + "/whoson/api/online", headers={"authorization": "Bearer tok"})
            anonymous = client.get(url + "/whoson/api/online")
            stream = client.get(url + "/whoson/api/stream")
            tag = client.get(url + "/whoson/t.js")
        assert (202, 1) == (reply.status_code, reply.json()["accepted"])
        assert [{"index": 1, "field": "type", "rule": "not accepted from a browser"}] == reply.json()["rejected"]
        assert (1, 1) == (stats["accepted"], stats["rejected"])
        assert (501, 200) == (stream.status_code, tag.status_code)
        assert (200, 401) == (online.status_code, anonymous.status_code)
        assert (1, ["v1"]) == (online.json()["total"], [row["visitor"] for row in online.json()["rows"]])
        assert ["a"] == [s.event.id for s in tracker.store.read()]

    def test_tag_in_chromium(self, wsgi_server: tuple[str, Tracker], page: Any) -> None:
        """A page on the WSGI host, opened in Chromium, records its page view."""
        url, tracker = wsgi_server
        page.goto(url + "/")
        viewed = wait_for(lambda: [s.event for s in tracker.store.read(types=["page_view"])], page=page)
        assert ["/"] == [e.url for e in viewed]
