"""Hand-derived scenarios for the ``sales`` section (attribution, last touch, money).

Reading: ``conversion_rate``'s numerator is the visitors with a conversation
in range who placed, in range, an order that is attributed (to any of their
conversations, in range or not).
Reading: an empty money sum (no attributed order, or none for a channel) is
``Decimal(0)``, not null; only quotients with an empty denominator are null.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tests.scenarios.helpers import Events, report

AS_OF = "2026-03-10T00:00:00Z"


def shop() -> list[dict[str, object]]:
    """Six visitors, four conversations and five orders around 2026-03-02."""
    ev = Events()
    return [
        # v1: r1 visitor/text, engaged 10:01 (a1). Two orders, both attributed to r1.
        ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
        ev.agent_msg("v1", "2026-03-02T10:01:00Z", "r1", "a1"),
        # value = subtotal - discount = 120.00 - 20.00 = 100.00 (shipping, tax excluded)
        ev.order("v1", "2026-03-02T11:00:00Z", "o1", "120.00", discount="20.00",
                 shipping="5.00", tax="3.00"),
        ev.order("v1", "2026-03-03T09:00:00Z", "o2", "30.50"),  # 23 h after engagement
        # v2: r2 agent/video by a2, visitor joins 12:02 -> engaged 12:02; o3 at 13:00.
        ev.request("v2", "2026-03-02T12:00:00Z", "r2", channel="video", initiator="agent",
                   agent="a2"),
        ev.visitor_join("v2", "2026-03-02T12:02:00Z", "r2"),
        ev.order("v2", "2026-03-02T13:00:00Z", "o3", "59.99"),
        # v3: conversation r3, no order.
        ev.request("v3", "2026-03-02T14:00:00Z", "r3"),
        ev.agent_msg("v3", "2026-03-02T14:03:00Z", "r3", "a1"),
        # v4: order without any conversation -> not attributed.
        ev.order("v4", "2026-03-02T15:00:00Z", "o4", "200"),
        # v5: unanswered request (no conversation), then an order -> not attributed.
        ev.request("v5", "2026-03-02T16:00:00Z", "r5"),
        ev.order("v5", "2026-03-02T17:00:00Z", "o5", "10"),
        # v6: conversation r6, no order.
        ev.request("v6", "2026-03-02T18:00:00Z", "r6"),
        ev.agent_msg("v6", "2026-03-02T18:05:00Z", "r6", "a3"),
    ]


class TestSalesFigures:
    """Attributed and total sales over the whole log."""

    def test_all_sales_keys(self) -> None:
        """Every sales key of the shop scenario, money exact."""
        d = report(shop(), as_of=AS_OF)
        expected = {
            "attributed_orders": 3,  # o1, o2 (r1), o3 (r2)
            "attributed_gmv": Decimal("190.49"),  # 100.00 + 30.50 + 59.99
            "attributed_gmv_by_channel": {
                "text": Decimal("130.50"),  # o1 + o2 via text r1
                "video": Decimal("59.99"),  # o3 via video r2
            },
            "aov": Decimal("63.49666666666666666666666667"),  # 190.49 / 3, 28 digits
            # visitors with a conversation: v1 v2 v3 v6; with an attributed order: v1 v2 -> 2/4
            "conversion_rate": 0.5,
            "all_orders": 5,  # o1..o5
            "all_gmv": Decimal("400.49"),  # 190.49 + 200 + 10
            "all_aov": Decimal("80.098"),  # 400.49 / 5
            # conversations r1 r2 r3 r6 -> 190.49 / 4
            "sales_per_conversation": Decimal("47.6225"),
        }
        assert expected == d["sales"]
        expected = 4
        assert expected == d["conversations"]["total"]

    def test_credited_agents(self) -> None:
        """Orders go to the last responding agent; creating an agent request is responding."""
        d = report(shop(), as_of=AS_OF)
        credited = {row["agent"]: (row["attributed_orders"], row["attributed_sales"])
                    for row in d["agents"]}
        expected = {
            "a1": (2, Decimal("130.50")),  # o1 + o2 via r1 (a1 answered r1 last)
            "a2": (1, Decimal("59.99")),  # o3 via r2: a2 created it and never wrote again
            "a3": (0, Decimal(0)),  # r6, no order
        }
        assert expected == credited

    def test_money_is_decimal(self) -> None:
        """Money values are Decimal, never float."""
        s = report(shop(), as_of=AS_OF)["sales"]
        money = [s["attributed_gmv"], s["aov"], s["all_gmv"], s["all_aov"],
                 s["sales_per_conversation"], *s["attributed_gmv_by_channel"].values()]
        assert [Decimal] * 7 == [type(value) for value in money]

    def test_conversation_before_the_range_still_attributes(self) -> None:
        """From 03-03 on: o2 is attributed to r1 (03-02), but no conversation is in range."""
        d = report(shop(), as_of=AS_OF, start=date(2026, 3, 3))
        expected = {
            "attributed_orders": 1,  # o2 (03-03 09:00) via r1, out of range
            "attributed_gmv": Decimal("30.50"),
            "attributed_gmv_by_channel": {"text": Decimal("30.50"), "video": Decimal(0)},
            "aov": Decimal("30.50"),  # 30.50 / 1
            "conversion_rate": None,  # no visitor has a conversation in range
            "all_orders": 1,  # only o2 is on or after 03-03
            "all_gmv": Decimal("30.50"),
            "all_aov": Decimal("30.50"),
            "sales_per_conversation": None,  # conversations.total = 0
        }
        assert expected == d["sales"]

    def test_no_orders(self) -> None:
        """A conversation and no order: sums are 0, order quotients null."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:00:00Z", "r1"),
            ev.agent_msg("v1", "2026-03-02T10:01:00Z", "r1", "a1"),
        ]
        d = report(events, as_of=AS_OF)
        expected = {
            "attributed_orders": 0,
            "attributed_gmv": Decimal(0),
            "attributed_gmv_by_channel": {"text": Decimal(0), "video": Decimal(0)},
            "aov": None,  # 0 attributed orders
            "conversion_rate": 0.0,  # 0 of 1 visitor with a conversation
            "all_orders": 0,
            "all_gmv": Decimal(0),
            "all_aov": None,
            "sales_per_conversation": Decimal(0),  # 0 / 1 conversation
        }
        assert expected == d["sales"]


