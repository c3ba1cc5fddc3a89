"""Hand-derived scenarios for the ``requests`` section (outcomes, pending, top_urls).

Reading: ``requests.*`` counts every request created in range, pending ones
included (``pending`` is one of its parts: total = conversations + pending +
unsuccessful).
Reading: a request ended by ``request_end`` is no longer pending even inside
the response timeout; with no conversation it is unsuccessful, and a visitor
request cancelled before any agent response is "unanswered".
Reading: the ``top_urls`` fallback looks at the visitor's page views at any
time at or before the request (also before the range start).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.scenarios.helpers import Events, report, tracker

AS_OF = "2026-03-02T12:00:00Z"


def mixed_day() -> list[dict[str, object]]:
    """Ten requests on 2026-03-02 covering every initiator, channel and outcome."""
    ev = Events()
    return [
        # r1 visitor/text, agent answers at once -> conversation.
        ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
        ev.agent_msg("v1", "2026-03-02T10:01:00Z", "r1", "a1"),
        # r2 visitor/text, nobody answers, ended as missed -> unsuccessful, unanswered.
        ev.request("v2", "2026-03-02T10:05:00Z", "r2"),
        ev.end("v2", "2026-03-02T10:06:00Z", "r2", "missed"),
        # r3 visitor/video, agent joins 20 min later (after the timeout) -> conversation.
        ev.request("v3", "2026-03-02T10:10:00Z", "r3", channel="video"),
        ev.agent_join("v3", "2026-03-02T10:30:00Z", "r3", "a1"),
        # r4 agent/text, visitor replies -> conversation.
        ev.request("v4", "2026-03-02T10:20:00Z", "r4", initiator="agent", agent="a2"),
        ev.visitor_msg("v4", "2026-03-02T10:21:00Z", "r4"),
        # r5 agent/video, visitor never joins -> unsuccessful (not "unanswered": agent-initiated).
        ev.request("v5", "2026-03-02T10:25:00Z", "r5", channel="video", initiator="agent",
                   agent="a2"),
        # r6 auto/text, visitor then agent respond -> conversation.
        ev.request("v6", "2026-03-02T10:30:00Z", "r6", initiator="auto", trigger="t1"),
        ev.visitor_msg("v6", "2026-03-02T10:31:00Z", "r6"),
        ev.agent_msg("v6", "2026-03-02T10:32:00Z", "r6", "a1"),
        # r7 auto/text, visitor responds, no agent ever -> unsuccessful.
        ev.request("v7", "2026-03-02T10:40:00Z", "r7", initiator="auto", trigger="t1"),
        ev.visitor_msg("v7", "2026-03-02T10:41:00Z", "r7"),
        # r8 auto/video, nobody responds -> unsuccessful.
        ev.request("v8", "2026-03-02T10:50:00Z", "r8", channel="video", initiator="auto",
                   trigger="t2"),
        # r9 visitor/text created 5 min before as_of, no answer yet -> pending.
        ev.request("v9", "2026-03-02T11:55:00Z", "r9"),
        # r10 visitor/text left offline, never answered -> unsuccessful, unanswered, offline.
        ev.request("v10", "2026-03-02T09:00:00Z", "r10", offline=True),
    ]


class TestRequestCounts:
    """Totals, splits and outcomes over a day with every kind of request."""

    def test_totals_and_splits(self) -> None:
        """Channel, initiator and the channel x initiator breakdown."""
        d = report(mixed_day(), as_of=AS_OF)["requests"]
        expected = {
            "total": 10,  # r1..r10
            "text": 7,  # r1 r2 r4 r6 r7 r9 r10
            "video": 3,  # r3 r5 r8
            "by_initiator": {"visitor": 5, "agent": 2, "auto": 3},  # r1-3 r9 r10; r4 r5; r6-8
            "breakdown": {
                "text": {"visitor": 4, "agent": 1, "auto": 2},  # r1 r2 r9 r10; r4; r6 r7
                "video": {"visitor": 1, "agent": 1, "auto": 1},  # r3; r5; r8
            },
        }
        assert expected == {key: d[key] for key in expected}

    def test_outcomes(self) -> None:
        """Unsuccessful: neither conversation nor pending; unanswered: unsuccessful visitor ones."""
        d = report(mixed_day(), as_of=AS_OF)
        expected = {
            "pending": 1,  # r9 (as_of - created = 5 min < 10 min)
            "unsuccessful": 5,  # r2 r5 r7 r8 r10 (conversations: r1 r3 r4 r6)
            "unanswered_from_visitors": 2,  # visitor-initiated unsuccessful: r2, r10
            "offline": 1,  # r10
        }
        assert expected == {key: d["requests"][key] for key in expected}
        # total 10 = 4 conversations + 1 pending + 5 unsuccessful.
        expected = 4
        assert expected == d["conversations"]["total"]

    def test_counts_are_ints(self) -> None:
        """Counts come out as ``int``, not floats."""
        d = report(mixed_day(), as_of=AS_OF)["requests"]
        assert [int] * 5 == [type(d[k]) for k in ("total", "text", "video", "pending", "offline")]


class TestPending:
    """Pending is decided at as_of with a strict ``<`` against the response timeout."""

    def test_answered_after_the_timeout_is_a_conversation(self) -> None:
        """An agent answering 25 min after a visitor request still makes a conversation."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
            ev.agent_msg("v1", "2026-03-02T10:25:00Z", "r1", "a1"),  # 25 min > 10 min timeout
        ]
        d = report(events, as_of="2026-03-02T10:30:00Z")
        # Responses count whenever they come: conversation, not pending, not unsuccessful.
        expected = (1, 0, 0)
        assert expected == (
            d["conversations"]["total"], d["requests"]["pending"], d["requests"]["unsuccessful"]
        )
        expected = 1.0
        assert expected == d["acceptance"]["visitor_request_rate"]  # 1 conversation / 1 request

    def test_pending_request_is_left_out_of_rates_and_failures(self) -> None:
        """A request 5 min old at as_of is pending: no rate denominator, not unsuccessful."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:00:00Z", "r1"),  # 30 min old, no answer
            ev.request("v2", "2026-03-02T10:25:00Z", "r2"),  # 5 min old, no answer -> pending
        ]
        d = report(events, as_of="2026-03-02T10:30:00Z")
        expected = {
            "total": 2,
            "pending": 1,  # r2
            "unsuccessful": 1,  # r1 only; r2 is pending
            "unanswered_from_visitors": 1,  # r1 only
        }
        assert expected == {key: d["requests"][key] for key in expected}
        # visitor_request_rate = 0 conversations / 1 non-pending visitor request (r1), not 0/2.
        expected = 0.0
        assert expected == d["acceptance"]["visitor_request_rate"]

    def test_only_pending_requests_give_null_rates(self) -> None:
        """With every request pending, the acceptance denominators are empty: null."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:25:00Z", "r1"),
            ev.request("v2", "2026-03-02T10:26:00Z", "r2", initiator="agent", agent="a1"),
            ev.request("v3", "2026-03-02T10:27:00Z", "r3", initiator="auto", trigger="t"),
        ]
        d = report(events, as_of="2026-03-02T10:30:00Z")
        expected_pending = 3
        assert expected_pending == d["requests"]["pending"]
        expected = {
            "agent_initiated_rate": None,
            "visitor_request_rate": None,
            "auto_invitation_rate": None,
        }
        assert expected == d["acceptance"]

    def test_exactly_at_the_timeout_is_not_pending(self) -> None:
        """as_of - created == response_timeout is not pending (strict <); 1 µs less is."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:20:00Z", "r1"),  # exactly 10 min before as_of
            ev.request("v2", "2026-03-02T10:20:00.000001Z", "r2"),  # 10 min - 1 µs before
        ]
        d = report(events, as_of="2026-03-02T10:30:00Z")
        # r1: 10 min < 10 min is false -> not pending -> unsuccessful, unanswered. r2: pending.
        expected = (1, 1, 1)
        assert expected == (
            d["requests"]["pending"], d["requests"]["unsuccessful"],
            d["requests"]["unanswered_from_visitors"],
        )

    def test_response_timeout_parameter(self) -> None:
        """With a 15-minute timeout a 10-minute-old request is pending again."""
        ev = Events()
        events = [ev.request("v1", "2026-03-02T10:20:00Z", "r1")]
        d = report(events, as_of="2026-03-02T10:30:00Z", response_timeout=timedelta(minutes=15))
        # 10 min < 15 min -> pending; nothing unsuccessful.
        expected = (1, 0)
        assert expected == (d["requests"]["pending"], d["requests"]["unsuccessful"])

    def test_ended_request_is_not_pending(self) -> None:
        """A visitor request cancelled 1 min after creation is unsuccessful, not pending."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:28:00Z", "r1"),
            ev.end("v1", "2026-03-02T10:29:00Z", "r1", "cancelled"),
        ]
        d = report(events, as_of="2026-03-02T10:30:00Z")
        # Pending needs "not ended"; no agent ever responded -> unanswered as well.
        expected = (0, 1, 1)
        assert expected == (
            d["requests"]["pending"], d["requests"]["unsuccessful"],
            d["requests"]["unanswered_from_visitors"],
        )


