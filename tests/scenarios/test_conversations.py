"""Hand-derived scenarios for the ``conversations`` section and handling time.

Reading: a conversation's duration uses message/call events only for its
start (the request's creation is not a start), so an agent request whose first
call join comes a minute after creation starts at that join.
"""

from __future__ import annotations

from tests.scenarios.helpers import Events, close, report

AS_OF = "2026-03-03T00:00:00Z"


def three_conversations() -> list[dict[str, object]]:
    """A visitor/text, an agent/video and an auto/text conversation plus a declined request."""
    ev = Events()
    return [
        # c1 visitor/text. Visitor's response = creation 10:00; agent's first = 10:02
        # -> engaged 10:02. Start = first message 10:00:30; end = request_end 10:12:30.
        ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
        ev.visitor_msg("v1", "2026-03-02T10:00:30Z", "r1"),
        ev.agent_msg("v1", "2026-03-02T10:02:00Z", "r1", "a1"),
        ev.visitor_msg("v1", "2026-03-02T10:05:00Z", "r1"),
        ev.agent_msg("v1", "2026-03-02T10:08:00Z", "r1", "a1"),
        ev.end("v1", "2026-03-02T10:12:30Z", "r1", resolved=True),
        # c2 agent/video by a2. Agent's response = creation 11:00; visitor joins 11:03
        # -> engaged 11:03. Start = first call join 11:01 (agent); end = request_end 11:19.
        ev.request("v2", "2026-03-02T11:00:00Z", "r2", channel="video", initiator="agent",
                   agent="a2"),
        ev.agent_join("v2", "2026-03-02T11:01:00Z", "r2", "a2"),
        ev.visitor_join("v2", "2026-03-02T11:03:00Z", "r2"),
        ev.end("v2", "2026-03-02T11:19:00Z", "r2"),
        # c3 auto/text. Visitor 12:01, agent 12:04 -> engaged 12:04. Start 12:01; no
        # request_end, so end = last message 12:10.
        ev.request("v3", "2026-03-02T12:00:00Z", "r3", initiator="auto", trigger="t1"),
        ev.visitor_msg("v3", "2026-03-02T12:01:00Z", "r3"),
        ev.agent_msg("v3", "2026-03-02T12:04:00Z", "r3", "a1"),
        ev.agent_msg("v3", "2026-03-02T12:10:00Z", "r3", "a1"),
        # r4 visitor/text declined without an agent response: not a conversation.
        ev.request("v4", "2026-03-02T13:00:00Z", "r4"),
        ev.end("v4", "2026-03-02T13:01:00Z", "r4", "declined"),
    ]


class TestConversationCounts:
    """Counts by channel and initiator."""

    def test_counts(self) -> None:
        """Three conversations: two text, one video; one per initiator."""
        d = report(three_conversations(), as_of=AS_OF)["conversations"]
        expected = {
            "total": 3,  # c1, c2, c3 (r4 never got an agent response)
            "text": 2,  # c1, c3
            "video": 1,  # c2
            "by_initiator": {"visitor": 1, "agent": 1, "auto": 1},
        }
        assert expected == {key: d[key] for key in expected}


class TestDurations:
    """Duration (end - start) and handling time (end - engaged at)."""

    def test_avg_duration_minutes(self) -> None:
        """Mean of 12, 18 and 9 minutes."""
        d = report(three_conversations(), as_of=AS_OF)
        # c1 10:00:30 -> 10:12:30 = 12 min; c2 11:01 -> 11:19 = 18 min; c3 12:01 -> 12:10 = 9.
        # (12 + 18 + 9) / 3 = 13.0
        assert close(13.0) == d["conversations"]["avg_duration_minutes"]

    def test_avg_handle_minutes(self) -> None:
        """Mean of 10.5, 16 and 6 minutes from engagement to end."""
        d = report(three_conversations(), as_of=AS_OF)
        # c1 10:02 -> 10:12:30 = 10.5; c2 11:03 -> 11:19 = 16; c3 12:04 -> 12:10 = 6.
        # (10.5 + 16 + 6) / 3 = 32.5 / 3 = 10.8333...
        assert close(32.5 / 3) == d["support"]["avg_handle_minutes"]

    def test_no_conversations_gives_null_averages(self) -> None:
        """Only a declined request: duration and handle averages are null."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T13:00:00Z", "r1"),
            ev.end("v1", "2026-03-02T13:01:00Z", "r1", "declined"),
        ]
        d = report(events, as_of=AS_OF)
        expected = (0, None, None)
        assert expected == (
            d["conversations"]["total"], d["conversations"]["avg_duration_minutes"],
            d["support"]["avg_handle_minutes"],
        )

    def test_response_after_request_end_still_makes_a_conversation(self) -> None:
        """An agent message after the request was ended as missed counts; end = that message."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T14:00:00Z", "r1"),
            ev.visitor_msg("v1", "2026-03-02T14:01:00Z", "r1"),
            ev.end("v1", "2026-03-02T14:05:00Z", "r1", "missed"),
            ev.agent_msg("v1", "2026-03-02T14:30:00Z", "r1", "a1"),  # responses count always
        ]
        d = report(events, as_of=AS_OF)
        # Conversation: start 14:01 (first message), end max(14:05 end, 14:30 msg) = 14:30
        # -> duration 29 min. Engaged at 14:30 (agent's first response) -> handle 0 min.
        expected = (1, 0)
        assert expected == (d["conversations"]["total"], d["requests"]["unsuccessful"])
        assert close(29.0) == d["conversations"]["avg_duration_minutes"]
        assert close(0.0) == d["support"]["avg_handle_minutes"]

    def test_latest_request_end_gives_the_end(self) -> None:
        """Two request_end events: the later one ends the conversation."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
            ev.agent_msg("v1", "2026-03-02T10:01:00Z", "r1", "a1"),  # start, engaged
            ev.end("v1", "2026-03-02T10:05:00Z", "r1", resolved=False),
            ev.end("v1", "2026-03-02T10:21:00Z", "r1", resolved=True),  # latest -> end
        ]
        d = report(events, as_of=AS_OF)
        # start 10:01, end 10:21 -> 20 min; engaged 10:01 -> handle 20 min.
        assert close(20.0) == d["conversations"]["avg_duration_minutes"]
        assert close(20.0) == d["support"]["avg_handle_minutes"]
