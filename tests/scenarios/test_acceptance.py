"""Hand-derived scenarios for the ``acceptance`` rates.

Reading: ``auto_invitation_rate`` counts, in its numerator, the non-pending
auto requests the visitor responded to (a rate's numerator is a subset of its
denominator; otherwise the rate could exceed 1). An auto request the visitor
answered but no agent has yet, created < response_timeout before as_of, is
pending and appears in neither.
Reading: the initiator's own messages never count as the other side's
response (an agent re-pinging its own request does not make it accepted).
"""

from __future__ import annotations

from tests.scenarios.helpers import Events, report

AS_OF = "2026-03-02T12:00:00Z"


def scenario() -> list[dict[str, object]]:
    """Agent, visitor and auto requests on 2026-03-02 with known outcomes."""
    ev = Events()
    return [
        # --- agent-initiated ---
        # ra1: visitor replies -> conversation.
        ev.request("va1", "2026-03-02T10:00:00Z", "ra1", initiator="agent", agent="a1"),
        ev.visitor_msg("va1", "2026-03-02T10:01:00Z", "ra1"),
        # ra2: video, visitor joins 15 min later (after the timeout) -> conversation.
        ev.request("va2", "2026-03-02T10:05:00Z", "ra2", channel="video", initiator="agent",
                   agent="a1"),
        ev.visitor_join("va2", "2026-03-02T10:20:00Z", "ra2"),
        # ra3: no reply -> unsuccessful.
        ev.request("va3", "2026-03-02T10:10:00Z", "ra3", initiator="agent", agent="a2"),
        # ra4: only the agent writes again; the visitor never does -> unsuccessful.
        ev.request("va4", "2026-03-02T10:12:00Z", "ra4", initiator="agent", agent="a2"),
        ev.agent_msg("va4", "2026-03-02T10:13:00Z", "ra4", "a2"),
        # ra5: 5 min old at as_of, no reply -> pending.
        ev.request("va5", "2026-03-02T11:55:00Z", "ra5", initiator="agent", agent="a2"),
        # --- visitor-initiated ---
        # rv1: agent answers -> conversation.
        ev.request("vv1", "2026-03-02T10:00:00Z", "rv1"),
        ev.agent_msg("vv1", "2026-03-02T10:03:00Z", "rv1", "a1"),
        # rv2: the visitor keeps writing, no agent -> unsuccessful.
        ev.request("vv2", "2026-03-02T10:30:00Z", "rv2"),
        ev.visitor_msg("vv2", "2026-03-02T10:31:00Z", "rv2"),
        # rv3: text request answered by an agent joining a call ("whatever the channel").
        ev.request("vv3", "2026-03-02T10:40:00Z", "rv3"),
        ev.agent_join("vv3", "2026-03-02T10:41:00Z", "rv3", "a2"),
        # --- auto ---
        # ru1: visitor then agent -> conversation; the visitor responded.
        ev.request("vu1", "2026-03-02T10:00:00Z", "ru1", initiator="auto", trigger="t1"),
        ev.visitor_msg("vu1", "2026-03-02T10:01:00Z", "ru1"),
        ev.agent_msg("vu1", "2026-03-02T10:02:00Z", "ru1", "a1"),
        # ru2: visitor responds, no agent ever -> unsuccessful, but the visitor responded.
        ev.request("vu2", "2026-03-02T10:10:00Z", "ru2", initiator="auto", trigger="t1"),
        ev.visitor_msg("vu2", "2026-03-02T10:11:00Z", "ru2"),
        # ru3: only an agent writes -> unsuccessful, visitor did not respond.
        ev.request("vu3", "2026-03-02T10:20:00Z", "ru3", initiator="auto", trigger="t2"),
        ev.agent_msg("vu3", "2026-03-02T10:21:00Z", "ru3", "a1"),
        # ru4: nothing -> unsuccessful.
        ev.request("vu4", "2026-03-02T10:30:00Z", "ru4", initiator="auto", trigger="t2"),
        # ru5: 4 min old, visitor responded, no agent yet -> pending (no conversation yet).
        ev.request("vu5", "2026-03-02T11:56:00Z", "ru5", initiator="auto", trigger="t1"),
        ev.visitor_msg("vu5", "2026-03-02T11:57:00Z", "ru5"),
    ]


class TestAcceptanceRates:
    """Each acceptance rate over its non-pending requests."""

    def test_rates(self) -> None:
        """Agent 2/4, visitor 2/3, auto 2/4."""
        d = report(scenario(), as_of=AS_OF)
        expected = {
            # agent requests not pending: ra1..ra4; conversations ra1, ra2 -> 2/4.
            "agent_initiated_rate": 0.5,
            # visitor requests (none pending): rv1..rv3; conversations rv1, rv3 -> 2/3.
            "visitor_request_rate": 2 / 3,
            # auto requests not pending: ru1..ru4; the visitor responded to ru1, ru2 -> 2/4.
            "auto_invitation_rate": 0.5,
        }
        assert expected == d["acceptance"]

    def test_auto_needs_both_sides_to_be_a_conversation(self) -> None:
        """Only ru1 of the auto requests is a conversation; ra5 and ru5 are pending."""
        d = report(scenario(), as_of=AS_OF)
        # conversations: ra1 ra2 (agent), rv1 rv3 (visitor), ru1 (auto).
        expected = {"visitor": 2, "agent": 2, "auto": 1}
        assert expected == d["conversations"]["by_initiator"]
        # pending: ra5, ru5. unsuccessful: ra3 ra4 rv2 ru2 ru3 ru4 = 6.
        expected = (2, 6)
        assert expected == (d["requests"]["pending"], d["requests"]["unsuccessful"])
        # unanswered from visitors: the unsuccessful visitor request rv2.
        expected = 1
        assert expected == d["requests"]["unanswered_from_visitors"]
