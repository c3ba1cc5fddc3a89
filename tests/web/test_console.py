"""The console's HTTP side against a real server: auth, CSRF, /api/online, invitations, the stream."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.web.conftest import LiveServer
from tests.web.sse_client import Sse, events, read_until
from whoson import Tracker
from whoson.core.time import format_ts
from whoson.live import LiveView
from whoson.rules import Rule
from whoson.rules.conditions import UrlMatches
from whoson.rules.model import Invite
from whoson.web import console as console_module
from whoson.web.wsgi import wsgi_app

AGENTS = {"ann": "ann-token", "bob": "bob-token"}
ANN = {"authorization": "Bearer ann-token"}
BOB = {"authorization": "Bearer bob-token"}


def view(visitor: str, url: str = "/", seconds_ago: float = 0.0, **fields: Any) -> dict[str, Any]:
    """A page_view of ``visitor`` stamped ``seconds_ago`` before now."""
    ts = format_ts(Tracker().clock.now() - timedelta(seconds=seconds_ago))
    return {"id": uuid.uuid4().hex, "type": "page_view", "ts": ts, "visitor": visitor, "url": url, **fields}


@pytest.fixture
def server(make_server: Callable[..., LiveServer]) -> LiveServer:
    """A server with two agents, ann and bob."""
    return make_server(agents=AGENTS)


@contextlib.contextmanager
def login(server: LiveServer, agent: str = "ann") -> Iterator[httpx.Client]:
    """A client holding ``agent``'s session cookie (logged in through the form)."""
    with httpx.Client(base_url=server.url, timeout=5) as client:
        reply = client.post(f"{server.prefix}/login", data={"agent": agent, "token": AGENTS[agent]})
        assert 303 == reply.status_code
        yield client