class TestAttributionWindow:
    """``order.ts - window <= engaged at <= order.ts``, inclusive at both ends."""

    def window_events(self) -> list[dict[str, object]]:
        """Orders exactly at the window edge, 1 s outside, at engagement and 1 s before it."""
        ev = Events()
        return [
            # v1 and v2 both engaged at 03-02 10:00:00.
            ev.request("v1", "2026-03-02T09:58:00Z", "r1"),
            ev.agent_msg("v1", "2026-03-02T10:00:00Z", "r1", "a1"),
            ev.request("v2", "2026-03-02T09:58:00Z", "r2"),
            ev.agent_msg("v2", "2026-03-02T10:00:00Z", "r2", "a1"),
            # o1: exactly 7 days after engagement -> attributed.
            ev.order("v1", "2026-03-09T10:00:00Z", "o1", "100.00"),
            # o2: 7 days + 1 s after engagement -> not attributed.
            ev.order("v2", "2026-03-09T10:00:01Z", "o2", "40.00"),
            # v3 engaged at 11:05:00 (request 11:00, agent 11:05).
            ev.request("v3", "2026-03-02T11:00:00Z", "r3"),
            ev.agent_msg("v3", "2026-03-02T11:05:00Z", "r3", "a1"),
            # o3 at the engagement instant -> attributed; o4 1 s before it -> not.
            ev.order("v3", "2026-03-02T11:05:00Z", "o3", "25.00"),
            ev.order("v3", "2026-03-02T11:04:59Z", "o4", "7.00"),
        ]

    def test_inclusive_edges(self) -> None:
        """o1 (edge) and o3 (at engagement) are attributed; o2 and o4 are not."""
        d = report(self.window_events(), as_of=AS_OF)
        # attributed: o1 100.00 + o3 25.00 = 125.00; all orders 4 = 172.00.
        expected = (2, Decimal("125.00"), 4, Decimal("172.00"))
        assert expected == (
            d["sales"]["attributed_orders"], d["sales"]["attributed_gmv"],
            d["sales"]["all_orders"], d["sales"]["all_gmv"],
        )

    def test_window_parameter(self) -> None:
        """A window one second longer also takes o2."""
        d = report(self.window_events(), as_of=AS_OF,
                   attribution_window=timedelta(days=7, seconds=1))
        # o1, o2, o3 -> 100 + 40 + 25 = 165.00
        expected = (3, Decimal("165.00"))
        assert expected == (
            d["sales"]["attributed_orders"], d["sales"]["attributed_gmv"]
        )


