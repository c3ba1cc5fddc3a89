"""Hand-derived scenarios for the ``support`` section.

Reading: ``transfers``/``escalations`` count conversations only; a transfer
on a request that never became a conversation (queue routing) is not counted.
Reading: a transferred conversation that ended with ``resolved`` set stays in
the first-contact-resolution denominator (it just cannot be a success).
Reading: a conversation whose ``fcr_window`` has not elapsed at ``as_of`` is
judged on what is known at ``as_of`` (a follow-up request after ``as_of`` is
ignored, like every event after ``as_of``).
Reading: a cart emptied again (value back to 0) inside the session still
makes it a session "with a cart value > 0"; an order in a later session of
the same visitor does not rescue the earlier one.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.scenarios.helpers import Events, close, report

AS_OF = "2026-03-02T12:00:00Z"


class TestFirstResponse:
    """First agent response to visitor requests: mean, median and p90 (linear)."""

    def five_requests(self) -> list[dict[str, object]]:
        """Five answered visitor requests (10, 20, 30, 40, 900 s) and four that do not count."""
        ev = Events()
        return [
            ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
            ev.agent_msg("v1", "2026-03-02T10:00:10Z", "r1", "a1"),  # 10 s
            ev.request("v2", "2026-03-02T10:10:00Z", "r2"),
            ev.agent_join("v2", "2026-03-02T10:10:20Z", "r2", "a1"),  # 20 s (a call join counts)
            ev.agent_msg("v2", "2026-03-02T10:10:50Z", "r2", "a1"),
            ev.request("v3", "2026-03-02T10:20:00Z", "r3"),
            ev.visitor_msg("v3", "2026-03-02T10:20:05Z", "r3"),  # the visitor's own: no
            ev.agent_msg("v3", "2026-03-02T10:20:30Z", "r3", "a2"),  # 30 s
            ev.agent_msg("v3", "2026-03-02T10:21:00Z", "r3", "a1"),
            ev.request("v4", "2026-03-02T10:30:00Z", "r4"),
            ev.agent_msg("v4", "2026-03-02T10:30:40Z", "r4", "a2"),  # 40 s
            ev.request("v5", "2026-03-02T10:40:00Z", "r5"),
            ev.agent_msg("v5", "2026-03-02T10:55:00Z", "r5", "a2"),  # 900 s, after the timeout
            # Not counted: unanswered, agent- and auto-initiated, pending.
            ev.request("v6", "2026-03-02T11:00:00Z", "r6"),
            ev.request("v7", "2026-03-02T11:10:00Z", "r7", initiator="agent", agent="a1"),
            ev.visitor_msg("v7", "2026-03-02T11:12:00Z", "r7"),
            ev.agent_msg("v7", "2026-03-02T11:13:00Z", "r7", "a1"),
            ev.request("v8", "2026-03-02T11:20:00Z", "r8", initiator="auto", trigger="t"),
            ev.visitor_msg("v8", "2026-03-02T11:21:00Z", "r8"),
            ev.agent_msg("v8", "2026-03-02T11:22:00Z", "r8", "a1"),
            ev.request("v9", "2026-03-02T11:58:00Z", "r9"),
        ]

    def test_five_values(self) -> None:
        """Values 10, 20, 30, 40, 900 s."""
        d = report(self.five_requests(), as_of=AS_OF)
        expected = {
            "avg": 200.0,  # (10 + 20 + 30 + 40 + 900) / 5 = 1000 / 5
            "median": 30.0,  # middle of five sorted values
            # numpy linear: rank 0.9 * (5 - 1) = 3.6 -> 40 + 0.6 * (900 - 40) = 556
            "p90": 556.0,
        }
        assert close(expected) == d["support"]["first_response"]

    def test_four_values(self) -> None:
        """An even count: the median interpolates between the two middle values."""
        ev = Events()
        events = []
        for n, delay in enumerate([10, 20, 30, 40], start=1):
            events.append(ev.request(f"v{n}", f"2026-03-02T10:0{n}:00Z", f"r{n}"))
            events.append(ev.agent_msg(f"v{n}", f"2026-03-02T10:0{n}:{delay:02d}Z", f"r{n}", "a1"))
        d = report(events, as_of=AS_OF)
        expected = {
            "avg": 25.0,  # 100 / 4
            "median": 25.0,  # (20 + 30) / 2
            "p90": 37.0,  # rank 0.9 * 3 = 2.7 -> 30 + 0.7 * (40 - 30)
        }
        assert close(expected) == d["support"]["first_response"]

    def test_none_without_answered_visitor_requests(self) -> None:
        """Only an agent request: every first-response figure is null."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:00:00Z", "r1", initiator="agent", agent="a1"),
            ev.visitor_msg("v1", "2026-03-02T10:01:00Z", "r1"),
        ]
        d = report(events, as_of=AS_OF)
        expected = {"avg": None, "median": None, "p90": None}
        assert expected == d["support"]["first_response"]


