"""The WSGI recipe: the same application for Flask and Django under WSGI, without push.

A WSGI server cannot hold a stream open per visitor, so :func:`wsgi_app`
runs the ASGI application of :func:`whoson.web.asgi_app` on one private
event loop thread and answers each WSGI request from it: the tag, the
collector, the counters and every JSON endpoint work unchanged; the
server-sent event streams answer ``501`` and pages fall back to polling.

>>> from whoson import Tracker
>>> app = wsgi_app(Tracker())
>>> import io
>>> status = []
>>> body = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/stats", "SCRIPT_NAME": "/whoson",
...             "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.input": io.BytesIO(),
...             "wsgi.url_scheme": "http"}, lambda s, h: status.append(s))
>>> status, b'"accepted":0' in b"".join(body)
(['200 OK'], True)
>>> app.close()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, MutableMapping
from http import HTTPStatus
from typing import Any

from whoson.tracker import Tracker
from whoson.web.app import asgi_app, close
from whoson.web.config import MAX_BATCH_BYTES, WebConfig

__all__ = ["WSGIApp", "wsgi_app"]

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_STREAMS = ("/api/stream", "/chat/stream")
_TIMEOUT = 30.0


class WSGIApp:
    """A WSGI callable over the whoson ASGI app (see :func:`wsgi_app`)."""

    def __init__(self, tracker: Tracker, config: WebConfig | None = None, **options: Any) -> None:
        self.asgi = asgi_app(tracker, config=config, **options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="whoson-wsgi-loop", daemon=True)
        self._thread.start()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if path in _STREAMS:
            start_response("501 Not Implemented", [("content-type", "text/plain; charset=utf-8")])
            return [b"streams need an ASGI server; this WSGI host polls instead\n"]
        length = environ.get("CONTENT_LENGTH") or "0"
        size = int(length) if length.isdigit() else 0
        body = environ["wsgi.input"].read(min(size, MAX_BATCH_BYTES + 1)) if size else b""
        future = asyncio.run_coroutine_threadsafe(self._call(_scope(environ), body), self._loop)
        status, headers, chunks = future.result(_TIMEOUT)
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        start_response(f"{status} {phrase}".strip(), headers)
        return chunks

    async def _call(self, scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[str, str]], list[bytes]]:
        sent = False
        status = 500
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)  # no disconnect: the request is over when the app answers
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers.extend((k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.asgi(scope, receive, send)
        return status, headers, chunks

    def close(self) -> None:
        """Stop the app's threads and the private event loop."""
        close(self.asgi)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def _scope(environ: dict[str, Any]) -> dict[str, Any]:
    headers = [
        (key[5:].replace("_", "-").lower().encode("latin-1"), str(value).encode("latin-1"))
        for key, value in environ.items() if key.startswith("HTTP_")
    ]
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers.append((key.replace("_", "-").lower().encode(), str(environ[key]).encode("latin-1")))
    root = environ.get("SCRIPT_NAME", "")
    path = environ.get("PATH_INFO", "") or "/"
    peer = environ.get("REMOTE_ADDR")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": environ.get("REQUEST_METHOD", "GET"), "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": root + path, "root_path": root, "raw_path": (root + path).encode("latin-1"),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"), "headers": headers,
        "client": (peer, int(environ.get("REMOTE_PORT") or 0)) if peer else None,
        "server": (environ.get("SERVER_NAME", "localhost"), int(environ.get("SERVER_PORT") or 80)),
    }


def wsgi_app(tracker: Tracker, *, config: WebConfig | None = None, **options: Any) -> WSGIApp:
    """The whoson application for a WSGI host, to mount under a prefix (see the module).

    Flask: ``DispatcherMiddleware(flask_app.wsgi_app, {"/whoson": wsgi_app(tracker)})``.
    """
    return WSGIApp(tracker, config, **options)