class TestOffline:
    """Requests flagged offline are counted (and are ordinary requests otherwise)."""

    def test_offline_flag(self) -> None:
        """Two offline requests, one explicit offline=false, one without the flag."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:00:00Z", "r1", offline=True),
            ev.request("v2", "2026-03-02T10:01:00Z", "r2", offline=True, channel="video"),
            ev.request("v3", "2026-03-02T10:02:00Z", "r3", offline=False),
            ev.request("v4", "2026-03-02T10:03:00Z", "r4"),
        ]
        d = report(events, as_of="2026-03-02T12:00:00Z")
        # offline = r1, r2; all four count in total and are unsuccessful (no answer, > 10 min).
        expected = (2, 4, 4)
        assert expected == (
            d["requests"]["offline"], d["requests"]["total"], d["requests"]["unsuccessful"]
        )


class TestTopUrls:
    """A request's url, else the visitor's latest page view at or before it."""

    def test_url_fallback_and_tie_order(self) -> None:
        """Fallbacks resolve to the latest page view at or before the request; ties by url."""
        ev = Events()
        events = [
            ev.page_view("v3", "2026-03-02T08:00:00Z", "/shoes"),  # before the range start
            ev.page_view("v1", "2026-03-02T09:00:00Z", "/shoes"),
            ev.request("v1", "2026-03-02T09:05:00Z", "rA"),  # -> /shoes (page view 09:00)
            ev.page_view("v1", "2026-03-02T09:10:00Z", "/boots"),
            ev.request("v1", "2026-03-02T09:10:00Z", "rB"),  # -> /boots (same ts counts: "at")
            ev.request("v1", "2026-03-02T09:15:00Z", "rC", url="/sale"),  # own url wins
            ev.page_view("v1", "2026-03-02T09:20:00Z", "/hats"),  # after every v1 request
            ev.request("v2", "2026-03-02T09:30:00Z", "rD"),  # no url, no page view -> left out
            ev.request("v3", "2026-03-02T09:40:00Z", "rE"),  # -> /shoes (v3's 08:00 view)
            ev.page_view("v3", "2026-03-02T09:45:00Z", "/later"),  # after rE: not used
            ev.request("v4", "2026-03-02T09:50:00Z", "rF", url="/boots", initiator="agent",
                       agent="a1"),
        ]
        d = report(events, as_of="2026-03-02T12:00:00Z", start=datetime(2026, 3, 2, 9, tzinfo=UTC))
        expected = [
            {"url": "/boots", "requests": 2},  # rB, rF
            {"url": "/shoes", "requests": 2},  # rA, rE (tie with /boots -> url ascending)
            {"url": "/sale", "requests": 1},  # rC
        ]
        assert expected == d["requests"]["top_urls"]

    def test_at_most_ten(self) -> None:
        """Twelve urls: the most requested first, then ties by url, cut at ten."""
        ev = Events()
        events = [ev.request(f"w{i}", "2026-03-02T10:00:00Z", f"x{i}", url="/p00")
                  for i in range(3)]  # /p00: 3 requests
        for n in range(1, 12):  # /p01 .. /p11: 1 request each, via the page-view fallback
            events.append(ev.page_view(f"v{n}", "2026-03-02T10:00:00Z", f"/p{n:02d}"))
            events.append(ev.request(f"v{n}", "2026-03-02T10:01:00Z", f"r{n}"))
        d = report(events, as_of="2026-03-02T12:00:00Z")
        # /p00 (3) then the 1-request urls ascending: /p01 .. /p09; /p10 and /p11 are cut.
        expected = [{"url": "/p00", "requests": 3}] + [
            {"url": f"/p{n:02d}", "requests": 1} for n in range(1, 10)
        ]
        assert expected == d["requests"]["top_urls"]


class TestLateRequestEvent:
    """Messages that arrive before their request take effect once it arrives."""

    def test_request_recorded_after_its_messages(self) -> None:
        """Batch 1 holds the answer, batch 2 the request: one conversation."""
        ev = Events()
        request = ev.request("v1", "2026-03-02T10:00:00Z", "r1")
        answer = ev.agent_msg("v1", "2026-03-02T10:00:45Z", "r1", "a1")
        t = tracker([answer], as_of="2026-03-02T12:00:00Z")
        before = t.report().to_dict()
        late = t.record_many([request])
        after = t.report().to_dict()
        # Before: no request event, so nothing to count. After: r1 answered in 45 s.
        expected = ((0, 0), 1, (1, 1, 45.0))
        assert expected == (
            (before["requests"]["total"], before["conversations"]["total"]),
            late.accepted,
            (after["requests"]["total"], after["conversations"]["total"],
             after["support"]["first_response"]["avg"]),
        )


class TestDuplicateRequestCreation:
    """The same request id created twice: the earliest (ts, then event id) wins."""

    def test_earliest_creation_wins(self) -> None:
        """A later video re-creation of a text request is ignored, whatever the arrival order."""
        ev = Events()
        early = ev.request("v1", "2026-03-02T10:00:00Z", "r1")  # text, visitor
        late = ev.request("v1", "2026-03-02T10:05:00Z", "r1", channel="video")
        answer = ev.agent_msg("v1", "2026-03-02T10:02:00Z", "r1", "a1")
        d = report([late, answer, early], as_of="2026-03-02T12:00:00Z")
        # One request: text, created 10:00 -> first response 10:02 - 10:00 = 120 s.
        expected = (1, 1, 0)
        assert expected == (d["requests"]["total"], d["requests"]["text"], d["requests"]["video"])
        expected = (1, 1)
        assert expected == (d["conversations"]["total"], d["conversations"]["text"])
        expected = 120.0
        assert expected == d["support"]["first_response"]["avg"]

    def test_same_ts_smaller_event_id_wins(self) -> None:
        """Two creations at the same ts: the one with the smaller event id is the request."""
        ev = Events()
        first = ev.request("v1", "2026-03-02T11:00:00Z", "r2", initiator="agent", agent="a1")
        second = ev.request("v1", "2026-03-02T11:00:00Z", "r2", channel="video")  # larger id
        d = report([second, first], as_of="2026-03-02T12:00:00Z")
        # r2 is an agent-initiated text request (event e00001 < e00002), never answered.
        expected = {"visitor": 0, "agent": 1, "auto": 0}
        assert expected == d["requests"]["by_initiator"]
        expected = (1, 0)
        assert expected == (d["requests"]["text"], d["requests"]["video"])
        # Agent requests are not "unanswered from visitors".
        expected = (1, 0)
        r = d["requests"]
        assert expected == (r["unsuccessful"], r["unanswered_from_visitors"])
