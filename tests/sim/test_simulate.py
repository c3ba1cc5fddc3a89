"""The simulator's log: contract, order, determinism and plausible shop behaviour."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sim.helpers import attributed_orders, engaged_times, parsed
from whoson.codec import dumps
from whoson.core.events import EVENT_TYPES, Event
from whoson.sim import SimConfig, simulate

START = date(2026, 3, 2)  # a Monday


@pytest.fixture(scope="module")
def week() -> list[dict[str, Any]]:
    return list(simulate(visitors=200, days=7, seed=0))


@pytest.fixture(scope="module")
def week_events(week: list[dict[str, Any]]) -> list[Event]:
    return parsed(week)


@pytest.fixture(scope="module")
def big() -> list[Event]:
    return parsed(simulate(visitors=1500, days=7, seed=11))


def check_log(log: list[dict[str, Any]]) -> list[Event]:
    """The structural promises every simulated log keeps; returns the parsed events."""
    events = parsed(log)
    assert log == [event.to_dict() for event in events]
    keys = [event.sort_key for event in events]
    assert keys == sorted(keys)
    assert len({event.id for event in events}) == len(events)
    owner: dict[str, str | None] = {}
    for event in events:
        rid = event.request_id
        if rid is None:
            continue
        if event.type == "request":
            assert rid not in owner, f"request {rid} created twice"
            owner[rid] = event.visitor
        else:
            assert rid in owner, f"{event.type} {event.id} names {rid} before it exists"
            assert owner[rid] == event.visitor
    return events


class TestContract:
    """Every emitted dict is a valid event of the contract, written canonically."""

    def test_every_event_parses_and_round_trips(self, week: list[dict[str, Any]]) -> None:
        # to_dict writes ts with format_ts, so this also checks the timestamp text.
        for raw, event in zip(week, parsed(week), strict=True):
            assert raw == event.to_dict()

    def test_every_event_type_appears_in_a_week(self, week_events: list[Event]) -> None:
        # holdout events need a causal model with control groups (tests/sim/test_causal.py).
        assert set(EVENT_TYPES) - {"holdout"} == {event.type for event in week_events}

    def test_money_is_decimal_with_cents(self, week: list[dict[str, Any]]) -> None:
        amounts = [
            value
            for event in week
            if event["type"] in ("order", "cart_update")
            for key, value in event.items()
            if key in ("value", "subtotal", "discount", "shipping", "tax")
        ]
        assert amounts
        for amount in amounts:
            assert isinstance(amount, Decimal)
            assert amount.as_tuple().exponent == -2

    def test_orders_add_up(self, week_events: list[Event]) -> None:
        orders = [e for e in week_events if e.type == "order"]
        assert orders
        for order in orders:
            discount = order.discount or Decimal(0)
            assert Decimal(0) <= discount <= order.subtotal
            expected_tax = ((order.subtotal - discount) * Decimal("0.08")).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            assert expected_tax == order.tax
            assert "USD" == order.currency
        assert len({o.order for o in orders}) == len(orders)

    def test_agent_status_has_no_visitor_and_known_agents(self, week_events: list[Event]) -> None:
        statuses = [e for e in week_events if e.type == "agent_status"]
        assert all(e.visitor is None for e in statuses)
        assert SimConfig().agents == len({e.agent for e in statuses})

    def test_visitor_count_is_the_argument(self, week_events: list[Event]) -> None:
        assert 200 == len({e.visitor for e in week_events if e.visitor is not None})


class TestOrderAndOwnership:
    """The log is in (ts, id) order and every request belongs to one visitor."""

    def test_week_is_ordered_and_consistent(self, week: list[dict[str, Any]]) -> None:
        check_log(week)

    @settings(max_examples=15)
    @given(
        seed=st.integers(min_value=0, max_value=10_000),
        visitors=st.integers(min_value=0, max_value=30),
        days=st.integers(min_value=1, max_value=3),
    )
    def test_any_small_run_is_ordered_and_consistent(self, seed: int, visitors: int, days: int) -> None:
        check_log(list(simulate(visitors, days, seed)))

    def test_events_start_on_the_start_date(self) -> None:
        start = date(2027, 12, 30)
        events = check_log(list(simulate(visitors=30, days=3, seed=4, start=start)))
        first_moment = datetime(2027, 12, 30, tzinfo=UTC)
        assert all(first_moment <= e.ts for e in events)
        # Only sessions begun on the last day may spill past its midnight.
        assert all(e.ts < first_moment + timedelta(days=4) for e in events)

    def test_heartbeats_and_leaves_name_the_open_page(self, week_events: list[Event]) -> None:
        current: dict[str, str | None] = {}
        for event in week_events:
            if event.type == "page_view":
                current[event.visitor or ""] = getattr(event, "url", None)
            elif event.type in ("heartbeat", "page_leave"):
                assert current.get(event.visitor or "") == getattr(event, "url", None)
                if event.type == "page_leave":
                    current[event.visitor or ""] = None


class TestDeterminism:
    """Same arguments give byte-identical logs; another seed gives another log."""

    def test_same_arguments_same_bytes(self) -> None:
        first = [dumps(e) for e in simulate(visitors=80, days=3, seed=5)]
        second = [dumps(e) for e in simulate(visitors=80, days=3, seed=5)]
        assert first == second

    def test_other_seed_other_log(self) -> None:
        first = [dumps(e) for e in simulate(visitors=80, days=3, seed=5)]
        second = [dumps(e) for e in simulate(visitors=80, days=3, seed=6)]
        assert first != second

    def test_ids_carry_the_seed(self) -> None:
        ids = [e["id"] for e in simulate(visitors=5, days=1, seed=42)]
        assert all(i.startswith("42-") for i in ids)

    def test_generator_is_lazy(self) -> None:
        stream = simulate(visitors=100_000, days=365, seed=1)
        assert "id" in next(stream)


class TestPlausibleShop:
    """Rates land in plausible ranges (checked with ranges, not copied figures)."""

    def test_some_conversations_and_some_failures(self, big: list[Event]) -> None:
        requests = [e for e in big if e.type == "request"]
        conversations = engaged_times(big)
        assert 0.2 * len(requests) < len(conversations) < 0.8 * len(requests)
        by_initiator = Counter(getattr(e, "initiator", None) for e in requests)
        assert {"visitor", "agent", "auto"} == set(by_initiator)
        reasons = Counter(getattr(e, "reason", None) for e in big if e.type == "request_end")
        assert {"closed", "declined", "cancelled", "missed", "timeout"} <= set(reasons)

    def test_offline_requests_happen_when_nobody_is_online(self, big: list[Event]) -> None:
        offline = [e for e in big if e.type == "request" and getattr(e, "offline", None)]
        assert offline
        assert all(e.ts.hour >= 21 or e.ts.hour < 8 for e in offline if e.ts.weekday() < 5)

    def test_chatting_visitors_buy_more(self, big: list[Event]) -> None:
        chatters = {visitor for visitor, _ in engaged_times(big).values()}
        buyers = {e.visitor for e in big if e.type == "order"}
        everyone = {e.visitor for e in big if e.visitor is not None}
        chat_rate = len(buyers & chatters) / len(chatters)
        other_rate = len(buyers - chatters) / len(everyone - chatters)
        assert chat_rate > 2 * other_rate
        assert attributed_orders(big)

    def test_evening_is_busier_than_night(self, big: list[Event]) -> None:
        hours = Counter(e.ts.hour for e in big if e.type == "page_view")
        evening = sum(hours[h] for h in range(18, 22))
        night = sum(hours[h] for h in range(2, 6))
        assert evening > 4 * night

    def test_weekend_brings_fewer_new_visitors(self, big: list[Event]) -> None:
        first_seen: dict[str, datetime] = {}
        for e in big:
            if e.visitor is not None:
                first_seen.setdefault(e.visitor, e.ts)
        per_weekday = Counter(ts.weekday() for ts in first_seen.values())
        assert per_weekday[5] < per_weekday[1]

    def test_some_visitors_return_some_with_session_ids(self, big: list[Event]) -> None:
        landings = [e for e in big if e.type == "page_view" and getattr(e, "device", None)]
        per_visitor = Counter(e.visitor for e in landings)
        returning = sum(1 for n in per_visitor.values() if n > 1)
        assert 0.1 < returning / len(per_visitor) < 0.6
        with_session = sum(1 for e in landings if getattr(e, "session", None))
        assert 0.2 < with_session / len(landings) < 0.6

    def test_surveys_rate_on_the_scale_and_some_close_out(self, big: list[Event]) -> None:
        surveys = [e for e in big if e.type == "survey"]
        ratings = [getattr(e, "rating", None) for e in surveys]
        assert {1, 5} <= set(ratings) - {None}
        assert any(getattr(e, "submitted", None) is False for e in surveys)
        assert any(getattr(e, "feedback", None) for e in surveys)

    def test_transfers_and_escalations(self, big: list[Event]) -> None:
        transfers = [e for e in big if e.type == "transfer"]
        assert transfers
        assert any(getattr(e, "escalation", False) for e in transfers)
        assert all(getattr(e, "from_agent", 0) != getattr(e, "to_agent", 0) for e in transfers)

    def test_auto_messages_with_links_get_clicked(self, big: list[Event]) -> None:
        shown = Counter(getattr(e, "trigger", None) for e in big if e.type == "auto_message")
        clicks = [e for e in big if e.type == "auto_message_click"]
        assert {"linger-pricing", "checkout-help", "cart-rescue"} <= set(shown)
        assert 0 < len(clicks) < sum(shown.values())
        assert any(getattr(e, "link", None) for e in clicks)

    def test_conversations_have_message_sizes(self, big: list[Event]) -> None:
        sizes = [getattr(e, "chars", None) for e in big if e.type == "message"]
        assert sizes
        assert all(size is not None and size > 0 for size in sizes)


class TestConfig:
    """The knobs change the shop the way their names say."""

    def test_no_agents_means_offline_requests_only(self) -> None:
        events = check_log(list(simulate(300, 3, seed=2, config=SimConfig(agents=0))))
        visitor_requests = [e for e in events if e.type == "request" and getattr(e, "initiator", None) == "visitor"]
        assert visitor_requests
        assert all(getattr(e, "offline", None) for e in visitor_requests)
        assert {} == engaged_times(events)

    def test_currency_is_written_on_orders(self) -> None:
        log = simulate(300, 3, seed=3, config=SimConfig(currency="EUR"))
        currencies = {e["currency"] for e in log if e["type"] == "order"}
        assert {"EUR"} == currencies

    def test_more_chat_requests_with_a_higher_rate(self) -> None:
        def visitor_requests(rate: float) -> int:
            config = SimConfig(visitor_request_rate=rate)
            return sum(
                1
                for e in simulate(300, 3, seed=9, config=config)
                if e["type"] == "request" and e["initiator"] == "visitor"
            )

        assert 0 == visitor_requests(0.0)
        assert visitor_requests(0.5) > visitor_requests(0.05)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"agents": 11},
            {"visitor_request_rate": -0.1},
            {"currency": "usd"},
            {"hourly_weights": (1.0,) * 23},
            {"mean_pages": 0.0},
        ],
    )
    def test_bad_knobs_are_refused(self, kwargs: dict[str, Any]) -> None:
        with pytest.raises(ValueError):  # noqa: PT011 - the messages vary per knob
            SimConfig(**kwargs)

    @pytest.mark.parametrize("kwargs", [{"visitors": -1}, {"days": 0}, {"seed": "x"}, {"visitors": True}])
    def test_bad_arguments_are_refused(self, kwargs: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="must be"):
            simulate(**kwargs)


class TestAgents:
    """The team works shifts."""

    def test_agent_shifts_have_online_and_offline(self, week_events: list[Event]) -> None:
        by_agent: dict[str, list[str]] = defaultdict(list)
        for e in week_events:
            if e.type == "agent_status":
                by_agent[getattr(e, "agent", "")].append(getattr(e, "status", ""))
        for statuses in by_agent.values():
            assert statuses.count("online") >= statuses.count("offline") > 0
            assert "online" == statuses[0]
            assert "offline" == statuses[-1]