class TestTransfers:
    """Conversations with a transfer, and those with an escalation."""

    def test_transfers_and_escalations(self) -> None:
        """Four conversations: three transferred, two of them escalated."""
        ev = Events()
        events = [
            # c1: plain transfer.
            ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
            ev.agent_msg("v1", "2026-03-02T10:01:00Z", "r1", "a1"),
            ev.transfer("v1", "2026-03-02T10:02:00Z", "r1", "a1", "a2"),
            ev.agent_msg("v1", "2026-03-02T10:03:00Z", "r1", "a2"),
            # c2: escalation.
            ev.request("v2", "2026-03-02T10:00:00Z", "r2"),
            ev.agent_msg("v2", "2026-03-02T10:01:00Z", "r2", "a1"),
            ev.transfer("v2", "2026-03-02T10:02:00Z", "r2", "a1", "sup", escalation=True),
            ev.agent_msg("v2", "2026-03-02T10:03:00Z", "r2", "sup"),
            # c3: a transfer, then an escalation: one conversation in each count.
            ev.request("v3", "2026-03-02T10:00:00Z", "r3"),
            ev.agent_msg("v3", "2026-03-02T10:01:00Z", "r3", "a1"),
            ev.transfer("v3", "2026-03-02T10:02:00Z", "r3", "a1", "a2", escalation=False),
            ev.transfer("v3", "2026-03-02T10:04:00Z", "r3", "a2", "sup", escalation=True),
            ev.agent_msg("v3", "2026-03-02T10:05:00Z", "r3", "sup"),
            # c4: no transfer.
            ev.request("v4", "2026-03-02T10:00:00Z", "r4"),
            ev.agent_msg("v4", "2026-03-02T10:01:00Z", "r4", "a1"),
            # r5: routed between agents but never answered: not a conversation.
            ev.request("v5", "2026-03-02T10:00:00Z", "r5"),
            ev.transfer("v5", "2026-03-02T10:01:00Z", "r5", "a1", "a2", escalation=True),
            ev.end("v5", "2026-03-02T10:05:00Z", "r5", "missed"),
        ]
        d = report(events, as_of=AS_OF)
        expected = {
            "transfers": 3,  # c1, c2, c3
            "escalations": 2,  # c2, c3
            "escalation_rate": 0.5,  # 2 / 4 conversations
        }
        assert expected == {key: d["support"][key] for key in expected}
        expected_conversations = 4  # c1..c4; r5 has no agent response
        assert expected_conversations == d["conversations"]["total"]


