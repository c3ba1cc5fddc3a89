"""Hand-derived scenarios for the ``agents`` leaderboard.

Reading: an agent's ``avg_rating`` and daily ``avg_rating`` use surveys in
range (by survey ``ts``), each credited to exactly one agent: the survey's
``agent``, else its request's last responding agent.
Reading: an agent named only as the target of a transfer, who never responded,
gets a row (it is named by an in-range event) but no conversation and no
survey or order credit.
Reading: per-agent money ``attributed_sales`` is Decimal(0) for agents without
attributed orders; per-agent averages with no data are null.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tests.scenarios.helpers import Events, close, report

AS_OF = "2026-03-05T00:00:00Z"


def floor() -> list[dict[str, object]]:
    """Agents a1..a5 and sup over 03-01 .. 03-03; the report range is 03-02 .. 03-03."""
    ev = Events()
    return [
        # --- 03-01, before the range: a4's conversation with v0; v0 orders in range.
        ev.request("v0", "2026-03-01T10:00:00Z", "r0"),
        ev.agent_msg("v0", "2026-03-01T10:02:00Z", "r0", "a4"),
        ev.order("v0", "2026-03-02T09:00:00Z", "o0", "80.00"),  # attributed to r0 -> a4
        # --- 03-02
        # r1: a1 answers after 60 s; engaged 10:01, ends 10:11 -> handle 10 min.
        ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
        ev.agent_msg("v1", "2026-03-02T10:01:00Z", "r1", "a1"),
        ev.visitor_msg("v1", "2026-03-02T10:02:00Z", "r1"),
        ev.agent_msg("v1", "2026-03-02T10:05:00Z", "r1", "a1"),
        ev.end("v1", "2026-03-02T10:11:00Z", "r1", resolved=True),
        ev.survey("v1", "2026-03-02T10:12:00Z", request="r1", rating=5),  # -> a1
        # r2: a2 answers after 120 s, transfers to a1 who answers; engaged 11:02, end 11:12.
        ev.request("v2", "2026-03-02T11:00:00Z", "r2"),
        ev.agent_msg("v2", "2026-03-02T11:02:00Z", "r2", "a2"),
        ev.transfer("v2", "2026-03-02T11:05:00Z", "r2", "a2", "a1"),
        ev.agent_msg("v2", "2026-03-02T11:06:00Z", "r2", "a1"),
        ev.end("v2", "2026-03-02T11:12:00Z", "r2"),
        ev.survey("v2", "2026-03-02T11:15:00Z", request="r2", rating=3),  # last agent a1
        ev.order("v2", "2026-03-02T12:00:00Z", "o2", "40.00"),  # r2's last agent a1
        # r3: a2 calls v3 (video); a2 joins 13:01, v3 joins 13:04 -> engaged 13:04, end 13:24.
        ev.request("v3", "2026-03-02T13:00:00Z", "r3", channel="video", initiator="agent",
                   agent="a2"),
        ev.agent_join("v3", "2026-03-02T13:01:00Z", "r3", "a2"),
        ev.visitor_join("v3", "2026-03-02T13:04:00Z", "r3"),
        ev.end("v3", "2026-03-02T13:24:00Z", "r3"),
        # r4: a2 invites v4, no answer -> unsuccessful.
        ev.request("v4", "2026-03-02T14:00:00Z", "r4", initiator="agent", agent="a2"),
        # r5: a3 answers after 300 s; escalated to sup, who never responds; end 15:25.
        ev.request("v5", "2026-03-02T15:00:00Z", "r5"),
        ev.agent_msg("v5", "2026-03-02T15:05:00Z", "r5", "a3"),
        ev.transfer("v5", "2026-03-02T15:10:00Z", "r5", "a3", "sup", escalation=True),
        ev.end("v5", "2026-03-02T15:25:00Z", "r5"),
        ev.survey("v5", "2026-03-02T15:30:00Z", request="r5", rating=1),  # last agent a3
        # --- 03-03
        ev.agent_status("2026-03-03T08:00:00Z", "a5"),
        # r6: a1 invites v6; v6 replies 09:03 -> engaged 09:03; end 09:13 -> handle 10 min.
        ev.request("v6", "2026-03-03T09:00:00Z", "r6", initiator="agent", agent="a1"),
        ev.visitor_msg("v6", "2026-03-03T09:03:00Z", "r6"),
        ev.agent_msg("v6", "2026-03-03T09:04:00Z", "r6", "a1"),
        ev.end("v6", "2026-03-03T09:13:00Z", "r6"),
        ev.survey("v7", "2026-03-03T10:00:00Z", agent="a2", rating=4),  # names a2 directly
    ]


def daily(d2: tuple[Any, int, Any, int], d3: tuple[Any, int, Any, int]) -> list[dict[str, Any]]:
    """Daily rows for 03-02 and 03-03 from (avg_rating, initiated, rate, conversations)."""
    keys = ("avg_rating", "initiated_requests", "initiated_acceptance_rate", "conversations")
    return [
        {"date": "2026-03-02", **dict(zip(keys, d2, strict=True))},
        {"date": "2026-03-03", **dict(zip(keys, d3, strict=True))},
    ]


def idle(agent: str, sales: Decimal = Decimal(0), orders: int = 0) -> dict[str, Any]:
    """The row of an agent with no conversation, invitation or rating in range."""
    return {
        "agent": agent, "avg_rating": None, "initiated_requests": 0,
        "initiated_acceptance_rate": None, "conversations": 0, "attributed_sales": sales,
        "attributed_orders": orders, "first_response_avg": None, "avg_handle_minutes": None,
        "daily": daily((None, 0, None, 0), (None, 0, None, 0)),
    }


EXPECTED = [
    {
        "agent": "a1",
        "avg_rating": 4.0,  # r1 survey 5 + r2 survey 3 (a1 answered r2 last) -> 8 / 2
        "initiated_requests": 1,  # r6
        "initiated_acceptance_rate": 1.0,  # r6 became a conversation
        "conversations": 3,  # r1, r2 (after the transfer), r6
        "attributed_sales": Decimal("40.00"),  # o2 via r2
        "attributed_orders": 1,
        "first_response_avg": 60.0,  # r1 only (r2's first response was a2's)
        "avg_handle_minutes": 10.0,  # r1 10, r2 10 (11:02 -> 11:12), r6 10
        "daily": daily((4.0, 0, None, 2), (None, 1, 1.0, 1)),
    },
    {
        "agent": "a2",
        "avg_rating": 4.0,  # the 03-03 survey naming a2
        "initiated_requests": 2,  # r3, r4
        "initiated_acceptance_rate": 0.5,  # r3 of r3, r4
        "conversations": 2,  # r2 (answered first), r3
        "attributed_sales": Decimal(0),
        "attributed_orders": 0,
        "first_response_avg": 120.0,  # r2
        "avg_handle_minutes": 15.0,  # r2 10, r3 20 (13:04 -> 13:24)
        "daily": daily((None, 2, 0.5, 2), (4.0, 0, None, 0)),
    },
    {
        "agent": "a3",
        "avg_rating": 1.0,  # r5's survey; sup never responded, so a3 is r5's last agent
        "initiated_requests": 0,
        "initiated_acceptance_rate": None,
        "conversations": 1,  # r5
        "attributed_sales": Decimal(0),
        "attributed_orders": 0,
        "first_response_avg": 300.0,  # r5: 15:00 -> 15:05
        "avg_handle_minutes": 20.0,  # 15:05 -> 15:25
        "daily": daily((1.0, 0, None, 1), (None, 0, None, 0)),
    },
    # Zero conversations: ordered by id. a4 is credited with o0 through r0 (03-01, before
    # the range); a5 appears through agent_status; sup as an in-range transfer target.
    idle("a4", Decimal("80.00"), 1),
    idle("a5"),
    idle("sup"),
]


class TestLeaderboard:
    """Per-agent rows, sorted by conversations then id, with daily rows."""

    def report(self) -> dict[str, Any]:
        """The floor scenario over 03-02 .. 03-03."""
        return report(floor(), as_of=AS_OF, start=date(2026, 3, 2), end=date(2026, 3, 4))

    def test_rows(self) -> None:
        """Every agent row, field by field."""
        expected = close(EXPECTED)
        assert expected == self.report()["agents"]

    def test_order(self) -> None:
        """Conversations descending, then agent id ascending."""
        expected = ["a1", "a2", "a3", "a4", "a5", "sup"]
        assert expected == [row["agent"] for row in self.report()["agents"]]

    def test_attributed_orders_add_up(self) -> None:
        """The agents' attributed orders sum to the sales figure (o0, o2)."""
        d = self.report()
        expected = (2, Decimal("120.00"))  # o0 80.00 + o2 40.00
        assert expected == (d["sales"]["attributed_orders"], d["sales"]["attributed_gmv"])
        assert expected == (
            sum(row["attributed_orders"] for row in d["agents"]),
            sum((row["attributed_sales"] for row in d["agents"]), Decimal(0)),
        )