class TestLastTouch:
    """One order after two conversations goes to the latest engaged one."""

    def test_latest_engaged_at_wins_not_latest_created(self) -> None:
        """rA was created first but engaged last: it gets the order and its last agent."""
        ev = Events()
        events = [
            # rA video, created 10:00, a1 joins 11:30 -> engaged 11:30.
            ev.request("v1", "2026-03-02T10:00:00Z", "rA", channel="video"),
            ev.agent_join("v1", "2026-03-02T11:30:00Z", "rA", "a1"),
            # rB text, created 11:00, a2 answers 11:10 -> engaged 11:10.
            ev.request("v1", "2026-03-02T11:00:00Z", "rB"),
            ev.agent_msg("v1", "2026-03-02T11:10:00Z", "rB", "a2"),
            ev.order("v1", "2026-03-02T12:00:00Z", "o1", "50.00"),
            # rA moves to a3 after the order; a3's response (before as_of) makes a3 the
            # last responding agent of rA.
            ev.transfer("v1", "2026-03-02T12:20:00Z", "rA", "a1", "a3"),
            ev.agent_join("v1", "2026-03-02T12:30:00Z", "rA", "a3"),
        ]
        d = report(events, as_of="2026-03-03T00:00:00Z")
        # Candidates engaged in [order - 7 d, order]: rA (11:30), rB (11:10) -> rA (video).
        expected = {"text": Decimal(0), "video": Decimal("50.00")}
        assert expected == (
            d["sales"]["attributed_gmv_by_channel"]
        )
        credited = {row["agent"]: (row["attributed_orders"], row["attributed_sales"])
                    for row in d["agents"]}
        # rA's latest agent-side response up to as_of is a3's join at 12:30.
        assert {
            "a1": (0, Decimal(0)), "a2": (0, Decimal(0)), "a3": (1, Decimal("50.00")),
        } == credited

    def test_tie_goes_to_the_greater_request_id(self) -> None:
        """Two conversations engaged at the same instant: "r-b" > "r-a" wins."""
        ev = Events()
        events = [
            ev.request("v1", "2026-03-02T10:00:00Z", "r-a", channel="video"),
            ev.agent_join("v1", "2026-03-02T10:10:00Z", "r-a", "a1"),  # engaged 10:10
            ev.request("v1", "2026-03-02T10:05:00Z", "r-b"),
            ev.agent_msg("v1", "2026-03-02T10:10:00Z", "r-b", "a2"),  # engaged 10:10
            ev.order("v1", "2026-03-02T11:00:00Z", "o1", "80.00"),
        ]
        d = report(events, as_of="2026-03-03T00:00:00Z")
        # Tie at 10:10 -> greater request id "r-b" (text, last agent a2).
        expected = {"text": Decimal("80.00"), "video": Decimal(0)}
        assert expected == (
            d["sales"]["attributed_gmv_by_channel"]
        )
        credited = {row["agent"]: row["attributed_orders"] for row in d["agents"]}
        expected = {"a1": 0, "a2": 1}
        assert expected == credited


class TestDuplicates:
    """Re-sent and re-used order ids."""

    def test_duplicate_order_id_earliest_wins(self) -> None:
        """Order A1 at 10:00 (50.00) and again at 11:00 (80.00): the 10:00 one is the order."""
        ev = Events()
        early = ev.order("v1", "2026-03-02T10:00:00Z", "A1", "50.00")
        late = ev.order("v1", "2026-03-02T11:00:00Z", "A1", "80.00")
        events = [
            ev.request("v1", "2026-03-02T10:20:00Z", "r1"),
            ev.agent_msg("v1", "2026-03-02T10:30:00Z", "r1", "a1"),  # engaged 10:30
            late,  # arrives first, but is the later creation
            early,
        ]
        d = report(events, as_of="2026-03-03T00:00:00Z")
        # The order is the 10:00 one: 50.00, before the 10:30 engagement -> not attributed.
        # (Had the 11:00 copy won, it would be attributed with 80.00.)
        expected = (1, Decimal("50.00"), 0, Decimal(0))
        assert expected == (
            d["sales"]["all_orders"], d["sales"]["all_gmv"],
            d["sales"]["attributed_orders"], d["sales"]["attributed_gmv"],
        )

    def test_resent_event_counts_once(self) -> None:
        """The same order event delivered twice is one order."""
        ev = Events()
        order = ev.order("v1", "2026-03-02T10:00:00Z", "o1", "12.00")
        d = report([order, dict(order)], as_of="2026-03-03T00:00:00Z")
        expected = (1, Decimal("12.00"))
        assert expected == (d["sales"]["all_orders"], d["sales"]["all_gmv"])