def fcr_events() -> list[dict[str, object]]:
    """Twelve visitor conversations on 03-02/03-03 with every FCR situation."""
    ev = Events()
    events: list[dict[str, object]] = []

    def chat(visitor: str, day: str, rid: str) -> None:
        # visitor request hh:00, agent answer hh:01 (both on ``day``)
        events.append(ev.request(visitor, f"{day}T01:00:00Z", rid))
        events.append(ev.agent_msg(visitor, f"{day}T01:01:00Z", rid, "a1"))

    d1 = "2026-03-02"
    chat("v1", d1, "r1")  # c1: resolved, nothing else -> success
    events.append(ev.end("v1", f"{d1}T01:10:00Z", "r1", resolved=True))
    chat("v2", d1, "r2")  # c2: resolved but transferred -> in denominator, no success
    events.append(ev.transfer("v2", f"{d1}T01:05:00Z", "r2", "a1", "a2"))
    events.append(ev.agent_msg("v2", f"{d1}T01:06:00Z", "r2", "a2"))
    events.append(ev.end("v2", f"{d1}T01:10:00Z", "r2", resolved=True))
    chat("v3", d1, "r3")  # c3: resolved=false -> in denominator, no success
    events.append(ev.end("v3", f"{d1}T01:10:00Z", "r3", resolved=False))
    chat("v4", d1, "r4")  # c4: never ended -> not in denominator
    chat("v5", d1, "r5")  # c5: ended without resolved -> not in denominator
    events.append(ev.end("v5", f"{d1}T01:10:00Z", "r5"))
    chat("v6", d1, "r6")  # c6: visitor asks again 23 h after the end -> no success
    events.append(ev.end("v6", f"{d1}T01:10:00Z", "r6", resolved=True))
    events.append(ev.request("v6", "2026-03-03T00:10:00Z", "r6b"))
    chat("v7", d1, "r7")  # c7: asks again exactly end + 24 h (inclusive) -> no success
    events.append(ev.end("v7", f"{d1}T01:10:00Z", "r7", resolved=True))
    events.append(ev.request("v7", "2026-03-03T01:10:00Z", "r7b"))
    chat("v8", d1, "r8")  # c8: asks again end + 24 h + 1 s -> outside -> success
    events.append(ev.end("v8", f"{d1}T01:10:00Z", "r8", resolved=True))
    events.append(ev.request("v8", "2026-03-03T01:10:01Z", "r8b"))
    chat("v9", d1, "r9")  # c9: an agent re-contacts v9 -> not a visitor request -> success
    events.append(ev.end("v9", f"{d1}T01:10:00Z", "r9", resolved=True))
    events.append(ev.request("v9", f"{d1}T05:00:00Z", "r9b", initiator="agent", agent="a1"))
    chat("v10", d1, "r10")  # c10: resolved=false, later resolved=true: the latest wins -> success
    events.append(ev.end("v10", f"{d1}T01:05:00Z", "r10", resolved=False))
    events.append(ev.end("v10", f"{d1}T01:10:00Z", "r10", resolved=True))
    chat("v11", d1, "r11")  # c11: new request exactly at the end (interval open there) -> success
    events.append(ev.end("v11", f"{d1}T01:10:00Z", "r11", resolved=True))
    events.append(ev.request("v11", f"{d1}T01:10:00Z", "r11b"))
    d2 = "2026-03-03"
    chat("v12", d2, "r12")  # c12: follow-up at 03:00, after as_of (02:00): ignored -> success
    events.append(ev.end("v12", f"{d2}T01:10:00Z", "r12", resolved=True))
    events.append(ev.request("v12", f"{d2}T03:00:00Z", "r12b"))
    return events