class TestAuthentication:
    """Every agent endpoint needs an agent; pages send strangers to the login form."""

    @pytest.mark.parametrize("path", ["/api/online", "/api/stream", "/api/poll", "/api/visitors/v1"])
    def test_json_endpoints_401(self, server: LiveServer, path: str) -> None:
        """Without credentials (or with a wrong token) JSON endpoints answer 401."""
        assert 401 == httpx.get(server.base + path, timeout=5).status_code
        assert 401 == httpx.get(server.base + path, headers={"authorization": "Bearer nope"},
                                timeout=5).status_code

    def test_page_redirects_to_login(self, server: LiveServer) -> None:
        """The console page sends a stranger to the login form."""
        reply = httpx.get(server.base + "/live", timeout=5)
        assert (303, server.prefix + "/login") == (reply.status_code, reply.headers["location"])
        assert 'name="token"' in httpx.get(server.base + "/login", timeout=5).text

    def test_bearer_token(self, server: LiveServer) -> None:
        """A bearer token of a configured agent opens the JSON endpoints."""
        assert {"total": 0, "rows": []} == httpx.get(server.base + "/api/online", headers=ANN, timeout=5).json()

    def test_login_form_sets_session(self, server: LiveServer) -> None:
        """The login form sets an HttpOnly cookie that opens the console page."""
        reply = httpx.post(server.base + "/login", data={"agent": "ann", "token": AGENTS["ann"]}, timeout=5)
        flags = {part.strip().lower() for part in reply.headers["set-cookie"].split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/whoson"} <= flags
        with login(server) as client:
            cookie = client.cookies.jar
            assert ["whoson_agent"] == [c.name for c in cookie]
            page = client.get(f"{server.prefix}/live")
            assert 200 == page.status_code
            assert '<meta name="whoson-agent" content="ann">' in page.text

    def test_wrong_token_refused(self, server: LiveServer) -> None:
        """A wrong token gets the form again with 401 and no cookie."""
        reply = httpx.post(server.base + "/login", data={"agent": "ann", "token": "bob-token"}, timeout=5)
        assert 401 == reply.status_code
        assert "whoson_agent" not in reply.cookies

    def test_host_authorize_hook(self, make_server: Callable[..., LiveServer]) -> None:
        """A host's authorize(request) decides alone who the agent is."""
        server = make_server(authorize=lambda request: request.headers.get("x-staff"))
        assert 401 == httpx.get(server.base + "/api/online", timeout=5).status_code
        assert 200 == httpx.get(server.base + "/api/online", headers={"x-staff": "carol"}, timeout=5).status_code


class TestCsrf:
    """Cookie sessions need a same-origin Origin and the page's CSRF token; bearer needs neither."""

    def csrf(self, client: httpx.Client, server: LiveServer) -> str:
        page = client.get(f"{server.prefix}/live").text
        return page.split('name="whoson-csrf" content="')[1].split('"')[0]

    def test_cookie_post_needs_origin_and_token(self, server: LiveServer) -> None:
        """Without the token, or from another site, the invite is refused and nothing is recorded."""
        server.tracker.record(view("v1"))
        with login(server) as client:
            token = self.csrf(client, server)
            path = f"{server.prefix}/api/visitors/v1/invite"
            own = server.url
            no_token = client.post(path, json={"message": "Hi"}, headers={"origin": own})
            cross_site = client.post(path, json={"message": "Hi"},
                                     headers={"origin": "https://evil.example", "x-whoson-csrf": token})
            no_origin = client.post(path, json={"message": "Hi"}, headers={"x-whoson-csrf": token})
            assert [403, 403, 403] == [no_token.status_code, cross_site.status_code, no_origin.status_code]
            assert "none" == server.tracker.online().rows[0].chat
            accepted = client.post(path, json={"message": "Hi"}, headers={"origin": own, "x-whoson-csrf": token})
            assert 201 == accepted.status_code

    def test_bearer_post_needs_no_csrf(self, server: LiveServer) -> None:
        """A bearer-authenticated post goes through without Origin or token."""
        server.tracker.record(view("v1"))
        reply = httpx.post(server.base + "/api/visitors/v1/invite", json={"message": "Hi"}, headers=ANN, timeout=5)
        assert 201 == reply.status_code


class TestOnline:
    """``/api/online``: the rows of ``whoson live --json``, filtered and paged on the server."""

    def test_keys_are_the_cli_keys(self, server: LiveServer) -> None:
        """The rows carry exactly the keys of the live JSON rows."""
        event = view("v1", "/pricing", title="Pricing", country="DE")
        server.tracker.record(event)
        reference = LiveView()
        reference.apply(server.tracker.live.events_of("v1")[0])
        cli_keys = set(reference.online(server.tracker.clock.now()).to_dict()["online"][0])
        body = httpx.get(server.base + "/api/online", headers=ANN, timeout=5).json()
        assert (1, cli_keys) == (body["total"], set(body["rows"][0]))

    def test_filters_and_paging(self, server: LiveServer) -> None:
        """Filters pick rows on the server; total counts all matches, limit/offset page them."""
        tracker = server.tracker
        tracker.record_many([view("a", "/cart", 30, country="DE"), view("b", "/cart", 20, country="FR"),
                             view("c", "/help", 10, country="DE")])

        def ids(query: str) -> tuple[int, list[str]]:
            body = httpx.get(f"{server.base}/api/online?{query}", headers=ANN, timeout=5).json()
            return body["total"], [row["visitor"] for row in body["rows"]]

        assert (3, ["c", "b", "a"]) == ids("")
        assert (2, ["b", "a"]) == ids("url=/cart*")
        assert (2, ["c", "a"]) == ids("country=de")
        assert (2, ["a"]) == ids("url=/cart*&limit=1&offset=1")
        assert (1, ["b"]) == ids("q=B")
        assert 400 == httpx.get(server.base + "/api/online?in_chat=perhaps", headers=ANN, timeout=5).status_code

    def test_visitor_detail(self, server: LiveServer) -> None:
        """``/api/visitors/{id}`` is the snapshot plus history; an unknown id is 404."""
        server.tracker.record(view("v1", "/pricing"))
        body = httpx.get(server.base + "/api/visitors/v1", headers=ANN, timeout=5).json()
        summary = (body["snapshot"]["visitor"], body["online"], len(body["sessions"]), body["chat"])
        assert ("v1", True, 1, None) == summary
        assert 404 == httpx.get(server.base + "/api/visitors/nobody", headers=ANN, timeout=5).status_code


class TestInvite:
    """An invitation is an agent request plus the agent's message; a second one is refused."""

    def test_events_recorded(self, server: LiveServer) -> None:
        """The request names the authenticated agent; the message keeps chars, not the text."""
        server.tracker.record(view("v1", "/checkout"))
        reply = httpx.post(server.base + "/api/visitors/v1/invite", json={"message": "Need help?"},
                           headers=ANN, timeout=5)
        request = reply.json()["request"]
        stored = [e for e in server.tracker.live.events_of("v1") if e.type in ("request", "message")]
        assert [("request", "agent", "ann", "/checkout"), ("message", "agent", "ann", 10)] == [
            (e.type, getattr(e, "initiator", None) or e.sender, e.agent,
             getattr(e, "url", None) or e.chars) for e in stored
        ]
        assert all("text" not in e.to_dict() for e in stored)
        assert {request} == {e.request for e in stored}

    def test_text_kept_with_store_text(self, make_server: Callable[..., LiveServer], tmp_path: Any) -> None:
        """With the tracker's store_text on, the message text is stored too."""
        tracker = Tracker.open(f"sqlite:///{tmp_path / 'text.db'}", store_text=True)
        server = make_server(tracker=tracker, agents=AGENTS)
        tracker.record(view("v1"))
        httpx.post(server.base + "/api/visitors/v1/invite", json={"message": "Need help?"}, headers=ANN, timeout=5)
        messages = [e.event.to_dict() for e in tracker.store.read() if e.event.type == "message"]
        assert [("Need help?", 10)] == [(m["text"], m["chars"]) for m in messages]

    def test_second_invitation_409_names_holder(self, server: LiveServer) -> None:
        """bob's invitation while ann's is open is refused with 409 naming ann."""
        server.tracker.record(view("v1"))
        first = httpx.post(server.base + "/api/visitors/v1/invite", json={"message": "Hi"}, headers=ANN, timeout=5)
        second = httpx.post(server.base + "/api/visitors/v1/invite", json={"message": "Hello"}, headers=BOB, timeout=5)
        assert (201, 409) == (first.status_code, second.status_code)
        assert second.json()["error"].endswith("held by ann")

    def test_bad_input(self, server: LiveServer) -> None:
        """A missing message or an unknown visitor gets a clear 400 / 404."""
        server.tracker.record(view("v1"))
        missing = httpx.post(server.base + "/api/visitors/v1/invite", json={}, headers=ANN, timeout=5)
        unknown = httpx.post(server.base + "/api/visitors/zz/invite", json={"message": "Hi"}, headers=ANN, timeout=5)
        assert (400, "message: is required") == (missing.status_code, missing.json()["error"])
        assert 404 == unknown.status_code


def stream(server: LiveServer, headers: dict[str, str] | None = None, query: str = "") -> Any:
    """An open ``/api/stream`` response (a context manager) with a 5 s read timeout."""
    return httpx.stream("GET", f"{server.base}/api/stream{query}", headers={**ANN, **(headers or {})},
                        timeout=httpx.Timeout(5.0))


class TestStream:
    """``/api/stream`` over a real socket: snapshot, diffs, ids, resume, pings, headers."""

    def test_snapshot_then_upsert_within_2s(self, server: LiveServer) -> None:
        """A new visitor arrives as an upsert within 2 s of being recorded."""
        server.tracker.record(view("v1", "/a"))
        with stream(server) as response:
            assert "text/event-stream" in response.headers["content-type"]
            assert ("no-cache", "no") == (response.headers["cache-control"], response.headers["x-accel-buffering"])
            items = events(response)
            snapshot = read_until(items, lambda e: e.event == "snapshot", 5)[-1]
            assert ["v1"] == [row["visitor"] for row in snapshot.data["rows"]]
            recorded = time.monotonic()
            server.tracker.record(view("v2", "/b"))
            upsert = read_until(items, lambda e: e.event == "upsert" and e.data["visitor"] == "v2", 5)[-1]
            assert time.monotonic() - recorded < 2.0
            assert ("active", "/b") == (upsert.data["status"], upsert.data["row"]["url"])

    def test_two_agents_see_the_same_rows(self, server: LiveServer) -> None:
        """ann's and bob's streams carry the same upsert, naming the holder of the visitor."""
        server.tracker.record(view("v1", "/a"))
        with stream(server) as first, stream(server, BOB) as second:
            streams = [events(first), events(second)]
            for items in streams:
                read_until(items, lambda e: e.event == "snapshot", 5)
            httpx.post(server.base + "/api/visitors/v1/invite", json={"message": "Hi"}, headers=ANN, timeout=5)
            seen = [read_until(items, lambda e: e.event == "upsert", 5)[-1] for items in streams]
        assert seen[0] == seen[1]
        held = (seen[0].data["status"], seen[0].data["row"]["chat"])
        assert ("invited", {"state": "pending", "agent": "ann"}) == held

    def test_other_process_rows_within_2s(self, make_server: Callable[..., LiveServer], tmp_path: Any) -> None:
        """Two servers over one SQLite file: a visitor recorded by one shows in the other's stream."""
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        first = make_server(tracker=Tracker.open(url), agents=AGENTS)
        second = make_server(tracker=Tracker.open(url), agents=AGENTS)
        with stream(second) as response:
            items = events(response)
            read_until(items, lambda e: e.event == "snapshot", 5)
            recorded = time.monotonic()
            first.tracker.record(view("v1", "/from-the-other-process"))
            upsert = read_until(items, lambda e: e.event == "upsert", 5)[-1]
            elapsed = time.monotonic() - recorded
        assert ("v1", "/from-the-other-process") == (upsert.data["visitor"], upsert.data["row"]["url"])
        assert elapsed < 2.0

    def test_resume_without_gap(self, server: LiveServer) -> None:
        """Reconnecting with Last-Event-ID gets exactly the events missed, ids consecutive."""
        tracker = server.tracker
        tracker.record(view("v1", "/a"))
        with stream(server) as response:
            items = events(response)
            last = read_until(items, lambda e: e.event == "snapshot", 5)[-1].id
        assert last is not None
        tracker.record_many([view("v2", "/b"), view("v3", "/c")])
        leave = {"id": uuid.uuid4().hex, "type": "page_leave", "ts": format_ts(tracker.clock.now()),
                 "visitor": "v1", "url": "/a"}
        tracker.record(leave)
        deadline = time.monotonic() + 3
        feed = console_module.console_of(server.app.state.whoson_app).feed
        while feed.seq < last + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        with stream(server, {"last-event-id": str(last)}) as response:
            items = events(response)
            seen: set[str] = set()

            def all_three(item: Sse) -> bool:
                if item.event == "upsert":
                    seen.add(item.data["visitor"])
                return {"v1", "v2", "v3"} <= seen

            got: list[Sse] = read_until(items, all_three, 5)
        diffs = [e for e in got if e.id is not None]
        assert [last + i for i in range(1, len(diffs) + 1)] == [e.id for e in diffs]
        assert "snapshot" not in [e.event for e in got]
        assert {"v2", "v3"} <= {e.data["visitor"] for e in diffs if e.event == "upsert"}
        assert ["gone"] == [e.data["status"] for e in diffs if e.event == "upsert" and e.data["visitor"] == "v1"]

    def test_stale_id_gets_snapshot(self, server: LiveServer) -> None:
        """An id the server never sent (another process's) gets a fresh snapshot."""
        with stream(server, {"last-event-id": "999999"}) as response:
            first = read_until(events(response), lambda e: e.event != ":", 5)[-1]
        assert "snapshot" == first.event

    def test_ping(self, server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
        """A quiet stream sends comment pings (every PING_SECONDS, 10 s by default)."""
        monkeypatch.setattr(console_module, "PING_SECONDS", 0.3)
        with stream(server) as response:
            assert ":" == read_until(events(response), lambda e: e.event == ":", 5)[-1].event

    def test_filtered_stream(self, server: LiveServer) -> None:
        """With a filter, a row that stops matching arrives as a remove."""
        tracker = server.tracker
        tracker.record(view("v1", "/cart"))
        with stream(server, query="?url=/cart*") as response:
            items = events(response)
            snapshot = read_until(items, lambda e: e.event == "snapshot", 5)[-1]
            assert ["v1"] == [row["visitor"] for row in snapshot.data["rows"]]
            tracker.record(view("v1", "/help"))
            removed = read_until(items, lambda e: e.event in ("remove", "upsert"), 5)[-1]
        assert ("remove", "v1") == (removed.event, removed.data["visitor"])

    def test_agent_status_recorded(self, server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
        """Opening the console records the agent online; leaving it records away."""
        monkeypatch.setattr(console_module, "AWAY_GRACE_SECONDS", 0.2)
        with stream(server) as response:
            read_until(events(response), lambda e: e.event == "snapshot", 5)
            assert ["ann"] == server.tracker.live.agents_online(server.tracker.clock.now())
        deadline = time.monotonic() + 5
        statuses: list[str] = []
        while time.monotonic() < deadline:
            statuses = [e.event.status for e in server.tracker.store.read() if e.event.type == "agent_status"]
            if statuses == ["online", "away"]:
                break
            time.sleep(0.1)
        assert ["online", "away"] == statuses


class TestVisitorStream:
    """``/chat/stream``: the visitor's push channel brings the invitation within seconds."""

    def test_invite_pushed(self, server: LiveServer) -> None:
        """An agent's invitation reaches the visitor's open stream well within 5 s."""
        server.tracker.record(view("v1"))
        got: list[Sse] = []

        def invite_later() -> None:
            time.sleep(0.3)
            httpx.post(server.base + "/api/visitors/v1/invite", json={"message": "Hi <b>there</b>"},
                       headers=ANN, timeout=5)

        with httpx.stream("GET", server.base + "/chat/stream?visitor=v1", timeout=httpx.Timeout(5.0)) as response:
            started = time.monotonic()
            threading.Thread(target=invite_later).start()
            got = read_until(events(response), lambda e: e.event == "invite", 5)
            elapsed = time.monotonic() - started
        invite = got[-1].data
        assert ("ann", "Hi <b>there</b>", "agent") == (invite["agent"], invite["message"], invite["initiator"])
        assert elapsed < 5.0

    def test_rule_invitation_pushed(self, make_server: Callable[..., LiveServer], tmp_path: Any) -> None:
        """A rule's invitation reaches the visitor's stream the same way."""
        rule = Rule("help-desk", [UrlMatches("/help*")], Invite("text", "Questions? We're here."))
        tracker = Tracker.open(f"sqlite:///{tmp_path / 'rules.db'}", rules=[rule])
        server = make_server(tracker=tracker)
        tracker.record(view("v1", "/"))
        with httpx.stream("GET", server.base + "/chat/stream?visitor=v1", timeout=httpx.Timeout(5.0)) as response:
            items = events(response)
            tracker.record(view("v1", "/help"))
            invite = read_until(items, lambda e: e.event == "invite", 5)[-1].data
        assert (None, "auto", "help-desk", "Questions? We're here.") == (
            invite["agent"], invite["initiator"], invite["trigger"], invite["message"])


def wsgi_get(app: Any, path: str, query: str = "", headers: dict[str, str] | None = None) -> tuple[str, Any]:
    """One GET through a WSGI app mounted at /whoson: ``(status line, decoded JSON or None)``."""
    environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/whoson", "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.input": io.BytesIO(),
               "wsgi.url_scheme": "http", "HTTP_HOST": "localhost"}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()})
    status: list[str] = []
    body = b"".join(app(environ, lambda line, _headers: status.append(line)))
    return status[0], json.loads(body) if body.startswith(b"{") else None