class TestInvitations:
    """An agent's invitations and their acceptance, pending ones left out of the rate."""

    def test_pending_invitation(self) -> None:
        """Three invitations by a1: accepted, declined, and one 2 min old at as_of."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:00:00Z", "r1", initiator="agent", agent="a1"),
            ev.visitor_msg("v1", "2026-03-02T10:01:00Z", "r1"),  # accepted
            ev.request("v2", "2026-03-02T10:05:00Z", "r2", initiator="agent", agent="a1"),
            ev.end("v2", "2026-03-02T10:06:00Z", "r2", "declined"),  # declined
            ev.request("v3", "2026-03-02T11:58:00Z", "r3", initiator="agent", agent="a1"),
        ]
        d = report(events, as_of="2026-03-02T12:00:00Z")
        (row,) = d["agents"]
        # initiated: r1 r2 r3 = 3; rate over non-pending r1 r2: 1 / 2 (r3 is pending).
        expected = ("a1", 3, 0.5, 1, [("2026-03-02", 3, 0.5, 1)])
        assert expected == (
            row["agent"], row["initiated_requests"], row["initiated_acceptance_rate"],
            row["conversations"],
            [(r["date"], r["initiated_requests"], r["initiated_acceptance_rate"],
              r["conversations"]) for r in row["daily"]],
        )


class TestUnratedSurveyAgent:
    """An unrated survey credits nobody: the agent of its request is not listed for it alone."""

    def test_not_listed(self) -> None:
        """a0 created r2 the day before the range; the in-range survey has no rating."""
        ev = Events()
        events = [
            ev.request("v2", "2026-03-03T16:00:00Z", "r2", initiator="agent", agent="a0"),
            ev.survey("v2", "2026-03-04T16:00:00Z", request="r2"),
        ]
        assert [] == report(events, as_of=AS_OF, start="2026-03-04")["agents"]

    def test_rated_listed(self) -> None:
        """Rated, the same survey credits a0 (through the request) with its rating."""
        ev = Events()
        events = [
            ev.request("v2", "2026-03-03T16:00:00Z", "r2", initiator="agent", agent="a0"),
            ev.survey("v2", "2026-03-04T16:00:00Z", request="r2", rating=4),
        ]
        agents = report(events, as_of=AS_OF, start="2026-03-04")["agents"]
        assert [("a0", 4.0)] == [(a["agent"], a["avg_rating"]) for a in agents]