class TestFirstContactResolution:
    """Resolved, not transferred, and no new visitor request within the window."""

    def test_rate(self) -> None:
        """Denominator c1 c2 c3 c6-c12 (10); successes c1 c8 c9 c10 c11 c12 (6)."""
        d = report(fcr_events(), as_of="2026-03-03T02:00:00Z")
        expected = 0.6  # 6 / 10
        assert close(expected) == d["support"]["first_contact_resolution_rate"]

    def test_window_parameter(self) -> None:
        """With a 22-hour window, c6 (23 h) and c7 (24 h) become successes too."""
        d = report(fcr_events(), as_of="2026-03-03T02:00:00Z", fcr_window=timedelta(hours=22))
        expected = 0.8  # 8 / 10
        assert close(expected) == d["support"]["first_contact_resolution_rate"]

    def test_null_without_resolved_flags(self) -> None:
        """Conversations that never ended with resolved set: the rate is null."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
            ev.agent_msg("v1", "2026-03-02T10:01:00Z", "r1", "a1"),
            ev.end("v1", "2026-03-02T10:05:00Z", "r1"),
        ]
        d = report(events, as_of=AS_OF)
        assert d["support"]["first_contact_resolution_rate"] is None


class TestCartAbandonment:
    """Sessions with a positive cart value and no order."""

    def test_rate(self) -> None:
        """Three sessions with a cart, two without an order in the session."""
        ev = Events()
        events = [
            # v1: cart then order in the same session -> not abandoned.
            ev.page_view("v1", "2026-03-02T10:00:00Z", "/"),
            ev.cart_update("v1", "2026-03-02T10:05:00Z", "25.00"),
            ev.order("v1", "2026-03-02T10:20:00Z", "o1", "25.00"),
            # v2: cart 40 then emptied, no order -> abandoned.
            ev.cart_update("v2", "2026-03-02T10:00:00Z", "40.00"),
            ev.cart_update("v2", "2026-03-02T10:10:00Z", "0"),
            # v3: only an empty cart -> not a cart session.
            ev.cart_update("v3", "2026-03-02T10:00:00Z", "0"),
            # v4: cart, then an order 60 min later = a new session -> first one abandoned;
            # the second has no cart update, so it is not a cart session.
            ev.cart_update("v4", "2026-03-02T10:00:00Z", "15.00"),
            ev.order("v4", "2026-03-02T11:00:00Z", "o4", "15.00"),
            # v5: browsing only.
            ev.page_view("v5", "2026-03-02T10:00:00Z", "/"),
        ]
        d = report(events, as_of=AS_OF)
        expected = 2 / 3  # abandoned v2, v4's first / cart sessions v1, v2, v4's first
        assert close(expected) == d["support"]["cart_abandonment_rate"]

    def test_null_without_cart_sessions(self) -> None:
        """No cart update above zero: the rate is null."""
        ev = Events()
        d = report([ev.page_view("v1", "2026-03-02T10:00:00Z", "/")], as_of=AS_OF)
        assert d["support"]["cart_abandonment_rate"] is None


class TestCostPerContact:
    """The channel cost divided by the number of conversations, as Decimal."""

    def conversations(self, count: int) -> list[dict[str, object]]:
        """``count`` answered visitor requests."""
        ev = Events()
        events = []
        for n in range(count):
            events.append(ev.request(f"v{n}", f"2026-03-02T10:{n:02d}:00Z", f"r{n}"))
            events.append(ev.agent_msg(f"v{n}", f"2026-03-02T10:{n:02d}:30Z", f"r{n}", "a1"))
        return events

    def test_cost_per_contact(self) -> None:
        """250.00 over three conversations, in the default 28-digit Decimal context."""
        d = report(self.conversations(3), as_of=AS_OF, cost=Decimal("250.00"))
        expected = Decimal("83.33333333333333333333333333")  # 250.00 / 3
        actual = d["support"]["cost_per_contact"]
        assert (expected, Decimal) == (actual, type(actual))

    def test_exact_quotient(self) -> None:
        """250.00 over four conversations is exactly 62.5."""
        d = report(self.conversations(4), as_of=AS_OF, cost=Decimal("250.00"))
        expected = Decimal("62.5")
        assert expected == d["support"]["cost_per_contact"]

    def test_null_without_cost_or_conversations(self) -> None:
        """No cost given, or a cost but no conversation: null."""
        without_cost = report(self.conversations(3), as_of=AS_OF)
        no_contacts = report([], as_of=AS_OF, cost=Decimal("250.00"))
        expected = (None, None)
        assert expected == (
            without_cost["support"]["cost_per_contact"], no_contacts["support"]["cost_per_contact"]
        )
