"""The collector of web.md, row by row, against a real server on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

httpx = pytest.importorskip("httpx")

from whoson import Tracker  # noqa: E402
from whoson.core.errors import StoreError  # noqa: E402
from whoson.stores.memory import MemoryStore  # noqa: E402
from whoson.web.app import static_script  # noqa: E402
from whoson.web.collector import NOT_FROM_BROWSER  # noqa: E402

from .conftest import BROWSER_UA, LiveServer  # noqa: E402

pytestmark = pytest.mark.timeout(60)

# One client for the module: building an httpx client (its TLS context) per request costs ~0.1 s.
CLIENT = httpx.Client(timeout=10, trust_env=False)


def post(server: LiveServer, body: Any, *, content_type: str = "text/plain;charset=UTF-8",
         headers: dict[str, str] | None = None) -> Any:
    """POST a batch the way the tag does (text/plain JSON, a browser's User-Agent)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"content-type": content_type, "user-agent": BROWSER_UA, **(headers or {})}
    return CLIENT.post(server.base + "/collect", content=raw, headers=sent)


def view(event_id: str, visitor: str = "v1", url: str = "/", age_ms: int = 0, **fields: Any) -> dict[str, Any]:
    """A page_view as the tag sends it."""
    return {"id": event_id, "type": "page_view", "visitor": visitor, "url": url, "age_ms": age_ms, **fields}


def stored(server: LiveServer) -> dict[str, dict[str, Any]]:
    """Every stored event as a mapping, by id."""
    return {s.event.id: s.event.to_dict() for s in server.tracker.store.read()}


class TestAcceptedBatch:
    """A 202 carries exactly the keys of the table, and the good events are stored with server time."""

    def test_reply_keys_and_counts(self, live_server: LiveServer) -> None:
        """One page view accepted: the reply is exactly the contract's object."""
        reply = post(live_server, {"visitor": "v1", "events": [view("a1")]})
        assert 202 == reply.status_code
        assert {"accepted": 1, "duplicate": 0, "rejected": [], "heartbeat": 30, "invite": None} == reply.json()

    def test_server_time_from_age(self, live_server: LiveServer) -> None:
        """ts = received - age_ms; the browser's own ts is ignored."""
        before = datetime.now(UTC)
        reply = post(live_server, {"visitor": "v1", "events": [
            view("t1", age_ms=90_000, ts="2001-01-01T00:00:00Z"),
        ]})
        after = datetime.now(UTC)
        assert 202 == reply.status_code
        ts = datetime.fromisoformat(stored(live_server)["t1"]["ts"].replace("Z", "+00:00"))
        assert before - timedelta(seconds=90) <= ts <= after - timedelta(seconds=90)

    def test_age_bounds(self, live_server: LiveServer) -> None:
        """age_ms outside 0..600000, missing or not an integer rejects that event only."""
        events = [view("ok", age_ms=600_000), view("neg", age_ms=-1), view("big", age_ms=600_001),
                  {k: v for k, v in view("none").items() if k != "age_ms"}, view("text", age_ms="5"),
                  view("bool", age_ms=True)]
        reply = post(live_server, {"visitor": "v1", "events": events})
        rule = "must be an integer between 0 and 600000 (milliseconds)"
        expected = [{"index": i, "field": "age_ms", "rule": rule} for i in range(1, 6)]
        assert (1, expected) == (reply.json()["accepted"], reply.json()["rejected"])
        assert ["ok"] == list(stored(live_server))

    def test_bare_array(self, live_server: LiveServer) -> None:
        """A bare array is a batch; its visitor is the first event's."""
        reply = post(live_server, [view("b1", visitor="va"), view("b2", visitor="vb")])
        assert [{"index": 1, "field": "visitor", "rule": "must equal the batch's visitor"}] == reply.json()["rejected"]
        assert ["b1"] == list(stored(live_server))

    def test_application_json(self, live_server: LiveServer) -> None:
        """application/json is accepted like text/plain."""
        reply = post(live_server, {"visitor": "v1", "events": [view("j1")]}, content_type="application/json")
        assert 1 == reply.json()["accepted"]

    def test_duplicates_are_harmless(self, live_server: LiveServer) -> None:
        """A retried batch (the tag marks it, with fresh ages) counts as duplicates and stores nothing twice."""
        first = post(live_server, {"visitor": "v1", "events": [view("d1", age_ms=5), view("d2", url="/b")]})
        before = stored(live_server)
        second = post(live_server, {"visitor": "v1", "events": [
            view("d1", age_ms=1500, retry=1), view("d2", url="/b", age_ms=700, retry=1)]})
        assert (2, 0) == (first.json()["accepted"], first.json()["duplicate"])
        assert (0, 2, []) == (second.json()["accepted"], second.json()["duplicate"], second.json()["rejected"])
        assert before == stored(live_server)

    def test_same_id_other_content_is_a_conflict(self, live_server: LiveServer) -> None:
        """A retry that changes the event is rejected as a conflict; the stored event is kept."""
        post(live_server, {"visitor": "v1", "events": [view("k1", url="/a")]})
        reply = post(live_server, {"visitor": "v1", "events": [view("k1", url="/b", retry=1)]})
        assert ["id"] == [r["field"] for r in reply.json()["rejected"]]
        assert "/a" == stored(live_server)["k1"]["url"]

    def test_contract_limits_apply_per_event(self, live_server: LiveServer) -> None:
        """An event breaking events.md is rejected with its field and rule; the rest of the batch is stored."""
        events = [view("good"), view("long", url="/" + "x" * 9000), view("noid") | {"id": ""}]
        reply = post(live_server, {"visitor": "v1", "events": events})
        assert [
            {"index": 1, "field": "url", "rule": "must be at most 8192 characters (has 9001)"},
            {"index": 2, "field": "id", "rule": "must not be empty"},
        ] == reply.json()["rejected"]
        assert ["good"] == list(stored(live_server))

    def test_query_scrubbed(self, live_server: LiveServer) -> None:
        """Query parameters outside the allowlist (utm_* by default) never reach the store."""
        post(live_server, {"visitor": "v1", "events": [
            view("q1", url="/p?email=a%40b.c&utm_source=news", referrer="https://x.example/s?q=secret"),
        ]})
        event = stored(live_server)["q1"]
        assert ("/p?utm_source=news", "https://x.example/s") == (event["url"], event["referrer"])

    def test_visitor_filled_from_batch(self, live_server: LiveServer) -> None:
        """Events without a visitor take the batch's; the cookie names it when the body does not."""
        event = view("c1")
        del event["visitor"]
        reply = post(live_server, {"events": [event, view("c2", visitor=None)]},
                     headers={"cookie": "whoson_vid=fromcookie"})
        assert (2, []) == (reply.json()["accepted"], reply.json()["rejected"])
        assert ["fromcookie", "fromcookie"] == [e["visitor"] for e in stored(live_server).values()]


class TestBrowserAllowlist:
    """Only the visitor's own actions are accepted from a browser; the rest is rejected per event."""

    FORGED: ClassVar[list[dict[str, Any]]] = [
        {"type": "order", "order": "o1", "subtotal": "100"},
        {"type": "cart_update", "value": "10"},
        {"type": "identify", "customer": "c1"},
        {"type": "auto_message", "trigger": "t"},
        {"type": "transfer", "request": "r1"},
        {"type": "agent_status", "agent": "ann", "status": "online"},
        {"type": "request", "request": "r2", "channel": "text", "initiator": "agent", "agent": "ann"},
        {"type": "request", "request": "r3", "channel": "text", "initiator": "auto", "trigger": "t"},
        {"type": "message", "request": "r1", "sender": "agent", "agent": "ann"},
        {"type": "call_joined", "request": "r1", "participant": "agent", "agent": "ann"},
        {"type": "request_end", "request": "r1", "reason": "closed"},
        {"type": "no_such_type"},
        {"type": "survey", "request": "r1", "rating": 1, "agent": "bob"},
        {"type": "message", "request": "r1", "sender": "visitor", "agent": "bob"},
    ]
    FIELDS: ClassVar[list[str]] = (["type"] * 6 + ["initiator", "initiator", "sender", "participant", "reason", "type"]
                                   + ["agent", "agent"])
    ALLOWED: ClassVar[list[dict[str, Any]]] = [
        {"type": "heartbeat", "url": "/"},
        {"type": "page_leave", "url": "/"},
        {"type": "widget_impression", "url": "/"},
        {"type": "widget_click", "url": "/", "source": "widget"},
        {"type": "auto_message_click", "trigger": "t"},
        {"type": "request", "request": "r1", "channel": "text", "initiator": "visitor"},
        {"type": "message", "request": "r1", "sender": "visitor", "chars": 5},
        {"type": "call_joined", "request": "r1", "participant": "visitor"},
        {"type": "survey", "request": "r1", "rating": 5, "submitted": True},
        {"type": "request_end", "request": "r1", "reason": "cancelled"},
    ]

    def test_forged_events_rejected(self, live_server: LiveServer) -> None:
        """Orders, carts, identify, agent and auto events, an agent named: rule 'not accepted from a browser'."""
        events = [{"id": f"f{i}", "visitor": "v1", "age_ms": 0, **e} for i, e in enumerate(self.FORGED)]
        reply = post(live_server, {"visitor": "v1", "events": [view("p"), *events]})
        expected = [{"index": i + 1, "field": f, "rule": NOT_FROM_BROWSER} for i, f in enumerate(self.FIELDS)]
        assert (1, expected) == (reply.json()["accepted"], reply.json()["rejected"])
        assert ["p"] == list(stored(live_server))

    def test_visitor_actions_accepted(self, live_server: LiveServer) -> None:
        """Beats, leaves, widget, auto message clicks and the visitor's own chat steps are stored."""
        events = [{"id": f"a{i}", "visitor": "v1", "age_ms": 0, **e} for i, e in enumerate(self.ALLOWED)]
        reply = post(live_server, {"visitor": "v1", "events": events})
        assert (len(events), []) == (reply.json()["accepted"], reply.json()["rejected"])

    def test_other_visitor_rejected(self, live_server: LiveServer) -> None:
        """An event naming another visitor than the batch's is rejected, the others kept."""
        reply = post(live_server, {"visitor": "v1", "events": [view("o1"), view("o2", visitor="v2")]})
        assert [{"index": 1, "field": "visitor", "rule": "must equal the batch's visitor"}] == reply.json()["rejected"]

    def test_server_fields_not_taken_from_browser(self, live_server: LiveServer) -> None:
        """device, country and user_agent come from the request, never from the body."""
        post(live_server, {"visitor": "v1", "events": [view("s1", device="fridge", country="AQ", user_agent="x")]})
        event = stored(live_server)["s1"]
        assert ("desktop", None, BROWSER_UA) == (event["device"], event.get("country"), event["user_agent"])


class TestRefusals:
    """Each error row of the table, with its exact status."""

    @pytest.mark.parametrize(("body", "line"), [
        (b"{not json", "body is not JSON"),
        (b'"a string"', 'body must be an object with "events" or an array'),
        (b'{"events": {}}', 'field "events" must be an array of events'),
        (json.dumps([view(f"e{i}") for i in range(101)]).encode(), "101 events in one batch; at most 100"),
        (b"\xff\xfe", "body is not JSON"),
    ])
    def test_400(self, live_server: LiveServer, body: bytes, line: str) -> None:
        """Not JSON, not an object/array, or over 100 events: 400 with one error line."""
        reply = post(live_server, body)
        assert 400 == reply.status_code
        assert line in reply.text
        assert 1 == reply.text.count("\n")

    def test_413_declared(self, live_server: LiveServer) -> None:
        """A body over 64 KiB: 413."""
        big = json.dumps({"visitor": "v1", "events": [view("x", title="t" * 70_000)]}).encode()
        assert 413 == post(live_server, big).status_code

    def test_413_streamed(self, live_server: LiveServer) -> None:
        """A chunked body without a length is cut off at 64 KiB: 413."""

        def chunks() -> Iterator[bytes]:
            yield b'{"events": ['
            for _ in range(20):
                yield b" " * 4096

        reply = CLIENT.post(live_server.base + "/collect", content=chunks(),
                           headers={"content-type": "text/plain", "user-agent": BROWSER_UA})
        assert 413 == reply.status_code

    @pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data", ""])
    def test_415(self, live_server: LiveServer, content_type: str) -> None:
        """Any other content type: 415."""
        assert 415 == post(live_server, {"events": []}, content_type=content_type).status_code

    def test_403_foreign_origin(self, live_server: LiveServer) -> None:
        """A cross-origin post without --allow-origin: 403; same origin: accepted."""
        foreign = post(live_server, [view("x1")], headers={"origin": "http://evil.example"})
        same = post(live_server, [view("x2")], headers={"origin": live_server.url})
        assert (403, 202) == (foreign.status_code, same.status_code)
        assert "access-control-allow-origin" not in foreign.headers

    def test_allowed_origin(self, make_server: Callable[..., LiveServer]) -> None:
        """An allowed origin may post, and is told so with CORS headers (preflight included)."""
        server = make_server(allow_origins=["https://shop.example"])
        reply = post(server, [view("x1")], headers={"origin": "https://shop.example"})
        preflight = CLIENT.options(server.base + "/collect", headers={
            "origin": "https://shop.example", "access-control-request-method": "POST"})
        assert (202, "https://shop.example") == (reply.status_code, reply.headers["access-control-allow-origin"])
        assert (204, "POST") == (preflight.status_code, preflight.headers["access-control-allow-methods"])

    def test_429_per_address(self, make_server: Callable[..., LiveServer]) -> None:
        """Over the address rate: 429 with Retry-After (whole seconds), before the body is read."""
        server = make_server(address_rate=0.1, address_burst=2)
        statuses = [post(server, [view(f"r{i}", visitor=f"v{i}")]) for i in range(3)]
        assert [202, 202, 429] == [r.status_code for r in statuses]
        assert "10" == statuses[2].headers["retry-after"]

    def test_429_per_visitor(self, make_server: Callable[..., LiveServer]) -> None:
        """Over the visitor rate: 429 for that visitor only."""
        server = make_server(visitor_rate=0.5, visitor_burst=1)
        first, second = post(server, [view("a", visitor="v1")]), post(server, [view("b", visitor="v1")])
        other = post(server, [view("c", visitor="v2")])
        assert [202, 429, 202] == [first.status_code, second.status_code, other.status_code]
        assert "2" == second.headers["retry-after"]

    def test_forwarded_for_only_from_trusted_proxy(self, make_server: Callable[..., LiveServer]) -> None:
        """X-Forwarded-For names the client only when the peer is a trusted proxy."""
        untrusted = make_server(address_rate=0.01, address_burst=1)
        trusted = make_server(address_rate=0.01, address_burst=1, trusted_proxies=["127.0.0.1"])
        codes = {}
        for name, server in (("untrusted", untrusted), ("trusted", trusted)):
            codes[name] = [post(server, [view(f"{name}{i}", visitor=f"v{i}")],
                                headers={"x-forwarded-for": f"203.0.113.{i}"}).status_code for i in range(2)]
        assert {"untrusted": [202, 429], "trusted": [202, 202]} == codes


class _FailingStore(MemoryStore):
    """A store whose disk has gone away."""

    def append(self, events: Any, *, strict: bool = False) -> Any:
        raise StoreError("database is locked (simulated)")


class _BlockedStore(MemoryStore):
    """A store that waits for the test before writing."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.entered = threading.Event()

    def append(self, events: Any, *, strict: bool = False) -> Any:
        self.entered.set()
        self.go.wait(20)
        return super().append(events, strict=strict)


class TestUnavailable:
    """A store that fails or falls behind answers 503, and the tag retries."""

    def test_store_error_is_503(self, make_server: Callable[..., LiveServer]) -> None:
        """An append that fails: 503 with Retry-After."""
        server = make_server(tracker=Tracker(_FailingStore()))
        reply = post(server, [view("x")])
        assert (503, "2") == (reply.status_code, reply.headers["retry-after"])

    def test_full_queue_is_503(self, make_server: Callable[..., LiveServer]) -> None:
        """With the writer busy and its queue full, the next batch is refused at once (back-pressure)."""
        store = _BlockedStore()
        server = make_server(tracker=Tracker(store), queue_batches=1)
        results: dict[str, int] = {}

        def send(name: str) -> None:
            results[name] = post(server, [view(name, visitor=name)]).status_code

        first = threading.Thread(target=send, args=("first",))
        first.start()
        assert store.entered.wait(10)
        second = threading.Thread(target=send, args=("second",))
        second.start()
        for _ in range(200):
            if server.state.writer.depth == 1:
                break
            threading.Event().wait(0.01)
        results["third"] = post(server, [view("third", visitor="third")]).status_code
        store.go.set()
        first.join(10)
        second.join(10)
        assert {"first": 202, "second": 202, "third": 503} == results
        assert {"first", "second"} == {s.event.id for s in store.read()}


class TestBotsAndEnrichment:
    """Bots are dropped with 202 and a reason; people get a device and, from trusted sources, a country."""

    def test_bot_dropped(self, live_server: LiveServer) -> None:
        """A crawler's batch: 202, X-Whoson-Dropped, nothing stored, counted as dropped."""
        reply = post(live_server, [view("g1"), view("g2")],
                     headers={"user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"})
        assert (202, "bot", 0) == (reply.status_code, reply.headers["x-whoson-dropped"], reply.json()["accepted"])
        assert 0 == len(live_server.tracker.store)
        assert {"bot": 2} == CLIENT.get(live_server.base + "/stats").json()["dropped"]

    def test_webdriver_flagged_not_dropped(self, live_server: LiveServer) -> None:
        """A browser driven by automation is stored and flagged."""
        post(live_server, {"visitor": "v1", "automation": True, "events": [view("w1")]})
        assert stored(live_server)["w1"]["automation"] is True

    def test_device_from_user_agent(self, live_server: LiveServer) -> None:
        """The device comes from the User-Agent."""
        phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
        tablet = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari/604.1"
        post(live_server, [view("m1", visitor="p")], headers={"user-agent": phone})
        post(live_server, [view("m2", visitor="t")], headers={"user-agent": tablet})
        events = stored(live_server)
        assert ("mobile", "tablet") == (events["m1"]["device"], events["m2"]["device"])

    def test_country_from_trusted_header_only(self, make_server: Callable[..., LiveServer]) -> None:
        """A configured CDN header gives the country; without configuration the header is ignored."""
        trusting = make_server(country_header="CF-IPCountry")
        plain = make_server()
        for server in (trusting, plain):
            post(server, [view("c1")], headers={"cf-ipcountry": "de"})
        assert ("DE", None) == (stored(trusting)["c1"].get("country"), stored(plain)["c1"].get("country"))


class TestCountersAndTag:
    """/stats counts what happened; /t.js is cacheable and within its size budget."""

    def test_counters(self, live_server: LiveServer) -> None:
        """Accepted, duplicate, rejected, dropped by reason and refusals by status, exactly."""
        post(live_server, {"visitor": "v1", "events": [view("a"), view("b"), {"id": "o", "type": "order"}]})
        post(live_server, {"visitor": "v1", "events": [view("a", retry=1)]})
        post(live_server, b"nope")
        post(live_server, [view("z")], headers={"user-agent": "curl/8.0"})
        stats = CLIENT.get(live_server.base + "/stats").json()
        assert {"batches": 2, "accepted": 2, "duplicate": 1, "rejected": 1, "dropped": {"bot": 1},
                "refused": {"400": 1}, "queue": {"depth": 0, "capacity": 1000}} == stats

    def test_tag_etag(self, live_server: LiveServer) -> None:
        """t.js has an ETag, is cacheable, and a revalidation answers 304."""
        first = CLIENT.get(live_server.base + "/t.js")
        again = CLIENT.get(live_server.base + "/t.js", headers={"if-none-match": first.headers["etag"]})
        assert (200, 304) == (first.status_code, again.status_code)
        assert "max-age" in first.headers["cache-control"]
        assert first.headers["content-type"].startswith("text/javascript")

    def test_tag_size_budget(self) -> None:
        """The tag is at most 4 KiB gzip (stdlib gzip, level 9)."""
        size = len(gzip.compress(static_script("t.js"), 9))
        assert size <= 4096, f"t.js is {size} bytes gzip"