class TestWsgiPolling:
    """Under WSGI the streams are refused and the console polls ``/api/poll`` instead."""

    def test_poll_instead_of_stream(self) -> None:
        """A snapshot first, then exactly the events after the id given back."""
        tracker = Tracker()
        app = wsgi_app(tracker, agents=AGENTS)
        try:
            assert "501" == wsgi_get(app, "/api/stream", headers=ANN)[0][:3]
            assert "401" == wsgi_get(app, "/api/poll")[0][:3]
            status, first = wsgi_get(app, "/api/poll", headers=ANN)
            assert ("200", [], 0) == (status[:3], first["snapshot"]["rows"], first["snapshot"]["total"])
            tracker.record(view("v1", "/pricing"))
            _, second = wsgi_get(app, "/api/poll", f"after={first['id']}", headers=ANN)
            upserts = [e for e in second["events"] if e["event"] == "upsert"]
            assert [("v1", "/pricing")] == [(e["data"]["visitor"], e["data"]["row"]["url"]) for e in upserts]
            assert [first["id"] + 1 + i for i in range(len(second["events"]))] == [e["id"] for e in second["events"]]
            assert second["id"] == second["events"][-1]["id"]
        finally:
            app.close()

    def test_polling_agent_is_online(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An agent whose console polls is online (as one with a stream is), and away once the polls stop."""
        monkeypatch.setattr(console_module, "POLL_AWAY_SECONDS", 0.3)
        tracker = Tracker()
        app = wsgi_app(tracker, agents=AGENTS)
        try:
            wsgi_get(app, "/api/poll", headers=ANN)
            online = tracker.live.agents_online(tracker.clock.now())
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and tracker.live.agents_online(tracker.clock.now()):
                time.sleep(0.1)
            statuses = [e.event.status for e in tracker.store.read() if e.event.type == "agent_status"]
            assert (["ann"], ["online", "away"]) == (online, statuses)
        finally:
            app.close()
