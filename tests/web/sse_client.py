"""A small server-sent events reader over httpx, for tests against a real server.

Every read has a timeout, so a stream that hangs fails the test fast.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import httpx


@attrs.frozen
class Sse:
    """One event: ``id`` (None if absent), ``event`` name, decoded ``data``; comments as ``event=":"``."""

    id: int | None
    event: str
    data: Any


def events(response: httpx.Response) -> Iterator[Sse]:
    """Parse ``response``'s body as ``text/event-stream`` (comments become ``":"`` events)."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            yield Sse(None, ":", line[1:].strip())
            continue
        if line == "":
            if "data" in fields or "event" in fields:
                raw_id = fields.get("id")
                data = fields.get("data", "")
                yield Sse(int(raw_id) if raw_id and raw_id.isdigit() else None,
                          fields.get("event", "message"), json.loads(data) if data else None)
            fields = {}
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        fields[name] = fields[name] + "\n" + value if name == "data" and name in fields else value


def read_until(stream: Iterator[Sse], done: Callable[[Sse], bool], seconds: float) -> list[Sse]:
    """Events up to and including the first for which ``done`` holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    seen: list[Sse] = []
    for item in stream:
        seen.append(item)
        if done(item):
            return seen
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no matching event within {seconds} s; saw {[(e.id, e.event) for e in seen]}")
